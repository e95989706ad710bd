import Foundation

/// `relax figure smoothing-2d`: a rugged 2-D loss and its three smoothings at three times,
///
///     viscous HJ  u_t = -|grad u|^2/2 + Lap u/(2 beta)   (Cole–Hopf, exact up to quadrature),
///     HJ          u_t = -|grad u|^2/2                     (Hopf–Lax, discrete inf-convolution),
///     heat        v_t = Lap v/(2 beta)                    (spectral propagator),
///
/// all on the whole plane (free boundary, seen on the window), with their strict local minima
/// and the number of local minima along a denser sequence of times.
///
/// Claims checked on the data:
/// - HJ: every local minimum of `u_HJ(., t)` is a local minimum of `f` with the same value (at a
///   minimum `grad u = (x - prox)/t = 0`, so `prox(x) = x` and `u = f` there; applied to the
///   semigroup `u(t2) = HL_{t2-t1} u(t1)`, minima only disappear), and `min u_HJ = min f`;
/// - maximum principle: `min u` is non-decreasing in `t` for viscous HJ and heat (at a minimum
///   `grad u = 0`, `Lap u >= 0`, so `u_t >= 0`);
/// - Jensen: `u_vHJ = -(1/beta) log E[exp(-beta f(Y))] <= E[f(Y)] = u_heat`, `Y ~ N(x, t/beta)`;
/// - Laplace bound: `u_vHJ <= u_HJ + d/(2 beta) log(1 + C t)`, `C = sup lambda_max(Hess f)`
///   (expand `f` around `prox(x)` with curvature at most `C`; equality for Example 13), at the
///   panel times;
/// - Lemma 18 for viscous HJ: `sup Lap u <= 1/(1/C_Lap + t/d)`;
/// - observed (not a theorem in 2-D, where diffusion can create extrema): the number of local
///   minima of `u_vHJ` does not increase along the times and ends below `f`'s.
public enum Smoothing2DFigure {
    public struct Parameters: Sendable {
        public var preset = "rugged-2d"
        public var window: (Double, Double) = (-3, 3)
        public var nodes = 241
        public var beta = 10.0
        /// The times of the 3-column panels; each must also be in `countTimes`.
        public var panelTimes: [Double] = [0.25, 0.75, 2]
        /// The times at which local minima are counted.
        public var countTimes: [Double] = [0.05, 0.1, 0.15, 0.25, 0.35, 0.5, 0.75, 1, 1.5, 2, 3]
        /// How far beyond the window `C` and `C_Lap` are sampled (the Cole–Hopf integral sees the
        /// whole plane; this loss's curvature bound is reached within a few units).
        public var curvatureMargin = 3.0
        public init() {}
    }

    public static let entry = Figures.Entry(
        name: "smoothing-2d",
        summary: "rugged 2-D loss smoothed by viscous HJ, HJ (Hopf–Lax) and heat at three times; local minima",
        make: { try make(progress: $0) })

