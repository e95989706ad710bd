import Foundation

/// Finite differences for `u_t + H(x, grad u) = nu Lap u` (viscous HJ: `H = |p|^2/2`,
/// `nu = 1/(2 beta)`; the time-reversed HJB: `H = grad f . p + |p|^2/2`), d = 1, 2, 3, on the
/// machinery of `HamiltonJacobiFD` (separable numerical Hamiltonians, ghost-cell boundaries,
/// `GhostFill`):
///
/// - `.godunov`, `.laxFriedrichs`: monotone flux + second-order central Laplacian, explicit
///   Euler under `dt (sum_k alpha_k/h_k + 2 nu sum_k 1/h_k^2) <= cfl` (`alpha_k = max|dH/dp_k|`;
///   for `H = |p|^2/2` this is the bound `dt <= min(h/max|p|, h^2/(2 d nu))` combined into one
///   monotonicity condition), recomputed every step. First order; converges to the viscosity
///   solution (Crandall–Lions; Barles–Souganidis).
/// - `.imex`: the Godunov flux explicit, diffusion implicit (backward Euler, one tridiagonal
///   solve per grid line and axis, `TridiagonalSystem`), so only the hyperbolic bound
///   `dt sum_k alpha_k/h_k <= cfl` remains (and `dt <= t/4`). Monotone (an explicit monotone step
///   followed by M-matrix inverses), first order in space and time.
/// - `.weno5`: WENO5 slopes, Godunov flux, fourth-order central Laplacian, TVD-RK3, under
///   `dt (sum_k alpha_k/h_k + (8/3) nu sum_k 1/h_k^2) <= cfl` (default 0.5): for smooth regimes,
///   between third (RK3 with `dt ~ h`, or `dt ~ h^2` when diffusion dominates: then fourth in
///   space) and fifth order.
///
/// The explicit schemes refuse a run that would need more than `maximumSteps` steps (the
/// diffusive bound `h^2/(2 d nu)` is the usual culprit) and name the bound and the alternative.
public struct ViscousHJFD<H: SeparableHamiltonian>: Sendable {
    public enum Scheme: String, Sendable, CaseIterable {
        case godunov
        case laxFriedrichs = "lax-friedrichs"
        case imex
        case weno5

        var defaultCFL: Double { self == .weno5 ? 0.5 : 0.9 }
    }

    public var hamiltonian: H
    /// `nu >= 0` in `nu Lap u`.
    public var diffusion: Double
    public var scheme: Scheme
    /// The fraction of the stable step used, in (0, 1] (default 0.9, WENO5 0.5).
    public var cfl: Double
    /// Explicit runs needing more steps than this are refused (see the type's comment).
    public var maximumSteps: Int

    public init(hamiltonian: H, diffusion: Double, scheme: Scheme = .godunov, cfl: Double? = nil,
                maximumSteps: Int = 2_000_000) {
        self.hamiltonian = hamiltonian
        self.diffusion = diffusion
        self.scheme = scheme
        self.cfl = cfl ?? scheme.defaultCFL
        self.maximumSteps = maximumSteps
    }

    /// The explicit `HamiltonJacobiFD` a scheme runs on (for `.imex`, without the diffusion).
    var explicitSolver: HamiltonJacobiFD<H> {
        switch scheme {
        case .godunov: return HamiltonJacobiFD(hamiltonian: hamiltonian, scheme: .godunov, diffusion: diffusion, cfl: cfl)
        case .laxFriedrichs:
            return HamiltonJacobiFD(hamiltonian: hamiltonian, scheme: .laxFriedrichs, diffusion: diffusion, cfl: cfl)
        case .imex: return HamiltonJacobiFD(hamiltonian: hamiltonian, scheme: .godunov, diffusion: 0, cfl: cfl)
        case .weno5:
            var solver = HamiltonJacobiFD(hamiltonian: hamiltonian, scheme: .weno5, diffusion: diffusion, cfl: cfl)
            solver.diffusionOrder = 4
            return solver
        }
    }

    /// Evolves `u0` by time `t` (boundary `u0.grid.boundary`: periodic, Neumann, or free =
    /// linear extrapolation at the edge of a grid the caller has padded).
    public func evolve(_ u0: Field, time t: Double, progress: ProgressHandler? = nil) throws -> (u: Field, report: SolverReport) {
        try RelaxError.requirePositiveFinite(t, name: "t", expected: "a finite time t > 0")
        guard cfl > 0, cfl <= 1 else {
            throw RelaxError.invalidParameter(
                name: "cfl", value: "\(cfl)",
                expected: "a CFL number in (0, 1]: the explicit step must obey dt (sum_k max|dH/dp_k|/h_k + 2 nu sum_k 1/h_k^2) <= 1")
        }
        guard diffusion >= 0, diffusion.isFinite else {
            throw RelaxError.invalidParameter(name: "diffusion", value: "\(diffusion)", expected: "a finite nu >= 0")
        }
        try u0.checkFinite("initial data")
        let solver = explicitSolver
        let fill = try GhostFill(u0.grid.boundary)
        if scheme != .imex { try checkStepBudget(u0, solver: solver, fill: fill, time: t) }
        var result: (u: Field, report: SolverReport)
        if scheme == .imex {
            let (out, wall) = try Stopwatch.time { try evolveIMEX(u0, solver: solver, fill: fill, time: t, progress: progress) }
            result = out
            result.report.wallTime = wall
        } else {
            result = try solver.evolve(u0, time: t, progress: progress)
            result.report.scheme = scheme.rawValue + (scheme == .weno5 ? "-rk3 (4th-order diffusion)" : "-euler")
            result.report.notes.append(
                "explicit step: dt (sum_k max|dH/dp_k|/h_k + \(scheme == .weno5 ? "8/3" : "2") nu sum_k 1/h_k^2) <= cfl = "
                + String(format: "%.2f", cfl) + ", recomputed every step")
        }
        result.report.diagnostics["nu"] = diffusion
        return result
    }

