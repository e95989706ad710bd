import Foundation

/// The paper's Fig. 1: a 1-D loss with a wide global minimum, a narrow nearly optimal one
/// and ripples; its smoothings at `T = gamma` by the viscous HJ equation (Cole–Hopf), the HJ
/// equation (Hopf–Lax) and the heat equation; and the Fokker–Planck densities
/// `rho_t = (V' rho)' + 1/(2 beta_FP) rho''` started from a narrow Gaussian in a shallow
/// ripple, with `V = f` (SGD), `V = u_vHJ(., T)` and `V = u_HJ(., T)`.
///
/// Why the claims hold (defaults):
/// - SGD is metastable: the start minimum's lowest barrier is `dV = 0.094`, and
///   `2 beta_FP dV = 7.5`, so the Kramers escape time `~ 2 pi / sqrt(f''(min) |f''(max)|)
///   e^{7.5}` is far beyond the horizon.
/// - Viscous HJ at `(T, beta) = (2, 2)` averages `f` with a Gaussian of variance
///   `T/beta = 1` weighted by `exp(-beta f)`: the narrow well at -1 (width 0.08) carries
///   little of that weight next to the wide global well, so `u_vHJ` is convex
///   (`u_xx = 1/T - beta Var/T^2 > 0`: the Gibbs measure `rho1` stays unimodal) with its
///   minimizer in the global basin, and the density relaxes to `exp(-2 beta_FP u_vHJ)`.
/// - Hopf–Lax keeps every minimum whose value lies below the parabolas `f(y) + |x-y|^2/(2T)`
///   of the others: the narrow well at -1 (0.099 = 6% of `osc f` above the global minimum,
///   at distance 2.1) survives with its value while the ripple the density starts in is
///   swallowed by its wide basin `f(-1) + (x+1)^2/(2T)`. The barrier of `u_HJ` towards the
///   global well (0.20 at the kink near -0.1; `2 beta_FP x 0.20 = 16`) keeps the density there.
public enum Fig1 {
    public struct Parameters: Sendable {
        /// The loss preset (or expression) and the plotted window.
        public var loss: String = "rugged-1d"
        public var window: ClosedRange<Double> = -3...3
        public var nodes: Int = 1201
        /// The smoothing time `T = gamma` and the inverse temperature of viscous HJ and heat.
        public var gamma: Double = 2
        public var beta: Double = 2
        /// The inverse temperature and horizon of the Fokker–Planck runs.
        public var betaFP: Double = 40
        public var horizon: Double = 20
        /// `rho0`: a Gaussian of this width at the local minimum of `f` nearest `start`.
        public var start: Double = -0.6
        public var startWidth: Double = 0.05
        public init() {}
    }

    public static let entry = Figures.Entry(
        name: "fig1",
        summary: "Fig. 1: a rugged 1-D loss smoothed by viscous HJ, HJ and heat, and the Fokker–Planck densities of SGD and of the smoothed drifts",
        make: { try make(progress: $0) })

