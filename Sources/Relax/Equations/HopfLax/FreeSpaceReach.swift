/// How far beyond a window the prox points of its nodes can lie, for the whole-space
/// Hopf–Lax value at time `t`.
///
/// Two bounds hold for the prox `y*` of a window point `x`: `|x_k - y*_k| = t |d_k f(y*)|
/// <= t Lip_k` (eq. 15), and `|x - y*|^2 / (2t) <= f(x) - f(y*) <= max_W f - inf f`. Both use
/// quantities of `f` beyond the window, so they are estimated on a generously padded grid
/// (twice the current reach) from the loss's sampled gradient and values, and the estimate is
/// iterated until the padded region covers it. The second bound keeps the reach finite for
/// losses that grow at infinity (for `c|x|^2/2` the Lipschitz bound alone would run away).
/// A loss that decreases too fast at infinity (unbounded Hopf–Lax value) never settles: the
/// last estimate is used with a warning.
struct FreeSpaceReach {
    /// The reach per axis, in coordinates.
    var reach: [Double]
    var notes: [String]
    var warnings: [String]

    static let maximumIterations = 6
    /// The padding never exceeds this many window lengths per side.
    static let maximumReachInWindows = 4.0

    static func estimate(loss: Loss, window: Grid, time t: Double) throws -> FreeSpaceReach {
        guard loss.isExtendable else {
            throw RelaxError.unsupported(
                "the loss \(loss.description) is known only on its own grid, so the whole-space Hopf–Lax value "
                + "cannot be computed; use --boundary neumann (minimum over the window) or periodic")
        }
        let d = window.dimension
        let h = window.spacing
        let (fW, gW) = try loss.sampleWithGradient(on: window)
        let maxW = fW.maximum
        var reach = (0..<d).map { k in max(h[k], t * gW[k].norm(.max)) }
        var notes: [String] = []
        for iteration in 1...maximumIterations {
            let probe = window.padded(reach: reach.map { 2 * $0 })
            let (f, g) = try loss.sampleWithGradient(on: probe.grid)
            let drop = max(0, maxW - f.minimum)
            let energyBound = (2 * t * drop).squareRoot()
            let next = (0..<d).map { k in max(h[k], min(t * g[k].norm(.max), energyBound)) }
            if (0..<d).allSatisfy({ next[$0] <= 2 * reach[$0] }) {
                notes.append("free space: prox reach \(next.map { String(format: "%.4g", $0) }) estimated "
                             + "from t*Lip(f) and sqrt(2 t (max f - min f)) on a padded grid (\(iteration) iteration(s))")
                return FreeSpaceReach(reach: next, notes: notes, warnings: [])
            }
            reach = (0..<d).map { max(next[$0], reach[$0]) }
            if (0..<d).contains(where: { reach[$0] > maximumReachInWindows * window.axes[$0].length }) {
                reach = (0..<d).map { min(reach[$0], maximumReachInWindows * window.axes[$0].length) }
                break
            }
        }
        return FreeSpaceReach(
            reach: reach, notes: notes,
            warnings: ["free space: the prox reach did not settle (capped at \(Int(maximumReachInWindows)) window lengths) "
                       + "(last \(reach.map { String(format: "%.4g", $0) })); the loss may fall off faster than "
                       + "-|x|^2/(2t) at infinity, where the Hopf–Lax value is -infinity; results near the window's "
                       + "edge may be cut off"])
    }
}
