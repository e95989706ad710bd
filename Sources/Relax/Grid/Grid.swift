/// How a solver treats the edge of the grid.
///
/// - `periodic`: the domain `[lower, upper)` wraps; `upper` is identified with `lower`
///   and is not a grid node.
/// - `neumann`: zero normal flux at both ends; the end nodes lie on the boundary and
///   ghost values mirror the interior (`u[-1] = u[1]`).
/// - `dirichlet(value)`: the end nodes hold `value`.
/// - `free`: the whole space. The end nodes lie on the window's edge; a solver that needs
///   data beyond the window extends the grid itself (see `Grid.padded(cells:)`) and
///   returns only the window.
public enum Boundary: Sendable, Hashable, CustomStringConvertible {
    case periodic
    case neumann
    case dirichlet(Double)
    case free

    public var description: String {
        switch self {
        case .periodic: return "periodic"
        case .neumann: return "neumann"
        case let .dirichlet(v): return "dirichlet(\(v))"
        case .free: return "free"
        }
    }

    /// Parses `periodic`, `neumann` (alias `no-flux`), `free`, `dirichlet` or `dirichlet:V`.
    public init(parsing text: String) throws {
        let lower = text.lowercased()
        switch lower {
        case "periodic": self = .periodic
        case "neumann", "no-flux", "noflux": self = .neumann
        case "free": self = .free
        case "dirichlet": self = .dirichlet(0)
        default:
            if lower.hasPrefix("dirichlet:"), let v = Double(lower.dropFirst("dirichlet:".count)), v.isFinite {
                self = .dirichlet(v)
            } else {
                throw RelaxError.invalidParameter(
                    name: "boundary", value: text,
                    expected: "one of free, periodic, neumann (no-flux), dirichlet[:VALUE]")
            }
        }
    }
}

/// One axis of a uniform grid: `count` nodes `lower + i * spacing`.
///
/// For a periodic axis the spacing is `(upper - lower) / count` and `upper` is not a node;
/// otherwise both ends are nodes and the spacing is `(upper - lower) / (count - 1)`.
public struct Axis: Sendable, Hashable {
    public let lower: Double
    public let upper: Double
    public let count: Int
    public let periodic: Bool

    public init(lower: Double, upper: Double, count: Int, periodic: Bool) throws {
        guard lower.isFinite, upper.isFinite else {
            throw RelaxError.invalidGrid("interval \(lower):\(upper) has a non-finite end; expected finite numbers A < B")
        }
        guard upper > lower else {
            throw RelaxError.invalidGrid(
                "interval \(lower):\(upper) is empty or reversed; expected A:B with A < B")
        }
        guard count >= 3 else {
            throw RelaxError.invalidGrid("\(count) points on an axis; expected at least 3")
        }
        self.lower = lower
        self.upper = upper
        self.count = count
        self.periodic = periodic
    }

    /// The distance between neighbouring nodes.
    @inlinable public var spacing: Double {
        periodic ? (upper - lower) / Double(count) : (upper - lower) / Double(count - 1)
    }

    /// The length of the domain (the period for a periodic axis).
    @inlinable public var length: Double { upper - lower }

    /// The coordinate of node `i` (any integer; nodes outside `0..<count` extend the axis).
    @inlinable public func coordinate(_ i: Int) -> Double { lower + Double(i) * spacing }

    /// All node coordinates.
    public var coordinates: [Double] { (0..<count).map(coordinate) }
}

/// A uniform Cartesian grid in d = 1, 2 or 3 dimensions.
///
/// Storage is row-major (C order) with the first axis (x) slowest: the value at
/// multi-index `(i, j, k)` lives at `i * strides[0] + j * strides[1] + k`. This is the
/// layout numpy uses for `u[i, j, k] = u(x_i, y_j, z_k)`.
public struct Grid: Sendable, Hashable {
    public let axes: [Axis]
    public let boundary: Boundary

    /// Builds a grid from per-axis intervals and node counts.
    ///
    /// Throws `RelaxError.invalidGrid` for a dimension outside 1...3, mismatched lists,
    /// an empty or reversed interval, or fewer than 3 nodes on an axis.
    public init(domain: [(Double, Double)], counts: [Int], boundary: Boundary = .free) throws {
        guard (1...3).contains(domain.count) else {
            throw RelaxError.invalidGrid("\(domain.count) intervals; expected 1, 2 or 3 (A:B[,C:D[,E:F]])")
        }
        guard counts.count == domain.count else {
            throw RelaxError.invalidGrid(
                "\(domain.count) intervals but \(counts.count) point counts; expected one count per interval")
        }
        var axes: [Axis] = []
        for (k, (lo, hi)) in domain.enumerated() {
            do {
                axes.append(try Axis(lower: lo, upper: hi, count: counts[k], periodic: boundary == .periodic))
            } catch let RelaxError.invalidGrid(message) {
                throw RelaxError.invalidGrid("axis \(Grid.axisNames[k]): \(message)")
            }
        }
        self.axes = axes
        self.boundary = boundary
    }

    /// A grid from already validated axes. The axes' `periodic` flags must agree with `boundary`.
    public init(axes: [Axis], boundary: Boundary) {
        precondition((1...3).contains(axes.count), "a grid has 1, 2 or 3 axes")
        precondition(axes.allSatisfy { $0.periodic == (boundary == .periodic) },
                     "axis periodicity must match the boundary")
        self.axes = axes
        self.boundary = boundary
    }

