extension HopfLax {
    /// How the discrete prox node is refined to the continuous prox point (`ProxRefinement`).
    public enum Refinement: String, Sendable, CaseIterable {
        /// The grid minimum itself: value O(h^2), prox within h/2 of the true one per axis.
        case none = "discrete"
        /// One Newton step on a quadratic model of the grid values around the prox node,
        /// skipped at kinks: value O(h^3), prox O(h^2) for smooth `f` while the prox is unique.
        case gridModel = "grid-model"
        /// The grid model's prox points of each node and its neighbours as starts for Newton
        /// on the exact cost `f(y) + |x - y|^2/(2t)`: values to round-off. Needs a loss that
        /// can be evaluated anywhere (expression, preset, closure); a sampled loss falls back
        /// to `gridModel`.
        case exactCost = "exact-cost"
    }
}

/// Refinement of the discrete Hopf–Lax solution `u_i = min_j phi_i(y_j)`,
/// `phi_x(y) = f(y) + |x - y|^2/(2t)`, to the continuous `u(x) = min_y phi_x(y)`, at the nodes
/// of a box of the working grid (the window inside the free-space padding). One code path
/// for d = 1, 2, 3, in two stages.
///
/// 1. Grid model (both refinements). Around the discrete argmin node `y_J`, `f` is replaced
///    by its quadratic Taylor model with central-difference gradient `g` and Hessian `H`
///    (O(h^2) each; one-sided at the grid's edge) and the model cost is minimised exactly:
///    one Newton step `(H + I/t) delta = -(g + (y_J - x)/t)`. For smooth `f` and a unique
///    prox, `|y_J - y*| <= h/2`, so the prox error is O(h^2) and the value error O(h^3) (the
///    cubic Taylor remainder, with the constant of `f'''`: large in narrow wells), against
///    O(h^2) for the discrete value. The step is kept only when `H + I/t` is positive
///    definite, `|delta_k| <= h_k`, and the stencil is smooth (second differences of the
///    neighbours agree, `smoothnessTolerance`); otherwise (a kink of `u`, or a prox at a kink
///    of `f`, where the model would undercut `f` by O(h)) the discrete answer stands, and at a
///    kink of `u` the chosen basin may be the wrong one by O(h^2) in value.
/// 2. Exact cost (`.exactCost`). At every node `x`: the start `y` of least exact cost among
///    the stage-1 prox points of the node and of its `3^d - 1` neighbours (nearest periodic
///    image), and the best start from another basin if one lies farther than three grid
///    spacings (near a kink of `u` a neighbour across it supplies the right basin); from each,
///    safeguarded Newton on `phi_x` (`ExactCostNewton`) with the loss's exact gradient. Every
///    value is the exact cost of some `y`, hence an upper bound of `u(x)`, never above the
///    exact cost at the node's own stage-1 prox. From a start within O(h^2) of a
///    non-degenerate prox Newton converges quadratically: values to round-off, with neither
///    the grid model's constant nor its wrong basin.
///
/// Cost: stage 1 reads `O(3^d)` grid values per node (about 25 ns per node in 1-D, 60 ns in 2-D,
/// 2 cores). Stage 2 evaluates the loss once per node (starts) and then, per Newton start,
/// its gradient `1 + 2d` times (the Hessian by differences) plus once per step; with about
/// two steps, 6 gradient evaluations per node in 1-D and 8 in 2-D, in vectorized batches split
/// over the cores (`diagnostics` of the report count them: 9.6 per node for `rugged-2d` at
/// t = 1). Both stages for `rugged-2d` on a 1001^2 window, t = 1, take about 1.1 s on 2 cores,
/// against 0.45 s for the discrete transform of its padded 1613^2 grid.
struct ProxRefinement {
    /// The working grid, its node values `f`, and the time.
    let grid: Grid
    let f: [Double]
    let time: Double
    /// The nodes refined (and returned), a box of `grid`.
    let window: GridBox

    /// Below this ratio of the neighbours' second-difference variation to `|f''| + 1/t` a
    /// stencil counts as smooth (the model's error stays a small part of the objective's
    /// curvature): true for smooth `f` once `h |f'''|` is small, false at a kink of `f`.
    static let smoothnessTolerance = 0.5

    /// What `refine` returns: on the window's nodes, row-major.
    struct Result {
        var value: [Double]
        /// `prox[k * count + i]`: axis k of the prox of window node i.
        var prox: [Double]
        /// Loss evaluations per window node: values only (the starts) and with gradient (Newton).
        var valueEvaluations = 0.0
        var gradientEvaluations = 0.0
    }

