import Foundation

/// The Fokker–Planck equation `rho_t = -div(b rho) + div(D grad rho)`, in particular the
/// paper's `rho_t = div(grad V rho) + nu Lap rho` (`b = -grad V`, `D = nu I`,
/// `nu = 1/(2 beta)`, stationary density `∝ exp(-2 beta V)`), in d = 1, 2, 3 with no-flux
/// (`.neumann`) or periodic boundaries.
///
/// Scheme: conservative finite volumes on the node grid (end nodes own half cells) with
/// exponentially fitted Scharfetter–Gummel fluxes along the lattice offsets of Selling's
/// decomposition of `D` (see `FokkerPlanckOperator`): second order in space, a Markov
/// generator for any SPD `D` and drift, the discrete Gibbs density exactly stationary for
/// gradient drifts with `D = nu I`. Time: implicit Euler (first order, unconditionally
/// positive), TR-BDF2 (second order, L-stable, positive for `dt * maxRate <= 1 + sqrt 2`,
/// monitored beyond), or explicit Euler (positive iff `dt * maxRate <= 1`, enforced). Every
/// implicit solve is a set of independent tridiagonal / cyclic chains (one family per
/// lattice offset: the axes, plus diagonals for cross terms) solved by subtraction-free
/// elimination: exact positivity, mass to round-off. In 2-D/3-D the families are split
/// (Lie for implicit Euler, nested Strang for TR-BDF2); the splitting keeps positivity,
/// mass and (for gradient drifts, `D = nu I`) the Gibbs state exactly, and its error is of
/// the stepper's order. Chains are solved in parallel over cores.
public enum FokkerPlanck {
    /// Solves the problem; see `FokkerPlanckProblem` and `FokkerPlanckStepping`.
    public static func solve(_ problem: FokkerPlanckProblem) throws -> FokkerPlanckResult {
        var run = try Run(problem)
        let ((), seconds) = try Stopwatch.time { try run.march() }
        return run.result(wallTime: seconds)
    }

    /// The discrete Gibbs density `exp(-V/nu) / Z` on the grid, normalized to unit mass with
    /// the solver's trapezoid weights, computed in the log domain (no underflow in `Z`).
    public static func gibbs(potential: Field, nu: Double) -> Field {
        let weights = nodeWeights(potential.grid)
        let logGibbs = logGibbsDensity(potential: potential, nu: nu, weights: weights)
        return Field(grid: potential.grid, values: logGibbs.map { exp($0) })
    }

    /// `∫ rho` with the solver's quadrature (trapezoid rule on the node grid).
    public static func mass(_ rho: Field) -> Double {
        integrate(rho.values, weights: nodeWeights(rho.grid), cellVolume: rho.grid.cellVolume)
    }

    /// The probability current `J` of `rho` under the problem's drift and diffusion, at the
    /// nodes, one field per axis (see `FokkerPlanckOperator.current`).
    public static func current(of rho: Field, drift: FokkerPlanckDrift, diffusion: FokkerPlanckDiffusion,
                               flux: FokkerPlanckFlux = .scharfetterGummel) throws -> [Field] {
        let op = try makeOperator(grid: rho.grid, drift: drift, diffusion: diffusion, flux: flux)
        return op.current(rho.values)
    }

