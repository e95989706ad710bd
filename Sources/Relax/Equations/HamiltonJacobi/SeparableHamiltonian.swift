/// A Hamiltonian that is a sum over axes, `H(x, p) = sum_k H_k(x, p_k)`, for
/// `u_t + H(x, grad u) = nu Lap u`. The inviscid HJ equation of the paper is `H = |p|^2/2`
/// (`QuadraticHamiltonian`); a drift term `-grad f . p` (the HJB of the control view) is
/// separable too. Nodes are flat indices of the grid the solver works on.
public protocol SeparableHamiltonian: Sendable {
    /// `H_k(x_node, p)`.
    func value(axis: Int, node: Int, p: Double) -> Double
    /// The Godunov flux (exact Riemann solver) for the one-sided slopes `minus = D^- u`,
    /// `plus = D^+ u`: `min H_k` over `[minus, plus]` if `minus <= plus`, else `max H_k` over
    /// `[plus, minus]`. Monotone, consistent, first order.
    func godunov(axis: Int, node: Int, minus: Double, plus: Double) -> Double
    /// A bound for `|dH_k/dp|` between the two slopes (the local wave speed).
    func speed(axis: Int, node: Int, minus: Double, plus: Double) -> Double
}

/// `H(p) = |p|^2 / 2`, so that `u_t + H(grad u) = 0` is the paper's `u_t = -|grad u|^2/2`.
///
/// Godunov flux (Rouy–Tourin / Osher–Sethian form for a convex H with minimum at 0):
/// `max(max(p^-, 0)^2, min(p^+, 0)^2) / 2` per axis.
public struct QuadraticHamiltonian: SeparableHamiltonian {
    public init() {}

    @inlinable public func value(axis: Int, node: Int, p: Double) -> Double { 0.5 * p * p }

    @inlinable public func godunov(axis: Int, node: Int, minus: Double, plus: Double) -> Double {
        let a = max(minus, 0), b = min(plus, 0)
        return 0.5 * max(a * a, b * b)
    }

    @inlinable public func speed(axis: Int, node: Int, minus: Double, plus: Double) -> Double {
        max(abs(minus), abs(plus))
    }
}