    public static func make(_ p: Parameters = Parameters(), progress: ProgressHandler? = nil) throws -> FigureData {
        let panelIndex = try p.panelTimes.map { t in
            guard let i = p.countTimes.firstIndex(of: t) else {
                throw RelaxError.invalidParameter(name: "panelTimes", value: "\(t)", expected: "a time listed in countTimes")
            }
            return i
        }
        let loss = try Loss(preset: p.preset)
        let grid = try Grid(domain: [p.window, p.window], counts: [p.nodes, p.nodes], boundary: .free)
        let d = Double(grid.dimension)
        let steps = Double(2 * p.countTimes.count + 2)
        progress?(0, "Hopf–Lax")
        let hj = try HopfLax.infConvolution(loss: loss, grid: grid, times: p.countTimes, refinement: .none)
        let f = hj.f
        var vhj: [SmoothingResult] = [], heat: [SmoothingResult] = []
        for (i, t) in p.countTimes.enumerated() {
            progress?(Double(1 + 2 * i) / steps, String(format: "viscous HJ t = %g", t))
            let problem = SmoothingProblem(loss: loss, grid: grid, time: t, beta: p.beta)
            let ch = try ColeHopf.solve(problem, options: ColeHopfOptions(gradient: false))
            vhj.append(SmoothingResult(f: ch.f, u: ch.u, gradient: [], report: ch.report))
            progress?(Double(2 + 2 * i) / steps, String(format: "heat t = %g", t))
            heat.append(try HeatEquation.smooth(problem))
        }
        progress?((steps - 1) / steps, "claims")
        let uHJ = hj.solutions.map(\.value), uVHJ = vhj.map(\.u), uHeat = heat.map(\.u)

        var fig = FigureData(name: "smoothing-2d",
                             title: "Smoothing a rugged 2-D loss: viscous HJ (local entropy), HJ (Hopf–Lax) and heat")
        fig.parameters = [
            "loss": .string(p.preset), "expression": .string(loss.expression ?? p.preset),
            "window": JSONValue([p.window.0, p.window.1]), "nodes": .number(Double(p.nodes)),
            "boundary": "free", "beta": .number(p.beta), "panel_times": JSONValue(p.panelTimes),
            "count_times": JSONValue(p.countTimes),
            "methods": ["viscous-hj: Cole–Hopf (auto path)", "hj: Hopf–Lax, exact discrete inf-convolution over the nodes (O(h^2))", "heat: spectral"],
        ]
        fig.add("x", grid.axes[0].coordinates, "x nodes of the window")
        fig.add("y", grid.axes[1].coordinates, "y nodes of the window")
        fig.add("f", f, "the loss f(x_i, y_j)")
        fig.add("times", p.panelTimes, "the times of the panel columns")
        for (name, fields, what) in [("u_vhj", uVHJ, "viscous HJ (Cole–Hopf)"), ("u_hj", uHJ, "HJ (Hopf–Lax)"),
                                     ("u_heat", uHeat, "heat")] {
            fig.add(name, panelIndex.flatMap { fields[$0].values }, shape: [p.panelTimes.count] + grid.shape,
                    "\(what) u(x_i, y_j, t_k), k over `times`")
        }
        let minimaF = try strictLocalMinima(f)
        fig.add("minima_f", minimaF.flatMap { grid.point($0) + [f.values[$0]] }, shape: [minimaF.count, 3],
                "strict local minima of f: x, y, value")
        var counts: [String: [Double]] = [:]
        for (name, fields) in [("vhj", uVHJ), ("hj", uHJ), ("heat", uHeat)] {
            let minima = try fields.map(strictLocalMinima)
            counts[name] = minima.map { Double($0.count) }
            var rows: [Double] = []
            for (k, i) in panelIndex.enumerated() {
                for m in minima[i] { rows += [Double(k)] + grid.point(m) + [fields[i].values[m]] }
            }
            fig.add("minima_\(name)", rows, shape: [rows.count / 4, 4],
                    "strict local minima at the panel times: time index, x, y, value")
        }
        fig.add("count_times", p.countTimes, "times at which local minima are counted")
        for name in ["vhj", "hj", "heat"] {
            fig.add("count_\(name)", counts[name]!, "number of strict local minima of u(., t) at count_times")
        }
        fig.parameters["count_f"] = .number(Double(minimaF.count))

        // Curvature bounds of f over the window and a margin around it.
        let wide = grid.padded(reach: [p.curvatureMargin, p.curvatureMargin]).grid
        let fWide = try loss.sample(on: wide)
        let cHess = try Semiconcavity.supLargestHessianEigenvalue(fWide)
        let cLap = Semiconcavity.supLaplacian(fWide)
        fig.parameters["C_hessian"] = .number(cHess)
        fig.parameters["C_laplacian"] = .number(cLap)

        var supLap: [Double] = [], bound: [Double] = []
        for (i, t) in p.countTimes.enumerated() {
            supLap.append(Semiconcavity.supLaplacian(uVHJ[i]))
            bound.append(Semiconcavity.bound(initial: cLap, time: t, dimension: Int(d)))
        }
        fig.add("sup_lap_vhj", supLap, "sup of the 5-point Laplacian of u_vHJ at count_times")
        fig.add("lap_bound", bound, "Lemma 18: 1/(1/C_Lap + t/2)")

        try hjClaims(&fig, f: f, uHJ: uHJ, counts: counts["hj"]!, countF: minimaF.count)
        comparisonClaims(&fig, uVHJ: uVHJ, uHJ: uHJ, uHeat: uHeat, times: p.countTimes, laplaceTimes: panelIndex,
                         beta: p.beta, cHess: cHess, d: d)
        semiconcavityClaim(&fig, uVHJ: uVHJ, bound: bound)
        let vCounts = counts["vhj"]!
        let nonIncreasing = zip(vCounts, vCounts.dropFirst()).allSatisfy { $0 >= $1 }
        fig.claim("vhj-minima-decrease",
                  "observed: the number of local minima of u_vHJ does not increase along the times and ends below "
                  + "f's (not a theorem in 2-D, where diffusion can create extrema; in 1-D the lap number forbids it)",
                  holds: nonIncreasing && vCounts.last! < Double(minimaF.count),
                  ["count_f": Double(minimaF.count), "count_first": vCounts.first!, "count_last": vCounts.last!])

        fig.panels = [
            FigurePanel("loss f with its local minima", arrays: ["x", "y", "f", "minima_f"]),
            FigurePanel("viscous HJ (Cole–Hopf) at the three times", arrays: ["u_vhj", "minima_vhj"]),
            FigurePanel("HJ (Hopf–Lax) at the three times", arrays: ["u_hj", "minima_hj"]),
            FigurePanel("heat at the three times", arrays: ["u_heat", "minima_heat"]),
            FigurePanel("number of local minima against t", arrays: ["count_times", "count_vhj", "count_hj", "count_heat"]),
        ]
        fig.reports = [hj.report] + panelIndex.flatMap { [vhj[$0].report, heat[$0].report] }
        progress?(1, "done")
        return fig
    }

