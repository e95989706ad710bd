import Foundation
import Testing
@testable import Relax

/// Rugged potentials: a double well (or bowl) with high-frequency ripples, at beta = 50.
enum RuggedPotential {
    static func value(_ p: [Double]) -> Double {
        switch p.count {
        case 1: return pow(p[0] * p[0] - 1, 2) / 4 + 0.05 * sin(20 * p[0])
        case 2: return pow(p[0] * p[0] - 1, 2) / 4 + 0.5 * p[1] * p[1] + 0.2 * p[0] * p[1]
            + 0.05 * sin(20 * p[0]) * cos(15 * p[1])
        default: return p.reduce(0) { $0 + 0.5 * $1 * $1 } + 0.05 * sin(12 * p[0]) * cos(9 * p[1]) * sin(7 * p[2])
        }
    }
    /// A periodic potential on [0, 1)^d.
    static func periodic(_ p: [Double]) -> Double {
        p.enumerated().reduce(0) { $0 + 0.5 * cos(2 * Double.pi * $1.1 + Double($1.0)) + 0.05 * sin(6 * Double.pi * $1.1) }
    }
}

@Suite("Fokker–Planck: fitted finite volumes, positivity, mass, Gibbs, OU Gaussians, currents")
struct FokkerPlanckTests {
    static let eps = Double.ulpOfOne

    func grid(_ d: Int, n: Int, boundary: Boundary = .neumann) throws -> Grid {
        if boundary == .periodic {
            return try Grid(domain: [(Double, Double)](repeating: (0, 1), count: d), counts: [Int](repeating: n, count: d), boundary: .periodic)
        }
        return try Grid(domain: [(Double, Double)](repeating: (-2, 2), count: d), counts: [Int](repeating: n, count: d), boundary: boundary)
    }

    func bump(_ g: Grid, at center: [Double], width: Double) -> Field {
        Field(grid: g) { p in exp(-zip(p, center).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / (2 * width * width)) }
    }

    // MARK: Gibbs

    @Test("discrete Gibbs exp(-V/nu) is stationary to round-off (rugged V, beta = 50; d = 1, 2, 3; no-flux and periodic)",
          arguments: [(1, Boundary.neumann), (2, .neumann), (3, .neumann), (1, .periodic), (2, .periodic)],
          [FokkerPlanckStepping.Method.implicitEuler, .trBDF2])
    func gibbsStationary(case: (Int, Boundary), method: FokkerPlanckStepping.Method) throws {
        let (d, boundary) = `case`
        let n = [1: 201, 2: 61, 3: 17][d]!
        let g = try grid(d, n: n, boundary: boundary)
        let v = Field(grid: g, boundary == .periodic ? RuggedPotential.periodic : RuggedPotential.value)
        let beta = 50.0, nu = 1 / (2 * beta)
        let gibbs = FokkerPlanck.gibbs(potential: v, nu: nu)
        let steps = 20
        let problem = FokkerPlanckProblem(grid: g, drift: .potential(v), diffusion: try .init(beta: beta, dimension: d),
                                          initial: gibbs, time: 1, snapshots: 1,
                                          stepping: .init(method: method, dt: 1.0 / Double(steps), fallBackOnNegative: false))
        let result = try FokkerPlanck.solve(problem)
        // Every flux of exp(-V/nu) vanishes up to the rounding of B(-P) rho_i - B(P) rho_j:
        // a relative residual of a few ulps times dt * rate per explicit stage, and each
        // subtraction-free solve adds at most ~8 n ulps (n = chain length) per component.
        // Summed over the steps (and 2 d - 1 split sub-steps):
        let dtRate = result.report.diagnostics["max_rate"]! / Double(steps)
        let perStep = Double(2 * d) * (16 * Double(n) + 8 * dtRate) * Self.eps
        let tolerance = Double(steps) * perStep
        let change = zip(result.rho.values, gibbs.values).map { abs($0 - $1) / max($1, 1e-300) }
            .enumerated().filter { gibbs.values[$0.offset] > 1e-250 }.map(\.element).max()!
        #expect(change <= tolerance, "relative change \(change), bound \(tolerance)")
        #expect(result.negativeSteps == 0)
        // Detailed balance: the current of the Gibbs state vanishes to the same accuracy.
        let jmax = result.current.map { $0.norm(.max) }.max()!
        let scale = result.report.diagnostics["max_rate"]! * g.spacing.max()! * gibbs.maximum
        #expect(jmax <= tolerance * scale)
    }

    // MARK: Mass and positivity