    /// The names of the axes, in order.
    public static let axisNames = ["x", "y", "z"]

    @inlinable public var dimension: Int { axes.count }
    @inlinable public var shape: [Int] { axes.map(\.count) }
    @inlinable public var spacing: [Double] { axes.map(\.spacing) }
    /// The total number of nodes.
    @inlinable public var count: Int { axes.reduce(1) { $0 * $1.count } }
    /// The volume of one grid cell, the product of the spacings.
    @inlinable public var cellVolume: Double { axes.reduce(1) { $0 * $1.spacing } }

    /// Row-major strides: `strides[k]` is the distance in storage between neighbours along axis k.
    public var strides: [Int] {
        var s = [Int](repeating: 1, count: dimension)
        var acc = 1
        for k in stride(from: dimension - 1, through: 0, by: -1) {
            s[k] = acc
            acc *= axes[k].count
        }
        return s
    }

    /// The flat storage index of a multi-index.
    @inlinable public func flatIndex(_ index: [Int]) -> Int {
        var flat = 0
        for k in 0..<dimension { flat = flat * axes[k].count + index[k] }
        return flat
    }

    /// The multi-index of a flat storage index.
    public func multiIndex(_ flat: Int) -> [Int] {
        var rest = flat
        var index = [Int](repeating: 0, count: dimension)
        for k in stride(from: dimension - 1, through: 0, by: -1) {
            index[k] = rest % axes[k].count
            rest /= axes[k].count
        }
        return index
    }

    /// The coordinates of the node at a flat index.
    public func point(_ flat: Int) -> [Double] {
        let index = multiIndex(flat)
        return (0..<dimension).map { axes[$0].coordinate(index[$0]) }
    }

    /// The coordinates of every node along each axis.
    public var coordinates: [[Double]] { axes.map(\.coordinates) }

    /// The number of grid lines along `axis` (the product of the other axes' counts).
    @inlinable public func lineCount(along axis: Int) -> Int { count / axes[axis].count }

    /// The flat index of the first node of line number `line` along `axis`; the line's
    /// nodes are `start + i * strides[axis]` for `i in 0..<shape[axis]`. Lines are
    /// numbered in row-major order of the remaining axes.
    @inlinable public func lineStart(along axis: Int, line: Int) -> Int {
        // Split `line` into (outer, inner): inner runs over the axes after `axis`.
        var inner = 1
        for k in (axis + 1)..<dimension { inner *= axes[k].count }
        let outer = line / inner
        return outer * inner * axes[axis].count + line % inner
    }

    /// A grid with the same spacing, extended by `cells[k]` nodes on both sides of axis k,
    /// with the original grid as its window. Periodic axes are never extended.
    public func padded(cells: [Int]) -> PaddedGrid {
        precondition(cells.count == dimension && cells.allSatisfy { $0 >= 0 })
        var newAxes: [Axis] = []
        var offsets: [Int] = []
        for (k, axis) in axes.enumerated() {
            let pad = axis.periodic ? 0 : cells[k]
            let h = axis.spacing
            // Built directly from validated values: the interval only grows.
            newAxes.append(try! Axis(lower: axis.lower - Double(pad) * h,
                                     upper: axis.upper + Double(pad) * h,
                                     count: axis.count + 2 * pad, periodic: axis.periodic))
            offsets.append(pad)
        }
        return PaddedGrid(grid: Grid(axes: newAxes, boundary: boundary), window: self, offsets: offsets)
    }

    /// A padded grid that reaches at least `distance[k]` beyond the window on each side of axis k.
    public func padded(reach distance: [Double]) -> PaddedGrid {
        padded(cells: (0..<dimension).map { k in
            max(0, Int((distance[k] / axes[k].spacing).rounded(.up)))
        })
    }

    /// The same nodes with another boundary kind. Changing to or from `periodic` changes
    /// the spacing and is refused.
    public func with(boundary newBoundary: Boundary) -> Grid {
        precondition((newBoundary == .periodic) == (boundary == .periodic),
                     "cannot change periodicity of an existing grid")
        return Grid(axes: axes, boundary: newBoundary)
    }
}

/// A grid extended beyond a window, as free-space solvers use it: solve on `grid`,
/// return `crop(_:)` of the result.
public struct PaddedGrid: Sendable, Hashable {
    /// The extended grid the solver works on.
    public let grid: Grid
    /// The window the caller asked for.
    public let window: Grid
    /// The number of padding nodes before the window on each axis.
    public let offsets: [Int]

    /// The part of a field on `grid` that lies on `window`.
    public func crop(_ field: Field) -> Field {
        precondition(field.grid == grid, "field is not on the padded grid")
        var out = [Double](repeating: 0, count: window.count)
        let d = window.dimension
        let wShape = window.shape
        let gStrides = grid.strides
        let wStrides = window.strides
        // Copy along the last axis, contiguous in both.
        let rows = window.count / wShape[d - 1]
        field.values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for r in 0..<rows {
                    var rest = r
                    var srcStart = offsets[d - 1]
                    var dstStart = 0
                    for k in stride(from: d - 2, through: 0, by: -1) {
                        let i = rest % wShape[k]
                        rest /= wShape[k]
                        srcStart += (i + offsets[k]) * gStrides[k]
                        dstStart += i * wStrides[k]
                    }
                    for j in 0..<wShape[d - 1] { dst[dstStart + j] = src[srcStart + j] }
                }
            }
        }
        return Field(grid: window, values: out)
    }
}
