import Foundation

/// Theorem 12 with quadratic data, in closed form: `f = a|x|^2/2`, `V_T = c|x|^2/2`,
/// `rho0 = N(m0, sigma0^2 I)` in `R^d`, `nu = 1/(2 beta)`.
///
/// SGD is Ornstein–Uhlenbeck; over a time to go `tau` its law from `x` is
/// `N(x e^{-a tau}, S(tau) I)` with `S(tau) = (1 - e^{-2 a tau})/(2 a beta)` (`tau/beta` for `a = 0`,
/// Remark 10). Cole–Hopf (`exp(-beta u) = E exp(-beta V_T)`) gives
/// `u(x, s) = A(s)|x|^2/2 + d B(s)`, `A = c e^{-2 a tau}/(1 + beta c S)`, `B = log(1 + beta c S)/(2 beta)`.
/// The controlled SGD is linear, `dx = -(a + A(s)) x ds + beta^{-1/2} dW`, so its law stays
/// Gaussian: mean `m0 mu(s)`, variance `P(s) I` with `mu' = -(a + A) mu`, `P' = -2 (a + A) P + 1/beta`,
/// and the control cost is `1/2 ∫ A^2 (|m0|^2 mu^2 + d P) ds`. These ODEs are integrated by RK4
/// with 4000 steps (error below 1e-13) — independently of the identity being checked.
public struct ForwardBackwardOrnsteinUhlenbeck: Sendable {
    public var a: Double
    public var c: Double
    public var beta: Double
    public var horizon: Double
    public var mean: [Double]
    public var deviation: Double

    public init(a: Double, c: Double, beta: Double, horizon: Double, mean: [Double], deviation: Double) {
        self.a = a
        self.c = c
        self.beta = beta
        self.horizon = horizon
        self.mean = mean
        self.deviation = deviation
    }

    var dimension: Double { Double(mean.count) }
    var meanNorm2: Double { mean.reduce(0) { $0 + $1 * $1 } }

    /// `S(tau)`, the SGD transition variance per axis.
    func transitionVariance(_ tau: Double) -> Double {
        a == 0 ? tau / beta : -expm1(-2 * a * tau) / (2 * a * beta)
    }

    /// `A(s)`: `u(., s)` has Hessian `A(s) I`.
    public func curvature(at s: Double) -> Double {
        let tau = horizon - s
        return c * exp(-2 * a * tau) / (1 + beta * c * transitionVariance(tau))
    }

    /// `u(x, s)`.
    public func value(_ x: [Double], at s: Double) -> Double {
        let r2 = x.reduce(0) { $0 + $1 * $1 }
        return curvature(at: s) * r2 / 2 + dimension * log(1 + beta * c * transitionVariance(horizon - s)) / (2 * beta)
    }

    /// `∫ u(., 0) rho0`.
    public var initialValue: Double {
        value([], at: 0) + curvature(at: 0) * (meanNorm2 + dimension * deviation * deviation) / 2
    }

    /// `∫ V_T rho_sgd(T)`.
    public var terminalCostSGD: Double {
        let decay = exp(-2 * a * horizon)
        return c * (meanNorm2 * decay + dimension * (deviation * deviation * decay + transitionVariance(horizon))) / 2
    }

    /// The controlled law at `T` (mean factor `mu(T)`, variance `P(T)`) and the control cost.
    public var controlled: (meanFactor: Double, variance: Double, controlCost: Double) {
        let steps = 4000
        let h = horizon / Double(steps)
        let m2 = meanNorm2, d = dimension
        func rate(_ s: Double, _ y: [Double]) -> [Double] {
            let k = a + curvature(at: s)
            let gain = curvature(at: s)
            return [-k * y[0], -2 * k * y[1] + 1 / beta, 0.5 * gain * gain * (m2 * y[0] * y[0] + d * y[1])]
        }
        var y = [1, deviation * deviation, 0]
        for i in 0..<steps {
            let s = Double(i) * h
            let k1 = rate(s, y)
            let k2 = rate(s + h / 2, zip(y, k1).map { $0 + h / 2 * $1 })
            let k3 = rate(s + h / 2, zip(y, k2).map { $0 + h / 2 * $1 })
            let k4 = rate(s + h, zip(y, k3).map { $0 + h * $1 })
            for j in 0..<3 { y[j] += h / 6 * (k1[j] + 2 * k2[j] + 2 * k3[j] + k4[j]) }
        }
        return (y[0], y[1], y[2])
    }

