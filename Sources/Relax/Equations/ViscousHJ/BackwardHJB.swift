import Foundation

/// `H(x, p) = sum_k g_k(x) p_k + p_k^2/2` with `g = grad f` given at the nodes: the
/// Hamiltonian of the control problem of Sec. 5 written forward in the time to go
/// `tau = T - s` (`U_tau + H(x, grad U) = nu Lap U`).
///
/// Godunov flux (exact Riemann solver of a convex `H_k` with its minimum at `p = -g_k`):
/// `H_k(clamp(-g_k, p^-, p^+))` if `p^- <= p^+`, else `max(H_k(p^-), H_k(p^+))`; it upwinds the
/// drift term `g . p` and the quadratic term together. Wave speed `max |g_k + p|`.
public struct DriftQuadraticHamiltonian: SeparableHamiltonian {
    /// `g_k` at every node, one array per axis.
    public let drift: [[Double]]

    public init(drift: [Field]) {
        self.drift = drift.map(\.values)
    }

    @inlinable public func value(axis: Int, node: Int, p: Double) -> Double {
        drift[axis][node] * p + 0.5 * p * p
    }

    @inlinable public func godunov(axis: Int, node: Int, minus: Double, plus: Double) -> Double {
        let g = drift[axis][node]
        if minus <= plus {
            let p = min(max(-g, minus), plus)
            return g * p + 0.5 * p * p
        }
        return max(g * minus + 0.5 * minus * minus, g * plus + 0.5 * plus * plus)
    }

    @inlinable public func speed(axis: Int, node: Int, minus: Double, plus: Double) -> Double {
        let g = drift[axis][node]
        return max(abs(g + minus), abs(g + plus))
    }
}

/// The value function of the control problem of Sec. 5 at stored times, with interpolation in
/// time for the forward (Fokker–Planck) half of the forward–backward system (Remark 9).
///
/// `times` are forward times `0 = s_0 < ... < s_M = T`; `values[m] = u(., s_m)` and
/// `gradients[m][k] = d_k u(., s_m)`. `value(at:)` and `gradient(at:)` interpolate linearly in `s`
/// between neighbouring levels: error `(ds^2/8) max |d^2/ds^2|` with `ds` the level spacing, so
/// store levels at least as fine as the forward solver's accuracy needs (the forward solver may
/// take its own, finer steps).
public struct HJBSolution: Sendable {
    public let times: [Double]
    public let values: [Field]
    public let gradients: [[Field]]
    public var report: SolverReport

    public var grid: Grid { values[0].grid }

    /// The bracketing levels of `s` (clamped to `[0, T]`) and the weight of the upper one.
    func bracket(_ s: Double) -> (Int, Int, Double) {
        let clamped = min(max(s, times.first!), times.last!)
        var upper = 1
        while upper < times.count - 1 && times[upper] < clamped { upper += 1 }
        let lower = upper - 1
        let span = times[upper] - times[lower]
        return (lower, upper, span > 0 ? (clamped - times[lower]) / span : 0)
    }

    /// `u(., s)`, linearly interpolated between stored levels.
    public func value(at s: Double) -> Field {
        let (lo, hi, w) = bracket(s)
        return Field(grid: grid, values: zip(values[lo].values, values[hi].values).map { (1 - w) * $0 + w * $1 })
    }

    /// `grad u(., s)` (one field per axis), linearly interpolated between stored levels: the
    /// optimal control `alpha = grad u` of eq. 25.
    public func gradient(at s: Double) -> [Field] {
        let (lo, hi, w) = bracket(s)
        return (0..<grid.dimension).map { k in
            Field(grid: grid, values: zip(gradients[lo][k].values, gradients[hi][k].values).map { (1 - w) * $0 + w * $1 })
        }
    }
}

