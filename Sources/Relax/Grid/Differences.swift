/// Central finite differences along grid lines, one code path for every axis and dimension.
///
/// Order 2: `(u[i+1] - u[i-1]) / (2h)`; order 4: `(u[i-2] - 8u[i-1] + 8u[i+1] - u[i+2]) / (12h)`;
/// truncation errors `h^2/6 u'''` and `h^4/30 u^(5)`. Ghost nodes come from each axis'
/// `GhostRule` (`wrap`, `mirror`); at `fixed` (Dirichlet) ends the one-sided formulas of
/// the same order are used, so the order holds up to the boundary.
public enum Differences {
    /// `grad u`, one field per axis, with the grid's own ghost rules unless `rules` is given.
    public static func gradient(of field: Field, order: Int = 2, rules: [GhostRule]? = nil) -> [Field] {
        let rules = rules ?? field.grid.ghostRules
        return (0..<field.grid.dimension).map { derivative(of: field, axis: $0, order: order, rule: rules[$0]) }
    }

    /// The partial derivative along `axis`.
    public static func derivative(of field: Field, axis: Int, order: Int, rule: GhostRule) -> Field {
        precondition(order == 2 || order == 4, "difference order is 2 or 4")
        let grid = field.grid
        let n = grid.axes[axis].count
        let step = grid.strides[axis]
        let scale = 1 / grid.axes[axis].spacing
        let lines = grid.lineCount(along: axis)
        var out = [Double](repeating: 0, count: grid.count)
        field.values.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                Parallel.forEachChunk(lines, minimumPerChunk: max(1, 4096 / n)) { range in
                    // The line with two ghost nodes on each side: line[i + 2] = u[i].
                    var line = [Double](repeating: 0, count: n + 4)
                    var slope = [Double](repeating: 0, count: n)
                    for l in range {
                        let start = grid.lineStart(along: axis, line: l)
                        for i in -2..<(n + 2) {
                            if let s = rule.sourceIndex(i, count: n) {
                                line[i + 2] = src[start + s * step]
                            }
                        }
                        lineDerivative(line, into: &slope, order: order, oneSidedEnds: rule.isFixed)
                        for i in 0..<n { dst[start + i * step] = slope[i] * scale }
                    }
                }
            }
        }
        return Field(grid: grid, values: out)
    }

    /// `h u'` at the `n` nodes of `line` (which carries two ghost nodes on each side).
    static func lineDerivative(_ line: [Double], into slope: inout [Double], order: Int, oneSidedEnds: Bool) {
        let n = slope.count
        let u = { (i: Int) in line[i + 2] }
        for i in 0..<n {
            slope[i] = order == 2
                ? (u(i + 1) - u(i - 1)) / 2
                : (u(i - 2) - 8 * u(i - 1) + 8 * u(i + 1) - u(i + 2)) / 12
        }
        guard oneSidedEnds else { return }
        if order == 2 || n < 5 {
            slope[0] = (-3 * u(0) + 4 * u(1) - u(2)) / 2
            slope[n - 1] = (3 * u(n - 1) - 4 * u(n - 2) + u(n - 3)) / 2
            if order == 4 && n >= 3 {
                // Too few nodes for the fourth-order one-sided stencil: second order at the ends.
                slope[min(1, n - 1)] = (u(2) - u(0)) / 2
                slope[max(n - 2, 0)] = (u(n - 1) - u(n - 3)) / 2
            }
            return
        }
        slope[0] = (-25 * u(0) + 48 * u(1) - 36 * u(2) + 16 * u(3) - 3 * u(4)) / 12
        slope[1] = (-3 * u(0) - 10 * u(1) + 18 * u(2) - 6 * u(3) + u(4)) / 12
        slope[n - 1] = (25 * u(n - 1) - 48 * u(n - 2) + 36 * u(n - 3) - 16 * u(n - 4) + 3 * u(n - 5)) / 12
        slope[n - 2] = (3 * u(n - 1) + 10 * u(n - 2) - 18 * u(n - 3) + 6 * u(n - 4) - u(n - 5)) / 12
    }
}

extension GhostRule {
    /// True for a Dirichlet end.
    public var isFixed: Bool {
        if case .fixed = self { return true }
        return false
    }
}
