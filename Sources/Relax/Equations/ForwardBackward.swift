import Foundation

/// The forward–backward system of the control problem of paper Sec. 5 (eq. 26, Remarks 9–10)
/// and the numerical check of Theorem 12, in DESIGN.md's conventions (`nu = 1/(2 beta)`):
///
///     -u_s   = -grad f . grad u - 1/2 |grad u|^2 + nu Lap u,   u(., T) = V_T     (HJB, backward)
///      rho_s = div((grad f + grad u) rho) + nu Lap rho,        rho(., 0) = rho0  (controlled SGD)
///      rho_s = div(grad f rho) + nu Lap rho,                   rho(., 0) = rho0  (SGD)
///
/// The controlled equation is the law of (CSGD) `dx = -(grad f + alpha) ds + beta^{-1/2} dW`
/// under the optimal control `alpha = grad u` (eq. 25): drift `-(grad f + grad u)`, diffusion
/// `beta^{-1}/2 = nu`. The paper's eq. (26) prints it as `rho_t = -div(grad u rho) + Lap rho`
/// (no `grad f`, the opposite sign, diffusion 1); the toolkit follows DESIGN.md.
///
/// **Theorem 12 in these conventions.** Along the controlled equation, integrating by parts
/// (no boundary terms: periodic, or no-flux for `rho` with `d_n u = 0`, the Neumann condition of
/// the reflected control problem), and using the HJB `u_s = grad f . grad u + |grad u|^2/2 - nu Lap u`,
///
///     d/ds ∫ u rho = ∫ rho [u_s - (grad f + grad u) . grad u + nu Lap u] = -1/2 ∫ |grad u|^2 rho,
///
/// so (value identity)  `∫ u(., 0) rho0 = ∫ V_T rho_csgd(T) + 1/2 ∫_0^T ∫ |grad u|^2 rho_csgd`.
/// With the drift `-(grad f + k grad u)` the same computation gives `(k - 1/2) ∫∫ |grad u|^2 rho`
/// while that control costs `(k^2/2) ∫∫ |grad u|^2 rho`: the two agree only for `k = 1`, the optimal
/// control with the factor 1/2 of the running cost (24). The SGD value `v = E[V_T(x_sgd(T))]` solves
/// `-v_s = -grad f . grad v + nu Lap v`, `v(T) = V_T`, and the same computation gives
/// `∫ v(., 0) rho0 = ∫ V_T rho_sgd(T)`. Since `-(u - v)_s = L(u - v) - |grad u|^2/2 <= L(u - v)`
/// with `(u - v)(T) = 0`, the comparison principle gives `u <= v` (eq. 27; also Jensen, as
/// `exp(-beta u) = E exp(-beta V_T)`), hence (inequality)
/// `∫ V_T rho_csgd(T) <= ∫ V_T rho_sgd(T) - 1/2 ∫_0^T ∫ |grad u|^2 rho_csgd`, with margin
/// `∫ (v - u)(., 0) rho0 >= 0`. The constants are the (no other constant is needed in these
/// conventions); the paper's proof writes the SGD generator as `-grad f . grad + 1/2 Lap`, without
/// the `beta^{-1}` that its (CSGD) noise `beta^{-1/2} dW` gives.
///
/// **Scheme.** `u` at the `2M + 1` times `s = k T/(2M)` (the `M` forward steps and their
/// midpoints) by `ValueSolver`: `.godunov` / `.imex` run `BackwardHJB` (monotone, first order);
/// `.coleHopf` solves the linear equation of `w = exp(-beta u)` with the adjoint of the fitted
/// Fokker–Planck operator (second order; see `ValueSolver`). The densities take `M` uniform TR-BDF2
/// steps of the fitted finite-volume scheme (`FokkerPlanck`), the controlled one with the potential
/// `f + u(., s_n + dt/2)` frozen at the step midpoint (second order in time; potential differences
/// keep the Scharfetter–Gummel rates positive, mass exact). Integrals use the solver's trapezoid
/// weights, `grad u` central differences, and the control cost the trapezoid rule over the
/// forward steps: `O(h^2 + dt^2)`. The identity's right-hand side is stationary in the control
/// (the optimal control minimizes it), so errors of `grad u` enter it at second order, while the
/// error of `u(., 0)` enters `∫ u(., 0) rho0` directly: the defect falls at first order with
/// `.godunov` / `.imex` and at second order with `.coleHopf`. Every step is implicit
/// (unconditionally stable); the explicit HJB schemes obey their own CFL bound. TR-BDF2 steps that
/// meet a negative value (round-off-sized, in exponential tails, for `dt` far above the positivity
/// bound) are redone by implicit Euler and counted (`fallback_steps`): those steps are first order.
/// Memory: `u` and `grad u` at `2M + 1` levels, `(2M + 1)(d + 1)` fields. d = 1, 2, 3, one code path.
public enum ForwardBackward {
    /// How the value function `u` is computed.
    ///
    /// - `.godunov`, `.imex`: `BackwardHJB` on the nonlinear HJB (monotone Godunov flux,
    ///   explicit or with implicit diffusion; first order in space and time).
    /// - `.coleHopf`: `w = exp(-beta (u - min V_T))` solves the backward Kolmogorov equation
    ///   `-w_s = -grad f . grad w + nu Lap w`, `w(T) = exp(-beta (V_T - min V_T))`. The fitted
    ///   operator `G` of the drift `-grad f` obeys detailed balance edge by edge with respect to
    ///   the discrete Gibbs density `pi = exp(-f/nu)`, so `pi^{-1} G pi` is the backward generator of
    ///   the same Markov chain: evolving `pi w` by the Fokker–Planck solver (TR-BDF2, time to go
    ///   `tau = T - s`) solves for `w` with second order in space and time, and keeps it positive.
    ///   Needs `exp(-(osc f)/nu - beta osc V_T)` inside the double range (refused below `e^-600`);
    ///   does not use `grad f`.
    public enum ValueSolver: String, Sendable, CaseIterable, Codable {
        case godunov
        case imex
        case coleHopf = "cole-hopf"

