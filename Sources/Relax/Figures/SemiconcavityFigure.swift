import Foundation

/// The semiconcavity estimates of Section 6 measured along time:
///
/// - `sup u_xx` of the viscous HJ (Cole–Hopf), HJ (Hopf–Lax) and heat smoothings of
///   `rugged-1d` (Fig. 1's loss, `C = sup f'' ≈ 90` at the narrow minimum) against Lemma 18's
///   `1/(1/C + t)`; Hopf–Lax attains it (the minimum at -1, where `f'' = C`, is kept and
///   `u_xx = f''/(1 + t f'')` there: Example 13's mechanism), the heat comparator falls below
///   it at first (heat averages the narrow well away) but never decays below the curvature
///   of the confining part, so it crosses the bound;
/// - Example 14: `f = 1 - cos x` (periodic), where heat gives exactly `e^{-t/(2 beta)}`,
///   above `1/(1 + t)` until `t_c` (`e^{-t_c/(2 beta)}(1 + t_c) = 1`), which both HJ
///   equations obey (Hopf–Lax with equality);
/// - the 2-D Laplacian bound `1/(1/C_Lap + t/2)` on a periodic non-separable landscape;
/// - Lemma 20: the harmonic mean of the Hessian spectrum at every local minimum against
///   `1/(t + HM(C)^{-1})`.
///
/// Every bound is checked with the tolerance `4 eps/h^2` per axis, `eps` the value error
/// estimated as twice the difference to the same solve on a grid refined by 2 (a second
/// difference is an average of `u_xx`, so the exact solution needs no other slack; see
/// `Semiconcavity`).
public enum SemiconcavityFigure {
    public struct Parameters: Sendable {
        /// The inverse temperature of the viscous HJ and heat smoothings.
        public var beta: Double = 2
        /// Times of the 1-D panels (log-spaced 0.01 ... 20).
        public var times1D: [Double] = (0...20).map { 0.01 * pow(2000, Double($0) / 20) }
        public var nodes1D = 1201
        public var nodesCosine = 256
        /// Times of the 2-D panels (log-spaced 0.02 ... 10).
        public var times2D: [Double] = (0...9).map { 0.02 * pow(500, Double($0) / 9) }
        public var nodes2D = 64
        public init() {}
    }

    /// The 2-D landscape (periodic on [-pi, pi)^2): `f_xx = 2.7 cos 3x + 0.8 cos 2(x+y) +
    /// 0.5 cos x`, `f_yy = 0.8 cos 2(x+y) + 0.5 cos y`, `f_xy = 0.8 cos 2(x+y)`; every
    /// supremum is attained at the origin: `C = (4.0, 1.3)`, `C_Lap = 5.3`.
    public static let landscape2D = "0.3*(1 - cos(3*x)) + 0.2*(1 - cos(2*(x + y))) + 0.5*(2 - cos(x) - cos(y))"
    public static let landscape2DConstants = SemiconcavityConstants(perAxis: [4.0, 1.3], laplacian: 5.3)

    public static let entry = Figures.Entry(
        name: "semiconcavity",
        summary: "Lemma 18/20 and Examples 13/14: sup u_xx, sup Lap u and the harmonic mean at minima along time, viscous HJ, HJ and heat against the bounds",
        make: { try make(progress: $0) })

    /// A smoothing as a function of the grid and the times.
    typealias Solver = (Grid, [Double]) throws -> [Field]

    static func viscous(_ loss: Loss, beta: Double) -> Solver {
        { grid, times in try times.map { try ColeHopf.solve(SmoothingProblem(loss: loss, grid: grid, time: $0, beta: beta)).u } }
    }
    static func inviscid(_ loss: Loss) -> Solver {
        { grid, times in try HopfLax.infConvolution(loss: loss, grid: grid, times: times).solutions.map(\.value) }
    }
    static func heat(_ loss: Loss, beta: Double) -> Solver {
        { grid, times in try times.map { try HeatEquation.smooth(SmoothingProblem(loss: loss, grid: grid, time: $0, beta: beta)).u } }
    }

