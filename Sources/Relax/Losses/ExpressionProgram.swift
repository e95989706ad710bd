import Foundation

/// A loss expression compiled to a straight-line program (one instruction per distinct
/// sub-expression, operands before their uses) and evaluated block by block over whole grids.
///
/// Evaluation is vectorized: each instruction runs over a block of grid points (4 KiB of
/// values) before the next one starts, so the per-instruction dispatch is paid once per
/// block; blocks are split over cores with `Parallel.forEachChunk`. Sub-expressions of a
/// single variable are tabulated once per node of their axis and gathered (see `AxisTables`). The same program runs in any
/// `LossScalar`: `Double` for values, `Dual` for exact gradients (forward mode),
/// `Taylor2` for exact second derivatives in one variable. Sub-expressions without
/// variables are folded to constants; repeated sub-expressions are computed once.
struct ExpressionProgram: Sendable {
    enum Instruction: Hashable, Sendable {
        case variable(Int)
        case constant(Double)
        case unary(UnaryFunction, Int)
        case binary(BinaryOperator, Int, Int)
        /// `a^n` for a constant integer `n`, |n| <= 64, n not 0 or 1.
        case integerPower(Int, Int)
        /// `a^c` for any other constant `c`.
        case constantPower(Int, Double)

        var operands: [Int] {
            switch self {
            case .variable, .constant: return []
            case let .unary(_, a), let .integerPower(a, _), let .constantPower(a, _): return [a]
            case let .binary(_, a, b): return [a, b]
            }
        }
    }

    let text: String
    let dimension: Int
    private(set) var instructions: [Instruction] = []
    /// The source span (0-based character offsets) each instruction came from.
    private(set) var spans: [Range<Int>] = []
    /// The variables each instruction depends on, as a bit mask over the axes.
    private(set) var dependencies: [Int] = []
    private(set) var result = 0

    /// Points per block: large enough to amortize dispatch, small enough that the
    /// registers of a typical expression stay in the L1/L2 cache.
    /// (4 KiB per register: 512 Doubles, 128 Duals; larger blocks measured no faster.)
    static func blockSize<T>(_: T.Type) -> Int { max(16, 4096 / MemoryLayout<T>.stride) }

    init(_ expression: LossExpression) {
        text = expression.text
        dimension = expression.dimension
        var seen: [Instruction: Int] = [:]
        result = compile(expression.root, &seen)
    }

    private mutating func emit(_ instruction: Instruction, span: Range<Int>, _ seen: inout [Instruction: Int]) -> Int {
        if let r = seen[instruction] { return r }
        instructions.append(instruction)
        spans.append(span)
        if case let .variable(k) = instruction {
            dependencies.append(1 << k)
        } else {
            dependencies.append(instruction.operands.reduce(0) { $0 | dependencies[$1] })
        }
        seen[instruction] = instructions.count - 1
        return instructions.count - 1
    }

    private func constantValue(_ r: Int) -> Double? {
        if case let .constant(v) = instructions[r] { return v }
        return nil
    }

    private mutating func compile(_ node: SyntaxNode, _ seen: inout [Instruction: Int]) -> Int {
        switch node.kind {
        case let .number(v):
            return emit(.constant(v), span: node.span, &seen)
        case let .variable(k):
            return emit(.variable(k), span: node.span, &seen)
        case let .unary(f, a):
            let ra = compile(a, &seen)
            if let v = constantValue(ra) {
                return emit(.constant(ExpressionOperations.apply(f, v)), span: node.span, &seen)
            }
            return emit(.unary(f, ra), span: node.span, &seen)
        case let .binary(op, a, b):
            let ra = compile(a, &seen)
            let rb = compile(b, &seen)
            if let u = constantValue(ra), let w = constantValue(rb) {
                return emit(.constant(ExpressionOperations.apply(op, u, w)), span: node.span, &seen)
            }
            if op == .power, let c = constantValue(rb) {
                if c == 1 { return ra }
                if c == 0 { return emit(.constant(1), span: node.span, &seen) }
                if c == c.rounded(), Swift.abs(c) <= 64 {
                    return emit(.integerPower(ra, Int(c)), span: node.span, &seen)
                }
                return emit(.constantPower(ra, c), span: node.span, &seen)
            }
            return emit(.binary(op, ra, rb), span: node.span, &seen)
        }
    }

