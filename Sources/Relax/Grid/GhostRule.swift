/// How a stencil finds the value one or two nodes beyond the end of a grid line: the
/// boundary condition as a small value that fills ghost nodes, not baked into an operator.
///
/// - `wrap`: periodic, `u[-1] = u[n-1]`, `u[n] = u[0]`.
/// - `mirror`: zero flux about the end node, `u[-1] = u[1]`, `u[n] = u[n-2]`
///   (second-order accurate Neumann condition on a node grid; exact for even data).
/// - `fixed(v)`: the end nodes hold `v` (Dirichlet). Stencils that update values leave the
///   end nodes at `v`; difference stencils use one-sided formulas there.
public enum GhostRule: Sendable, Hashable {
    case wrap
    case mirror
    case fixed(Double)

    /// The rule a grid's boundary kind implies. `free` has no ghost rule of its own: a
    /// free-space solver extends the grid first and then treats the extended edge as
    /// zero flux (`mirror`), far enough out that the edge does not reach the window.
    public init(_ boundary: Boundary) {
        switch boundary {
        case .periodic: self = .wrap
        case .neumann, .free: self = .mirror
        case let .dirichlet(v): self = .fixed(v)
        }
    }

    /// The index of node `i` in `-2..<n+2` after applying the rule along a line of `n`
    /// nodes, for rules that read an interior node (`wrap`, `mirror`); nil for `fixed`.
    @inlinable
    public func sourceIndex(_ i: Int, count n: Int) -> Int? {
        if i >= 0 && i < n { return i }
        switch self {
        case .wrap: return ((i % n) + n) % n
        case .mirror: return i < 0 ? -i : 2 * (n - 1) - i
        case .fixed: return nil
        }
    }
}

extension GhostRule {
    /// Sets the end nodes of every line along each `fixed` axis to the axis' value.
    public static func fixEnds(_ values: UnsafeMutablePointer<Double>, grid: Grid, rules: [GhostRule]) {
        for (axis, rule) in rules.enumerated() {
            guard case let .fixed(v) = rule else { continue }
            let n = grid.axes[axis].count
            let step = grid.strides[axis]
            for line in 0..<grid.lineCount(along: axis) {
                let start = grid.lineStart(along: axis, line: line)
                values[start] = v
                values[start + (n - 1) * step] = v
            }
        }
    }
}

extension Grid {
    /// The ghost rule on every axis.
    public var ghostRules: [GhostRule] {
        [GhostRule](repeating: GhostRule(boundary), count: dimension)
    }
}