    /// Solutions at the panel's times with their tolerances (see `solveWithTolerance`).
    struct Solved {
        var fields: [Field]
        var tolerance: [Double]
        var laplacianTolerance: [Double]
    }

    /// The solutions on `grid` and, per time, the tolerances from the value error
    /// `eps` = 2 max|u_h - u_{h/2}| on the coarse nodes: `4 eps/h^2` of a second difference
    /// (the grids here have one spacing on every axis) and `sum_k 4 eps/h_k^2` of the Laplacian.
    static func solveWithTolerance(_ solver: Solver, grid: Grid, times: [Double]) throws -> Solved {
        let fineAxes = try grid.axes.map { a in
            try Axis(lower: a.lower, upper: a.upper, count: a.periodic ? 2 * a.count : 2 * a.count - 1, periodic: a.periodic)
        }
        let fineGrid = Grid(axes: fineAxes, boundary: grid.boundary)
        let coarse = try solver(grid, times), fine = try solver(fineGrid, times)
        precondition(grid.spacing.allSatisfy { $0 == grid.spacing[0] }, "one spacing on every axis")
        let errors = try zip(coarse, fine).map { c, f in
            let scale = c.values.reduce(0) { max($0, abs($1)) }
            return max(2 * (try Semiconcavity.valueDifference(coarse: c, fine: f)), 64 * scale.ulp)
        }
        return Solved(fields: coarse,
                      tolerance: errors.map { Semiconcavity.tolerance(valueError: $0, spacing: [grid.spacing[0]]) },
                      laplacianTolerance: errors.map { Semiconcavity.tolerance(valueError: $0, spacing: grid.spacing) })
    }

    public static func make(_ p: Parameters = Parameters(), progress: ProgressHandler? = nil) throws -> FigureData {
        var data = FigureData(name: "semiconcavity",
                              title: "Semiconcavity along time: Lemma 18 (sup u_xx, sup Lap u), Example 14 (heat), Lemma 20 (harmonic mean at minima)")
        progress?(0, "rugged-1d")
        try ruggedPanel(&data, p)
        progress?(0.3, "Example 14")
        try cosinePanel(&data, p)
        progress?(0.4, "2-D Laplacian")
        try landscapePanels(&data, p, progress: progress)
        progress?(1, "done")
        data.panels = [
            FigurePanel("Lemma 18 on rugged-1d: sup u_xx against 1/(1/C + t)",
                        arrays: ["t", "sup_uxx_vhj", "sup_uxx_hj", "sup_uxx_heat", "bound_uxx"]),
            FigurePanel("Example 14: f = 1 - cos x, heat decays like exp(-t/(2 beta))",
                        arrays: ["t", "sup_uxx_vhj_cos", "sup_uxx_hj_cos", "sup_uxx_heat_cos", "heat_exact_cos", "bound_uxx_cos"]),
            FigurePanel("Lemma 18 in 2-D: sup Lap u against 1/(1/C_Lap + t/2)",
                        arrays: ["t2", "sup_lap_vhj", "sup_lap_hj", "sup_lap_heat", "bound_lap"]),
            FigurePanel("Lemma 20: harmonic mean of the Hessian spectrum at local minima",
                        arrays: ["hm_t", "hm_value", "hm_solver", "hm_diagonal", "t2", "bound_hm"]),
        ]
        data.parameters = [
            "beta": .number(p.beta), "times_1d": JSONValue(p.times1D), "times_2d": JSONValue(p.times2D),
            "loss_1d": "rugged-1d", "window_1d": JSONValue([-3.0, 3.0]), "nodes_1d": .number(Double(p.nodes1D)),
            "loss_cosine": "1 - cos(x)", "nodes_cosine": .number(Double(p.nodesCosine)),
            "loss_2d": .string(landscape2D), "nodes_2d": .number(Double(p.nodes2D)),
            "constants_2d": JSONValue(landscape2DConstants.perAxis + [landscape2DConstants.laplacian]),
            "tolerance": "4 eps/h^2 per axis, eps = 2 max|u_h - u_{h/2}| (value error against the grid refined by 2)",
            "second_differences": "central (u[i+1] - 2u[i] + u[i-1])/h^2 = the average of u_xx against a hat of unit mass; truncation h^2/12 u_xxxx",
        ]
        return data
    }