    public static func make(_ p: Parameters = Parameters(), progress: ProgressHandler? = nil) throws -> FigureData {
        let loss = try Loss.presets[p.loss] != nil ? Loss(preset: p.loss) : Loss(expression: p.loss)
        guard loss.dimension == 1 else {
            throw RelaxError.invalidParameter(name: "loss", value: p.loss, expected: "a loss of one variable")
        }
        let grid = try Grid(domain: [(p.window.lowerBound, p.window.upperBound)], counts: [p.nodes], boundary: .free)
        let stages = 6.0
        progress?(0, "viscous HJ (Cole–Hopf)")
        let viscous = try ViscousHJ.smooth(SmoothingProblem(loss: loss, grid: grid, time: p.gamma, beta: p.beta), method: .coleHopf())
        progress?(1 / stages, "Hopf–Lax")
        // The prox refined on the exact cost: values to round-off, no wrong-basin error at the kinks.
        let inviscid = try HopfLax.infConvolution(loss: loss, grid: grid, times: [p.gamma])
        let hopfLax = inviscid.solutions[0]
        progress?(2 / stages, "heat")
        let heat = try HeatEquation.smooth(SmoothingProblem(loss: loss, grid: grid, time: p.gamma, beta: p.beta))
        let f = viscous.f, uV = viscous.u, uH = hopfLax.value, uHeat = heat.u
        // Value errors of the two HJ solutions, for the convexity tolerances: twice the
        // difference to the same solve on the grid refined by 2 (conservative for order >= 1).
        let fine = try Grid(domain: [(p.window.lowerBound, p.window.upperBound)], counts: [2 * p.nodes - 1], boundary: .free)
        let fineV = try ViscousHJ.smooth(SmoothingProblem(loss: loss, grid: fine, time: p.gamma, beta: p.beta), method: .coleHopf()).u
        let fineH = try HopfLax.infConvolution(loss: loss, grid: fine, times: [p.gamma]).solutions[0].value
        let errorV = 2 * (try Semiconcavity.valueDifference(coarse: uV, fine: fineV))
        let errorH = 2 * (try Semiconcavity.valueDifference(coarse: uH, fine: fineH))

        let landscape = try Landscape(f)
        let startMinimum = try landscape.minimum(nearest: p.start)
        let rho0 = Field(grid: grid.with(boundary: .neumann)) { x in
            let z = (x[0] - startMinimum.x) / p.startWidth
            return exp(-z * z / 2)
        }
        var densities: [Field] = []
        var initial = rho0
        var reports = [viscous.report, inviscid.report, heat.report]
        for (k, (name, potential)) in [("SGD", f), ("viscous HJ", uV), ("HJ", uH)].enumerated() {
            let base = (3 + Double(k)) / stages
            let problem = FokkerPlanckProblem(
                grid: rho0.grid, drift: .potential(Field(grid: rho0.grid, values: potential.values)),
                diffusion: try FokkerPlanckDiffusion(beta: p.betaFP, dimension: 1), initial: rho0, time: p.horizon,
                stepping: Self.stepping,
                progress: progress.map { handler in { @Sendable fraction, _ in handler(base + fraction / stages, "Fokker–Planck, \(name)") } })
            let result = try FokkerPlanck.solve(problem)
            var report = result.report
            report.notes.insert("drift -V' with V = \(name == "SGD" ? "f" : "u_\(name)")", at: 0)
            reports.append(report)
            densities.append(result.rho)
            initial = result.snapshots[0]
        }
        progress?(1, "claims")

        var data = FigureData(name: "fig1", title: "Smoothing a rugged 1-D loss: viscous HJ, HJ and heat; Fokker–Planck densities")
        data.reports = reports
        data.add("x", grid.axes[0].coordinates, "nodes of the window")
        data.add("f", f, "the loss f = \(loss.description)")
        data.add("u_vhj", uV, "viscous HJ u(x, T) by Cole–Hopf, T = \(p.gamma), beta = \(p.beta)")
        data.add("u_hj", uH, "HJ u(x, T) by Hopf–Lax (prox refined on the exact cost), T = \(p.gamma)")
        data.add("u_heat", uHeat, "heat smoothing G_{T/beta} * f, T = \(p.gamma), beta = \(p.beta)")
        data.add("rho0", initial, "initial density (unit mass)")
        data.add("rho_sgd", densities[0], "Fokker–Planck density at the horizon, drift -f'")
        data.add("rho_vhj", densities[1], "Fokker–Planck density at the horizon, drift -u_vHJ'")
        data.add("rho_hj", densities[2], "Fokker–Planck density at the horizon, drift -u_HJ'")
        data.add("minima_x", landscape.minima.map(\.x), "local minima of f")
        data.add("minima_f", landscape.minima.map(\.value), "values of f at its local minima")
        data.add("maxima_x", landscape.maxima.map(\.x), "local maxima of f: the basin boundaries")
        data.add("maxima_f", landscape.maxima.map(\.value), "values of f at its local maxima")
        data.parameters = [
            "loss": .string(p.loss), "expression": .string(loss.expression ?? loss.description),
            "window": JSONValue([p.window.lowerBound, p.window.upperBound]), "nodes": .number(Double(p.nodes)),
            "gamma": .number(p.gamma), "beta": .number(p.beta), "beta_fp": .number(p.betaFP),
            "horizon": .number(p.horizon), "start": .number(startMinimum.x), "start_width": .number(p.startWidth),
            "fokker_planck_stepping": .string("TR-BDF2, dt from \(Self.stepping.dt) growing by \(Self.stepping.growth) up to \(Self.stepping.maxStep); "
                                              + "Scharfetter–Gummel fluxes with the potential's node differences, no-flux ends"),
        ]
        data.panels = [
            FigurePanel("loss and its smoothings at T", arrays: ["x", "f", "u_vhj", "u_hj", "u_heat"]),
            FigurePanel("densities: initial and at the horizon", arrays: ["x", "rho0", "rho_sgd", "rho_vhj", "rho_hj"]),
        ]
        try addClaims(to: &data, p, landscape: landscape, start: startMinimum, uV: uV, uH: uH, densities: densities,
                      valueErrors: (errorV, errorH))
        return data
    }