    /// Strict local minima of `u` (below all `3^d - 1` neighbours, off the window's edges):
    /// flat indices, ascending.
    static func strictLocalMinima(_ u: Field) throws -> [Int] {
        try Semiconcavity.extrema(u).filter { $0.kind == .minimum }.map(\.index)
    }

    /// The HJ claims on the exact discrete inf-convolution `u_i = min_j f_j + |x_i - x_j|^2/(2t)`.
    ///
    /// Its strict local minima are strict local minima of `f` with `u_i = f_i`: if the prox node
    /// `j != i`, the neighbour of `i` one step towards `j` has a smaller cost with the same `f_j`, so
    /// `i` is not a strict minimum. Since `u(t2)` is the inf-convolution of `u(t1)` over `t2 - t1`
    /// (the semigroup holds exactly on the nodes), the minima of `u(t2)` are minima of `u(t1)`:
    /// the sets are nested. And `min u = min f` exactly (`u_i >= min f`, equality at the argmin).
    static func hjClaims(_ fig: inout FigureData, f: Field, uHJ: [Field], counts: [Double], countF: Int) throws {
        let roundOff = 1e-12
        var previous = Set(try strictLocalMinima(f))
        var nested = true, worstGap = 0.0
        for u in uHJ {
            let minima = try strictLocalMinima(u)
            if !Set(minima).isSubset(of: previous) { nested = false }
            for m in minima { worstGap = max(worstGap, abs(f.values[m] - u.values[m])) }
            previous = Set(minima)
        }
        fig.claim("hj-minima-nested",
                  "every local minimum of u_HJ(., t) is a local minimum of f at the same node with the same value, "
                  + "and of u_HJ at every earlier time: minima only disappear as t grows; fewer remain at the last time",
                  holds: nested && worstGap <= roundOff && counts.last! < Double(countF),
                  ["count_f": Double(countF), "count_last": counts.last!, "largest_value_gap": worstGap])
        let fMin = f.minimum
        let deviation = uHJ.map { abs($0.minimum - fMin) }.max()!
        fig.claim("hj-min-value", "Hopf–Lax keeps the minimum value: min u_HJ(., t) = min f at every time",
                  holds: deviation <= roundOff, ["min_f": fMin, "largest_deviation": deviation])
    }