    /// Lemma 18 on Fig. 1's loss, and where the heat comparator crosses the bound.
    static func ruggedPanel(_ data: inout FigureData, _ p: Parameters) throws {
        let loss = try Loss(preset: "rugged-1d")
        let grid = try Grid(domain: [(-3, 3)], counts: [p.nodes1D], boundary: .free)
        // sup f'' over the whole space: far from the window the ripples and the quadratic give
        // f'' < 10, so [-12, 12] (beyond every prox reach used here) covers it.
        let c = try Semiconcavity.supSecondDerivative(of: loss, over: -12...12, samples: 24_001)
        let t = p.times1D
        let bound = t.map { Semiconcavity.bound(initial: c, time: $0) }
        let v = try solveWithTolerance(viscous(loss, beta: p.beta), grid: grid, times: t)
        let h = try solveWithTolerance(inviscid(loss), grid: grid, times: t)
        let q = try solveWithTolerance(heat(loss, beta: p.beta), grid: grid, times: t)
        func sups(_ fields: [Field]) -> [Double] { fields.map { Semiconcavity.supSecondDifference($0, axis: 0) } }
        let (sv, sh, sq) = (sups(v.fields), sups(h.fields), sups(q.fields))
        data.add("t", t, "times of the 1-D panels")
        data.add("sup_uxx_vhj", sv, "rugged-1d: sup of the second difference of the viscous HJ solution (Cole–Hopf)")
        data.add("sup_uxx_hj", sh, "rugged-1d: sup of the second difference of the HJ solution (Hopf–Lax)")
        data.add("sup_uxx_heat", sq, "rugged-1d: sup of the second difference of the heat smoothing")
        data.add("bound_uxx", bound, "Lemma 18: 1/(1/C + t), C = sup f''")
        data.add("tol_uxx_vhj", v.tolerance, "tolerance 4 eps/h^2 of the viscous HJ sup")
        data.add("tol_uxx_hj", h.tolerance, "tolerance 4 eps/h^2 of the HJ sup")

        let excessV = zip(zip(sv, bound), v.tolerance).map { $0.0 - $0.1 - $1 }.max()!
        let excessH = zip(zip(sh, bound), h.tolerance).map { $0.0 - $0.1 - $1 }.max()!
        data.claim("lemma18-1d", "Lemma 18: sup u_xx <= 1/(1/C + t) for viscous HJ and HJ on rugged-1d at every time (within 4 eps/h^2)",
                   holds: excessV <= 0 && excessH <= 0,
                   ["C": c, "max_excess_minus_tolerance_vhj": excessV, "max_excess_minus_tolerance_hj": excessH,
                    "max_tolerance_vhj": v.tolerance.max()!, "max_tolerance_hj": h.tolerance.max()!,
                    "vhj_over_bound_at_end": sv.last! / bound.last!])
        let ratios = zip(sh, bound).map { $0 / $1 }
        data.claim("attained-1d", "Hopf–Lax attains the bound (Example 13's mechanism): the narrow minimum at -1 with f'' = C is kept, "
                   + "where u_xx = C/(1 + C t); sup u_xx >= 0.99 of the bound at every time",
                   holds: ratios.min()! >= 0.99, ["min_ratio_hj": ratios.min()!, "max_ratio_hj": ratios.max()!])
        // Heat: w = v_xx solves the heat equation, so sup v_xx never decays below the
        // confining curvature 0.24 of 0.12 x^2, while the bound falls like 1/t.
        let above = zip(zip(sq, bound), q.tolerance).map { $0.0 > $0.1 + $1 }
        let crossing = above.indices.first { i in above[i...].allSatisfy { $0 } }
        data.claim("heat-1d", "Example 14 on rugged-1d: heat's sup v_xx does not decay like 1/t; it exceeds the Lemma 18 bound "
                   + "from some time on (it tends to the curvature 0.24 of the confining 0.12 x^2)",
                   holds: crossing != nil && sq.last! > 0.24 - q.tolerance.last!,
                   ["crossing_time": crossing.map { t[$0] } ?? .nan, "heat_over_bound_at_end": sq.last! / bound.last!,
                    "heat_at_end": sq.last!, "bound_at_end": bound.last!])
    }

