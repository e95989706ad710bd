/// A loss `f : R^d -> R` that solvers sample on grids.
///
/// Losses come from an expression (`Loss(expression:)`), a named preset
/// (`Loss(preset:)`), a sampled file (`Loss(contentsOf:)`), or a Swift closure
/// (`Loss(name:dimension:value:gradient:)`, used by tests and by other solvers).
/// Expressions, presets and closures can be sampled anywhere, so free-space solvers can
/// extend the grid; a sampled loss is known only on its own grid (`isExtendable == false`).
public struct Loss: Sendable {
    /// Where the loss came from, for manifests and messages.
    public let description: String
    /// The number of variables it uses (1 for `x`, 2 if it mentions `y`, 3 if `z`).
    public let dimension: Int
    /// Whether the loss can be evaluated beyond a fixed grid.
    public var isExtendable: Bool { storage.isExtendable }

    let storage: Storage

    enum Storage: Sendable {
        case closure(value: @Sendable ([Double]) -> Double, gradient: (@Sendable ([Double]) -> [Double])?)
        var isExtendable: Bool {
            switch self {
            case .closure: return true
            }
        }
    }

    init(description: String, dimension: Int, storage: Storage) {
        self.description = description
        self.dimension = dimension
        self.storage = storage
    }

    /// A loss from Swift closures. Without `gradient`, gradients are taken by fourth-order
    /// central differences of `value` with step `1e-3 * max(1, |x|)`.
    public init(name: String, dimension: Int,
                value: @escaping @Sendable ([Double]) -> Double,
                gradient: (@Sendable ([Double]) -> [Double])? = nil) {
        self.init(description: name, dimension: dimension, storage: .closure(value: value, gradient: gradient))
    }

    /// `f` at every node of `grid`. Throws `RelaxError.nonFinite` naming the first node
    /// where `f` is NaN or infinite, and `RelaxError.invalidGrid` if the grid has fewer
    /// axes than the loss has variables.
    public func sample(on grid: Grid) throws -> Field {
        try checkDimension(grid)
        let field: Field
        switch storage {
        case let .closure(value, _):
            field = Field(grid: grid, value)
        }
        try field.checkFinite("loss \(description)")
        return field
    }

    /// `f` and its gradient (one field per axis of `grid`) at every node.
    public func sampleWithGradient(on grid: Grid) throws -> (value: Field, gradient: [Field]) {
        let value = try sample(on: grid)
        var gradient: [Field] = []
        switch storage {
        case let .closure(f, g):
            let d = grid.dimension
            let components: [[Double]] = (0..<grid.count).map { flat in
                let p = grid.point(flat)
                if let g { return Array(g(p).prefix(d)) + [Double](repeating: 0, count: max(0, d - dimension)) }
                return (0..<d).map { k in Self.centralDifference(f, at: p, axis: k) }
            }
            for k in 0..<d {
                gradient.append(Field(grid: grid, values: components.map { $0[k] }))
            }
        }
        for (k, g) in gradient.enumerated() { try g.checkFinite("gradient component \(Grid.axisNames[k]) of loss \(description)") }
        return (value, gradient)
    }

    func checkDimension(_ grid: Grid) throws {
        guard grid.dimension >= dimension else {
            throw RelaxError.invalidGrid(
                "the loss \(description) uses \(dimension) variables but the grid has \(grid.dimension) axes; "
                + "give --domain and --n for \(dimension) axes")
        }
    }

    static func centralDifference(_ f: ([Double]) -> Double, at p: [Double], axis k: Int) -> Double {
        let h = 1e-3 * max(1, abs(p[k]))
        func at(_ s: Double) -> Double { var q = p; q[k] += s * h; return f(q) }
        return (8 * (at(1) - at(-1)) - (at(2) - at(-2))) / (12 * h)
    }
}