        /// The observed order of the identity defect the scheme promises.
        public var order: Double { self == .coleHopf ? 2 : 1 }
    }

    /// Solves the backward HJB, then the controlled and the SGD Fokker–Planck equations
    /// forward, and evaluates both sides of Theorem 12.
    public static func solve(_ problem: ForwardBackwardProblem, progress: ProgressHandler? = nil) throws -> ForwardBackwardResult {
        try problem.validate()
        let (result, wall) = try Stopwatch.time { try march(problem, progress: progress) }
        var out = result
        out.report.wallTime = wall
        return out
    }

    static func march(_ problem: ForwardBackwardProblem, progress: ProgressHandler?) throws -> ForwardBackwardResult {
        let grid = problem.initial.grid
        let m = problem.steps
        let dt = problem.horizon / Double(m)
        let diffusion = try FokkerPlanckDiffusion(beta: problem.beta, dimension: grid.dimension)
        let value = try valueFunction(problem)
        progress?(0.4, "forward-backward: value function")

        // Controlled SGD: the potential f + u at the midpoint of each step (level 2n + 1).
        var controlled = try FokkerPlanckEvolution(grid: grid, diffusion: diffusion, initial: problem.initial)
        let rho0 = controlled.rho
        let quadrature = Quadrature(grid: grid)
        var rates = [quadrature.squaredNorm(value.gradients[0], weightedBy: rho0.values)]
        for n in 0..<m {
            try controlled.advance(by: dt, drift: .potential(problem.loss + value.values[2 * n + 1]))
            rates.append(quadrature.squaredNorm(value.gradients[2 * n + 2], weightedBy: controlled.rho.values))
            progress?(0.4 + 0.5 * Double(n + 1) / Double(m), "forward-backward: controlled density")
        }
        // SGD: the potential f, the same stepper and steps.
        let sgd = try FokkerPlanck.solve(FokkerPlanckProblem(grid: grid, drift: .potential(problem.loss), diffusion: diffusion,
                                                             initial: problem.initial, time: problem.horizon,
                                                             stepping: .accurate(dt: dt)))
        progress?(1, "forward-backward: SGD density")

        // 1/2 ∫_0^T rate(s) ds by the trapezoid rule over the forward steps.
        let controlCost = 0.5 * dt * (rates.reduce(0, +) - 0.5 * (rates.first! + rates.last!))
        var result = ForwardBackwardResult(
            value: value, times: (0...m).map { problem.horizon * Double($0) / Double(m) },
            controlled: controlled.rho, sgd: sgd.rho, controlCostRate: rates,
            initialValue: quadrature.integral(value.values[0].values, rho0.values),
            terminalCostControlled: quadrature.integral(problem.terminal.values, controlled.rho.values),
            terminalCostSGD: quadrature.integral(problem.terminal.values, sgd.rho.values),
            controlCost: controlCost,
            report: SolverReport(equation: "forward-backward (HJB + controlled Fokker–Planck)",
                                 scheme: "\(problem.valueSolver.rawValue) value / fitted-fv tr-bdf2 densities",
                                 workingShape: grid.shape, steps: m, dt: dt))
        result.report.cfl = sgd.report.cfl
        result.report.diagnostics = [
            "initial_value": result.initialValue,
            "terminal_cost_controlled": result.terminalCostControlled,
            "terminal_cost_sgd": result.terminalCostSGD,
            "control_cost": result.controlCost,
            "identity_defect": result.identityDefect,
            "inequality_margin": result.inequalityMargin,
            "beta": problem.beta, "horizon": problem.horizon,
            "mass_controlled": controlled.mass, "mass_sgd": FokkerPlanck.mass(sgd.rho),
            "minimum_controlled": controlled.rho.minimum, "minimum_sgd": sgd.rho.minimum,
            "value_steps": Double(value.report.steps),
        ]
        result.report.notes = [
            "u at \(2 * m + 1) levels s = k T/\(2 * m) by \(value.report.scheme); "
                + "the controlled step n uses the potential f + u(s_n + dt/2)",
            "value identity: ∫ u(0) rho0 = ∫ V_T rho_csgd(T) + 1/2 ∫∫ |grad u|^2 rho_csgd (defect = left - right); "
                + "inequality margin = ∫ V_T rho_sgd(T) - ∫ V_T rho_csgd(T) - 1/2 ∫∫ |grad u|^2 rho_csgd (>= 0)",
            "integrals: trapezoid weights in space, grad u by central differences, trapezoid rule in time",
        ] + value.report.notes
        result.report.warnings = value.report.warnings + sgd.report.warnings
        let fallbacks = [Double(controlled.fallbacks), sgd.report.diagnostics["fallback_steps"] ?? 0,
                         value.report.diagnostics["fallback_steps"] ?? 0]
        result.report.diagnostics["fallback_steps"] = fallbacks.reduce(0, +)
        if fallbacks.contains(where: { $0 > 0 }) {
            let bound = sgd.report.diagnostics["positivity_dt_bound"] ?? .nan
            result.report.notes.append(
                "TR-BDF2 steps redone by implicit Euler after a negative value (controlled \(Int(fallbacks[0])), SGD "
                + "\(Int(fallbacks[1])), value \(Int(fallbacks[2]))): those steps are first order in time; "
                + String(format: "dt below the positivity bound %.3g avoids them", bound))
        }
        if controlled.negativeSteps > 0 {
            result.report.warnings.append("\(controlled.negativeSteps) controlled step(s) ended with a negative density")
        }
        return result
    }