    /// Example 14 exactly: the eigenfunction cos x of the periodic heat equation.
    static func cosinePanel(_ data: inout FigureData, _ p: Parameters) throws {
        let loss = try Loss(expression: "1 - cos(x)")
        let grid = try Grid(domain: [(-Double.pi, Double.pi)], counts: [p.nodesCosine], boundary: .periodic)
        let t = p.times1D
        let bound = t.map { Semiconcavity.bound(initial: 1, time: $0) }
        let v = try solveWithTolerance(viscous(loss, beta: p.beta), grid: grid, times: t)
        let h = try solveWithTolerance(inviscid(loss), grid: grid, times: t)
        let q = try solveWithTolerance(heat(loss, beta: p.beta), grid: grid, times: t)
        func sups(_ fields: [Field]) -> [Double] { fields.map { Semiconcavity.supSecondDifference($0, axis: 0) } }
        let (sv, sh, sq) = (sups(v.fields), sups(h.fields), sups(q.fields))
        let lambda1 = 1 / (2 * p.beta)
        // The second difference of cos x is cos x (2 - 2 cos h)/h^2.
        let dx = grid.spacing[0]
        let c0 = (2 - 2 * cos(dx)) / (dx * dx)
        let exact = t.map { c0 * exp(-lambda1 * $0) }
        data.add("sup_uxx_vhj_cos", sv, "1 - cos x: sup second difference, viscous HJ")
        data.add("sup_uxx_hj_cos", sh, "1 - cos x: sup second difference, HJ")
        data.add("sup_uxx_heat_cos", sq, "1 - cos x: sup second difference, heat")
        data.add("heat_exact_cos", exact, "Example 14: c0 exp(-t/(2 beta)), c0 = (2 - 2 cos h)/h^2")
        data.add("bound_uxx_cos", bound, "Lemma 18 with C = 1: 1/(1 + t)")

        let fit = try Semiconcavity.exponentialFit(times: t, values: sq)
        // t_c solves exp(-lambda1 t)(1 + t) = 1 (bisection on (0, 100]).
        var (lo, hi) = (1e-9, 100.0)
        for _ in 0..<200 { let mid = (lo + hi) / 2; if exp(-lambda1 * mid) * (1 + mid) > 1 { lo = mid } else { hi = mid } }
        let tc = lo
        let slowerAsPredicted = zip(zip(sq, bound), zip(t, q.tolerance)).allSatisfy { pair, tt in
            let (s, b) = pair
            // Away from t_c (where the two meet) the sign must be the predicted one.
            return abs(tt.0 - tc) < 0.5 || (s > b + tt.1) == (tt.0 < tc)
        }
        let excessV = zip(zip(sv, bound), v.tolerance).map { $0.0 - $0.1 - $1 }.max()!
        let excessH = zip(zip(sh, bound), h.tolerance).map { $0.0 - $0.1 - $1 }.max()!
        // Hopf–Lax equals the bound at x = 0 up to the second difference's underestimate
        // h^2/12 |u_xxxx| / u_xx ~ 5e-5 relative (h = 2 pi/256); 1e-3 leaves room.
        let equalH = zip(zip(sh, bound), h.tolerance).map { abs($0.0 - $0.1) - $1 - 1e-3 * $0.1 }.max()!
        data.claim("example14", "Example 14: for f = 1 - cos x heat gives sup v_xx = c0 exp(-t/(2 beta)) (fitted rate = 1/(2 beta)), "
                   + "above Lemma 18's 1/(1 + t) for t < t_c, while viscous HJ stays below the bound and Hopf–Lax equals it",
                   holds: abs(fit.rate - lambda1) <= 1e-6 * lambda1 && slowerAsPredicted && excessV <= 0 && excessH <= 0 && equalH <= 0,
                   ["fitted_rate": fit.rate, "lambda1": lambda1, "t_c": tc, "max_excess_minus_tolerance_vhj": excessV,
                    "max_hj_deviation_minus_tolerance": equalH, "heat_over_bound_at_t1": sq[t.firstIndex { $0 >= 1 }!] / bound[t.firstIndex { $0 >= 1 }!]])
    }

