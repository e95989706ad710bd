/// Characteristics of the inviscid HJ equation in one dimension (paper, Example 15).
///
/// `p = u_x` solves Burgers' equation `p_t + p p_x = 0`; before characteristics cross, `p`
/// is the fixed point `p = f'(x - t p)` (eq. 28) and `u(x,t) = f(y) + t p^2/2` with the foot
/// `y = x - t p`. Characteristics first cross at `t* = 1 / max(-f'')` (eq. 29: `t* f''(y) + 1 =
/// 0` at the worst foot), infinite for convex `f`. For `t < t*` the map `p -> p - f'(x - t p)`
/// has slope `1 + t f'' >= 1 - t/t* > 0`, so the fixed point is unique; it is found by Newton's
/// method safeguarded by bisection on a bracket (quadratic convergence, never diverges).
public enum BurgersCharacteristics {
    /// The critical time `1 / max(-f'')` from samples of `f''`; `.infinity` when `f'' >= 0`.
    public static func criticalTime(secondDerivative: [Double]) -> Double {
        let worst = secondDerivative.reduce(0) { max($0, -$1) }
        return worst > 0 ? 1 / worst : .infinity
    }

    /// `t*` of a 1-D field from its second differences at interior nodes (wrapping on a
    /// periodic grid): O(h^2) accurate for smooth `f`.
    public static func criticalTime(_ f: Field) throws -> Double {
        guard f.grid.dimension == 1 else {
            throw RelaxError.unsupported("t* (eq. 29) is defined here for 1-D losses; the field has \(f.grid.dimension) axes")
        }
        return criticalTime(secondDerivative: secondDifferences(f))
    }

    /// Second differences `(f[i+1] - 2 f[i] + f[i-1]) / h^2` of a 1-D field at the interior
    /// nodes (all nodes, wrapping, on a periodic grid).
    public static func secondDifferences(_ f: Field) -> [Double] {
        let n = f.grid.shape[0]
        let h = f.grid.spacing[0]
        let v = f.values
        if f.grid.axes[0].periodic {
            return (0..<n).map { i in (v[(i + 1) % n] - 2 * v[i] + v[(i + n - 1) % n]) / (h * h) }
        }
        return (1..<(n - 1)).map { i in (v[i + 1] - 2 * v[i] + v[i - 1]) / (h * h) }
    }

    /// The slope `p(x,t)` solving `p = f'(x - t p)` (eq. 28), for `0 < t < t*`.
    ///
    /// Throws `.numerical` if no sign change of `p - f'(x - t p)` is found (t beyond t*, or
    /// `f'` unbounded) or the iteration does not settle to `tolerance`.
    public static func slope(at x: Double, time t: Double,
                             derivative fPrime: (Double) -> Double,
                             secondDerivative fSecond: (Double) -> Double,
                             tolerance: Double = 1e-14) throws -> Double {
        func residual(_ p: Double) -> Double { p - fPrime(x - t * p) }
        // Bracket the root around p0 = f'(x): the residual increases for t < t*.
        let p0 = fPrime(x)
        var lo = p0, hi = p0
        var width = max(1, abs(p0))
        var expansions = 0
        while residual(lo) > 0 { lo -= width; width *= 2; expansions += 1; if expansions > 60 { break } }
        width = max(1, abs(p0))
        while residual(hi) < 0 { hi += width; width *= 2; expansions += 1; if expansions > 120 { break } }
        guard residual(lo) <= 0, residual(hi) >= 0 else {
            throw RelaxError.numerical("no fixed point of p = f'(x - t p) bracketed at x = \(x), t = \(t)")
        }
        var p = min(max(p0, lo), hi)
        for _ in 0..<100 {
            let r = residual(p)
            if r == 0 { return p }
            if r < 0 { lo = p } else { hi = p }
            let slope = 1 + t * fSecond(x - t * p)
            var next = p - r / slope
            if !(next > lo && next < hi) || slope <= 0 { next = 0.5 * (lo + hi) }
            if abs(next - p) <= tolerance * max(1, abs(p)) { return next }
            p = next
        }
        throw RelaxError.numerical("the fixed point p = f'(x - t p) did not converge at x = \(x), t = \(t)")
    }

    /// The classical solution before characteristics cross: `u = f(y) + t p^2 / 2`, its slope
    /// `p` and the foot `y = x - t p` (the prox point).
    public static func solution(at x: Double, time t: Double,
                                value f: (Double) -> Double,
                                derivative fPrime: (Double) -> Double,
                                secondDerivative fSecond: (Double) -> Double) throws
        -> (value: Double, slope: Double, foot: Double) {
        let p = try slope(at: x, time: t, derivative: fPrime, secondDerivative: fSecond)
        let y = x - t * p
        return (f(y) + 0.5 * t * p * p, p, y)
    }
}