    /// `u` (and `grad u`) at `s = k T/(2M)`, `k = 0...2M`.
    static func valueFunction(_ problem: ForwardBackwardProblem) throws -> HJBSolution {
        let levels = 2 * problem.steps
        switch problem.valueSolver {
        case .godunov, .imex:
            let gradient = problem.lossGradient ?? Differences.gradient(of: problem.loss, order: 4)
            return try BackwardHJB.solve(drift: gradient, terminal: problem.terminal, beta: problem.beta,
                                         horizon: problem.horizon, levels: levels,
                                         scheme: problem.valueSolver == .imex ? .imex : .godunov)
        case .coleHopf:
            return try coleHopfValue(problem, levels: levels)
        }
    }

    /// `u = min V - log(w)/beta` with `pi w` evolved by the fitted Fokker–Planck solver in the
    /// time to go (see `ValueSolver.coleHopf`).
    static func coleHopfValue(_ problem: ForwardBackwardProblem, levels: Int) throws -> HJBSolution {
        let grid = problem.initial.grid
        let beta = problem.beta, nu = 1 / (2 * beta)
        let f = problem.loss, v = problem.terminal
        let fMin = f.minimum, vMin = v.minimum
        let range = f.oscillation / nu + beta * v.oscillation
        guard range <= 600 else {
            throw RelaxError.unsupported(
                String(format: "the Cole–Hopf value solver needs exp(-osc f/nu - beta osc V_T) = exp(-%.0f) above the "
                       + "double range (at most exp(-600)); use the godunov or imex value solver, a smaller beta or window", range))
        }
        let logGibbs = f.values.map { -($0 - fMin) / nu }
        let start = Field(grid: grid, values: zip(logGibbs, v.values).map { exp($0 - beta * ($1 - vMin)) })
        let run = try FokkerPlanck.solve(FokkerPlanckProblem(
            grid: grid, drift: .potential(f), diffusion: try FokkerPlanckDiffusion(beta: beta, dimension: grid.dimension),
            initial: start, time: problem.horizon, snapshots: levels,
            stepping: .accurate(dt: problem.horizon / Double(levels))))
        let logMass = log(run.initialMass)
        // Snapshot k is at the time to go tau = k T/levels, i.e. s = T - tau: reverse.
        var values: [Field] = []
        for (k, snapshot) in run.snapshots.reversed().enumerated() {
            let u = Field(grid: grid, values: (0..<grid.count).map { i in
                vMin - (log(snapshot.values[i]) + logMass - logGibbs[i]) / beta
            })
            try u.checkFinite("Cole–Hopf value u at s = \(problem.horizon * Double(k) / Double(levels)) (w underflowed)")
            values.append(u)
        }
        var report = run.report
        report.equation = "hjb (backward) via w = exp(-beta u)"
        report.scheme = "cole-hopf (adjoint fitted-fv, tr-bdf2)"
        report.notes = ["u = min V_T - log(w)/beta, w = exp(-beta (u - min V_T)) solves -w_s = -grad f . grad w + nu Lap w: "
                        + "pi w (pi = exp(-f/nu)) evolved by the fitted Fokker–Planck scheme in tau = T - s, \(levels) TR-BDF2 steps"]
        return HJBSolution(times: (0...levels).map { problem.horizon * Double($0) / Double(levels) }, values: values,
                           gradients: values.map { Differences.gradient(of: $0, order: 2) }, report: report)
    }