    /// TR-BDF2 from `dt = 1e-3` (the narrow start resolves in ~0.01), growing 5% per step to
    /// 0.05: ~460 steps to the horizon 20. Steps past the positivity bound are monitored
    /// (a negative value is redone by implicit Euler and reported).
    static let stepping = FokkerPlanckStepping(method: .trBDF2, dt: 1e-3, growth: 1.05, maxStep: 0.05)

    static func addClaims(to data: inout FigureData, _ p: Parameters, landscape: Landscape, start: LocalExtremum,
                          uV: Field, uH: Field, densities: [Field], valueErrors: (viscous: Double, inviscid: Double)) throws {
        let h = uV.grid.spacing[0]
        let global = landscape.global
        let osc = landscape.f.oscillation
        let globalBasin = landscape.basin(of: global)
        let nu = 1 / (2 * p.betaFP)

        // (a) Convexity of u_vHJ: the second differences equal u_xx at the nodes up to
        // h^2/12 max|u''''| and the value error 4 eps/h^2, and u_xx varies between nodes by at
        // most h max|u'''|.
        let d2V = Semiconcavity.secondDifferences(uV, axis: 0).values.filter { !$0.isNaN }
        let tolV = convexityTolerance(uV) + Semiconcavity.tolerance(valueError: valueErrors.viscous, spacing: [h])
        let argminV = uV.values.indices.min { uV.values[$0] < uV.values[$1] }!
        let xMinV = uV.grid.axes[0].coordinate(argminV)
        data.claim("a", "u_vHJ(., T) is convex on the window and its minimizer lies in the basin of f's global minimum",
                   holds: d2V.min()! > tolV && globalBasin.contains(xMinV),
                   ["min_second_difference": d2V.min()!, "tolerance": tolV, "argmin_u_vhj": xMinV,
                    "global_minimum_x": global.x, "basin_lower": globalBasin.lowerBound, "basin_upper": globalBasin.upperBound])

        // (b) SGD stays where it started.
        let startBasin = landscape.basin(of: start)
        let sgdMass = Landscape.mass(densities[0], in: startBasin)
        let barrier = landscape.barrier(of: start)
        data.claim("b", "the terminal SGD density keeps at least half its mass in the basin of the non-global local minimum where rho0 started",
                   holds: sgdMass >= 0.5 && start.index != global.index,
                   ["mass_in_start_basin": sgdMass, "start_x": start.x, "basin_lower": startBasin.lowerBound,
                    "basin_upper": startBasin.upperBound, "barrier": barrier, "two_beta_fp_barrier": 2 * p.betaFP * barrier,
                    "gibbs_mass_in_start_basin": Landscape.mass(FokkerPlanck.gibbs(potential: landscape.f, nu: nu), in: startBasin)])

        // (c) Viscous HJ reaches the global basin.
        let vhjMass = Landscape.mass(densities[1], in: globalBasin)
        let gibbsV = FokkerPlanck.gibbs(potential: Field(grid: uV.grid.with(boundary: .neumann), values: uV.values), nu: nu)
        data.claim("c", "the terminal viscous-HJ density has at least 80% of its mass in the basin of f's global minimum",
                   holds: vhjMass >= 0.8,
                   ["mass_in_global_basin": vhjMass, "gibbs_mass_in_global_basin": Landscape.mass(gibbsV, in: globalBasin)])

        // (d) HJ: not convex; its density sits in a nearly optimal, non-global basin. A convex
        // u has every second difference >= 0 exactly (an average of u_xx >= 0), so a second
        // difference below -4 eps/h^2 (the reach of the value error) proves non-convexity.
        let d2H = Semiconcavity.secondDifferences(uH, axis: 0).values.filter { !$0.isNaN }
        let tolH = Semiconcavity.tolerance(valueError: valueErrors.inviscid, spacing: [h])
        let masses = landscape.minima.map { Landscape.mass(densities[2], in: landscape.basin(of: $0)) }
        let target = masses.indices.max { masses[$0] < masses[$1] }!
        let gap = (landscape.minima[target].value - global.value) / osc
        // The barrier of u_HJ between the target and the global minimum.
        let (i0, i1) = (min(landscape.minima[target].index, global.index), max(landscape.minima[target].index, global.index))
        let hjBarrier = uH.values[i0...i1].max()! - uH.values[landscape.minima[target].index]
        data.claim("d", "u_HJ(., T) is not convex, and at least half of its terminal density lies in the basin of a non-global "
                   + "local minimum of f whose value is within 10% of osc(f) of the global minimum",
                   holds: d2H.min()! < -tolH && masses[target] >= 0.5 && gap <= 0.1 && landscape.minima[target].index != global.index,
                   ["min_second_difference": d2H.min()!, "tolerance": tolH, "mass_in_basin": masses[target], "minimum_x": landscape.minima[target].x,
                    "value_gap_over_osc": gap, "osc_f": osc, "hj_barrier": hjBarrier, "two_beta_fp_hj_barrier": 2 * p.betaFP * hjBarrier])

        // (e) Kept minima, widened convex regions, lowered maxima.
        try claimHopfLaxStructure(&data, landscape: landscape, uH: uH, h: h)
    }