    /// The 2-D Laplacian bound and Lemma 20 on the periodic landscape.
    static func landscapePanels(_ data: inout FigureData, _ p: Parameters, progress: ProgressHandler?) throws {
        let loss = try Loss(expression: landscape2D)
        let grid = try Grid(domain: [(-Double.pi, Double.pi), (-Double.pi, Double.pi)], counts: [p.nodes2D, p.nodes2D],
                            boundary: .periodic)
        let t = p.times2D
        let c = landscape2DConstants
        let v = try solveWithTolerance(viscous(loss, beta: p.beta), grid: grid, times: t)
        progress?(0.6, "2-D Hopf–Lax")
        let h = try solveWithTolerance(inviscid(loss), grid: grid, times: t)
        progress?(0.8, "2-D heat")
        let q = try solveWithTolerance(heat(loss, beta: p.beta), grid: grid, times: t)
        let tv = Semiconcavity.track(Array(zip(t, v.fields)), constants: c)
        let bound = tv.boundLaplacian
        let th = Semiconcavity.track(Array(zip(t, h.fields)), constants: c)
        let tq = Semiconcavity.track(Array(zip(t, q.fields)), constants: c)
        data.add("t2", t, "times of the 2-D panels")
        data.add("sup_lap_vhj", tv.supLaplacian, "2-D: sup of the 5-point Laplacian, viscous HJ")
        data.add("sup_lap_hj", th.supLaplacian, "2-D: sup of the 5-point Laplacian, HJ")
        data.add("sup_lap_heat", tq.supLaplacian, "2-D: sup of the 5-point Laplacian, heat")
        data.add("bound_lap", bound, "Lemma 18: 1/(1/C_Lap + t/2), C_Lap = 5.3")
        data.add("tol_lap_vhj", v.laplacianTolerance, "tolerance 2 x 4 eps/h^2 of the viscous HJ sup Lap")
        data.add("tol_lap_hj", h.laplacianTolerance, "tolerance 2 x 4 eps/h^2 of the HJ sup Lap")
        let sampled = Semiconcavity.constants(of: try loss.sample(on: grid))
        func excess(_ track: SemiconcavityTrack, _ solved: Solved) -> (lap: Double, axis: Double) {
            (zip(track.samples, solved.laplacianTolerance).map { $0.laplacianExcess - $1 }.max()!,
             zip(track.samples, solved.tolerance).map { $0.axisExcess - $1 }.max()!)
        }
        let (ev, eh) = (excess(tv, v), excess(th, h))
        data.claim("lemma18-2d", "Lemma 18 in 2-D: sup Lap u <= 1/(1/C_Lap + t/2) and sup u_{x_k x_k} <= 1/(1/C_k + t) for viscous HJ and HJ",
                   holds: max(ev.lap, ev.axis, eh.lap, eh.axis) <= 0,
                   ["C_x": c.perAxis[0], "C_y": c.perAxis[1], "C_Lap": c.laplacian, "sampled_C_x": sampled.perAxis[0],
                    "sampled_C_y": sampled.perAxis[1], "sampled_C_Lap": sampled.laplacian,
                    "max_lap_excess_minus_tolerance_vhj": ev.lap, "max_lap_excess_minus_tolerance_hj": eh.lap,
                    "max_axis_excess_minus_tolerance_vhj": ev.axis, "max_axis_excess_minus_tolerance_hj": eh.axis,
                    "heat_over_bound_max": zip(tq.supLaplacian, bound).map { $0 / $1 }.max()!])
        try harmonicMeanPanel(&data, t: t, solutions: [v, h], constants: c, spacing: grid.spacing[0])
    }