    /// The stationary density of the discrete (unsplit) operator: its null vector, by
    /// subtraction-free GTH elimination of the banded generator (`MarkovBandStationary`),
    /// normalized to unit mass. Exact for the discretization (no time stepping, no
    /// splitting), non-negative to the bit; for `b = -grad V`, `D = nu I` it is the discrete
    /// Gibbs density. Cost `N * bandwidth^2` with the bandwidth the largest flat offset of an
    /// edge (the row length in 2-D): 1-D any size, 2-D up to a few hundred nodes per axis,
    /// 3-D small grids only; periodic wrap edges widen the band (refused when too costly).
    public static func stationaryDensity(grid: Grid, drift: FokkerPlanckDrift, diffusion: FokkerPlanckDiffusion,
                                         flux: FokkerPlanckFlux = .scharfetterGummel) throws -> Field {
        let op = try makeOperator(grid: grid, drift: drift, diffusion: diffusion, flux: flux)
        let weights = nodeWeights(grid)
        var bandwidth = 1
        for family in op.families {
            for chain in 0..<family.chainCount {
                let s = family.chainStarts[chain], n = family.chainStarts[chain + 1] - s
                let edges = family.cyclic ? n : n - 1
                for k in 0..<edges { bandwidth = max(bandwidth, abs(family.nodes[s + (k + 1) % n] - family.nodes[s + k])) }
            }
        }
        let cost = Double(grid.count) * Double(bandwidth) * Double(bandwidth)
        guard cost <= 4e9 else {
            throw RelaxError.unsupported(
                "a direct stationary solve on this grid costs ~\(Int(cost)) operations (bandwidth \(bandwidth)); "
                + "use FokkerPlanck.solve to a long time (implicit Euler with growing steps) instead")
        }
        var system = MarkovBandStationary(count: grid.count, bandwidth: bandwidth)
        for family in op.families {
            for chain in 0..<family.chainCount {
                let s = family.chainStarts[chain], n = family.chainStarts[chain + 1] - s
                // The edge measure: node measure over the chain's node weight (constant on a chain).
                let measure = weights[family.nodes[s]] / family.weights[s]
                let edges = family.cyclic ? n : n - 1
                for k in 0..<edges {
                    let a = family.nodes[s + k], b = family.nodes[s + (k + 1) % n]
                    system.addRate(into: b, from: a, measure * family.forward[s + k])
                    system.addRate(into: a, from: b, measure * family.backward[s + k])
                }
            }
        }
        let x = try system.stationary()
        let mass = integrate(x, weights: weights, cellVolume: grid.cellVolume)
        return Field(grid: grid, values: x.map { $0 / mass })
    }

    // MARK: - Internals shared with the run

    static func nodeWeights(_ grid: Grid) -> [Double] {
        let periodic = grid.boundary == .periodic
        let shape = grid.shape
        return (0..<grid.count).map { flat in
            let idx = grid.multiIndex(flat)
            return (0..<grid.dimension).reduce(1.0) { w, k in
                w * ((periodic || (idx[k] > 0 && idx[k] < shape[k] - 1)) ? 1 : 0.5)
            }
        }
    }

    static func integrate(_ values: [Double], weights: [Double], cellVolume: Double) -> Double {
        var s = 0.0
        for i in values.indices { s += weights[i] * values[i] }
        return s * cellVolume
    }

    static func logGibbsDensity(potential: Field, nu: Double, weights: [Double]) -> [Double] {
        let logVolume = log(potential.grid.cellVolume)
        let exponents = potential.values.map { -$0 / nu }
        var acc = LogSumExpAccumulator()
        for i in exponents.indices { acc.add(exponents[i] + log(weights[i]) + logVolume) }
        let logZ = acc.value
        return exponents.map { $0 - logZ }
    }

    static func validate(grid: Grid, drift: FokkerPlanckDrift, diffusion: FokkerPlanckDiffusion) throws {
        guard grid.boundary == .neumann || grid.boundary == .periodic else {
            throw RelaxError.unsupported(
                "Fokker–Planck boundary \(grid.boundary): use no-flux (neumann) or periodic; for a whole-space "
                + "problem take a window where the density is negligible at the edges, with no-flux")
        }
        guard diffusion.dimension == grid.dimension else {
            throw RelaxError.invalidParameter(name: "diffusion", value: "\(diffusion.dimension)x\(diffusion.dimension)",
                                              expected: "a \(grid.dimension)x\(grid.dimension) matrix for this grid")
        }
        switch drift {
        case let .potential(v):
            guard v.grid == grid else {
                throw RelaxError.invalidGrid("the potential lives on another grid than the density; resample it first")
            }
            try v.checkFinite("potential")
            guard diffusion.isDiagonal else {
                throw RelaxError.unsupported(
                    "a potential drift with a non-diagonal diffusion matrix; give the drift -grad V as fields "
                    + "(FokkerPlanckDrift.negativeGradient) or use a diagonal D")
            }
        case let .field(b):
            guard b.count == grid.dimension else {
                throw RelaxError.invalidParameter(name: "drift", value: "\(b.count) component(s)",
                                                  expected: "\(grid.dimension) components, one per axis of the grid")
            }
            for (k, f) in b.enumerated() {
                guard f.grid == grid else {
                    throw RelaxError.invalidGrid("drift component \(Grid.axisNames[k]) lives on another grid than the density")
                }
                try f.checkFinite("drift component \(Grid.axisNames[k])")
            }
        }
    }