    /// Refines the discrete transform `discrete` (on `grid`) at the window's nodes: the grid
    /// model, then Newton on the exact cost of `loss` if one is given.
    func refine(_ discrete: SeparableInfConvolution.Output, exactCost loss: Loss?) -> Result {
        let d = grid.dimension
        // The stage-1 region: the window and, for the exact stage's neighbours, one ring.
        let region = loss == nil ? window : window.grown(by: 1, in: grid)
        let model = gridModel(discrete, region: region)
        guard let loss else {
            var prox = [Double](repeating: 0, count: d * region.count)
            for r in 0..<region.count { for k in 0..<d { prox[k * region.count + r] = model.points[r * d + k] } }
            return Result(value: model.value, prox: prox)
        }
        return ExactCostNewton(loss: loss, grid: grid, time: time)
            .refine(starts: model.points, region: region, window: window)
    }

    // MARK: - Stage 1: the grid model

    /// Stage-1 values and prox points (point-major, `points[r * d + k]`) at the region's nodes.
    func gridModel(_ discrete: SeparableInfConvolution.Output, region: GridBox) -> (value: [Double], points: [Double]) {
        let d = grid.dimension
        let count = grid.count
        var value = [Double](repeating: 0, count: region.count)
        var points = [Double](repeating: 0, count: d * region.count)
        let grid = self.grid, t = time
        let stencil = TaylorStencil(grid: grid, time: t)
        f.withUnsafeBufferPointer { fb in
            discrete.value.withUnsafeBufferPointer { ub in
                discrete.index.withUnsafeBufferPointer { ib in
                    value.withUnsafeMutableBufferPointer { vb in
                        points.withUnsafeMutableBufferPointer { pb in
                            Parallel.forEachChunk(region.count, minimumPerChunk: 8192) { range in
                                for r in range {
                                    let i = region.multiIndex(r)
                                    let flat = region.flat(i)
                                    var x = SIMD4<Double>(), y = SIMD4<Double>(), node = SIMD4<Int>()
                                    for k in 0..<d {
                                        let axis = grid.axes[k], j = Int(ib[k * count + flat])
                                        x[k] = axis.coordinate(i[k])
                                        y[k] = axis.coordinate(j)
                                        node[k] = axis.periodic ? ((j % axis.count) + axis.count) % axis.count : j
                                    }
                                    vb[r] = ub[flat]
                                    if let (g, hessian) = stencil.taylor(fb.baseAddress!, at: node) {
                                        var a = hessian
                                        for k in 0..<d { a[k * 4 + k] += 1 / t }
                                        let rhs = -(g + (y - x) / t)
                                        if let delta = SmallSPD.solve(a, rhs, dimension: d),
                                           (0..<d).allSatisfy({ abs(delta[$0]) <= grid.axes[$0].spacing }) {
                                            // phi(delta) - phi(0) = -rhs.delta + delta.(H + I/t).delta / 2
                                            //                     = -rhs.delta / 2 at the Newton point.
                                            vb[r] -= 0.5 * (rhs * delta).sum()
                                            y += delta
                                        }
                                    }
                                    for k in 0..<d { pb[r * d + k] = y[k] }
                                }
                            }
                        }
                    }
                }
            }
        }
        return (value, points)
    }
}

/// The central-difference gradient and Hessian of node values at a node, one code path for
/// every axis. At a non-periodic edge the 3-point stencils are shifted inward: the gradient
/// is then the one-sided second-order difference, the Hessian the neighbour's (first order).
struct TaylorStencil {
    let grid: Grid
    let time: Double
    let strides: [Int]

    init(grid: Grid, time: Double) {
        self.grid = grid
        self.time = time
        strides = grid.strides
    }

    /// `(g, H)` at multi-index `node` (`H[k * 4 + l]`), or nil when the stencil is not smooth
    /// (see `ProxRefinement.smoothnessTolerance`) or an axis has fewer than 3 nodes.
    func taylor(_ f: UnsafePointer<Double>, at node: SIMD4<Int>) -> (SIMD4<Double>, SIMD16<Double>)? {
        let d = grid.dimension
        // The stencil centre: the node itself, moved inward at a non-periodic edge.
        var centre = node
        var base = 0
        for k in 0..<d {
            let axis = grid.axes[k]
            if !axis.periodic {
                guard axis.count >= 3 else { return nil }
                centre[k] = min(max(node[k], 1), axis.count - 2)
            }
            base += centre[k] * strides[k]
        }
        // The flat offset of a move by `s` nodes along axis `k` from the centre (wrapping).
        func shift(_ k: Int, _ s: Int) -> Int {
            let n = grid.axes[k].count
            var j = centre[k] + s
            if grid.axes[k].periodic { j = ((j % n) + n) % n }
            return (j - centre[k]) * strides[k]
        }
        var g = SIMD4<Double>(), hessian = SIMD16<Double>()
        let f0 = f[base]
        for k in 0..<d {
            let axis = grid.axes[k], h = axis.spacing, n = axis.count
            let fm = f[base + shift(k, -1)], fp = f[base + shift(k, 1)]
            let second = (fp - 2 * f0 + fm) / (h * h)
            hessian[k * 4 + k] = second
            switch centre[k] - node[k] {
            case 0: g[k] = (fp - fm) / (2 * h)
            case 1: g[k] = (-3 * fm + 4 * f0 - fp) / (2 * h)   // node is the left end
            default: g[k] = (3 * fp - 4 * f0 + fm) / (2 * h)  // node is the right end
            }
            // Second differences one node to each side differ from this one by O(h |f'''|)
            // for smooth f, by ~ jump/h at a kink of f.
            var variation = 0.0
            if axis.periodic || centre[k] >= 2 {
                variation += abs((f0 - 2 * fm + f[base + shift(k, -2)]) / (h * h) - second)
            }
            if axis.periodic || centre[k] <= n - 3 {
                variation += abs((f[base + shift(k, 2)] - 2 * fp + f0) / (h * h) - second)
            }
            if variation > ProxRefinement.smoothnessTolerance * (abs(second) + 1 / time) { return nil }
        }
        for k in 0..<d {
            for l in (k + 1)..<max(k + 1, d) {
                let (kp, km, lp, lm) = (shift(k, 1), shift(k, -1), shift(l, 1), shift(l, -1))
                let mixed = (f[base + kp + lp] - f[base + kp + lm] - f[base + km + lp] + f[base + km + lm])
                    / (4 * grid.axes[k].spacing * grid.axes[l].spacing)
                hessian[k * 4 + l] = mixed
                hessian[l * 4 + k] = mixed
            }
        }
        return (g, hessian)
    }
}