    /// `∫ V_T rho_csgd(T)`.
    public var terminalCostControlled: Double {
        let law = controlled
        return c * (meanNorm2 * law.meanFactor * law.meanFactor + dimension * law.variance) / 2
    }

    /// `1/2 ∫_0^T ∫ |grad u|^2 rho_csgd`.
    public var controlCost: Double { controlled.controlCost }
}

/// Observed orders of the forward–backward system (paper Sec. 5, Theorem 12): the value-identity
/// defect `∫ u(0) rho0 - ∫ V_T rho_csgd(T) - 1/2 ∫∫ |grad u|^2 rho_csgd` falls to zero as the grid
/// and the steps refine together (`M ∝ N`), at order 1 with the monotone HJB value solver
/// (`u(0)`'s O(h) error enters directly) and order 2 with the Cole–Hopf value solver; and the
/// terms of Theorem 12 converge to the closed form of `ForwardBackwardOrnsteinUhlenbeck`.
///
/// Problems: a tilted double well `f = (x^2 - 1)^2/4 + 0.15 x` (global minimum near -1.07, the
/// other near 0.92), `V_T = f`, `rho0` a Gaussian (sd 0.3) in the worse well at 1, `beta = 4`,
/// `T = 1`, no-flux (reflecting) window `[-2.2, 2.2]`; in 2-D/3-D the same plus `y^2/2 (+ z^2/2)` on
/// `[-2.2, 2.2] x [-2, 2]^(d-1)`, `rho0` at (1, 0.5, 0.5). OU: `a = 1`, `c = 1`, `beta = 4`, `T = 1/2`,
/// `rho0 = N(0.4, 0.35^2)` on the no-flux window `[-3, 3]` (the whole-space closed form holds there
/// to ~1e-12: the densities are negligible at the walls).
///
/// Steps: `M = N - 1` (`dt ∝ h`). With coarser steps the TR-BDF2 steps of the densities meet
/// round-off-sized negative values in the exponential tails at the walls during the first steps
/// and are redone by implicit Euler (first order), which blurs the observed order; the report of
/// `ForwardBackward.solve` counts them (`fallback_steps`).
public enum ForwardBackwardConvergence {
    static let beta = 4.0
    static let tilt = 0.15

    /// The tilted double well (plus `y^2/2`, `z^2/2` in 2-D, 3-D).
    public static func tiltedDoubleWell(dimension d: Int) -> Loss {
        Loss(name: "(x^2-1)^2/4 + 0.15 x" + ["", " + y^2/2", " + (y^2+z^2)/2"][d - 1], dimension: d,
             value: { p in
                 let x = p[0]
                 let well: Double = (x * x - 1) * (x * x - 1) / 4 + tilt * x
                 var rest = 0.0
                 for y in p.dropFirst() { rest += y * y / 2 }
                 return well + rest
             },
             gradient: { p in
                 let x = p[0]
                 let dx: Double = x * x * x - x + tilt
                 return [dx] + Array(p.dropFirst())
             })
    }

    /// The double-well problem with `n` nodes per axis and `steps` forward steps.
    public static func doubleWellProblem(n: Int, steps: Int, dimension d: Int,
                                         valueSolver: ForwardBackward.ValueSolver) throws -> ForwardBackwardProblem {
        let domain = [(-2.2, 2.2)] + [(Double, Double)](repeating: (-2, 2), count: d - 1)
        let grid = try Grid(domain: domain, counts: [Int](repeating: n, count: d), boundary: .neumann)
        let center = [1.0] + [Double](repeating: 0.5, count: d - 1)
        let rho0 = Field(grid: grid) { p in
            var r2 = 0.0
            for k in 0..<d { r2 += (p[k] - center[k]) * (p[k] - center[k]) }
            return exp(-r2 / (2 * 0.09))
        }
        let f = tiltedDoubleWell(dimension: d)
        return try ForwardBackwardProblem(loss: f, terminal: f, initial: rho0, beta: beta, horizon: 1, steps: steps,
                                          valueSolver: valueSolver)
    }