    /// Maximum principle, Jensen (`u_vHJ <= u_heat`) and the Laplace bound against HJ.
    static func comparisonClaims(_ fig: inout FigureData, uVHJ: [Field], uHJ: [Field], uHeat: [Field], times: [Double],
                                 laplaceTimes: [Int], beta: Double, cHess: Double, d: Double) {
        let vMins = uVHJ.map(\.minimum), heatMins = uHeat.map(\.minimum)
        func nonDecreasing(_ v: [Double]) -> Bool { zip(v, v.dropFirst()).allSatisfy { $1 >= $0 - 1e-12 } }
        fig.claim("min-principle",
                  "min u(., t) is non-decreasing in t for viscous HJ and heat (maximum principle)",
                  holds: nonDecreasing(vMins) && nonDecreasing(heatMins),
                  ["min_vhj_first": vMins.first!, "min_vhj_last": vMins.last!,
                   "min_heat_first": heatMins.first!, "min_heat_last": heatMins.last!])

        // Cole–Hopf (trapezoid rule, log domain) and the spectral heat propagator are exact to ~1e-12
        // relative on resolved data; 1e-9 absolute leaves room for the free-space padding.
        let roundOff = 1e-9
        var jensenSlack = Double.infinity
        for i in times.indices {
            for k in 0..<uVHJ[i].values.count { jensenSlack = min(jensenSlack, uHeat[i].values[k] - uVHJ[i].values[k]) }
        }
        fig.claim("jensen",
                  "Jensen: u_vHJ = -(1/beta) log E exp(-beta f(Y)) <= E f(Y) = u_heat, Y ~ N(x, t/beta), at every node and time",
                  holds: jensenSlack >= -roundOff, ["smallest_gap": jensenSlack])
        // The discrete Hopf–Lax value exceeds the exact one by at most (C + 1/t) d h^2/8 (the cost
        // f(y) + |x - y|^2/(2t) has curvature <= C + 1/t and its minimiser is within sqrt(d) h/2 of a
        // node), so the bound is checked with that allowance subtracted: a check as strict as the
        // exact inequality. At the panel times the allowance is small against the gap.
        let h = uHJ[0].grid.spacing.max()!
        var laplaceSlack = Double.infinity, worstAllowance = 0.0
        for i in laplaceTimes {
            let lift = d / (2 * beta) * log(1 + cHess * times[i])
            let allowance = (cHess + 1 / times[i]) * d * h * h / 8
            worstAllowance = max(worstAllowance, allowance)
            for k in 0..<uVHJ[i].values.count {
                laplaceSlack = min(laplaceSlack, uHJ[i].values[k] - allowance + lift - uVHJ[i].values[k])
            }
        }
        fig.claim("laplace-bound",
                  "u_vHJ <= u_HJ + d/(2 beta) log(1 + C t), C = sup lambda_max(Hess f) (equality for Example 13), "
                  + "at the panel times, less the discrete Hopf–Lax error (C + 1/t) d h^2/8",
                  holds: laplaceSlack >= -roundOff, ["smallest_gap": laplaceSlack, "C": cHess, "allowance": worstAllowance])
    }

    /// Lemma 18 for viscous HJ, with the second-difference error estimated from spacings h and 2h.
    static func semiconcavityClaim(_ fig: inout FigureData, uVHJ: [Field], bound: [Double]) {
        var worst = 0.0, holds = true
        for (i, u) in uVHJ.enumerated() {
            let fine = Semiconcavity.laplacian(u).values
            // The first node where the Laplacian attains its sup (NaN edges skipped).
            let at = fine.indices.filter { !fine[$0].isNaN }.max { fine[$0] < fine[$1] }!
            let sup = fine[at]
            // Truncation h^2/12 (u_xxxx + u_yyyy): Lap_2h - Lap_h = 3 x that, to leading order.
            let coarse = Semiconcavity.laplacian(u, step: 2).values[at]
            let estimate = coarse.isFinite ? abs(coarse - sup) / 3 : 0
            worst = max(worst, sup / bound[i])
            if sup > bound[i] + estimate { holds = false }
        }
        fig.claim("lemma18-vhj",
                  "Lemma 18: sup Lap u_vHJ(., t) <= 1/(1/C_Lap + t/2) at every time (5-point Laplacian, "
                  + "its O(h^2) error estimated from spacing 2h)",
                  holds: holds, ["largest_ratio_to_bound": worst])
    }
}