    @Test("mass to 1e-12 and rho >= 0 at every step on rugged potentials at beta = 50 (1-D, 2-D)",
          arguments: [1, 2], [FokkerPlanckStepping.Method.implicitEuler, .trBDF2])
    func massAndPositivity(d: Int, method: FokkerPlanckStepping.Method) throws {
        let g = try grid(d, n: d == 1 ? 401 : 81)
        let v = Field(grid: g, RuggedPotential.value)
        // A narrow bump off-centre, and one node carrying extra mass: rough data.
        var rho0 = bump(g, at: [Double](repeating: 0.9, count: d), width: 0.1)
        rho0.values[g.count / 3] += 50
        let problem = FokkerPlanckProblem(grid: g, drift: .potential(v), diffusion: try .init(beta: 50, dimension: d),
                                          initial: rho0, time: 2, snapshots: 20,
                                          stepping: .init(method: method, dt: 0.01))
        let result = try FokkerPlanck.solve(problem)
        #expect(result.negativeSteps == 0)
        #expect(result.diagnostics.allSatisfy { $0.minimum >= 0 })
        #expect(result.snapshots.allSatisfy { $0.values.allSatisfy { $0 >= 0 } })
        // Each step conserves mass to round-off before any correction (a few ulps of the
        // sum over N nodes), and the mass after every step is 1 to 1e-12.
        #expect(result.report.diagnostics["max_step_mass_error"]! <= Double(g.count) * Self.eps)
        #expect(result.report.diagnostics["max_mass_drift"]! <= 1e-12)
        #expect(result.diagnostics.allSatisfy { abs($0.mass - 1) <= 1e-12 })
        if method == .implicitEuler { #expect(result.report.diagnostics["fallback_steps"] == 0) }
    }

    @Test("TR-BDF2 beyond its positivity bound: negative values are detected and reported, or redone by implicit Euler")
    func positivityMonitor() throws {
        let g = try grid(1, n: 201)
        let v = Field(grid: g, RuggedPotential.value)
        var rho0 = Field(grid: g, repeating: 0)
        rho0.values[100] = 1
        func run(fallBack: Bool) throws -> FokkerPlanckResult {
            try FokkerPlanck.solve(FokkerPlanckProblem(
                grid: g, drift: .potential(v), diffusion: try .init(beta: 50, dimension: 1), initial: rho0,
                time: 0.5, stepping: .init(method: .trBDF2, dt: 0.05, fallBackOnNegative: fallBack)))
        }
        let raw = try run(fallBack: false)
        // dt is far beyond the sufficient bound (1 + sqrt 2) / maxRate ...
        #expect(raw.report.diagnostics["positivity_dt_bound"]! < 0.05)
        // ... and a point mass then does go negative: reported (not clipped).
        #expect(raw.negativeSteps > 0)
        #expect(raw.report.diagnostics["negative_steps"]! > 0)
        #expect(!raw.report.warnings.isEmpty)
        let safe = try run(fallBack: true)
        #expect(safe.negativeSteps == 0 && safe.rho.minimum >= 0)
        #expect(safe.report.diagnostics["fallback_steps"]! > 0)
        #expect(safe.report.notes.contains { $0.contains("redone with implicit Euler") })
    }

    // MARK: Free energy

    @Test("free energy F = ∫ V rho + nu ∫ rho log rho is non-increasing (review paper Theorem 3) and equals nu KL - nu log Z",
          arguments: [1, 2])
    func freeEnergyMonotone(d: Int) throws {
        let g = try grid(d, n: d == 1 ? 201 : 61)
        let v = Field(grid: g, RuggedPotential.value)
        let nu = 0.01
        let rho0 = bump(g, at: [Double](repeating: -0.3, count: d), width: 0.4)
        let result = try FokkerPlanck.solve(FokkerPlanckProblem(
            grid: g, drift: .potential(v), diffusion: try .init(nu: nu, dimension: d), initial: rho0,
            time: 4, snapshots: 40, stepping: .toStationarity(dt: 0.01, growth: 1.05)))
        let f = result.diagnostics.map { $0.freeEnergy! }
        let kl = result.diagnostics.map { $0.relativeEntropy! }
        // Implicit Euler is a positive, mass-preserving map fixing the discrete Gibbs state:
        // the relative entropy to it (and so F) cannot increase (data processing), up to the
        // rounding of the sums (~N ulps of the terms).
        for k in 1..<f.count {
            #expect(f[k] <= f[k - 1] + 1e-12 * abs(f[k - 1]) + 1e-13)
            #expect(kl[k] <= kl[k - 1] + 1e-12)
        }
        #expect(kl.allSatisfy { $0 >= -1e-13 })
        #expect(f.last! < f.first!)
        // F = nu KL - nu log Z with the same quadrature.
        let weights = FokkerPlanck.nodeWeights(g)
        var acc = LogSumExpAccumulator()
        for i in 0..<g.count { acc.add(-v.values[i] / nu + log(weights[i] * g.cellVolume)) }
        for k in f.indices {
            #expect(abs(f[k] - (nu * kl[k] - nu * acc.value)) <= 1e-12 * max(1, abs(f[k])))
        }
    }

    // MARK: Smoothed losses

    @Test("densities under a smoothed loss: a potential field u gives Gibbs exp(-u/nu) exactly; -grad u fields converge to it at second order")
    func smoothedPotential() throws {
        // Any field can be the potential: here a "smoothed" loss given only by values.
        let nu = 0.1
        var errors: [Double] = []
        for n in [101, 201, 401] {
            let g = try grid(1, n: n)
            let loss = Loss(name: "u", dimension: 1, value: { p in log(cosh(3 * p[0])) / 3 + 0.3 * p[0] },
                            gradient: { p in [tanh(3 * p[0]) + 0.3] })
            let (u, gradU) = try loss.sampleWithGradient(on: g)
            let gibbs = FokkerPlanck.gibbs(potential: u, nu: nu)
            let fromPotential = try FokkerPlanck.solve(FokkerPlanckProblem(
                grid: g, drift: .potential(u), diffusion: try .init(nu: nu, dimension: 1), initial: gibbs,
                time: 5, stepping: .toStationarity(dt: 0.1)))
            #expect(fromPotential.rho.distance(to: gibbs, .max) <= 1e-12 * gibbs.maximum)
            // With gradient fields the fitted flux sees P = -h (u'_i + u'_j)/(2 nu): the
            // discrete equilibrium differs from Gibbs by O(h^2).
            let flat = Field(grid: g, repeating: 1)
            let fromGradient = try FokkerPlanck.solve(FokkerPlanckProblem(
                grid: g, drift: .negativeGradient(gradU), diffusion: try .init(nu: nu, dimension: 1), initial: flat,
                time: 60, stepping: .toStationarity(dt: 0.01, growth: 1.3)))
            errors.append(fromGradient.rho.distance(to: gibbs, .max))
        }
        let orders = (1..<errors.count).map { log2(errors[$0 - 1] / errors[$0]) }
        #expect(orders.allSatisfy { abs($0 - 2) <= 0.2 }, "errors \(errors), orders \(orders)")
    }

    @Test("periodic tilted drift b = F - U'(x): a non-equilibrium steady state with one constant, non-zero current")
    func periodicTiltedSteadyState() throws {
        let nu = 0.2, force = 1.5
        var currents: [Double] = []
        for n in [64, 128, 256] {
            let g = try grid(1, n: n, boundary: .periodic)
            let drift = FokkerPlanckDrift.sampled(on: g) { [force + 0.8 * 2 * Double.pi * sin(2 * Double.pi * $0[0])] }
            let diffusion = try FokkerPlanckDiffusion(nu: nu, dimension: 1)
            let rho = try FokkerPlanck.stationaryDensity(grid: g, drift: drift, diffusion: diffusion)
            let j = try FokkerPlanck.current(of: rho, drift: drift, diffusion: diffusion)[0].values
            // Discrete stationarity in 1-D: every edge carries the same flux, so the nodal
            // current is one constant, up to the rounding of F = u rho_i - v rho_j, whose
            // terms are ~ (nu/h) (1 + |P|) rho (P = h b / nu):
            let h = g.spacing[0]
            let termSize = nu / h * (1 + 8 * h / nu) * rho.maximum
            #expect(j.max()! - j.min()! <= 64 * Self.eps * termSize)
            // ... and time stepping reaches the same state.
            let run = try FokkerPlanck.solve(FokkerPlanckProblem(
                grid: g, drift: drift, diffusion: diffusion, initial: Field(grid: g, repeating: 1), time: 20,
                stepping: .toStationarity(dt: 1e-3, growth: 1.2)))
            #expect(run.rho.distance(to: rho, .max) <= 1e-9 * rho.maximum)
            #expect(abs(run.diagnostics.last!.mass - 1) <= 1e-12 && run.negativeSteps == 0)
            currents.append(j[0])
        }
        // Broken detailed balance: J != 0 (the ripples cut the free drift F = 1.5 down to ~0.04),
        // and it converges at second order.
        #expect(currents.allSatisfy { $0 > 0.01 })
        let ratio = abs(currents[0] - currents[1]) / abs(currents[1] - currents[2])
        #expect(abs(log2(ratio) - 2) <= 0.2, "current \(currents), ratio \(ratio)")
    }

    @Test("step-by-step evolution with a time-dependent drift: matches solve for a frozen drift; a moving well keeps mass and positivity")
    func evolutionTimeDependentDrift() throws {
        let g = try grid(1, n: 201)
        let v = Field(grid: g, RuggedPotential.value)
        let rho0 = bump(g, at: [0.7], width: 0.2)
        let diffusion = try FokkerPlanckDiffusion(nu: 0.05, dimension: 1)
        // Frozen drift: identical to FokkerPlanck.solve with the same uniform steps.
        var evolution = try FokkerPlanckEvolution(grid: g, diffusion: diffusion, initial: rho0)
        for _ in 0..<50 { try evolution.advance(by: 0.02, drift: .potential(v)) }
        let reference = try FokkerPlanck.solve(FokkerPlanckProblem(
            grid: g, drift: .potential(v), diffusion: diffusion, initial: rho0, time: 1, stepping: .accurate(dt: 0.02)))
        #expect(evolution.rho.distance(to: reference.rho, .max) <= 1e-12 * reference.rho.maximum)
        #expect(abs(evolution.time - 1) < 1e-12 && evolution.steps == 50)
        // A well moving from -1 to 1: V(x, t) = (x - c(t))^2 / 2, c(t) = -1 + 2 t / T.
        var moving = try FokkerPlanckEvolution(grid: g, diffusion: diffusion, initial: rho0)
        let total = 2.0, dt = 0.01
        for k in 0..<Int(total / dt) {
            let c = -1 + 2 * (Double(k) + 0.5) * dt / total   // the drift at the step midpoint
            try moving.advance(by: dt, drift: .potential(Field(grid: g) { 0.5 * ($0[0] - c) * ($0[0] - c) }))
            #expect(moving.rho.values.allSatisfy { $0 >= 0 })
        }
        #expect(abs(moving.mass - 1) <= 1e-12 && moving.negativeSteps == 0)
        #expect(moving.maxStepMassError <= Double(g.count) * Self.eps)
        // The drift c(t) - x is linear, so the mean obeys m' = c(t) - m exactly (while the
        // walls carry no mass): with c(t) = -1 + t, m(t) = -2 + t + (m0 + 2) e^{-t}.
        func mean(_ rho: Field) -> Double {
            FokkerPlanck.integrate(zip(rho.values, g.coordinates[0]).map { $0 * $1 },
                                   weights: FokkerPlanck.nodeWeights(g), cellVolume: g.cellVolume)
        }
        let m0 = mean(try FokkerPlanckEvolution(grid: g, diffusion: diffusion, initial: rho0).rho)
        let exact = -2 + total + (m0 + 2) * exp(-total)
        // Errors: O(h^2) in space (h = 0.02) and O(dt^2) in time (midpoint drift, TR-BDF2).
        #expect(abs(mean(moving.rho) - exact) <= 1e-3, "mean \(mean(moving.rho)), exact \(exact)")
    }

    // MARK: Ornstein–Uhlenbeck

    /// Kunin et al. Fig. 3: A = V^-1 diag(4, 1) V, V = [[-1, 1], [1, 1]], b = (-0.1, 0.05).
    /// Diffusion D = diag(4, 1) (the matrix the paper's App. H.4 names D) and kappa = 50, so
    /// that the stationary Gaussian (std 0.21, 0.14) is resolved on a grid holding +-5 std
    /// (the paper's noise scale 1e-4 would need a grid ~1000 times finer).
    static func kunin() throws -> OrnsteinUhlenbeck {
        let v = Matrix([[-1, 1], [1, 1]])
        let a = try LinearAlgebra.inverse(v) * Matrix.diagonal([4, 1]) * v
        return try OrnsteinUhlenbeck(drift: a, mean: [-0.1, 0.05], diffusion: Matrix.diagonal([4, 1]), kappa: 50)
    }

    static let kuninDomain = [(-1.2, 1.0), (-1.05, 1.15)]
    static let kuninStart = [0.25, -0.2]

    func kuninGrid(_ n: Int) throws -> Grid {
        try Grid(domain: Self.kuninDomain, counts: [n, n], boundary: .neumann)
    }

    func kuninRun(n: Int, from t0: Double, duration: Double, stepping: FokkerPlanckStepping) throws
        -> (result: FokkerPlanckResult, exact: Field, ou: OrnsteinUhlenbeck) {
        let ou = try Self.kunin()
        let g = try kuninGrid(n)
        let result = try FokkerPlanck.solve(FokkerPlanckProblem(
            grid: g, drift: try ou.fokkerPlanckDrift(on: g), diffusion: try ou.fokkerPlanckDiffusion,
            initial: try ou.density(at: t0, from: Self.kuninStart, on: g), time: duration, stepping: stepping,
            stationaryReference: try ou.stationaryDensity(on: g)))
        return (result, try ou.density(at: t0 + duration, from: Self.kuninStart, on: g), ou)
    }

    func kuninStationary(n: Int) throws -> (rho: Field, grid: Grid, ou: OrnsteinUhlenbeck) {
        let ou = try Self.kunin()
        let g = try kuninGrid(n)
        let rho = try FokkerPlanck.stationaryDensity(grid: g, drift: try ou.fokkerPlanckDrift(on: g),
                                                     diffusion: try ou.fokkerPlanckDiffusion)
        return (rho, g, ou)
    }

    /// Values of a field on the nodes it shares with a grid half as fine (every other node).
    func coarsened(_ fine: Field, to coarse: Grid) -> Field {
        Field(grid: coarse, values: (0..<coarse.count).map { flat in
            fine.grid.flatIndex(coarse.multiIndex(flat).map { 2 * $0 })
        }.map { fine.values[$0] })
    }

    func moments(_ rho: Field) -> (mean: [Double], covariance: Matrix) {
        let g = rho.grid, d = g.dimension
        let w = FokkerPlanck.nodeWeights(g)
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<g.count { let p = g.point(i); for k in 0..<d { mean[k] += w[i] * rho.values[i] * p[k] * g.cellVolume } }
        var c = Matrix(rows: d, columns: d, entries: [Double](repeating: 0, count: d * d))
        for i in 0..<g.count {
            let p = g.point(i)
            for a in 0..<d { for b in 0..<d { c[a, b] += w[i] * rho.values[i] * (p[a] - mean[a]) * (p[b] - mean[b]) * g.cellVolume } }
        }
        return (mean, c)
    }

    @Test("OU Gaussian at finite times, 1-D: the density matches N(e^{-At}x0 + (1-e^{-At})b, (B - e^{-2At}B)/kappa)",
          arguments: [0.1, 0.5, 2.0])
    func ouGaussian1D(duration: Double) throws {
        let ou = try OrnsteinUhlenbeck(drift: Matrix([[1.5]]), mean: [0.3], diffusion: Matrix([[0.4]]), kappa: 1)
        var fields: [Field] = []
        var exact: Field? = nil
        for n in [161, 321] {
            let (result, e) = try FokkerPlanckConvergence.runOU(ou, x0: [-1], domain: [(-3, 3.5)], n: n,
                                                                duration: duration, stepping: .accurate(dt: 1e-3))
            fields.append(result.rho)
            exact = e
        }
        // Richardson: for a second-order scheme the fine-grid error is about |rho_h - rho_{h/2}| / 3;
        // accept 1.5 times that estimate (max over the common nodes).
        let coarse = fields[0].grid
        let estimate = coarsened(fields[1], to: coarse).distance(to: fields[0], .max) / 3
        let error = fields[1].distance(to: exact!, .max)
        #expect(error <= 1.5 * estimate + 1e-10, "error \(error), estimate \(estimate)")
        // Moments: mean and variance of the computed density against the exact ones.
        let (m, c) = moments(fields[1])
        let exactMean = try ou.mean(at: FokkerPlanckConvergence.t0 + duration, from: [-1])[0]
        let exactVar = try ou.covariance(at: FokkerPlanckConvergence.t0 + duration)[0, 0]
        let h = fields[1].grid.spacing[0]
        // Second-order consistency: moment errors O(h^2) with constants of order 1.
        #expect(abs(m[0] - exactMean) <= h * h)
        #expect(abs(c[0, 0] - exactVar) <= h * h)
    }

    @Test("OU Gaussian at finite times, 2-D anisotropic (Kunin et al. Fig. 3 matrices): density, mean and covariance")
    func kuninFiniteTime() throws {
        // dt = 2e-3 is below the TR-BDF2 positivity bound here (checked): no fallback, second order.
        let stepping = FokkerPlanckStepping(method: .trBDF2, dt: 2e-3, fallBackOnNegative: false)
        let coarse = try kuninRun(n: 61, from: 0.3, duration: 0.3, stepping: stepping)
        let fine = try kuninRun(n: 121, from: 0.3, duration: 0.3, stepping: stepping)
        #expect(fine.result.report.diagnostics["positivity_dt_bound"]! >= 2e-3)
        let estimate = coarsened(fine.result.rho, to: coarse.result.rho.grid).distance(to: coarse.result.rho, .max) / 3
        let error = fine.result.rho.distance(to: fine.exact, .max)
        #expect(error <= 1.5 * estimate, "error \(error), Richardson estimate \(estimate)")
        let (m, c) = moments(fine.result.rho)
        let exactMean = try fine.ou.mean(at: 0.6, from: Self.kuninStart)
        let exactCov = try fine.ou.covariance(at: 0.6)
        let (mc, cc) = moments(coarse.result.rho)
        // Moment errors, with the same Richardson estimate from the coarse run.
        for k in 0..<2 {
            #expect(abs(m[k] - exactMean[k]) <= 1.5 * abs(mc[k] - m[k]) / 3 + 1e-9)
        }
        let covEstimate = (cc - c).maxAbs / 3
        #expect((c - exactCov).maxAbs <= 1.5 * covEstimate + 1e-9, "cov error \((c - exactCov).maxAbs), estimate \(covEstimate)")
        #expect(fine.result.negativeSteps == 0)
        #expect(abs(fine.result.diagnostics.last!.mass - 1) <= 1e-12)
    }

    @Test("Lyapunov covariance at stationarity: B/kappa with A B + B A^T = 2 D; A = (D + Q) U with Q skew, U SPD")
    func lyapunovStationary() throws {
        let ou = try Self.kunin()
        // The decomposition identities.
        #expect((ou.drift - (ou.diffusion + ou.q) * ou.u).maxAbs <= 1e-13)
        #expect((ou.q + ou.q.transposed).maxAbs <= 1e-13)
        #expect(try LinearAlgebra.symmetricEigen(ou.u).values.allSatisfy { $0 > 0 })
        #expect((ou.drift * ou.lyapunov + ou.lyapunov * ou.drift.transposed - 2 * ou.diffusion).maxAbs <= 1e-13)
        // A and D do not commute: the stationary state is the Gibbs density of the modified
        // loss Psi, not of Phi, and Q != 0.
        #expect((ou.drift * ou.diffusion - ou.diffusion * ou.drift).maxAbs > 1)
        #expect(ou.q.maxAbs > 0.1)
        // The stationary density of the discrete operator (its null vector, exact GTH solve).
        let coarse = try kuninStationary(n: 61), fine = try kuninStationary(n: 121)
        #expect(fine.rho.values.allSatisfy { $0 >= 0 })
        let covariances = [moments(coarse.rho).covariance, moments(fine.rho).covariance]
        let target = ou.stationaryCovariance
        let estimate = (covariances[0] - covariances[1]).maxAbs / 3
        let error = (covariances[1] - target).maxAbs
        #expect(error <= 1.5 * estimate + 1e-9, "covariance error \(error), estimate \(estimate), B/kappa \(target)")
        // The density is the Gibbs density of the modified loss: exp(-kappa Psi) / Z.
        let gibbsPsi = try ou.stationaryDensity(on: fine.grid)
        let densityEstimate = coarsened(fine.rho, to: coarse.grid).distance(to: coarse.rho, .max) / 3
        #expect(fine.rho.distance(to: gibbsPsi, .max) <= 1.5 * densityEstimate)
        // Time stepping reaches the same state (up to the Strang splitting error O(dt^2)).
        let run = try kuninRun(n: 61, from: 0.3, duration: 12, stepping: .init(method: .trBDF2, dt: 5e-3, fallBackOnNegative: false))
        #expect(run.result.rho.distance(to: coarse.rho, .max) <= 0.2 * coarse.rho.distance(to: try ou.stationaryDensity(on: coarse.grid), .max))
        #expect(run.result.negativeSteps == 0)
    }

    @Test("stationary current: matches J_ss = -Q U (x - b) rho_ss, non-zero, divergence-free, orthogonal to grad Psi")
    func stationaryCurrent() throws {
        var errors: [Double] = []
        var scale = 0.0
        for n in [61, 121] {
            let (rho, g, ou) = try kuninStationary(n: n)
            let current = try FokkerPlanck.current(of: rho, drift: try ou.fokkerPlanckDrift(on: g),
                                                   diffusion: try ou.fokkerPlanckDiffusion)
            let exact = (0..<2).map { k in Field(grid: g) { ou.stationaryCurrent($0)[k] } }
            scale = exact.map { $0.norm(.max) }.max()!
            errors.append((0..<2).map { current[$0].distance(to: exact[$0], .max) }.max()!)
            // Discrete divergence (central differences) of the nodal current, relative to
            // the size of one term |J| / h: a second-order residual, O(h^2) relative.
            let h = g.spacing[0], s = g.strides
            var divergence = 0.0
            for i in 1..<(n - 1) {
                for j in 1..<(n - 1) {
                    let c = i * s[0] + j
                    let div = (current[0].values[c + s[0]] - current[0].values[c - s[0]]) / (2 * h)
                        + (current[1].values[c + 1] - current[1].values[c - 1]) / (2 * h)
                    divergence = max(divergence, abs(div))
                }
            }
            let exactGradient = scale / ou.stationaryCovariance[1, 1].squareRoot()  // |grad J| scale
            #expect(divergence <= 0.05 * exactGradient, "max |div J| \(divergence) vs |grad J| ~ \(exactGradient)")
            // J_ss . grad Psi = 0 exactly; the numerical current is orthogonal to O(h^2).
            var dot = 0.0, size = 0.0
            for flat in 0..<g.count {
                let y = zip(g.point(flat), ou.mean).map { $0 - $1 }
                let gradPsi = ou.u * y
                let j = [current[0].values[flat], current[1].values[flat]]
                dot = max(dot, abs(j[0] * gradPsi[0] + j[1] * gradPsi[1]))
                size = max(size, hypot(j[0], j[1]) * hypot(gradPsi[0], gradPsi[1]))
            }
            #expect(dot <= 0.05 * size)
        }
        #expect(scale > 0)
        // Second-order convergence of the current: error ratio ~ 4 (accept >= 3).
        #expect(errors[1] <= errors[0] / 3, "current errors \(errors)")
        #expect(errors[1] <= 0.02 * scale)
    }

    @Test("square-root flux: Gibbs exact, positive and conservative too; second order on the Kunin OU")
    func squareRootFlux() throws {
        let g = try grid(1, n: 201)
        let v = Field(grid: g, RuggedPotential.value)
        let gibbs = FokkerPlanck.gibbs(potential: v, nu: 0.01)
        let still = try FokkerPlanck.solve(FokkerPlanckProblem(
            grid: g, drift: .potential(v), diffusion: try .init(beta: 50, dimension: 1), initial: gibbs, time: 1,
            stepping: .toStationarity(dt: 0.05), flux: .squareRoot))
        #expect(still.rho.distance(to: gibbs, .max) <= 1e-12 * gibbs.maximum)
        let ou = try Self.kunin()
        var errors: [Double] = []
        for n in [61, 121] {
            let g2 = try kuninGrid(n)
            let rho = try FokkerPlanck.stationaryDensity(grid: g2, drift: try ou.fokkerPlanckDrift(on: g2),
                                                         diffusion: try ou.fokkerPlanckDiffusion, flux: .squareRoot)
            #expect(rho.values.allSatisfy { $0 >= 0 })
            errors.append(rho.distance(to: try ou.stationaryDensity(on: g2), .max))
        }
        #expect(abs(log2(errors[0] / errors[1]) - 2) <= 0.2, "errors \(errors)")
    }

    @Test("anisotropic diffusion with cross terms (diagonal lattice offsets): Gaussian N(m, S0 + 2 D t), 2-D periodic and 3-D no-flux",
          arguments: [2, 3])
    func anisotropicDiffusion(d: Int) throws {
        let dMatrix = d == 2 ? Matrix([[1, 0.5], [0.5, 0.6]]) : Matrix([[1, 0.3, -0.2], [0.3, 0.8, 0.25], [-0.2, 0.25, 0.6]])
        let diffusion = try FokkerPlanckDiffusion(matrix: 0.01 * dMatrix)
        let s0 = (d == 2 ? 0.01 : 0.03) * Matrix.identity(d)
        let duration = 0.5
        let exactCov = s0 + (2 * duration * 0.01) * dMatrix
        // [0, 2)^d around the centre 1: the final Gaussian (std <= 0.2) is >= 5 std from the
        // edges, so periodic images and the no-flux walls change it by < 1e-5 of its peak.
        let center = [Double](repeating: 1, count: d)
        let boundary: Boundary = d == 2 ? .periodic : .neumann
        var errors: [Double] = []
        for n in (d == 2 ? [48, 96, 192] : [12, 24, 48]) {
            let g = try Grid(domain: [(Double, Double)](repeating: (0, 2), count: d), counts: [Int](repeating: n, count: d), boundary: boundary)
            let rho0 = Field(grid: g) { OrnsteinUhlenbeck.gaussian($0, mean: center, covariance: s0) }
            let result = try FokkerPlanck.solve(FokkerPlanckProblem(
                grid: g, drift: .field([Field](repeating: Field(grid: g, repeating: 0), count: d)), diffusion: diffusion,
                initial: rho0, time: duration, stepping: .init(method: .trBDF2, dt: duration / 10, fallBackOnNegative: false)))
            #expect(result.negativeSteps == 0 && result.report.diagnostics["max_mass_drift"]! <= 1e-12)
            // Cross terms live on diagonal offsets (Selling): more than d families.
            #expect(result.report.notes.first { $0.contains("lattice offsets") }!.contains(d == 2 ? "[1, 1]" : "[0, 1, 1]"))
            let exact = Field(grid: g) { OrnsteinUhlenbeck.gaussian($0, mean: center, covariance: exactCov) }
            errors.append(result.rho.distance(to: exact, .max) / exact.maximum)
        }
        // Second order in space (10 TR-BDF2 steps: time error ~ (lambda dt)^3, far below;
        // pure diffusion with constant D: the split families commute): errors fall by ~4 per
        // refinement; accept observed orders within 2 +- 0.3 (the coarsest 3-D grid has one
        // node per standard deviation).
        let orders = (1..<errors.count).map { log2(errors[$0 - 1] / errors[$0]) }
        #expect(orders.allSatisfy { abs($0 - 2) <= 0.3 }, "errors \(errors), orders \(orders)")
    }

    @Test("commuting drift and diffusion (D = nu I, symmetric A): detailed balance, Q = 0 and J_ss = 0")
    func detailedBalance() throws {
        let ou = try OrnsteinUhlenbeck(drift: Matrix([[2.5, -1.5], [-1.5, 2.5]]), mean: [-0.1, 0.05],
                                       diffusion: Matrix.identity(2), kappa: 50)
        #expect(ou.q.maxAbs <= 1e-13)
        #expect((ou.u - ou.drift).maxAbs <= 1e-12)   // Psi = Phi
        #expect(ou.stationaryCurrent([0.2, 0.1]).allSatisfy { abs($0) < 1e-12 })
    }

    // MARK: Bad input

    @Test("bad input: negative or massless rho0, non-SPD or asymmetric D, wrong drift components, unstable explicit dt, free boundary")
    func badInput() throws {
        let g = try grid(2, n: 21)
        let v = Field(grid: g) { 0.5 * ($0[0] * $0[0] + $0[1] * $0[1]) }
        let ok = Field(grid: g, repeating: 1)
        let diffusion = try FokkerPlanckDiffusion(nu: 0.1, dimension: 2)
        func problem(drift: FokkerPlanckDrift = .potential(v), diffusion: FokkerPlanckDiffusion = diffusion,
                     initial: Field = ok, grid: Grid? = nil, stepping: FokkerPlanckStepping = .accurate(dt: 0.01)) -> FokkerPlanckProblem {
            FokkerPlanckProblem(grid: grid ?? g, drift: drift, diffusion: diffusion, initial: initial, time: 0.1, stepping: stepping)
        }
        var negative = ok
        negative.values[7] = -1e-3
        #expect { try FokkerPlanck.solve(problem(initial: negative)) } throws: { error in
            guard case let RelaxError.invalidParameter(name, _, _) = error else { return false }
            return name == "rho0"
        }
        #expect { try FokkerPlanck.solve(problem(initial: Field(grid: g, repeating: 0))) } throws: { error in
            guard case let RelaxError.invalidParameter(name, value, _) = error else { return false }
            return name == "rho0" && value.contains("mass")
        }
        #expect(throws: RelaxError.self) { try FokkerPlanckDiffusion(matrix: Matrix([[1, 2], [2, 1]])) }   // indefinite
        #expect(throws: RelaxError.self) { try FokkerPlanckDiffusion(matrix: Matrix([[1, 0.2], [0.1, 1]])) } // asymmetric
        #expect(throws: RelaxError.self) { try FokkerPlanckDiffusion(parsing: "1,0;0", dimension: 2) }
        #expect((try FokkerPlanckDiffusion(parsing: "1,0.2;0.2,0.5", dimension: 2)).matrix == Matrix([[1, 0.2], [0.2, 0.5]]))
        let x = Loss(name: "x", dimension: 1, value: { $0[0] })
        #expect { try FokkerPlanckDrift.components([x], on: g) } throws: { error in
            guard case let RelaxError.invalidParameter(name, _, _) = error else { return false }
            return name == "drift"
        }
        #expect(throws: RelaxError.self) { try FokkerPlanck.solve(problem(drift: .field([v]))) }
        #expect { try FokkerPlanck.solve(problem(stepping: .init(method: .explicitEuler, dt: 0.1))) } throws: { error in
            guard case let RelaxError.invalidParameter(name, _, expected) = error else { return false }
            return name == "dt" && expected.contains("explicit Euler")
        }
        // A small enough explicit step runs and stays positive.
        let small = try FokkerPlanck.solve(problem(stepping: .init(method: .explicitEuler, dt: 1e-3)))
        #expect(small.negativeSteps == 0 && abs(small.diagnostics.last!.mass - 1) < 1e-12)
        let free = try Grid(domain: [(-2, 2), (-2, 2)], counts: [21, 21], boundary: .free)
        #expect(throws: RelaxError.self) {
            try FokkerPlanck.solve(problem(drift: .potential(Field(grid: free, repeating: 0)), initial: Field(grid: free, repeating: 1), grid: free))
        }
        let anisotropic = try FokkerPlanckDiffusion(matrix: Matrix([[1, 0.3], [0.3, 1]]))
        #expect(throws: RelaxError.self) { try FokkerPlanck.solve(problem(diffusion: anisotropic)) }
        #expect(throws: RelaxError.self) { try FokkerPlanck.solve(problem(stepping: .init(dt: -1))) }
        // rho0 is normalized and the factor reported.
        let scaled = try FokkerPlanck.solve(problem(initial: 3 * ok))
        #expect(abs(scaled.initialMass - 3 * 16) < 1e-12 && abs(scaled.diagnostics[0].mass - 1) < 1e-14)
        #expect(scaled.report.notes.contains { $0.contains("normalized") })
    }

    // MARK: Orders

    @Test("observed orders: space 2 (1-D, 2-D with cross diffusion), time 1 (implicit Euler) and 2 (TR-BDF2, Strang in 2-D)")
    func orders() throws {
        let report = try FokkerPlanckConvergence.report()
        for series in report.series {
            #expect(series.passes, "\(series.scheme): orders \(series.observedOrders)")
        }
        #expect(report.series.count == 6)
    }
}