    static func makeOperator(grid: Grid, drift: FokkerPlanckDrift, diffusion: FokkerPlanckDiffusion,
                             flux: FokkerPlanckFlux = .scharfetterGummel) throws -> FokkerPlanckOperator {
        try validate(grid: grid, drift: drift, diffusion: diffusion)
        let d = grid.dimension
        let h = grid.spacing
        var scaled = diffusion.matrix
        for i in 0..<d { for j in 0..<d { scaled[i, j] /= h[i] * h[j] } }
        let lattice = try LatticeDecomposition(scaled)
        switch drift {
        case let .potential(v):
            // Diagonal D: axis offsets only; P = -(V_b - V_a) / D_kk.
            return try FokkerPlanckOperator(grid: grid, decomposition: lattice, flux: flux) { _, e, _, a, b in
                let k = e.firstIndex { $0 != 0 }!
                return -(v.values[b] - v.values[a]) / diffusion.matrix[k, k]
            }
        case let .field(b):
            let inverse = try LinearAlgebra.inverse(diffusion.matrix)
            return try FokkerPlanckOperator(grid: grid, decomposition: lattice, flux: flux) { _, _, step, a, c in
                // P = s . D^-1 b at the edge midpoint (mean of the end values).
                let w = inverse * step
                var p = 0.0
                for k in 0..<d { p += w[k] * 0.5 * (b[k].values[a] + b[k].values[c]) }
                return p
            }
        }
    }
}

extension FokkerPlanck {
    /// The result of one checked step.
    struct StepOutcome {
        var minimum: Double
        var fellBack: Bool
        /// `|mass - 1|` produced by the step before its round-off was removed.
        var massError: Double
    }

    /// One step of the whole operator (split over families in 2-D/3-D), in place.
    /// `factors(f, tau)` may return cached factorizations of family `f` for step `tau`.
    static func advance(_ op: FokkerPlanckOperator, _ y: inout [Double], dt: Double,
                        method: FokkerPlanckStepping.Method,
                        factors: (Int, Double) -> FokkerPlanckOperator.Factors?) {
        let m = op.families.count
        func trBDF2(_ f: Int, _ tau: Double) {
            let (a, b) = FokkerPlanckOperator.trBDF2Stages(tau)
            if let fa = factors(f, a), let fb = factors(f, b) {
                op.trBDF2Step(f, tau: tau, &y, factors: (fa, fb))
            } else {
                op.trBDF2Step(f, tau: tau, &y)
            }
        }
        switch method {
        case .implicitEuler:
            for f in 0..<m { op.implicitStep(f, tau: dt, &y, factors: factors(f, dt)) }
        case .trBDF2:
            // Nested Strang: 0 .. m-2 by dt/2, m-1 by dt, back down by dt/2.
            for f in 0..<(m - 1) { trBDF2(f, dt / 2) }
            trBDF2(m - 1, dt)
            for f in stride(from: m - 2, through: 0, by: -1) { trBDF2(f, dt / 2) }
        case .explicitEuler:
            var rate = [Double](repeating: 0, count: y.count)
            for f in 0..<m { op.addGenerator(f, y, into: &rate) }
            for i in y.indices { y[i] += dt * rate[i] }
        }
    }

