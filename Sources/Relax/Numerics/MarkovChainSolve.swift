/// Implicit steps of a birth–death chain (a Markov generator on a path or a cycle),
/// solved without a single subtraction.
///
/// The chain has nodes `0..<n` with positive weights `c_k` (control-volume measures) and
/// edges `k -- k+1` with non-negative rates: `forward[k]` is the rate of `k -> k+1` (the
/// coefficient of `x_k` in that flux) and `backward[k]` the rate of `k+1 -> k`. Edge `n-1`
/// joins node `n-1` to node `0` and exists only on a cycle (pass zero rates for a path).
/// An implicit step of length `tau` solves
///
///     M x = d,   M = diag(c) + tau (outflow - inflow),
///
/// a tridiagonal (cyclic: tridiagonal plus two corners) M-matrix whose column sums are
/// exactly `c`. Gaussian elimination without pivoting keeps every Schur complement an
/// M-matrix; following Grassmann–Taksar–Heyman, each pivot is formed as
/// `(column sum of the Schur complement) + (magnitudes below the diagonal)` and the column
/// sums are updated by additions only, so every operation adds, multiplies or divides
/// non-negative numbers. Consequences, in floating point and for any `tau >= 0`:
/// `d >= 0` gives `x >= 0` exactly (no rounding can produce a negative value), each
/// component has a relative error of a few `n` units of round-off however ill-conditioned
/// `M` is (huge `tau`), and `sum c_k x_k = sum d_k` up to that componentwise error.
/// Cost: about 20 flops per node.
enum MarkovChainSolve {
    /// Solves `M x = d` in place (`x` overwrites `d`). `pivots` and `fill` are scratch
    /// buffers of at least `n` entries. Requires `n >= 2`, `c > 0`, rates >= 0, `tau >= 0`.
    @inline(__always)
    static func solve(n: Int, tau: Double,
                      weights c: UnsafePointer<Double>,
                      forward u: UnsafePointer<Double>, backward v: UnsafePointer<Double>,
                      _ d: UnsafeMutablePointer<Double>,
                      pivots p: UnsafeMutablePointer<Double>, fill f: UnsafeMutablePointer<Double>) {
        // g: |entry| of the last row in the current pivot column; fk: |entry| of the current
        // pivot row in the last column; t: column sum of the current pivot column;
        // total: column sum of the last column; yLast: the last right-hand side entry.
        var g = tau * v[n - 1]
        var fk = tau * u[n - 1]
        if n == 2 {
            g += tau * u[0]
            fk += tau * v[0]
        }
        var t = c[0]
        var total = c[n - 1]
        var yLast = d[n - 1]
        if n > 2 {
            for k in 0..<(n - 2) {
                let a = tau * u[k]          // |M[k+1, k]|
                let bv = tau * v[k]         // |M[k, k+1]|
                let pk = t + a + g
                p[k] = pk
                f[k] = fk
                let r = 1 / pk
                let tr = t * r
                total += tr * fk
                t = c[k + 1] + tr * bv
                let yk = d[k]
                d[k + 1] += a * r * yk
                yLast += g * r * yk
                let gNext = g * r * bv
                let fNext = a * r * fk
                g = gNext
                fk = fNext
                if k + 1 == n - 2 {
                    g += tau * u[n - 2]
                    fk += tau * v[n - 2]
                }
            }
        }
        // Last eliminated unknown n-2: below it only the last row.
        let pk = t + g
        p[n - 2] = pk
        f[n - 2] = fk
        let r = 1 / pk
        total += t * r * fk
        yLast += g * r * d[n - 2]
        let xLast = yLast / total
        d[n - 1] = xLast
        var next = (d[n - 2] + fk * xLast) * r
        d[n - 2] = next
        if n > 2 {
            for k in stride(from: n - 3, through: 0, by: -1) {
                let x = (d[k] + tau * v[k] * next + f[k] * xLast) / p[k]
                d[k] = x
                next = x
            }
        }
    }