    // MARK: - Evaluation

    /// Runs instruction `index` over the first `n` points of a block. `registers` holds
    /// `block` values per instruction.
    @inline(__always)
    private func execute<T: LossScalar>(_ index: Int, _ registers: UnsafeMutablePointer<T>, _ n: Int, block: Int) {
        let out = registers + index * block
        func operand(_ r: Int) -> UnsafeMutablePointer<T> { registers + r * block }
        switch instructions[index] {
        case .variable, .constant:
            return  // constants are filled when the registers are made, variables per block
        case let .unary(f, a):
            let x = operand(a)
            switch f {
            case .negate: for i in 0..<n { out[i] = ExpressionOperations.apply(.negate, x[i]) }
            case .sin: for i in 0..<n { out[i] = ExpressionOperations.apply(.sin, x[i]) }
            case .cos: for i in 0..<n { out[i] = ExpressionOperations.apply(.cos, x[i]) }
            case .tan: for i in 0..<n { out[i] = ExpressionOperations.apply(.tan, x[i]) }
            case .exp: for i in 0..<n { out[i] = ExpressionOperations.apply(.exp, x[i]) }
            case .log: for i in 0..<n { out[i] = ExpressionOperations.apply(.log, x[i]) }
            case .sqrt: for i in 0..<n { out[i] = ExpressionOperations.apply(.sqrt, x[i]) }
            case .abs: for i in 0..<n { out[i] = ExpressionOperations.apply(.abs, x[i]) }
            case .tanh: for i in 0..<n { out[i] = ExpressionOperations.apply(.tanh, x[i]) }
            }
        case let .binary(op, a, b):
            let (x, y) = (operand(a), operand(b))
            switch op {
            case .add: for i in 0..<n { out[i] = ExpressionOperations.apply(.add, x[i], y[i]) }
            case .subtract: for i in 0..<n { out[i] = ExpressionOperations.apply(.subtract, x[i], y[i]) }
            case .multiply: for i in 0..<n { out[i] = ExpressionOperations.apply(.multiply, x[i], y[i]) }
            case .divide: for i in 0..<n { out[i] = ExpressionOperations.apply(.divide, x[i], y[i]) }
            case .power: for i in 0..<n { out[i] = ExpressionOperations.power(x[i], y[i]) }
            case .min: for i in 0..<n { out[i] = ExpressionOperations.apply(.min, x[i], y[i]) }
            case .max: for i in 0..<n { out[i] = ExpressionOperations.apply(.max, x[i], y[i]) }
            }
        case let .integerPower(a, p):
            let x = operand(a)
            if p == 2 {
                for i in 0..<n { out[i] = ExpressionOperations.apply(.multiply, x[i], x[i]) }
            } else {
                for i in 0..<n { out[i] = ExpressionOperations.power(x[i], integer: p) }
            }
        case let .constantPower(a, c):
            let x = operand(a)
            for i in 0..<n { out[i] = ExpressionOperations.power(x[i], constant: c) }
        }
    }

    /// Allocates registers of `block` values per instruction with the constants filled in.
    private func makeRegisters<T: LossScalar>(block: Int) -> UnsafeMutablePointer<T> {
        let registers = UnsafeMutablePointer<T>.allocate(capacity: instructions.count * block)
        for (r, instruction) in instructions.enumerated() {
            var v = 0.0
            if case let .constant(c) = instruction { v = c }
            (registers + r * block).initialize(repeating: T(constant: v), count: block)
        }
        return registers
    }

    /// The per-axis tables of a grid evaluation: for each axis `k` small enough to tabulate,
    /// every instruction that depends on `x_k` alone, evaluated once per node of that axis
    /// (register `r` at `r * n_k`). A grid point then gathers those values instead of
    /// recomputing them: `cos(5*x) + cos(5*y)` on an `n x n` grid costs `2n` cosines, not `2n^2`.
    private struct AxisTables<T: LossScalar> {
        var tables: [UnsafeMutablePointer<T>?]
        /// Registers filled per point from a table: (register, axis).
        var gathers: [(register: Int, axis: Int)]
        /// Instructions executed per block, in program order.
        var perBlock: [Int]