    /// A step with the solver's checks: a TR-BDF2 step that produced a negative value is
    /// redone by implicit Euler when `fallBack`; non-finite values throw; the mass (1 before
    /// the step) is measured and, when the error is round-off (<= 1e-12), restored by a
    /// factor 1 + O(1e-16) so it cannot accumulate (positivity and Gibbs states unchanged).
    static func checkedStep(_ op: FokkerPlanckOperator, _ rho: inout [Double], dt: Double,
                            method: FokkerPlanckStepping.Method, fallBack: Bool,
                            weights: [Double], cellVolume: Double, stepNumber: Int,
                            factors: (Int, Double) -> FokkerPlanckOperator.Factors?) throws -> StepOutcome {
        var next = rho
        advance(op, &next, dt: dt, method: method, factors: factors)
        var minimum = next.min() ?? 0
        var fellBack = false
        if minimum < 0, method == .trBDF2, fallBack {
            next = rho
            advance(op, &next, dt: dt, method: .implicitEuler, factors: factors)
            fellBack = true
            minimum = next.min() ?? 0
        }
        if let bad = next.firstIndex(where: { !$0.isFinite }) {
            let grid = op.grid
            throw RelaxError.nonFinite(what: "density after step \(stepNumber)", index: grid.multiIndex(bad),
                                       point: grid.point(bad), value: next[bad])
        }
        let mass = integrate(next, weights: weights, cellVolume: cellVolume)
        let error = abs(mass - 1)
        if error <= 1e-12 {
            let factor = 1 / mass
            for i in next.indices { next[i] *= factor }
        }
        rho = next
        return StepOutcome(minimum: minimum, fellBack: fellBack, massError: error)
    }
}

extension FokkerPlanck {
    /// One solve: validated inputs, the operator, the marching loop and its bookkeeping.
    struct Run {
        let problem: FokkerPlanckProblem
        let op: FokkerPlanckOperator
        let weights: [Double]
        let cellVolume: Double
        let initialMass: Double
        let nu: Double?
        let potential: Field?
        let logReference: [Double]?
        var rho: [Double]
        var times: [Double] = []
        var snapshots: [Field] = []
        var diagnostics: [FokkerPlanckDiagnostics] = []
        var steps = 0
        var fallbacks = 0
        var negativeSteps = 0
        var mostNegative = 0.0
        var maxMassDrift = 0.0
        var maxStepMassError = 0.0
        var smallestStep = Double.infinity
        var largestStep = 0.0

        init(_ problem: FokkerPlanckProblem) throws {
            self.problem = problem
            let grid = problem.grid
            try RelaxError.requirePositiveFinite(problem.time, name: "t", expected: "a finite final time t > 0")
            guard problem.snapshots >= 1 else {
                throw RelaxError.invalidParameter(name: "snapshots", value: "\(problem.snapshots)", expected: "K >= 1")
            }
            try problem.stepping.validate()
            op = try FokkerPlanck.makeOperator(grid: grid, drift: problem.drift, diffusion: problem.diffusion,
                                               flux: problem.flux)
            weights = FokkerPlanck.nodeWeights(grid)
            cellVolume = grid.cellVolume
            // rho0: on the grid, finite, non-negative, positive mass.
            guard problem.initial.grid == grid else {
                throw RelaxError.invalidGrid("rho0 lives on another grid than the problem")
            }
            try problem.initial.checkFinite("rho0")
            if let flat = problem.initial.values.firstIndex(where: { $0 < 0 }) {
                throw RelaxError.invalidParameter(
                    name: "rho0", value: "\(problem.initial.values[flat]) at \(grid.point(flat))",
                    expected: "a density that is >= 0 everywhere")
            }
            let mass = FokkerPlanck.integrate(problem.initial.values, weights: weights, cellVolume: cellVolume)
            guard mass > 0, mass.isFinite else {
                throw RelaxError.invalidParameter(name: "rho0", value: "mass \(mass)",
                                                  expected: "a density with a positive, finite integral over the domain")
            }
            initialMass = mass
            rho = problem.initial.values.map { $0 / mass }
            if case let .potential(v) = problem.drift, let nu = problem.diffusion.isotropicValue {
                self.nu = nu
                potential = v
                logReference = FokkerPlanck.logGibbsDensity(potential: v, nu: nu, weights: weights)
            } else {
                nu = nil
                potential = nil
                if let reference = problem.stationaryReference {
                    guard reference.grid == grid else {
                        throw RelaxError.invalidGrid("the stationary reference lives on another grid than the density")
                    }
                    let z = FokkerPlanck.integrate(reference.values, weights: weights, cellVolume: cellVolume)
                    logReference = reference.values.map { log(max($0, 0) / z) }
                } else {
                    logReference = nil
                }
            }
            if problem.stepping.method == .explicitEuler {
                let bound = 1 / op.totalMaxRate
                let largest = problem.stepping.growth > 1 ? min(problem.stepping.maxStep, problem.time) : problem.stepping.dt
                guard largest <= bound else {
                    throw RelaxError.invalidParameter(
                        name: "dt", value: "\(largest)",
                        expected: "dt <= \(bound) (1 / largest outflow rate) for a positive explicit Euler step; "
                        + "use implicit-euler or tr-bdf2 for larger steps")
                }
            }
        }