    static func claimHopfLaxStructure(_ data: inout FigureData, landscape: Landscape, uH: Field, h: Double) throws {
        // A kept minimum: u_HJ has a local minimum at the same node whose value equals f's
        // there up to the node's offset from the true minimum, f'' h^2/8 (u(x*) = f(x*)
        // exactly at the true minimum, and f(node) - f(x*) <= f'' (h/2)^2/2).
        let extremaU = try ConvexityAnalysis.extrema(uH)
        let curvature = Semiconcavity.supSecondDifference(landscape.f, axis: 0)
        let valueTolerance = curvature * h * h / 8
        let kept = landscape.minima.filter { m in
            extremaU.contains { $0.kind == .minimum && abs($0.index - m.index) <= 1 && abs($0.value - m.value) <= valueTolerance }
        }
        let widening = try ConvexityAnalysis.widening(from: landscape.f, to: uH, slack: h)
        let keptWidening = widening.filter { w in kept.contains { $0.index == w.original.minimum.index } }
        let widen = !keptWidening.isEmpty && keptWidening.allSatisfy(\.contains)
        let widthRatio = keptWidening.compactMap { w in w.evolved.map { $0.width / w.original.width } }.min() ?? 0
        // Local maxima: u <= f everywhere (take y = x), strictly where f'' < -1/T.
        let drops = landscape.maxima.map { m in m.value - uH.values[m.index] }
        let convexF = ConvexityEvolution.convexFraction(landscape.f), convexU = ConvexityEvolution.convexFraction(uH)
        data.claim("e", "some local minima of f keep value and location under HJ while their convex regions widen, "
                   + "and the local maxima of f (in concave regions) decrease",
                   holds: !kept.isEmpty && widen && drops.allSatisfy { $0 > 0 } && convexU > convexF,
                   ["kept_minima": Double(kept.count),
                    "kept_nonglobal_minimum_x": kept.filter { $0.index != landscape.global.index }.map(\.x).first ?? .nan,
                    "value_tolerance": valueTolerance, "min_convex_width_ratio": widthRatio,
                    "smallest_maximum_drop": drops.min() ?? .nan, "maxima": Double(drops.count),
                    "convex_fraction_f": convexF, "convex_fraction_u_hj": convexU])
    }