        func deallocate() { for t in tables { t?.deallocate() } }
    }

    /// Tables use at most this many bytes per axis; longer axes are evaluated per block.
    static let tableBytes = 1 << 26

    private func makeTables<T: LossScalar>(for grid: Grid, as _: T.Type) -> AxisTables<T> {
        var tables = [UnsafeMutablePointer<T>?](repeating: nil, count: grid.dimension)
        // On a 1-D grid the blocks already visit each node once: nothing to share.
        if grid.dimension > 1 {
            for k in 0..<dimension {
                let n = grid.shape[k]
                guard n * instructions.count * MemoryLayout<T>.stride <= Self.tableBytes,
                      dependencies.contains(1 << k) else { continue }
                let table: UnsafeMutablePointer<T> = makeRegisters(block: n)
                for r in instructions.indices where dependencies[r] == 1 << k {
                    if case .variable = instructions[r] {
                        for j in 0..<n { table[r * n + j] = T.variable(grid.axes[k].coordinate(j), axis: k) }
                    } else {
                        execute(r, table, n, block: n)
                    }
                }
                tables[k] = table
            }
        }
        func tabled(_ r: Int) -> Int? {
            let mask = dependencies[r]
            guard mask.nonzeroBitCount == 1 else { return nil }
            let k = mask.trailingZeroBitCount
            return tables[k] == nil ? nil : k
        }
        let perBlock = instructions.indices.filter { r in
            if case .constant = instructions[r] { return false }
            return tabled(r) == nil
        }
        // Gather the tabled registers that per-block instructions (or the result) read.
        var needed = Set(perBlock.flatMap { instructions[$0].operands })
        needed.insert(result)
        let gathers = needed.sorted().compactMap { r in tabled(r).map { (register: r, axis: $0) } }
        return AxisTables(tables: tables, gathers: gathers, perBlock: perBlock)
    }

    /// Evaluates the program at every node of `grid` (which has at least `dimension` axes)
    /// and hands each block's results to `store(firstFlatIndex, results)`. `store` is
    /// called concurrently for disjoint index ranges.
    func evaluate<T: LossScalar>(on grid: Grid, as type: T.Type,
                                 store: (_ start: Int, _ results: UnsafeBufferPointer<T>) -> Void) {
        let plan = makeTables(for: grid, as: type)
        defer { plan.deallocate() }
        let shape = grid.shape
        let d = grid.dimension
        let block = Self.blockSize(T.self)
        let variables = plan.perBlock.compactMap { r -> (register: Int, axis: Int)? in
            if case let .variable(k) = instructions[r] { return (r, k) }
            return nil
        }
        Parallel.forEachChunk(grid.count, minimumPerChunk: 4 * block) { range in
            let registers: UnsafeMutablePointer<T> = makeRegisters(block: block)
            // indices[k * block + i]: the index along axis k of the block's point i.
            let indices = UnsafeMutablePointer<Int>.allocate(capacity: d * block)
            defer {
                registers.deallocate()
                indices.deallocate()
            }
            var index = grid.multiIndex(range.lowerBound)
            var start = range.lowerBound
            while start < range.upperBound {
                let n = Swift.min(block, range.upperBound - start)
                for i in 0..<n {
                    for k in 0..<d { indices[k * block + i] = index[k] }
                    index.advanceRowMajor(in: shape)
                }
                for (r, k) in plan.gathers {
                    let table = plan.tables[k]! + r * shape[k]
                    let out = registers + r * block
                    let along = indices + k * block
                    for i in 0..<n { out[i] = table[along[i]] }
                }
                for (r, k) in variables {
                    let axis = grid.axes[k]
                    let out = registers + r * block
                    let along = indices + k * block
                    for i in 0..<n { out[i] = T.variable(axis.coordinate(along[i]), axis: k) }
                }
                for r in plan.perBlock { execute(r, registers, n, block: block) }
                store(start, UnsafeBufferPointer(start: registers + result * block, count: n))
                start += n
            }
        }
    }