        /// The TR-BDF2 step below which positivity is guaranteed.
        var positivityBound: Double {
            switch problem.stepping.method {
            case .implicitEuler: return .infinity
            case .explicitEuler: return 1 / op.totalMaxRate
            case .trBDF2:
                let m = op.families.count
                return op.families.enumerated().map { f, family in
                    let fraction = (f == m - 1) ? 1.0 : 0.5
                    return TRBDF2.positivityBound / (fraction * family.maxRate)
                }.min() ?? .infinity
            }
        }

        mutating func march() throws {
            let k = problem.snapshots
            let stepping = problem.stepping
            record(time: 0)
            var t = 0.0
            var dt = stepping.dt
            for s in 1...k {
                let target = problem.time * Double(s) / Double(k)
                if stepping.growth == 1 {
                    let interval = target - t
                    let count = max(1, Int((interval / dt * (1 - 1e-12)).rounded(.up)))
                    let h = interval / Double(count)
                    for _ in 0..<count { try step(h) }
                } else {
                    while t < target {
                        var h = min(dt, target - t)
                        if target - (t + h) < 1e-9 * max(target, 1) { h = target - t }
                        try step(h)
                        t += h
                        dt = min(dt * stepping.growth, stepping.maxStep)
                    }
                }
                t = target
                record(time: target)
                problem.progress?(Double(s) / Double(k), "fokker-planck t = \(target)")
            }
        }

        private mutating func step(_ dt: Double) throws {
            smallestStep = min(smallestStep, dt)
            largestStep = max(largestStep, dt)
            var state = rho
            let outcome = try FokkerPlanck.checkedStep(
                op, &state, dt: dt, method: problem.stepping.method, fallBack: problem.stepping.fallBackOnNegative,
                weights: weights, cellVolume: cellVolume, stepNumber: steps + 1) { f, tau in factors(f, tau) }
            rho = state
            if outcome.fellBack { fallbacks += 1 }
            if outcome.minimum < 0 {
                negativeSteps += 1
                mostNegative = min(mostNegative, outcome.minimum)
            }
            maxStepMassError = max(maxStepMassError, outcome.massError)
            steps += 1
            maxMassDrift = max(maxMassDrift, abs(FokkerPlanck.integrate(rho, weights: weights, cellVolume: cellVolume) - 1))
        }

        /// Factorizations of `C + tau G` per family and stage length, kept while the step
        /// size repeats (uniform steps); growing steps solve directly.
        private var factorCache: [Int: [FokkerPlanckOperator.Factors]] = [:]

        private mutating func factors(_ f: Int, _ tau: Double) -> FokkerPlanckOperator.Factors? {
            guard problem.stepping.growth == 1 else { return nil }
            if let hit = factorCache[f]?.first(where: { $0.tau == tau }) { return hit }
            let made = op.factor(f, tau: tau)
            var list = factorCache[f] ?? []
            if list.count >= 6 { list.removeFirst() }
            list.append(made)
            factorCache[f] = list
            return made
        }