/// The backward HJB equation of the control problem (paper Sec. 5, Remarks 9–10),
///
///     -u_s = -grad f . grad u - 1/2 |grad u|^2 + 1/(2 beta) Lap u,   u(., T) = V_T,
///
/// solved in the time to go `tau = T - s` as `U_tau + grad f . grad U + |grad U|^2/2 = nu Lap U`
/// (`nu = 1/(2 beta)`) by `ViscousHJFD` with `DriftQuadraticHamiltonian` (monotone Godunov flux,
/// upwinding the drift; explicit, or IMEX with implicit diffusion), first order. Dropping the
/// drift (`f = 0`) gives the viscous HJ equation (Remark 10). `w = exp(-beta u)` solves the linear
/// backward Kolmogorov equation (`BackwardKolmogorov`), the independent check.
public enum BackwardHJB {
    /// Solves on the nodes of `terminal.grid` with its boundary (periodic, Neumann, or free =
    /// extrapolating edge of a grid the caller padded). `drift` is `grad f`, one field per axis.
    /// `levels + 1` uniformly spaced forward times `s_m = m T / levels` are stored.
    public static func solve(drift: [Field], terminal: Field, beta: Double, horizon T: Double, levels: Int = 16,
                             scheme: ViscousHJFD<DriftQuadraticHamiltonian>.Scheme = .godunov,
                             cfl: Double? = nil, progress: ProgressHandler? = nil) throws -> HJBSolution {
        guard levels >= 1 else {
            throw RelaxError.invalidParameter(name: "levels", value: "\(levels)", expected: "at least 1 stored interval")
        }
        return try solve(drift: drift, terminal: terminal, beta: beta, horizon: T,
                         times: (0...levels).map { T * Double($0) / Double(levels) }, scheme: scheme, cfl: cfl, progress: progress)
    }

    /// The same with the forward times to store given explicitly: ascending, in `[0, T]`
    /// (`T`, where `u = V_T`, is always stored; `value(at:)` clamps to the stored range).
    public static func solve(drift: [Field], terminal: Field, beta: Double, horizon T: Double, times requested: [Double],
                             scheme: ViscousHJFD<DriftQuadraticHamiltonian>.Scheme = .godunov,
                             cfl: Double? = nil, progress: ProgressHandler? = nil) throws -> HJBSolution {
        try validate(drift: drift, terminal: terminal, beta: beta, horizon: T, levels: 1)
        guard !requested.isEmpty, requested.allSatisfy({ $0 >= 0 && $0 <= T }),
              zip(requested, requested.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw RelaxError.invalidParameter(name: "times", value: "\(requested)", expected: "ascending forward times in [0, \(T)]")
        }
        let times = requested.last == T ? requested : requested + [T]
        let grid = terminal.grid
        let solver = ViscousHJFD(hamiltonian: DriftQuadraticHamiltonian(drift: drift), diffusion: 1 / (2 * beta),
                                 scheme: scheme, cfl: cfl)
        let rules = grid.boundary == .free ? [GhostRule](repeating: .fixed(0), count: grid.dimension) : nil
        let (stored, wall) = try Stopwatch.time { () throws -> ([Field], [[Field]], SolverReport) in
            var u = terminal
            var values = [terminal], gradients = [Differences.gradient(of: terminal, order: 2, rules: rules)]
            var report = SolverReport(equation: "hjb (backward)", scheme: "", workingShape: grid.shape)
            var steps = 0, dtMax = 0.0, dtMin = Double.infinity
            // Backward from s = T: the stored times in descending order.
            let descending = Array(times.reversed())
            for m in 1..<descending.count {
                let step = try solver.evolve(u, time: descending[m - 1] - descending[m])
                u = step.u
                values.append(u)
                gradients.append(Differences.gradient(of: u, order: 2, rules: rules))
                steps += step.report.steps
                dtMax = max(dtMax, step.report.diagnostics["dt_max"] ?? step.report.dt ?? 0)
                dtMin = min(dtMin, step.report.diagnostics["dt_min"] ?? step.report.dt ?? .infinity)
                report.scheme = step.report.scheme
                report.cfl = step.report.cfl
                progress?(Double(m) / Double(descending.count - 1), "HJB: level \(m)/\(descending.count - 1)")
            }
            report.steps = steps
            report.dt = dtMax
            report.diagnostics["dt_min"] = dtMin
            report.diagnostics["dt_max"] = dtMax
            report.diagnostics["beta"] = beta
            report.diagnostics["horizon"] = T
            report.notes.append("solved in the time to go tau = T - s; \(times.count) levels stored at forward times "
                                + "\(times.count <= 6 ? "\(times)" : "\(times.first!)...\(times.last!)"); grad u by second-order central "
                                + "differences; value(at:)/gradient(at:) interpolate linearly in s")
            return (values.reversed(), gradients.reversed(), report)
        }
        var report = stored.2
        report.wallTime = wall
        return HJBSolution(times: times, values: stored.0, gradients: stored.1, report: report)
    }