    /// The identity defect over `sizes` (nodes per axis) with `steps = stepRatio (n - 1)`.
    public static func identitySeries(_ valueSolver: ForwardBackward.ValueSolver, sizes: [Int], dimension d: Int = 1,
                                      stepRatio: Double, band: Double) throws -> ConvergenceSeries {
        var series = ConvergenceSeries(scheme: "thm12 \(valueSolver.rawValue)" + (d > 1 ? " \(d)D" : ""),
                                       norm: "def", expectedOrder: valueSolver.order, band: band)
        for n in sizes {
            let problem = try doubleWellProblem(n: n, steps: Int((stepRatio * Double(n - 1)).rounded()), dimension: d,
                                                valueSolver: valueSolver)
            let result = try ForwardBackward.solve(problem)
            series.points.append(.init(n: n, h: problem.initial.grid.spacing[0], error: abs(result.identityDefect)))
        }
        return series
    }

    /// The OU problem of `ForwardBackwardOrnsteinUhlenbeck` (1-D) on `[-3, 3]` with `n` nodes.
    public static let ornsteinUhlenbeck = ForwardBackwardOrnsteinUhlenbeck(a: 1, c: 1, beta: 4, horizon: 0.5,
                                                                          mean: [0.4], deviation: 0.35)

    public static func ornsteinUhlenbeckProblem(n: Int, steps: Int,
                                                valueSolver: ForwardBackward.ValueSolver) throws -> ForwardBackwardProblem {
        let ou = ornsteinUhlenbeck
        let grid = try Grid(domain: [(-3, 3)], counts: [n], boundary: .neumann)
        let f = Field(grid: grid) { ou.a * $0[0] * $0[0] / 2 }
        let v = Field(grid: grid) { ou.c * $0[0] * $0[0] / 2 }
        let rho0 = Field(grid: grid) { exp(-($0[0] - ou.mean[0]) * ($0[0] - ou.mean[0]) / (2 * ou.deviation * ou.deviation)) }
        return ForwardBackwardProblem(loss: f, lossGradient: [Field(grid: grid) { ou.a * $0[0] }], terminal: v, initial: rho0,
                                      beta: ou.beta, horizon: ou.horizon, steps: steps, valueSolver: valueSolver)
    }

    /// The largest error of the four terms of Theorem 12 against the OU closed form.
    public static func ornsteinUhlenbeckSeries(_ valueSolver: ForwardBackward.ValueSolver, sizes: [Int],
                                               stepRatio: Double, band: Double) throws -> ConvergenceSeries {
        let ou = ornsteinUhlenbeck
        let exact = [ou.initialValue, ou.terminalCostControlled, ou.terminalCostSGD, ou.controlCost]
        var series = ConvergenceSeries(scheme: "thm12-OU \(valueSolver.rawValue)", norm: "terms",
                                       expectedOrder: valueSolver.order, band: band)
        for n in sizes {
            let problem = try ornsteinUhlenbeckProblem(n: n, steps: Int((stepRatio * Double(n - 1)).rounded()),
                                                       valueSolver: valueSolver)
            let r = try ForwardBackward.solve(problem)
            let computed = [r.initialValue, r.terminalCostControlled, r.terminalCostSGD, r.controlCost]
            series.points.append(.init(n: n, h: problem.initial.grid.spacing[0],
                                       error: zip(computed, exact).map { abs($0 - $1) }.max()!))
        }
        return series
    }

    /// Every series (`relax convergence fokker-planck` can append them); about 10 s in a release build.
    public static func report() throws -> ConvergenceReport {
        ConvergenceReport(
            title: "Theorem 12 (forward–backward HJB + Fokker–Planck): value-identity defect, tilted double well "
                + "(beta = 4, T = 1, V_T = f); OU terms against the closed form",
            series: try series())
    }

    /// The series of `report()`.
    public static func series() throws -> [ConvergenceSeries] {
        [
            try identitySeries(.godunov, sizes: [101, 201, 401, 801], stepRatio: 1, band: 0.15),
            try identitySeries(.imex, sizes: [101, 201, 401, 801], stepRatio: 1, band: 0.15),
            try identitySeries(.coleHopf, sizes: [101, 201, 401, 801], stepRatio: 1, band: 0.2),
            try identitySeries(.godunov, sizes: [33, 65, 129], dimension: 2, stepRatio: 1, band: 0.15),
            try identitySeries(.coleHopf, sizes: [17, 33, 65, 129], dimension: 2, stepRatio: 1, band: 0.2),
            try identitySeries(.coleHopf, sizes: [13, 25], dimension: 3, stepRatio: 1, band: 0.2),
            try ornsteinUhlenbeckSeries(.godunov, sizes: [121, 241, 481, 961], stepRatio: 1, band: 0.15),
            try ornsteinUhlenbeckSeries(.coleHopf, sizes: [121, 241, 481, 961], stepRatio: 1, band: 0.2),
        ]
    }
}