        private mutating func record(time: Double) {
            times.append(time)
            snapshots.append(Field(grid: problem.grid, values: rho))
            let mass = FokkerPlanck.integrate(rho, weights: weights, cellVolume: cellVolume)
            var entropyTerm = 0.0   // ∫ rho log rho
            var energy = 0.0        // ∫ V rho
            var relative = 0.0      // ∫ rho log(rho / reference)
            for i in rho.indices where rho[i] > 0 {
                let w = weights[i] * cellVolume
                let logRho = log(rho[i])
                entropyTerm += w * rho[i] * logRho
                if let potential { energy += w * potential.values[i] * rho[i] }
                if let logReference { relative += w * rho[i] * (logRho - logReference[i]) }
            }
            diagnostics.append(FokkerPlanckDiagnostics(
                time: time, mass: mass, minimum: rho.min() ?? .nan,
                freeEnergy: nu.map { energy + $0 * entropyTerm },
                relativeEntropy: logReference == nil ? nil : relative,
                steps: steps))
        }

        func result(wallTime: Double) -> FokkerPlanckResult {
            let grid = problem.grid
            let method = problem.stepping.method
            var notes = [
                "finite volumes on the node grid (end nodes own half cells on no-flux axes), "
                + "\(problem.flux.rawValue) fitted fluxes along lattice offsets \(op.families.map(\.offset))",
                "rho0 normalized: divided by its integral \(initialMass)",
                "mass: each step conserves it up to round-off (largest per-step error \(maxStepMassError)), "
                + "which is removed by a factor 1 + O(1e-16) so it cannot accumulate",
            ]
            if op.families.count > 1 {
                notes.append(method == .trBDF2 ? "2-D/3-D: nested Strang splitting over the offset families"
                             : "2-D/3-D: Lie splitting over the offset families")
            }
            if problem.stepping.growth > 1 {
                notes.append("steps grew geometrically from \(smallestStep) to \(largestStep)")
            }
            var warnings: [String] = []
            if fallbacks > 0 {
                notes.append("\(fallbacks) TR-BDF2 step(s) produced a negative value and were redone with implicit Euler")
            }
            if maxStepMassError > 1e-12 {
                warnings.append("a step changed the mass by \(maxStepMassError) (more than round-off); not corrected")
            }
            if negativeSteps > 0 {
                warnings.append("\(negativeSteps) step(s) ended with negative densities (most negative \(mostNegative)); "
                                + "reduce dt below \(positivityBound) or use implicit-euler")
            }
            if op.families.contains(where: { $0.offset.map(abs).max()! > 1 }) && grid.boundary != .periodic {
                warnings.append("the diffusion matrix is strongly anisotropic on this grid (offsets longer than one cell); "
                                + "the no-flux closure is first order in a boundary layer of that width")
            }
            var diag: [String: Double] = [
                "initial_mass": initialMass,
                "normalization_factor": 1 / initialMass,
                "mass": diagnostics.last?.mass ?? .nan,
                "minimum": diagnostics.last?.minimum ?? .nan,
                "max_mass_drift": maxMassDrift,
                "max_step_mass_error": maxStepMassError,
                "max_rate": op.families.map(\.maxRate).max() ?? 0,
                "positivity_dt_bound": positivityBound,
                "fallback_steps": Double(fallbacks),
                "negative_steps": Double(negativeSteps),
            ]
            if let f = diagnostics.last?.freeEnergy { diag["free_energy"] = f }
            if let r = diagnostics.last?.relativeEntropy { diag["relative_entropy"] = r }
            let report = SolverReport(
                equation: "fokker-planck", scheme: "fitted-fv/\(method.rawValue)", workingShape: grid.shape,
                steps: steps, dt: problem.stepping.dt,
                // dt / (the step below which positivity is guaranteed): <= 1 means guaranteed.
                cfl: positivityBound.isFinite ? largestStep / positivityBound : 0,
                wallTime: wallTime, diagnostics: diag, notes: notes, warnings: warnings)
            let rhoField = Field(grid: grid, values: rho)
            return FokkerPlanckResult(
                rho: rhoField, times: times, snapshots: snapshots, current: op.current(rho),
                diagnostics: diagnostics, initialMass: initialMass,
                gibbs: logReference != nil && potential != nil ? Field(grid: grid, values: logReference!.map { exp($0) }) : nil,
                negativeSteps: negativeSteps, report: report)
        }
    }
}
