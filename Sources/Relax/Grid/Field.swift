/// Samples of a scalar function on a `Grid`, stored row-major (see `Grid`).
public struct Field: Sendable {
    public let grid: Grid
    public var values: [Double]

    public init(grid: Grid, values: [Double]) {
        precondition(values.count == grid.count, "a field needs one value per grid node")
        self.grid = grid
        self.values = values
    }

    public init(grid: Grid, repeating value: Double = 0) {
        self.init(grid: grid, values: [Double](repeating: value, count: grid.count))
    }

    /// Samples `function` at every node; the argument holds the node's coordinates.
    public init(grid: Grid, _ function: ([Double]) -> Double) {
        var values = [Double](repeating: 0, count: grid.count)
        var point = [Double](repeating: 0, count: grid.dimension)
        var index = [Int](repeating: 0, count: grid.dimension)
        let d = grid.dimension, shape = grid.shape
        for flat in 0..<grid.count {
            for k in 0..<d { point[k] = grid.axes[k].coordinate(index[k]) }
            values[flat] = function(point)
            index.advanceRowMajor(in: shape)
        }
        self.init(grid: grid, values: values)
    }

    @inlinable public subscript(flat: Int) -> Double {
        get { values[flat] }
        set { values[flat] = newValue }
    }

    /// The value at a multi-index `(i)`, `(i, j)` or `(i, j, k)`.
    public subscript(index: Int...) -> Double {
        get { values[grid.flatIndex(index)] }
        set { values[grid.flatIndex(index)] = newValue }
    }

    /// Throws `RelaxError.nonFinite` naming the first NaN or infinite value and where it is.
    ///
    /// A value is NaN or infinite exactly when its exponent bits are all ones; adding `2^52` to
    /// those bits then carries into the sign bit. One pass ORs these sums (integer operations
    /// only, so the loop vectorizes); the values are searched one by one only after a hit.
    public func checkFinite(_ what: String) throws {
        let exponent: UInt64 = 0x7FF0_0000_0000_0000
        let flags = values.withUnsafeBufferPointer { v -> UInt64 in
            var any: UInt64 = 0
            for x in v { any |= (x.bitPattern & exponent) &+ (1 << 52) }
            return any
        }
        guard flags >> 63 != 0 else { return }
        for (flat, v) in values.enumerated() where !v.isFinite {
            throw RelaxError.nonFinite(what: what, index: grid.multiIndex(flat),
                                       point: grid.point(flat), value: v)
        }
    }

    public var minimum: Double { values.min() ?? .nan }
    public var maximum: Double { values.max() ?? .nan }
    /// The oscillation `max - min`.
    public var oscillation: Double { maximum - minimum }

    /// A field with `transform` applied to every value.
    public func map(_ transform: (Double) -> Double) -> Field {
        Field(grid: grid, values: values.map(transform))
    }
}

/// Discrete norms with the cell volume as quadrature weight.
public enum Norm: String, Sendable, CaseIterable {
    case max, l1, l2
}

extension Field {
    /// `max |v|`, `h^d sum |v|` or `sqrt(h^d sum v^2)`.
    public func norm(_ kind: Norm) -> Double {
        switch kind {
        case .max: return values.reduce(0) { Swift.max($0, abs($1)) }
        case .l1: return grid.cellVolume * values.reduce(0) { $0 + abs($1) }
        case .l2: return (grid.cellVolume * values.reduce(0) { $0 + $1 * $1 }).squareRoot()
        }
    }

    /// The norm of `self - other` on the same grid.
    public func distance(to other: Field, _ kind: Norm) -> Double {
        precondition(grid == other.grid, "fields live on different grids; resample one first")
        return Field(grid: grid, values: zip(values, other.values).map { $0 - $1 }).norm(kind)
    }

    /// The integral by the rectangle rule `h^d sum v` (exact for periodic trigonometric data).
    public var sum: Double { values.reduce(0, +) * grid.cellVolume }

    public static func - (a: Field, b: Field) -> Field {
        precondition(a.grid == b.grid)
        return Field(grid: a.grid, values: zip(a.values, b.values).map { $0 - $1 })
    }

    public static func + (a: Field, b: Field) -> Field {
        precondition(a.grid == b.grid)
        return Field(grid: a.grid, values: zip(a.values, b.values).map { $0 + $1 })
    }

    public static func * (s: Double, a: Field) -> Field { a.map { s * $0 } }
}

extension Field {
    /// The value at an arbitrary point by tensor-product Lagrange interpolation of `order`
    /// points per axis (2: multilinear, O(h^2); 4: cubic, O(h^4)). Periodic axes wrap;
    /// other axes clamp the stencil inside the grid (points outside extrapolate).
    public func interpolate(at point: [Double], order: Int = 4) -> Double {
        precondition(point.count == grid.dimension)
        precondition(order == 2 || order == 4, "interpolation order is 2 or 4")
        let d = grid.dimension
        var nodes = [[Int]](repeating: [], count: d)
        var weights = [[Double]](repeating: [], count: d)
        for k in 0..<d {
            let axis = grid.axes[k]
            let s = (point[k] - axis.lower) / axis.spacing
            var first = Int(s.rounded(.down)) - (order / 2 - 1)
            if !axis.periodic { first = Swift.min(Swift.max(first, 0), axis.count - order) }
            var idx: [Int] = []
            var w: [Double] = []
            for a in 0..<order {
                var l = 1.0
                for b in 0..<order where b != a {
                    l *= (s - Double(first + b)) / Double(a - b)
                }
                var i = first + a
                if axis.periodic { i = ((i % axis.count) + axis.count) % axis.count }
                idx.append(i)
                w.append(l)
            }
            nodes[k] = idx
            weights[k] = w
        }
        let strides = grid.strides
        var total = 0.0
        let n = (0..<d).reduce(1) { acc, _ in acc * order }
        for c in 0..<n {
            var rest = c
            var flat = 0
            var w = 1.0
            for k in 0..<d {
                let a = rest % order
                rest /= order
                flat += nodes[k][a] * strides[k]
                w *= weights[k][a]
            }
            total += w * values[flat]
        }
        return total
    }

    /// This field interpolated onto the nodes of another grid.
    public func resampled(onto target: Grid, order: Int = 4) -> Field {
        Field(grid: target) { interpolate(at: $0, order: order) }
    }
}
