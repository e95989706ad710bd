import Foundation

/// A loss known only at the nodes of a uniform grid read from a file.
///
/// The file's grid has both ends of every axis as nodes (`lower + i (upper - lower)/(n - 1)`).
/// Sampling on another grid takes the file's values exactly where the nodes coincide (to
/// `1e-9` of a spacing) and interpolates elsewhere with 4-point Lagrange polynomials per axis
/// (cubic, O(h^4), the stencil of `Field.interpolate(order: 4)`). Points outside the file's
/// domain are refused: the loss is not extendable.
///
/// Gradients are differences of the samples along each axis: the fourth-order central
/// difference `(f[i-2] - 8 f[i-1] + 8 f[i+1] - f[i+2]) / (12 h)` where it fits, the
/// second-order central difference at the second node from each end, and the second-order
/// one-sided `(-3 f0 + 4 f1 - f2) / (2 h)` at the ends; between nodes they are interpolated
/// like the values. In 1-D the second derivative is built the same way
/// (`(-f[i-2] + 16 f[i-1] - 30 f[i] + 16 f[i+1] - f[i+2]) / (12 h^2)`, second order near the ends).
struct SampledLoss: Sendable {
    let path: String
    /// The samples on the file's grid (boundary `.free`, both ends nodes).
    let samples: Field
    /// The nodal derivatives along each axis.
    let derivatives: [Field]
    /// The nodal second derivative (1-D only).
    let secondDerivatives: Field?

    /// The fewest nodes per axis: the fourth-order stencils need five.
    static let minimumNodes = 5

    init(path: String, values: [Double], shape: [Int], domain: [(Double, Double)]) throws {
        guard (1...3).contains(shape.count) else {
            throw RelaxError.format(path: path, message: "a sampled loss has 1, 2 or 3 axes; the array has shape \(NPY.shapeText(shape))")
        }
        guard domain.count == shape.count else {
            throw RelaxError.invalidParameter(
                name: "domain", value: domain.map { "\($0.0):\($0.1)" }.joined(separator: ","),
                expected: "one interval A:B per axis of the \(shape.count)-D array in \(path) (shape \(NPY.shapeText(shape)))")
        }
        guard shape.allSatisfy({ $0 >= Self.minimumNodes }) else {
            throw RelaxError.format(path: path, message: "shape \(NPY.shapeText(shape)) has fewer than \(Self.minimumNodes) samples on an axis; "
                                    + "a sampled loss needs at least \(Self.minimumNodes) per axis for its fourth-order derivatives")
        }
        let grid = try Grid(domain: domain, counts: shape, boundary: .free)
        let samples = Field(grid: grid, values: values)
        try samples.checkFinite("sampled loss \(path)")
        self.path = path
        self.samples = samples
        derivatives = (0..<grid.dimension).map { Self.difference(samples, axis: $0, order: 1) }
        secondDerivatives = grid.dimension == 1 ? Self.difference(samples, axis: 0, order: 2) : nil
    }

    var grid: Grid { samples.grid }
    var dimension: Int { grid.dimension }

    // MARK: - Differences

    /// The first (`order` 1) or second (`order` 2) derivative along `axis` by the stencils
    /// in the type's documentation, on every line along the axis.
    static func difference(_ field: Field, axis: Int, order: Int) -> Field {
        let grid = field.grid
        let n = grid.shape[axis]
        let stride = grid.strides[axis]
        let h = grid.spacing[axis]
        var out = [Double](repeating: 0, count: grid.count)
        field.values.withUnsafeBufferPointer { f in
            for line in 0..<grid.lineCount(along: axis) {
                let start = grid.lineStart(along: axis, line: line)
                func v(_ i: Int) -> Double { f[start + i * stride] }
                for i in 0..<n {
                    let d: Double
                    if order == 1 {
                        switch i {
                        case 0: d = (-3 * v(0) + 4 * v(1) - v(2)) / (2 * h)
                        case n - 1: d = (3 * v(n - 1) - 4 * v(n - 2) + v(n - 3)) / (2 * h)
                        case 1, n - 2: d = (v(i + 1) - v(i - 1)) / (2 * h)
                        default: d = (v(i - 2) - 8 * v(i - 1) + 8 * v(i + 1) - v(i + 2)) / (12 * h)
                        }
                    } else {
                        switch i {
                        case 0: d = (2 * v(0) - 5 * v(1) + 4 * v(2) - v(3)) / (h * h)
                        case n - 1: d = (2 * v(n - 1) - 5 * v(n - 2) + 4 * v(n - 3) - v(n - 4)) / (h * h)
                        case 1, n - 2: d = (v(i - 1) - 2 * v(i) + v(i + 1)) / (h * h)
                        default: d = (-v(i - 2) + 16 * v(i - 1) - 30 * v(i) + 16 * v(i + 1) - v(i + 2)) / (12 * h * h)
                        }
                    }
                    out[start + i * stride] = d
                }
            }
        }
        return Field(grid: grid, values: out)
    }

    // MARK: - Interpolation

    /// The nodes and weights along one axis that reproduce a coordinate: one node with weight
    /// 1 where the coordinate is a node, else the 4-point Lagrange stencil of
    /// `Field.interpolate(order: 4)`. Nil outside the axis (beyond `1e-9` of a spacing).
    struct Stencil {
        var first: Int
        var weights: [Double]
    }