    /// `h max|delta^3 u|/h^3 + h^2/12 max|delta^4 u|/h^4`: how far the minimum second
    /// difference can sit above the minimum of `u_xx` on the window.
    static func convexityTolerance(_ u: Field) -> Double {
        let v = u.values, h = u.grid.spacing[0], n = v.count
        var third = 0.0, fourth = 0.0
        for i in 2..<(n - 2) {
            third = max(third, abs(v[i + 2] - 2 * v[i + 1] + 2 * v[i - 1] - v[i - 2]) / (2 * h * h * h))
            fourth = max(fourth, abs(v[i + 2] - 4 * v[i + 1] + 6 * v[i] - 4 * v[i - 1] + v[i - 2]) / (h * h * h * h))
        }
        return h * third + h * h / 12 * fourth
    }

    /// Local extrema of a sampled 1-D loss and the basins between its maxima.
    struct Landscape {
        let f: Field
        let minima: [LocalExtremum]
        let maxima: [LocalExtremum]

        init(_ f: Field) throws {
            self.f = f
            let extrema = try ConvexityAnalysis.extrema(f)
            minima = extrema.filter { $0.kind == .minimum }
            maxima = extrema.filter { $0.kind == .maximum }
            guard minima.count >= 2 else {
                throw RelaxError.invalidParameter(name: "loss", value: "\(minima.count) local minima on the window",
                                                  expected: "a loss with several local minima on the window")
            }
        }

        var global: LocalExtremum { minima.min { $0.value < $1.value }! }

        func minimum(nearest x: Double) throws -> LocalExtremum {
            minima.min { abs($0.x - x) < abs($1.x - x) }!
        }

        /// The basin of a minimum: between the nearest local maxima of f (or the window's ends).
        func basin(of m: LocalExtremum) -> ClosedRange<Double> {
            let axis = f.grid.axes[0]
            let lower = maxima.filter { $0.x < m.x }.map(\.x).max() ?? axis.lower
            let upper = maxima.filter { $0.x > m.x }.map(\.x).min() ?? axis.coordinate(axis.count - 1)
            return lower...upper
        }

        /// The lower of the two barriers `f(max) - f(min)` around a minimum.
        func barrier(of m: LocalExtremum) -> Double {
            let sides = [maxima.last { $0.x < m.x }, maxima.first { $0.x > m.x }].compactMap { $0 }
            return sides.map { $0.value - m.value }.min() ?? .infinity
        }

        /// `∫ rho` over `range` by the trapezoid rule on the nodes inside it.
        static func mass(_ rho: Field, in range: ClosedRange<Double>) -> Double {
            let axis = rho.grid.axes[0], h = axis.spacing
            let inside = (0..<axis.count).filter { range.contains(axis.coordinate($0)) }
            guard let first = inside.first, let last = inside.last, last > first else { return 0 }
            let sum = inside.reduce(0) { $0 + rho.values[$1] }
            return h * (sum - (rho.values[first] + rho.values[last]) / 2)
        }
    }
}
