/// Sub-grid refinement of a discrete prox point.
///
/// Around the discrete argmin node `y_J`, `f` is replaced by its quadratic Taylor model
/// with central-difference gradient `g` and Hessian `H` (O(h^2) each; one-sided at the
/// grid's edge), and the model objective
///
///     phi(delta) = f_J + g.delta + delta.H.delta / 2 + |y_J + delta - x|^2 / (2t)
///
/// is minimised exactly: one Newton step `(H + I/t) delta = -(g + (y_J - x)/t)`. The prox
/// moves to `y_J + delta` and the value to `phi(delta)`. For smooth `f` and a unique prox,
/// `|y_J - y*| <= h/2`, so the prox error is O(h^2) (the model gradient's error at distance
/// O(h)) and the value error O(h^3) (the cubic Taylor remainder of `f` over `delta`), against
/// O(h^2) for the discrete value. The step is kept only when `H + I/t` is positive definite
/// and `|delta_k| <= h_k` (the continuous minimiser lies in the node's cell neighbourhood),
/// and the stencil passes a smoothness check (second differences of neighbours agree);
/// otherwise (a kink of `u`, or a prox at a kink of `f`, where the model would undercut `f`
/// by O(h)) the discrete answer stands. At a kink the chosen basin may be the wrong one by O(h^2) in value, so the
/// refined max-norm error after kinks form is O(h^2).
struct ProxRefinement {
    let grid: Grid
    let f: [Double]
    let time: Double

    /// Refines `value` and `prox` (coordinates, one array per axis) in place for every node,
    /// given the discrete prox node indices `index` (as `SeparableInfConvolution.Output`).
    func refine(value: inout [Double], prox: inout [[Double]], index: [Int32]) {
        let d = grid.dimension
        let count = grid.count
        let shape = grid.shape
        let h = grid.spacing
        let t = time
        let grid = self.grid
        var proxFlat = [Double](repeating: 0, count: d * count)
        for k in 0..<d { for i in 0..<count { proxFlat[k * count + i] = prox[k][i] } }
        f.withUnsafeBufferPointer { fb in
            value.withUnsafeMutableBufferPointer { vb in
                proxFlat.withUnsafeMutableBufferPointer { pb in
                    let fp = fb.baseAddress!, vp = vb.baseAddress!, pp = pb.baseAddress!
                    Parallel.forEachChunk(count, minimumPerChunk: 8192) { range in
                        var node = [Int](repeating: 0, count: 3)
                        var g = [Double](repeating: 0, count: 3)
                        var hess = [Double](repeating: 0, count: 9)
                        var rhs = [Double](repeating: 0, count: 3)
                        for flat in range {
                            var rest = flat
                            var x = [Double](repeating: 0, count: d)
                            for k in stride(from: d - 1, through: 0, by: -1) {
                                x[k] = grid.axes[k].coordinate(rest % shape[k])
                                rest /= shape[k]
                            }
                            for k in 0..<d {
                                let j = Int(index[k * count + flat])
                                node[k] = grid.axes[k].periodic ? ((j % shape[k]) + shape[k]) % shape[k] : j
                            }
                            guard Self.taylor(fp, at: node, grid: grid, time: t, g: &g, hess: &hess) else { continue }
                            for k in 0..<d {
                                let y = pp[k * count + flat]
                                rhs[k] = -(g[k] + (y - x[k]) / t)
                                hess[k * 3 + k] += 1 / t
                            }
                            guard let delta = Self.solveSPD(hess, rhs, d: d) else { continue }
                            var admissible = true
                            for k in 0..<d where abs(delta[k]) > h[k] { admissible = false }
                            guard admissible else { continue }
                            // phi(delta) - phi(0) = rhs-form: -(rhs.delta) + delta.(H + I/t).delta / 2
                            //                     = -rhs.delta / 2 at the Newton point.
                            var decrease = 0.0
                            for k in 0..<d { decrease += rhs[k] * delta[k] }
                            vp[flat] -= 0.5 * decrease
                            for k in 0..<d { pp[k * count + flat] += delta[k] }
                        }
                    }
                }
            }
        }
        for k in 0..<d { for i in 0..<count { prox[k][i] = proxFlat[k * count + i] } }
    }

    /// The stencil is trusted when, on every axis, the second differences at the neighbours
    /// differ from the node's by at most this fraction of `|f''| + 1/t` (the curvature of
    /// the objective): true for smooth `f` once `h |f'''|` is small, false at a kink of `f`,
    /// where the quadratic model would undercut `f` by O(h).
    static let smoothnessTolerance = 0.5