    /// Factors `M` once for repeated solves with the same `tau`: the same elimination as
    /// `solve` without a right-hand side, storing reciprocal pivots `rp`, the multipliers of
    /// the next row `ln` and of the last row `ll`, and the back-substitution coefficients
    /// `up = tau v rp`, `fp = fill rp`. Returns `1 / (last pivot)`. All entries are >= 0.
    @inline(__always)
    static func factor(n: Int, tau: Double,
                       weights c: UnsafePointer<Double>,
                       forward u: UnsafePointer<Double>, backward v: UnsafePointer<Double>,
                       rp: UnsafeMutablePointer<Double>, ln: UnsafeMutablePointer<Double>,
                       ll: UnsafeMutablePointer<Double>, up: UnsafeMutablePointer<Double>,
                       fp: UnsafeMutablePointer<Double>) -> Double {
        var g = tau * v[n - 1]
        var fk = tau * u[n - 1]
        if n == 2 {
            g += tau * u[0]
            fk += tau * v[0]
        }
        var t = c[0]
        var total = c[n - 1]
        if n > 2 {
            for k in 0..<(n - 2) {
                let a = tau * u[k]
                let bv = tau * v[k]
                let r = 1 / (t + a + g)
                rp[k] = r
                ln[k] = a * r
                ll[k] = g * r
                up[k] = bv * r
                fp[k] = fk * r
                let tr = t * r
                total += tr * fk
                t = c[k + 1] + tr * bv
                let gNext = g * r * bv
                let fNext = a * r * fk
                g = gNext
                fk = fNext
                if k + 1 == n - 2 {
                    g += tau * u[n - 2]
                    fk += tau * v[n - 2]
                }
            }
        }
        let r = 1 / (t + g)
        rp[n - 2] = r
        ln[n - 2] = 0
        ll[n - 2] = g * r
        up[n - 2] = 0
        fp[n - 2] = fk * r
        total += t * r * fk
        return 1 / total
    }

    /// Solves `M x = d` in place with factors from `factor`: multiply-adds of non-negative
    /// numbers only (no division on the dependency chain).
    @inline(__always)
    static func solveFactored(n: Int, rp: UnsafePointer<Double>, ln: UnsafePointer<Double>,
                              ll: UnsafePointer<Double>, up: UnsafePointer<Double>, fp: UnsafePointer<Double>,
                              inverseLastPivot: Double, _ d: UnsafeMutablePointer<Double>) {
        var yLast = d[n - 1]
        for k in 0..<(n - 1) {
            let yk = d[k]
            d[k + 1] += ln[k] * yk
            yLast += ll[k] * yk
        }
        // d[n-1] received ln[n-2] * d[n-2] = 0 above; the last unknown uses yLast.
        let xLast = yLast * inverseLastPivot
        d[n - 1] = xLast
        var next = xLast
        for k in stride(from: n - 2, through: 0, by: -1) {
            let x = d[k] * rp[k] + up[k] * next + fp[k] * xLast
            d[k] = x
            next = x
        }
    }

    /// `out = diag(c) y - theta (outflow - inflow) y`, the explicit half of a trapezoidal
    /// step (the only place where a subtraction, and so a negative value, can arise). Written
    /// with the edge fluxes `F_k = u_k y_k - v_k y_{k+1}` as `c_k y_k - theta (F_k - F_{k-1})`,
    /// so the differences telescope and the rounding of `sum c out` is a few ulps of
    /// `sum c y`, whatever `theta` times the rates.
    @inline(__always)
    static func applyExplicit(n: Int, theta: Double,
                              weights c: UnsafePointer<Double>,
                              forward u: UnsafePointer<Double>, backward v: UnsafePointer<Double>,
                              _ y: UnsafePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        // Edge n-1 joins n-1 and 0 (zero rates on a path).
        var previous = theta * (u[n - 1] * y[n - 1] - v[n - 1] * y[0])
        for k in 0..<(n - 1) {
            let flux = theta * (u[k] * y[k] - v[k] * y[k + 1])
            out[k] = c[k] * y[k] - (flux - previous)
            previous = flux
        }
        let last = theta * (u[n - 1] * y[n - 1] - v[n - 1] * y[0])
        out[n - 1] = c[n - 1] * y[n - 1] - (last - previous)
    }

    /// `out = -(outflow - inflow) y / c`, the generator applied to `y` (rates of change).
    @inline(__always)
    static func applyGenerator(n: Int,
                               weights c: UnsafePointer<Double>,
                               forward u: UnsafePointer<Double>, backward v: UnsafePointer<Double>,
                               _ y: UnsafePointer<Double>, adding out: UnsafeMutablePointer<Double>) {
        for k in 0..<n {
            let km = k == 0 ? n - 1 : k - 1
            let kp = k == n - 1 ? 0 : k + 1
            let outflow = (u[k] + v[km]) * y[k]
            let inflow = u[km] * y[km] + v[k] * y[kp]
            out[k] += (inflow - outflow) / c[k]
        }
    }
}