    /// The Fokker–Planck solver's trapezoid weights on a grid.
    struct Quadrature {
        let weights: [Double]
        let cellVolume: Double

        init(grid: Grid) {
            weights = FokkerPlanck.nodeWeights(grid)
            cellVolume = grid.cellVolume
        }

        /// `∫ a b`.
        func integral(_ a: [Double], _ b: [Double]) -> Double {
            var s = 0.0
            for i in weights.indices { s += weights[i] * a[i] * b[i] }
            return s * cellVolume
        }

        /// `∫ |g|^2 rho` for a vector field `g` given per axis.
        func squaredNorm(_ g: [Field], weightedBy rho: [Double]) -> Double {
            var s = 0.0
            for i in weights.indices {
                var norm2 = 0.0
                for component in g { norm2 += component.values[i] * component.values[i] }
                s += weights[i] * norm2 * rho[i]
            }
            return s * cellVolume
        }
    }
}

/// The data of the forward–backward system on one grid (`.neumann` = no-flux / reflecting, or
/// `.periodic`): the loss `f` (and optionally `grad f`), the terminal cost `V_T`, the initial
/// density `rho0` (normalized by the solver), `beta`, the horizon `T` and the number `M` of
/// uniform forward steps.
public struct ForwardBackwardProblem: Sendable {
    public var loss: Field
    /// `grad f`, one field per axis; when nil, fourth-order central differences of `loss`
    /// (only the `.godunov` / `.imex` value solvers use it).
    public var lossGradient: [Field]?
    public var terminal: Field
    public var initial: Field
    public var beta: Double
    public var horizon: Double
    public var steps: Int
    public var valueSolver: ForwardBackward.ValueSolver