    /// Evaluates the program at `count` scattered points on the calling thread, block by
    /// block (the per-instruction dispatch is paid once per block, as on grids, but nothing is
    /// tabulated): coordinate `k` of point `i` is `points[i * stride + k]` (`stride >=
    /// dimension`), and `store(firstPoint, results)` receives each block. For solvers that
    /// iterate on many points at once from their own parallel chunks (the prox Newton steps).
    func evaluate<T: LossScalar>(points: UnsafePointer<Double>, stride: Int, count: Int, as _: T.Type,
                                 store: (_ start: Int, _ results: UnsafeBufferPointer<T>) -> Void) {
        precondition(stride >= dimension)
        guard count > 0 else { return }
        let block = Swift.min(Self.blockSize(T.self), count)
        let registers: UnsafeMutablePointer<T> = makeRegisters(block: block)
        defer { registers.deallocate() }
        let perBlock = instructions.indices.filter { r in
            switch instructions[r] {
            case .constant, .variable: return false
            default: return true
            }
        }
        var start = 0
        while start < count {
            let n = Swift.min(block, count - start)
            for (r, instruction) in instructions.enumerated() {
                guard case let .variable(k) = instruction else { continue }
                let out = registers + r * block
                for i in 0..<n { out[i] = T.variable(points[(start + i) * stride + k], axis: k) }
            }
            for r in perBlock { execute(r, registers, n, block: block) }
            store(start, UnsafeBufferPointer(start: registers + result * block, count: n))
            start += n
        }
    }

    /// Every register's value at one point (`point` has at least `dimension` coordinates).
    func registers<T: LossScalar>(at point: [Double], as _: T.Type) -> [T] {
        let registers: UnsafeMutablePointer<T> = makeRegisters(block: 1)
        defer { registers.deallocate() }
        for (r, instruction) in instructions.enumerated() {
            if case let .variable(k) = instruction { registers[r] = T.variable(point[k], axis: k) }
        }
        for instruction in instructions.indices { execute(instruction, registers, 1, block: 1) }
        return Array(UnsafeBufferPointer(start: registers, count: instructions.count))
    }

    /// The expression's value (with derivatives, as `T` carries them) at one point.
    func evaluate<T: LossScalar>(at point: [Double], as type: T.Type) -> T {
        registers(at: point, as: type)[result]
    }

    // MARK: - Diagnosis

    /// The source text of instruction `r`.
    func source(_ r: Int) -> String {
        let characters = Array(text)
        let span = spans[r]
        return String(characters[span.clamped(to: 0..<characters.count)])
    }

    /// Names the first sub-expression that is not finite at `point` (in `T`, so a finite
    /// value with an infinite derivative is found too) and says why, for error messages.
    func diagnose<T: LossScalar>(at point: [Double], as type: T.Type) -> String? {
        let values = registers(at: point, as: type)
        guard let r = values.indices.first(where: { !values[$0].isFinite }) else { return nil }
        let derivative = values[r].value.isFinite
        let operands = instructions[r].operands.map { values[$0].value }
        var why: String?
        switch instructions[r] {
        case let .unary(f, _): why = ExpressionOperations.reason(f, operands[0], derivative: derivative)
        case let .binary(op, _, _): why = ExpressionOperations.reason(op, operands[0], operands[1], derivative: derivative)
        case let .integerPower(_, p):
            why = ExpressionOperations.reason(.power, operands[0], Double(p), derivative: derivative)
        case let .constantPower(_, c):
            why = ExpressionOperations.reason(.power, operands[0], c, derivative: derivative)
        case .constant: why = "the constant sub-expression evaluates to \(ExpressionOperations.text(values[r].value))"
        case .variable: why = nil
        }
        let what = derivative ? "has a non-finite derivative" : "is \(ExpressionOperations.text(values[r].value))"
        return "'\(source(r))' \(what)" + (why.map { " (\($0))" } ?? "")
    }
}
