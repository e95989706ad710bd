/// A loss `f : R^d -> R` that solvers sample on grids.
///
/// Losses come from an expression (`Loss(expression:)`), a named preset
/// (`Loss(preset:)`), a sampled file (`Loss(contentsOf:domain:)`), or a Swift closure
/// (`Loss(name:dimension:value:gradient:)`, used by tests and by other solvers).
/// Expressions, presets and closures can be sampled anywhere, so free-space solvers can
/// extend the grid; a sampled loss is known only on its own grid (`isExtendable == false`).
///
/// Gradients: exact for expressions (forward-mode dual numbers; at kinks `abs'(0) = 0` and
/// `min`/`max` follow the selected argument, the first on ties, see `ExpressionOperations`);
/// from the closure if one is given, else fourth-order central differences; for sampled
/// losses fourth-order differences of the samples (see `SampledLoss`). On a grid with more
/// axes than the loss has variables, the loss ignores the extra coordinates and their
/// gradient components are 0.
public struct Loss: Sendable {
    /// Where the loss came from, for manifests and messages: the expression text, the
    /// preset name, the file path, or the closure's name.
    public let description: String
    /// The number of variables it uses (1 for `x`, 2 if it mentions `y`, 3 if `z`).
    public let dimension: Int
    /// Whether the loss can be evaluated beyond a fixed grid.
    public var isExtendable: Bool { storage.isExtendable }

    let storage: Storage

    enum Storage: Sendable {
        case closure(value: @Sendable ([Double]) -> Double, gradient: (@Sendable ([Double]) -> [Double])?)
        case expression(ExpressionProgram)
        case sampled(SampledLoss)