    /// Solves for a loss `f` (the drift `-grad f`) and terminal cost `V` on `grid`: periodic and
    /// Neumann grids directly; a free grid is padded by `T (Lip f + Lip V) + 8.5 sqrt(T/beta)` (the
    /// reach of characteristics and diffusion, from window samples) with an extrapolating edge,
    /// and the stored levels are cropped to the window.
    public static func solve(loss: Loss, terminal: Loss, grid: Grid, beta: Double, horizon T: Double, levels: Int = 16,
                             scheme: ViscousHJFD<DriftQuadraticHamiltonian>.Scheme = .godunov,
                             cfl: Double? = nil) throws -> HJBSolution {
        guard beta > 0, beta.isFinite, T > 0, T.isFinite else {
            throw RelaxError.invalidParameter(name: "beta, T", value: "\(beta), \(T)", expected: "finite beta > 0 and horizon T > 0")
        }
        var padding: PaddedGrid?
        if grid.boundary == .free {
            guard loss.isExtendable && terminal.isExtendable else {
                throw RelaxError.unsupported("a free boundary needs f and V beyond the window; use --boundary neumann or periodic")
            }
            let f = try loss.sample(on: grid), v = try terminal.sample(on: grid)
            let speed = (0..<grid.dimension).map { SignificanceReach.lipschitz(f, axis: $0) + SignificanceReach.lipschitz(v, axis: $0) }
            let reach = speed.map { T * $0 + 8.5 * (T / beta).squareRoot() + 4 * grid.spacing.max()! }
            padding = grid.padded(reach: reach)
        }
        let working = padding?.grid ?? grid
        let (_, drift) = try loss.sampleWithGradient(on: working)
        let v = try terminal.sample(on: working)
        var solution = try solve(drift: drift, terminal: v, beta: beta, horizon: T, levels: levels, scheme: scheme, cfl: cfl)
        guard let padding else { return solution }
        solution.report.notes.append("free space: padded by \(padding.offsets) cells per side (T (Lip f + Lip V) + 8.5 sqrt(T/beta))")
        return HJBSolution(times: solution.times, values: solution.values.map(padding.crop),
                           gradients: solution.gradients.map { $0.map(padding.crop) }, report: solution.report)
    }

    static func validate(drift: [Field], terminal: Field, beta: Double, horizon T: Double, levels: Int) throws {
        try RelaxError.requirePositiveFinite(beta, name: "beta", expected: "a finite beta > 0")
        try RelaxError.requirePositiveFinite(T, name: "T", expected: "a finite horizon T > 0")
        guard levels >= 1 else {
            throw RelaxError.invalidParameter(name: "levels", value: "\(levels)", expected: "at least 1 stored interval")
        }
        guard drift.count == terminal.grid.dimension, drift.allSatisfy({ $0.grid == terminal.grid }) else {
            throw RelaxError.invalidParameter(name: "drift", value: "\(drift.count) fields",
                                              expected: "grad f: one field per axis on the terminal cost's grid")
        }
        if case .dirichlet = terminal.grid.boundary {
            throw RelaxError.unsupported("the HJB solver handles periodic, neumann and free boundaries")
        }
        try terminal.checkFinite("terminal cost V_T")
        for g in drift { try g.checkFinite("drift grad f") }
    }
}