    static func stencil(_ axis: Axis, _ x: Double) -> Stencil? {
        let s = (x - axis.lower) / axis.spacing
        let tolerance = 1e-9
        guard s >= -tolerance, s <= Double(axis.count - 1) + tolerance else { return nil }
        let nearest = s.rounded()
        if abs(s - nearest) <= tolerance { return Stencil(first: Int(nearest), weights: [1]) }
        let first = min(max(Int(s.rounded(.down)) - 1, 0), axis.count - 4)
        let weights = (0..<4).map { a in
            (0..<4).filter { $0 != a }.reduce(1.0) { $0 * (s - Double(first + $1)) / Double(a - $1) }
        }
        return Stencil(first: first, weights: weights)
    }

    /// The tensor-product sum of `fields` (all on the file's grid) over per-axis stencils.
    private static func combine(_ fields: [Field], _ stencils: [Stencil]) -> [Double] {
        let strides = fields[0].grid.strides
        var total = [Double](repeating: 0, count: fields.count)
        let counts = stencils.map(\.weights.count)
        for c in 0..<counts.reduce(1, *) {
            var rest = c
            var flat = 0
            var weight = 1.0
            for (k, stencil) in stencils.enumerated() {
                let a = rest % counts[k]
                rest /= counts[k]
                flat += (stencil.first + a) * strides[k]
                weight *= stencil.weights[a]
            }
            for (j, field) in fields.enumerated() { total[j] += weight * field.values[flat] }
        }
        return total
    }

    /// The message for a point outside the file's domain.
    private func outsideDomain(_ coordinate: Double, axis k: Int) -> RelaxError {
        let window = grid.axes.map { "\($0.lower):\($0.upper)" }.joined(separator: ",")
        return .unsupported(
            "the sampled loss from \(path) is known only on its domain \(window), but the grid reaches "
            + "\(Grid.axisNames[k]) = \(coordinate); choose a window inside that domain (a free boundary pads "
            + "the window by the solver's reach, so use a smaller window) or a non-free boundary "
            + "(--boundary neumann or periodic)")
    }

    /// `fields` (on the file's grid) at every node of `target`, exactly at coinciding nodes.
    /// The tensor-product interpolation is done one axis at a time (O(4 N) per axis); axes
    /// of `target` beyond the file's repeat the values (the loss does not depend on them).
    private func resample(_ fields: [Field], onto target: Grid) throws -> [Field] {
        var stencils: [[Stencil]] = []
        for k in 0..<dimension {
            var axisStencils: [Stencil] = []
            for x in target.axes[k].coordinates {
                guard let s = Self.stencil(grid.axes[k], x) else { throw outsideDomain(x, axis: k) }
                axisStencils.append(s)
            }
            stencils.append(axisStencils)
        }
        let repeats = target.shape[dimension...].reduce(1, *)
        return fields.map { field in
            var values = field.values
            var shape = grid.shape
            for k in 0..<dimension {
                values = Self.interpolate(values, shape: shape, axis: k, stencils[k])
                shape[k] = stencils[k].count
            }
            guard repeats > 1 else { return Field(grid: target, values: values) }
            return Field(grid: target, values: (0..<target.count).map { values[$0 / repeats] })
        }
    }

    /// `values` (row-major, `shape`) interpolated along `axis` onto the points of `stencils`.
    static func interpolate(_ values: [Double], shape: [Int], axis: Int, _ stencils: [Stencil]) -> [Double] {
        let n = shape[axis]
        let m = stencils.count
        let inner = shape[(axis + 1)...].reduce(1, *)
        let outer = shape[..<axis].reduce(1, *)
        var out = [Double](repeating: 0, count: outer * m * inner)
        values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for o in 0..<outer {
                    for (j, stencil) in stencils.enumerated() {
                        let target = (o * m + j) * inner
                        for (a, w) in stencil.weights.enumerated() {
                            let source = (o * n + stencil.first + a) * inner
                            for r in 0..<inner { dst[target + r] += w * src[source + r] }
                        }
                    }
                }
            }
        }
        return out
    }

    func sample(on target: Grid) throws -> Field {
        try resample([samples], onto: target)[0]
    }

    /// Values and gradient; components along axes beyond the file's are 0.
    func sampleWithGradient(on target: Grid) throws -> (value: Field, gradient: [Field]) {
        let fields = try resample([samples] + derivatives, onto: target)
        let zero = Field(grid: target)
        return (fields[0], (0..<target.dimension).map { $0 < dimension ? fields[$0 + 1] : zero })
    }

    private func stencils(at point: [Double]) -> [Stencil]? {
        let stencils = (0..<dimension).compactMap { Self.stencil(grid.axes[$0], point[$0]) }
        return stencils.count == dimension ? stencils : nil
    }

    /// The interpolated value, NaN outside the file's domain.
    func value(at point: [Double]) -> Double {
        guard let s = stencils(at: point) else { return .nan }
        return Self.combine([samples], s)[0]
    }

    /// The interpolated nodal gradient (one component per axis of the file), NaN outside.
    func gradient(at point: [Double]) -> [Double] {
        guard let s = stencils(at: point) else { return [Double](repeating: .nan, count: dimension) }
        return Self.combine(derivatives, s)
    }

    func secondDerivative(at x: Double) -> Double? {
        guard let secondDerivatives, let s = stencils(at: [x]) else { return secondDerivatives == nil ? nil : .nan }
        return Self.combine([secondDerivatives], s)[0]
    }
}