    /// Lemma 20 at every local minimum of the viscous (0) and inviscid (1) solutions.
    static func harmonicMeanPanel(_ data: inout FigureData, t: [Double], solutions: [Solved],
                                  constants c: SemiconcavityConstants, spacing h: Double) throws {
        var times: [Double] = [], values: [Double] = [], kinds: [Double] = [], diagonals: [Double] = [], slack: [Double] = []
        var xs: [Double] = [], ys: [Double] = []
        var worst = -Double.infinity, lemma19 = true, saddles = 0
        for (kind, s) in solutions.enumerated() {
            for (k, time) in t.enumerated() {
                for m in try Semiconcavity.spectraAtMinima(s.fields[k], time: time, constants: c.perAxis) {
                    guard !m.isSaddle else { saddles += 1; continue }
                    // Each eigenvalue moves by at most the Frobenius norm of the Hessian's error
                    // (diagonal 4 eps/h^2 = tol, cross eps/h^2 = tol/4); HM by at most that times
                    // dHM = HM^2 mean(1/lambda^2) to first order.
                    let delta = s.tolerance[k] * sqrt(2 + 2.0 / 16)
                    let slope = m.harmonicMean * m.harmonicMean * m.eigenvalues.reduce(0) { $0 + 1 / ($1 * $1) } / 2
                    worst = max(worst, m.harmonicMean - m.bound - delta * slope)
                    slack.append(delta * slope)
                    let diagonal = Semiconcavity.harmonicMean((0..<2).map { m.hessian[$0, $0] })
                    lemma19 = lemma19 && m.harmonicMean <= diagonal * (1 + 1e-12)
                    times.append(time); values.append(m.harmonicMean); kinds.append(Double(kind)); diagonals.append(diagonal)
                    xs.append(m.minimum.point[0]); ys.append(m.minimum.point[1])
                }
            }
        }
        data.add("hm_t", times, "Lemma 20: time of each local minimum found")
        data.add("hm_value", values, "HM of the eigenvalues of the finite-difference Hessian at the minimum")
        data.add("hm_solver", kinds, "0 = viscous HJ, 1 = HJ")
        data.add("hm_x", xs, "x of the local minimum")
        data.add("hm_y", ys, "y of the local minimum")
        data.add("hm_diagonal", diagonals, "HM of the Hessian's diagonal (Lemma 19: >= hm_value)")
        data.add("hm_tolerance", slack, "first-order reach of the value error on HM: delta HM^2 mean(1/lambda^2)")
        data.add("bound_hm", t.map { Semiconcavity.harmonicMeanBound(constants: c.perAxis, time: $0) }, "Lemma 20: 1/(t + HM(C)^-1)")
        data.claim("lemma20", "Lemma 20: at every local minimum of the viscous HJ and HJ solutions, HM(Lambda) <= 1/(t + HM(C)^-1), "
                   + "and HM(Lambda) <= HM(diagonal) (Lemma 19)",
                   holds: worst <= 0 && lemma19 && !values.isEmpty,
                   ["minima": Double(values.count), "saddles_excluded": Double(saddles), "max_excess_minus_tolerance": worst,
                    "HM_C": Semiconcavity.harmonicMean(c.perAxis)])
    }
}