    /// Central-difference gradient and Hessian of the node values at multi-index `node`, and
    /// whether the stencil looks smooth (see `smoothnessTolerance`).
    /// At a non-periodic edge the 3-point stencils are shifted inward: the gradient is then
    /// the one-sided second-order difference, the Hessian the neighbour's (first order).
    static func taylor(_ f: UnsafePointer<Double>, at node: [Int], grid: Grid, time: Double,
                       g: inout [Double], hess: inout [Double]) -> Bool {
        let d = grid.dimension
        let strides = grid.strides
        // The flat index of a multi-index, wrapping periodic axes.
        func flatOf(_ idx: [Int]) -> Int {
            var s = 0
            for k in 0..<d {
                let n = grid.axes[k].count
                s += (grid.axes[k].periodic ? ((idx[k] % n) + n) % n : idx[k]) * strides[k]
            }
            return s
        }
        // The stencil centre along k: the node itself, moved inward at an edge.
        var centre = node
        for k in 0..<d where !grid.axes[k].periodic {
            centre[k] = min(max(node[k], 1), grid.axes[k].count - 2)
        }
        func value(_ shifts: [(Int, Int)]) -> Double {
            var idx = centre
            for (k, s) in shifts { idx[k] += s }
            return f[flatOf(idx)]
        }
        var smooth = true
        for k in 0..<d {
            let h = grid.axes[k].spacing
            let fm = value([(k, -1)]), f0 = value([]), fp = value([(k, 1)])
            let second = (fp - 2 * f0 + fm) / (h * h)
            hess[k * 3 + k] = second
            switch centre[k] - node[k] {
            case 0: g[k] = (fp - fm) / (2 * h)
            case 1: g[k] = (-3 * fm + 4 * f0 - fp) / (2 * h)   // node is the left end
            default: g[k] = (3 * fp - 4 * f0 + fm) / (2 * h)  // node is the right end
            }
            // Smoothness of the stencil: the second differences one node to each side differ
            // from this one by O(h |f'''|) for smooth f, by ~ jump/h at a kink of f.
            let n = grid.axes[k].count
            var variation = 0.0
            if grid.axes[k].periodic || centre[k] >= 2 {
                variation += abs((f0 - 2 * fm + value([(k, -2)])) / (h * h) - second)
            }
            if grid.axes[k].periodic || centre[k] <= n - 3 {
                variation += abs((value([(k, 2)]) - 2 * fp + f0) / (h * h) - second)
            }
            if variation > smoothnessTolerance * (abs(second) + 1 / time) { smooth = false }
        }
        for k in 0..<d {
            for l in (k + 1)..<max(k + 1, d) {
                let hk = grid.axes[k].spacing, hl = grid.axes[l].spacing
                let mixed = (value([(k, 1), (l, 1)]) - value([(k, 1), (l, -1)])
                             - value([(k, -1), (l, 1)]) + value([(k, -1), (l, -1)])) / (4 * hk * hl)
                hess[k * 3 + l] = mixed
                hess[l * 3 + k] = mixed
            }
        }
        return smooth
    }

    /// Solves `A x = b` for symmetric positive definite `A` (d <= 3, row stride 3) by
    /// Cholesky; nil when `A` is not positive definite.
    static func solveSPD(_ a: [Double], _ b: [Double], d: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: 9)
        for i in 0..<d {
            for j in 0...i {
                var s = a[i * 3 + j]
                for m in 0..<j { s -= l[i * 3 + m] * l[j * 3 + m] }
                if i == j {
                    guard s > 0 else { return nil }
                    l[i * 3 + i] = s.squareRoot()
                } else {
                    l[i * 3 + j] = s / l[j * 3 + j]
                }
            }
        }
        var y = [Double](repeating: 0, count: d)
        for i in 0..<d {
            var s = b[i]
            for m in 0..<i { s -= l[i * 3 + m] * y[m] }
            y[i] = s / l[i * 3 + i]
        }
        var x = [Double](repeating: 0, count: d)
        for i in stride(from: d - 1, through: 0, by: -1) {
            var s = y[i]
            for m in (i + 1)..<max(i + 1, d) { s -= l[m * 3 + i] * x[m] }
            x[i] = s / l[i * 3 + i]
        }
        return x
    }
}