    /// Refuses an explicit run whose first stable step would need more than `maximumSteps` steps.
    func checkStepBudget(_ u0: Field, solver: HamiltonJacobiFD<H>, fill: GhostFill, time t: Double) throws {
        let grid = u0.grid
        var rate = [Double](repeating: 0, count: grid.count)
        let speeds = solver.rate(u0.values, ghosts: fill, grid: grid, into: &rate)
        let dt = cfl * solver.stableStep(speeds: speeds, grid: grid)
        let steps = t / dt
        guard steps > Double(maximumSteps) else { return }
        let d = Double(grid.dimension)
        let hMin = grid.spacing.min()!
        throw RelaxError.invalidParameter(
            name: "dt", value: String(format: "%.3g (%.3g steps)", dt, steps),
            expected: String(format: "at most %d explicit steps: the monotone step obeys dt (sum_k max|p_k|/h_k + 2 nu sum_k 1/h_k^2) <= %.2f "
                             + "(diffusive part alone: dt <= h^2/(2 d nu) = %.3g); use --method fd-imex (implicit diffusion, "
                             + "no diffusive bound) or cole-hopf, or a coarser grid",
                             maximumSteps, cfl, diffusion > 0 ? hMin * hMin / (2 * d * diffusion) : Double.infinity))
    }

    /// IMEX: an explicit monotone Hamiltonian step, then backward-Euler diffusion per axis.
    func evolveIMEX(_ u0: Field, solver: HamiltonJacobiFD<H>, fill: GhostFill, time t: Double,
                    progress: ProgressHandler?) throws -> (u: Field, report: SolverReport) {
        let grid = u0.grid
        var report = SolverReport(equation: "viscous-hj", scheme: "imex (godunov explicit, backward-euler diffusion)",
                                  workingShape: grid.shape)
        var u = u0.values
        var rate = [Double](repeating: 0, count: grid.count)
        let march = TimeMarch(time: t, grid: grid, cfl: cfl, label: "viscous HJ imex", progress: progress)
        try march.run(&u, report: &report) { u, remaining in
            let speeds = solver.rate(u, ghosts: fill, grid: grid, into: &rate)
            let dt = min(cfl * solver.stableStep(speeds: speeds, grid: grid), remaining, t / 4)
            for i in u.indices { u[i] += dt * rate[i] }
            if diffusion > 0 { ImplicitDiffusion(grid: grid, fill: fill, ratio: diffusion * dt).apply(&u) }
            return dt
        }
        report.notes.append("imex step: dt sum_k max|dH/dp_k|/h_k <= cfl = " + String(format: "%.2f", cfl)
                            + " (no diffusive bound; dt <= t/4)")
        return (Field(grid: grid, values: u), report)
    }
}

extension ViscousHJFD where H == QuadraticHamiltonian {
    /// Viscous HJ `u_t = -|grad u|^2/2 + 1/(2 beta) Lap u`.
    public init(beta: Double, scheme: Scheme = .godunov, cfl: Double? = nil, maximumSteps: Int = 2_000_000) {
        self.init(hamiltonian: QuadraticHamiltonian(), diffusion: 1 / (2 * beta), scheme: scheme, cfl: cfl,
                  maximumSteps: maximumSteps)
    }
}

/// One backward-Euler diffusion step `(I - nu dt L_k) u = u` along every axis in turn
/// (`L_k` the second difference with the line's ghost rule folded in: cyclic for periodic,
/// mirror rows for Neumann, zero Laplacian at the ends for the extrapolating free edge, as in
/// `HamiltonJacobiFD`). Each factor is an M-matrix inverse (monotone, unconditionally stable);
/// the axis splitting adds an `O(dt^2)` error per step.
struct ImplicitDiffusion {
    let grid: Grid
    let fill: GhostFill
    /// `nu dt`.
    let ratio: Double

    func apply(_ values: inout [Double]) {
        for axis in 0..<grid.dimension {
            let n = grid.axes[axis].count
            let h = grid.axes[axis].spacing
            let system = Self.system(count: n, a: ratio / (h * h), fill: fill)
            let step = grid.strides[axis]
            let grid = self.grid
            values.withUnsafeMutableBufferPointer { buffer in
                let v = buffer.baseAddress!
                Parallel.forEachChunk(grid.lineCount(along: axis), minimumPerChunk: max(1, 8192 / n)) { range in
                    for line in range { system.solve(v, start: grid.lineStart(along: axis, line: line), stride: step) }
                }
            }
        }
    }

    /// `I - a L` on a line of `n` nodes.
    static func system(count n: Int, a: Double, fill: GhostFill) -> TridiagonalSystem {
        var lower = [Double](repeating: -a, count: n)
        var diagonal = [Double](repeating: 1 + 2 * a, count: n)
        var upper = [Double](repeating: -a, count: n)
        switch fill {
        case .periodic:
            break
        case .mirror:
            lower[0] = 0; upper[n - 1] = 0
            upper[0] = -2 * a
            lower[n - 1] = -2 * a
        case .extrapolate:
            lower[0] = 0; upper[0] = 0; diagonal[0] = 1
            lower[n - 1] = 0; upper[n - 1] = 0; diagonal[n - 1] = 1
        }
        return TridiagonalSystem(lower: lower, diagonal: diagonal, upper: upper, periodic: fill == .periodic)
    }
}