/// Symmetric positive definite systems of order d <= 3, entry `(i, j)` at `a[i * 4 + j]`.
enum SmallSPD {
    /// Solves `A x = b` on the leading `d x d` block by Cholesky; nil when it is not positive
    /// definite. Lanes of `x` beyond `d` are 0.
    static func solve(_ a: SIMD16<Double>, _ b: SIMD4<Double>, dimension d: Int) -> SIMD4<Double>? {
        var l = SIMD16<Double>()
        for i in 0..<d {
            for j in 0...i {
                var s = a[i * 4 + j]
                for m in 0..<j { s -= l[i * 4 + m] * l[j * 4 + m] }
                if i == j {
                    guard s > 0 else { return nil }
                    l[i * 4 + i] = s.squareRoot()
                } else {
                    l[i * 4 + j] = s / l[j * 4 + j]
                }
            }
        }
        var y = SIMD4<Double>()
        for i in 0..<d {
            var s = b[i]
            for m in 0..<i { s -= l[i * 4 + m] * y[m] }
            y[i] = s / l[i * 4 + i]
        }
        var x = SIMD4<Double>()
        for i in stride(from: d - 1, through: 0, by: -1) {
            var s = y[i]
            for m in (i + 1)..<max(i + 1, d) { s -= l[m * 4 + i] * x[m] }
            x[i] = s / l[i * 4 + i]
        }
        return x
    }
}

/// A box of grid nodes, `offsets[k] ..< offsets[k] + shape[k]` on axis k, in row-major order.
struct GridBox: Sendable {
    let offsets: [Int]
    let shape: [Int]
    /// The strides of the grid the box lies in.
    let gridStrides: [Int]
    let count: Int

    init(offsets: [Int], shape: [Int], in grid: Grid) {
        self.offsets = offsets
        self.shape = shape
        gridStrides = grid.strides
        count = shape.reduce(1, *)
    }

    /// Every node of `grid`.
    init(_ grid: Grid) {
        self.init(offsets: [Int](repeating: 0, count: grid.dimension), shape: grid.shape, in: grid)
    }

    /// The box grown by `cells` nodes on each side of every non-periodic axis, within `grid`
    /// (a periodic axis is whole already).
    func grown(by cells: Int, in grid: Grid) -> GridBox {
        var lo = offsets, extent = shape
        for k in 0..<grid.dimension where !grid.axes[k].periodic {
            lo[k] = max(0, offsets[k] - cells)
            extent[k] = min(grid.axes[k].count, offsets[k] + shape[k] + cells) - lo[k]
        }
        return GridBox(offsets: lo, shape: extent, in: grid)
    }

    /// The grid multi-index of the box's node `r` (row-major in the box).
    func multiIndex(_ r: Int) -> SIMD4<Int> {
        var rest = r, i = SIMD4<Int>()
        for k in stride(from: shape.count - 1, through: 0, by: -1) {
            i[k] = rest % shape[k] + offsets[k]
            rest /= shape[k]
        }
        return i
    }

    /// The flat grid index of a grid multi-index.
    func flat(_ i: SIMD4<Int>) -> Int {
        var flat = 0
        for k in 0..<shape.count { flat += i[k] * gridStrides[k] }
        return flat
    }

    /// The box's index of the node with grid multi-index `i`, nil if it lies outside.
    func index(of i: SIMD4<Int>) -> Int? {
        var r = 0
        for k in 0..<shape.count {
            let j = i[k] - offsets[k]
            guard j >= 0 && j < shape[k] else { return nil }
            r = r * shape[k] + j
        }
        return r
    }
}