/// The linear backward Kolmogorov equation `-w_s = -grad f . grad w + 1/(2 beta) Lap w`,
/// `w(., T) = w_T`, written in `tau = T - s` as `w_tau + g . grad w = nu Lap w`: implicit
/// (backward Euler) upwind transport and central diffusion, split along the axes (Lie, first
/// order), one tridiagonal system per grid line and axis, factored once. Each system is an
/// M-matrix with unit row sums: `w` stays positive and obeys the maximum principle, for any
/// step. First order in space and time. `w = exp(-beta u)` for the HJB solution `u`; an
/// independent scheme for checking `BackwardHJB`. Boundaries: periodic (cyclic), Neumann and
/// free (mirror at the edge, which the caller keeps far from the region of interest).
public enum BackwardKolmogorov {
    /// `w` at the forward times `s_m = m T / levels`, `m = 0...levels` (`steps` uniform steps
    /// in total, a multiple of `levels`).
    public static func solve(drift: [Field], terminal: Field, beta: Double, horizon T: Double, steps: Int,
                             levels: Int = 1) throws -> [Field] {
        guard steps >= levels, levels >= 1, steps % levels == 0 else {
            throw RelaxError.invalidParameter(name: "steps", value: "\(steps) for \(levels) levels",
                                              expected: "a positive multiple of the number of levels")
        }
        try BackwardHJB.validate(drift: drift, terminal: terminal, beta: beta, horizon: T, levels: levels)
        let grid = terminal.grid
        let dt = T / Double(steps)
        let nu = 1 / (2 * beta)
        let systems = (0..<grid.dimension).map { axis in lineSystems(grid: grid, axis: axis, drift: drift[axis].values, nu: nu, dt: dt) }
        var w = terminal.values
        var out = [terminal]
        for step in 1...steps {
            for axis in 0..<grid.dimension { sweep(&w, grid: grid, axis: axis, systems: systems[axis]) }
            if step % (steps / levels) == 0 { out.append(Field(grid: grid, values: w)) }
        }
        return out.reversed()
    }

    /// `I + dt (upwind g D - nu D^2)` for every line along `axis`.
    static func lineSystems(grid: Grid, axis: Int, drift g: [Double], nu: Double, dt: Double) -> [TridiagonalSystem] {
        let n = grid.axes[axis].count
        let h = grid.axes[axis].spacing
        let step = grid.strides[axis]
        let periodic = grid.boundary == .periodic
        return (0..<grid.lineCount(along: axis)).map { line in
            let start = grid.lineStart(along: axis, line: line)
            var lower = [Double](repeating: 0, count: n)
            var diagonal = [Double](repeating: 0, count: n)
            var upper = [Double](repeating: 0, count: n)
            for i in 0..<n {
                let v = g[start + i * step]
                let forward = max(v, 0), backward = min(v, 0)
                lower[i] = -dt * (forward / h + nu / (h * h))
                upper[i] = dt * (backward / h - nu / (h * h))
                diagonal[i] = 1 + dt * ((forward - backward) / h + 2 * nu / (h * h))
            }
            if !periodic {
                // Mirror ghosts w[-1] = w[1], w[n] = w[n-2].
                upper[0] += lower[0]; lower[0] = 0
                lower[n - 1] += upper[n - 1]; upper[n - 1] = 0
            }
            return TridiagonalSystem(lower: lower, diagonal: diagonal, upper: upper, periodic: periodic)
        }
    }

    static func sweep(_ w: inout [Double], grid: Grid, axis: Int, systems: [TridiagonalSystem]) {
        let step = grid.strides[axis]
        let n = grid.axes[axis].count
        w.withUnsafeMutableBufferPointer { buffer in
            let v = buffer.baseAddress!
            Parallel.forEachChunk(systems.count, minimumPerChunk: max(1, 8192 / n)) { range in
                for line in range { systems[line].solve(v, start: grid.lineStart(along: axis, line: line), stride: step) }
            }
        }
    }
}