        var isExtendable: Bool {
            switch self {
            case .closure, .expression: return true
            case .sampled: return false
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

    /// A loss from an expression in `x`, `y`, `z` (see `LossExpression` for the syntax).
    /// Throws `RelaxError.parse` with the column of the first error and what was expected.
    public init(expression text: String) throws {
        let parsed = try LossExpression(parsing: text)
        self.init(description: text, dimension: parsed.dimension, storage: .expression(ExpressionProgram(parsed)))
    }

    /// The expression text, for losses made from an expression or a preset.
    public var expression: String? {
        if case let .expression(program) = storage { return program.text }
        return nil
    }

    // MARK: - Sampling on grids

    /// `f` at every node of `grid`. Throws `RelaxError.nonFinite` naming the first node
    /// where `f` is NaN or infinite (and, for expressions, the sub-expression that failed),
    /// `RelaxError.invalidGrid` if the grid has fewer axes than the loss has variables, and
    /// `RelaxError.unsupported` if a sampled loss is asked for points outside its file's domain.
    public func sample(on grid: Grid) throws -> Field {
        try checkDimension(grid)
        switch storage {
        case let .closure(value, _):
            let field = Field(grid: grid, value)
            try field.checkFinite("loss \(description)")
            return field
        case let .expression(program):
            var values = [Double](repeating: 0, count: grid.count)
            values.withUnsafeMutableBufferPointer { out in
                let base = out.baseAddress!
                program.evaluate(on: grid, as: Double.self) { start, block in
                    (base + start).update(from: block.baseAddress!, count: block.count)
                }
            }
            let field = Field(grid: grid, values: values)
            try checkFinite(field, program, "loss '\(description)'", Double.self)
            return field
        case let .sampled(sampled):
            return try sampled.sample(on: grid)
        }
    }

    /// `f` and its gradient (one field per axis of `grid`) at every node.
    public func sampleWithGradient(on grid: Grid) throws -> (value: Field, gradient: [Field]) {
        try checkDimension(grid)
        switch storage {
        case .closure(let f, let g):
            let value = try sample(on: grid)
            let d = grid.dimension
            var components = [[Double]](repeating: [Double](repeating: 0, count: grid.count), count: d)
            for flat in 0..<grid.count {
                let p = grid.point(flat)
                let gradient = gradientOfClosure(f, g, at: p)
                for k in 0..<d { components[k][flat] = gradient[k] }
            }
            let gradient = components.map { Field(grid: grid, values: $0) }
            for (k, component) in gradient.enumerated() {
                try component.checkFinite("gradient component \(Grid.axisNames[k]) of loss \(description)")
            }
            return (value, gradient)
        case let .expression(program):
            return try sampleExpressionWithGradient(program, on: grid)
        case let .sampled(sampled):
            return try sampled.sampleWithGradient(on: grid)
        }
    }

    private func sampleExpressionWithGradient(_ program: ExpressionProgram, on grid: Grid) throws -> (value: Field, gradient: [Field]) {
        let d = grid.dimension
        // Array 0 holds the values, array k + 1 the partial along axis k. The dual numbers
        // carry three partials; those of axes beyond the loss's variables are 0.
        let arrays = makeArrays(length: grid.count, count: d + 1) { bases in
            program.evaluate(on: grid, as: Dual.self) { start, block in
                let values = bases[0] + start
                for i in block.indices { values[i] = block[i].value }
                for k in 0..<d {
                    let partials = bases[k + 1] + start
                    for i in block.indices { partials[i] = block[i].partial(k) }
                }
            }
        }
        let value = Field(grid: grid, values: arrays[0])
        let partials = arrays.dropFirst()
        try checkFinite(value, program, "loss '\(description)'", Double.self)
        let gradient = partials.map { Field(grid: grid, values: $0) }
        for (k, component) in gradient.enumerated() {
            try checkFinite(component, program, "gradient component \(Grid.axisNames[k]) of loss '\(description)'", Dual.self)
        }
        return (value, gradient)
    }

    /// Throws `RelaxError.nonFinite` at the first non-finite node of `field`, naming the
    /// first sub-expression of `program` that is not finite (in `T`) at that node.
    private func checkFinite<T: LossScalar>(_ field: Field, _ program: ExpressionProgram, _ what: String, _ type: T.Type) throws {
        guard let flat = field.values.firstIndex(where: { !$0.isFinite }) else { return }
        let point = field.grid.point(flat)
        let cause = program.diagnose(at: point, as: type).map { " (first non-finite sub-expression: \($0))" } ?? ""
        throw RelaxError.nonFinite(what: what + cause, index: field.grid.multiIndex(flat),
                                   point: point, value: field.values[flat])
    }

    func checkDimension(_ grid: Grid) throws {
        guard grid.dimension >= dimension else {
            throw RelaxError.invalidGrid(
                "the loss \(description) uses \(dimension) variables but the grid has \(grid.dimension) axes; "
                + "give --domain and --n for \(dimension) axes")
        }
    }

    // MARK: - Pointwise evaluation

    /// `f` at one point. `point` needs at least `dimension` coordinates; extra coordinates
    /// are ignored. A sampled loss returns NaN outside its file's domain.
    public func value(at point: [Double]) -> Double {
        precondition(point.count >= dimension, "the loss \(description) needs \(dimension) coordinates")
        switch storage {
        case let .closure(f, _): return f(point)
        case let .expression(program): return program.evaluate(at: point, as: Double.self)
        case let .sampled(sampled): return sampled.value(at: point)
        }
    }

    /// `grad f` at one point, one component per coordinate of `point` (0 beyond the loss's
    /// variables). Exact for expressions; see the type's documentation for the others.
    public func gradient(at point: [Double]) -> [Double] {
        precondition(point.count >= dimension, "the loss \(description) needs \(dimension) coordinates")
        var result: [Double]
        switch storage {
        case let .closure(f, g): result = gradientOfClosure(f, g, at: point)
        case let .expression(program):
            let dual = program.evaluate(at: point, as: Dual.self)
            result = (0..<min(point.count, 3)).map(dual.partial)
        case let .sampled(sampled): result = sampled.gradient(at: point)
        }
        return Array(result.prefix(point.count)) + [Double](repeating: 0, count: max(0, point.count - result.count))
    }

    /// `f`, and `grad f` if `gradients` is given, at `count` scattered points on the calling
    /// thread: coordinate `k` of point `i` is `points[i * stride + k]` (`stride >= dimension`),
    /// the results go to `values[i]` and `gradients[i * stride + k]` (0 beyond the loss's
    /// variables). Expressions run block-vectorized (`ExpressionProgram.evaluate(points:...)`);
    /// closures and sampled losses point by point, as `value(at:)` and `gradient(at:)`.
    func evaluate(points: UnsafePointer<Double>, stride: Int, count: Int,
                  values: UnsafeMutablePointer<Double>, gradients: UnsafeMutablePointer<Double>?) {
        precondition(stride >= dimension, "the loss \(description) needs \(dimension) coordinates")
        if case let .expression(program) = storage {
            if let gradients {
                program.evaluate(points: points, stride: stride, count: count, as: Dual.self) { start, block in
                    for (i, v) in block.enumerated() {
                        values[start + i] = v.value
                        for k in 0..<stride { gradients[(start + i) * stride + k] = k < 3 ? v.partial(k) : 0 }
                    }
                }
            } else {
                program.evaluate(points: points, stride: stride, count: count, as: Double.self) { start, block in
                    (values + start).update(from: block.baseAddress!, count: block.count)
                }
            }
            return
        }
        for i in 0..<count {
            let p = Array(UnsafeBufferPointer(start: points + i * stride, count: stride))
            values[i] = value(at: p)
            if let gradients { (gradients + i * stride).update(from: gradient(at: p), count: stride) }
        }
    }

    /// `f''(x)` of a one-variable loss, or nil when the loss has more variables.
    ///
    /// Exact for expressions (second-order Taylor arithmetic, the second-derivative analogue of
    /// dual numbers); for closures the fourth-order central difference of the gradient
    /// closure (or the 5-point second difference of the value, step `1e-3 * max(1, |x|)`,
    /// error about `1e-7` relative); for sampled losses the interpolated nodal second
    /// differences (fourth order inside, second order at the two nodes nearest each end).
    public func secondDerivative1D(at x: Double) -> Double? {
        guard dimension == 1 else { return nil }
        switch storage {
        case let .expression(program):
            return program.evaluate(at: [x], as: Taylor2.self).d2
        case let .closure(f, g):
            let h = 1e-3 * max(1, abs(x))
            if let g {
                return Self.centralDifference({ g($0)[0] }, at: [x], axis: 0)
            }
            func at(_ s: Double) -> Double { f([x + s * h]) }
            return (-at(2) + 16 * at(1) - 30 * at(0) + 16 * at(-1) - at(-2)) / (12 * h * h)
        case let .sampled(sampled):
            return sampled.secondDerivative(at: x)
        }
    }

    private func gradientOfClosure(_ f: @Sendable ([Double]) -> Double, _ g: (@Sendable ([Double]) -> [Double])?,
                                   at p: [Double]) -> [Double] {
        let d = p.count
        if let g { return Array(g(p).prefix(d)) + [Double](repeating: 0, count: max(0, d - dimension)) }
        return (0..<d).map { k in k < dimension ? Self.centralDifference(f, at: p, axis: k) : 0 }
    }

    static func centralDifference(_ f: ([Double]) -> Double, at p: [Double], axis k: Int) -> Double {
        let h = 1e-3 * max(1, abs(p[k]))
        func at(_ s: Double) -> Double { var q = p; q[k] += s * h; return f(q) }
        return (8 * (at(1) - at(-1)) - (at(2) - at(-2))) / (12 * h)
    }
}

/// `count` zero-filled arrays of `length` values (1 to 4: a value and up to three gradient
/// components), filled by `fill` through their base addresses, valid only during `fill`.
func makeArrays(length: Int, count: Int, _ fill: ([UnsafeMutablePointer<Double>]) -> Void) -> [[Double]] {
    precondition((1...4).contains(count) && length > 0)
    func array(_ k: Int) -> [Double] { k < count ? [Double](repeating: 0, count: length) : [] }
    var (a, b, c, d) = (array(0), array(1), array(2), array(3))
    a.withUnsafeMutableBufferPointer { pa in
        b.withUnsafeMutableBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                d.withUnsafeMutableBufferPointer { pd in
                    fill([pa, pb, pc, pd].prefix(count).map { $0.baseAddress! })
                }
            }
        }
    }
    return Array([a, b, c, d].prefix(count))
}