    public init(loss: Field, lossGradient: [Field]? = nil, terminal: Field, initial: Field, beta: Double,
                horizon: Double, steps: Int, valueSolver: ForwardBackward.ValueSolver = .godunov) {
        self.loss = loss
        self.lossGradient = lossGradient
        self.terminal = terminal
        self.initial = initial
        self.beta = beta
        self.horizon = horizon
        self.steps = steps
        self.valueSolver = valueSolver
    }

    /// Samples `f` (with its exact gradient) and `V_T` on the grid of `initial`.
    public init(loss: Loss, terminal: Loss, initial: Field, beta: Double, horizon: Double, steps: Int,
                valueSolver: ForwardBackward.ValueSolver = .godunov) throws {
        let grid = initial.grid
        let (f, gradient) = try loss.sampleWithGradient(on: grid)
        self.init(loss: f, lossGradient: gradient, terminal: try terminal.sample(on: grid), initial: initial,
                  beta: beta, horizon: horizon, steps: steps, valueSolver: valueSolver)
    }

    func validate() throws {
        let grid = initial.grid
        guard grid.boundary == .neumann || grid.boundary == .periodic else {
            throw RelaxError.unsupported(
                "the forward–backward system needs a no-flux (neumann) or periodic grid, not \(grid.boundary); for a "
                + "whole-space problem take a neumann window where rho is negligible at the edges")
        }
        try RelaxError.requirePositiveFinite(beta, name: "beta", expected: "a finite beta > 0")
        try RelaxError.requirePositiveFinite(horizon, name: "T", expected: "a finite horizon T > 0")
        guard steps >= 1 else {
            throw RelaxError.invalidParameter(name: "steps", value: "\(steps)", expected: "at least 1 forward step")
        }
        try initial.checkFinite("rho0")
        guard initial.values.allSatisfy({ $0 >= 0 }), initial.values.contains(where: { $0 > 0 }) else {
            throw RelaxError.invalidParameter(name: "rho0", value: "min \(initial.minimum), max \(initial.maximum)",
                                              expected: "a density >= 0 everywhere with positive mass")
        }
        for (name, field) in [("loss f", loss), ("terminal cost V_T", terminal)] {
            guard field.grid == grid else {
                throw RelaxError.invalidGrid("\(name) lives on another grid than rho0; sample both on one grid")
            }
            try field.checkFinite(name)
        }
        if let lossGradient {
            guard lossGradient.count == grid.dimension, lossGradient.allSatisfy({ $0.grid == grid }) else {
                throw RelaxError.invalidParameter(name: "grad f", value: "\(lossGradient.count) field(s)",
                                                  expected: "\(grid.dimension) fields (one per axis) on the grid of rho0")
            }
            for g in lossGradient { try g.checkFinite("grad f") }
        }
    }
}

/// What `ForwardBackward.solve` returns: the value function, both densities at `T`, and the
/// terms of Theorem 12.
public struct ForwardBackwardResult: Sendable {
    /// `u` and `grad u` at `s = k T/(2M)`, `k = 0...2M`.
    public var value: HJBSolution
    /// The forward times `s_n = n T/M`.
    public var times: [Double]
    /// `rho_csgd(T)` (drift `-(grad f + grad u)`).
    public var controlled: Field
    /// `rho_sgd(T)` (drift `-grad f`).
    public var sgd: Field
    /// `∫ |grad u(., s_n)|^2 rho_csgd(., s_n)` at the forward times.
    public var controlCostRate: [Double]
    /// `∫ u(., 0) rho0`.
    public var initialValue: Double
    /// `∫ V_T rho_csgd(T)`.
    public var terminalCostControlled: Double
    /// `∫ V_T rho_sgd(T)`.
    public var terminalCostSGD: Double
    /// `1/2 ∫_0^T ∫ |grad u|^2 rho_csgd`.
    public var controlCost: Double
    public var report: SolverReport

    /// `∫ u(0) rho0 - ∫ V_T rho_csgd(T) - 1/2 ∫∫ |grad u|^2 rho_csgd`: zero for the exact solution.
    public var identityDefect: Double { initialValue - terminalCostControlled - controlCost }
    /// `∫ V_T rho_sgd(T) - ∫ V_T rho_csgd(T) - 1/2 ∫∫ |grad u|^2 rho_csgd`: Theorem 12 says >= 0.
    public var inequalityMargin: Double { terminalCostSGD - terminalCostControlled - controlCost }
}
