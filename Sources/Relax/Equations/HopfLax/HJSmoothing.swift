/// How `relax smooth --equation hj` solves the inviscid HJ equation `u_t = -|grad u|^2/2`.
public enum HJMethod: String, Sendable, CaseIterable {
    /// Hopf–Lax with the prox refined on the exact cost (`HopfLax.Refinement.exactCost`:
    /// values to round-off for smooth f; a sampled loss gets the grid model, value O(h^3)).
    /// CLI `hopf-lax`.
    case hopfLax = "hopf-lax"
    /// The exact discrete inf-convolution over grid nodes (value O(h^2)).
    case hopfLaxDiscrete = "hopf-lax-discrete"
    /// Godunov finite differences, explicit Euler (first order, monotone). CLI `fd`.
    case fd = "fd"
    /// Lax–Friedrichs finite differences (first order, monotone, more diffusive).
    case laxFriedrichs = "lax-friedrichs"
    /// WENO5 + TVD-RK3 finite differences (high order where u is smooth).
    case weno = "weno"

    var scheme: HamiltonJacobiFD<QuadraticHamiltonian>.Scheme? {
        switch self {
        case .hopfLax, .hopfLaxDiscrete: return nil
        case .fd: return .godunov
        case .laxFriedrichs: return .laxFriedrichs
        case .weno: return .weno5
        }
    }
}

extension HopfLax {
    /// Smooths `problem.loss` by the inviscid HJ equation up to `problem.time` on the window
    /// `problem.grid`: value, gradient and prox point. For the finite-difference methods the
    /// gradient is the central difference of `u` (one-sided second order at a window edge)
    /// and `prox = x - t grad u`.
    ///
    /// `beta` is not used (a note says so if given). Throws for `t <= 0`, a non-finite loss
    /// value (naming the grid point), or a Dirichlet boundary. Warns (in the report) when the
    /// window is smaller than the prox reach under a Neumann boundary.
    public static func smooth(_ problem: SmoothingProblem, method: HJMethod = .hopfLax) throws -> SmoothingResult {
        try problem.validate(requiresBeta: false)
        var result: SmoothingResult
        if let scheme = method.scheme {
            result = try smoothByFiniteDifferences(problem, scheme: scheme)
            result.report.scheme = method.rawValue + " (" + result.report.scheme + ")"
        } else {
            let run = try infConvolution(loss: problem.loss, grid: problem.grid, times: [problem.time],
                                         refinement: method == .hopfLax ? .exactCost : .none)
            let s = run.solutions[0]
            result = SmoothingResult(f: run.f, u: s.value, gradient: s.gradient, prox: s.prox, report: run.report)
        }
        if let beta = problem.beta {
            result.report.notes.append("beta = \(beta) ignored: the inviscid HJ equation has no temperature")
        }
        return result
    }

    static func smoothByFiniteDifferences(_ problem: SmoothingProblem,
                                          scheme: HamiltonJacobiFD<QuadraticHamiltonian>.Scheme) throws -> SmoothingResult {
        let window = problem.grid
        let t = problem.time
        var notes: [String] = [], warnings: [String] = []
        var padded: PaddedGrid?
        let working: Grid
        if window.boundary == .free {
            let reach = try FreeSpaceReach.estimate(loss: problem.loss, window: window, time: t)
            notes += reach.notes
            warnings += reach.warnings
            // Beyond the prox reach, a margin for the stencil and the extrapolated ghosts.
            let p = window.padded(reach: reach.reach.map { $0 + 8 * window.spacing.max()! })
            padded = p
            working = p.grid
        } else {
            working = window
        }
        let f = try problem.loss.sample(on: working)
        var (u, report) = try HamiltonJacobiFD(scheme: scheme).evolve(f, time: t, progress: problem.progress)
        var gradient = centralGradient(u)
        var fWindow = f
        if let padded {
            u = padded.crop(u)
            gradient = gradient.map(padded.crop)
            fWindow = padded.crop(f)
            for (k, c) in padded.offsets.enumerated() { report.diagnostics["padding_cells_\(Grid.axisNames[k])"] = Double(c) }
        }
        let prox = (0..<window.dimension).map { k in
            Field(grid: window, repeating: 0).enumeratedMap { flat, point in point[k] - t * gradient[k][flat] }
        }
        if window.boundary == .neumann {
            var outside = 0
            for flat in 0..<window.count {
                for k in 0..<window.dimension {
                    let axis = window.axes[k], y = prox[k][flat]
                    if y < axis.lower - axis.spacing || y > axis.upper + axis.spacing { outside += 1; break }
                }
            }
            if outside > 0 {
                warnings.append("the prox x - t grad u of \(outside) of \(window.count) points lies outside the window: "
                                + "the window is smaller than the prox reach t*Lip(f), so with --boundary neumann the "
                                + "answer differs from the whole-space one; use --boundary free or widen the domain")
            }
        }
        report.notes += notes
        report.warnings += warnings
        return SmoothingResult(f: fWindow, u: u, gradient: gradient, prox: prox, report: report)
    }

    /// Central differences of `u` along every axis: wrapping on periodic axes, one-sided
    /// second order at the ends of other axes.
    static func centralGradient(_ u: Field) -> [Field] {
        let grid = u.grid
        return (0..<grid.dimension).map { k in
            let n = grid.shape[k], s = grid.strides[k], h = grid.spacing[k]
            let periodic = grid.axes[k].periodic
            var g = [Double](repeating: 0, count: grid.count)
            let v = u.values
            for line in 0..<grid.lineCount(along: k) {
                let start = grid.lineStart(along: k, line: line)
                @inline(__always) func at(_ i: Int) -> Double { v[start + i * s] }
                for i in 0..<n {
                    let value: Double
                    if periodic {
                        value = (at((i + 1) % n) - at((i + n - 1) % n)) / (2 * h)
                    } else if i == 0 {
                        value = (-3 * at(0) + 4 * at(1) - at(2)) / (2 * h)
                    } else if i == n - 1 {
                        value = (3 * at(n - 1) - 4 * at(n - 2) + at(n - 3)) / (2 * h)
                    } else {
                        value = (at(i + 1) - at(i - 1)) / (2 * h)
                    }
                    g[start + i * s] = value
                }
            }
            return Field(grid: grid, values: g)
        }
    }
}

extension Field {
    /// A field with `transform(flat, point)` at every node.
    func enumeratedMap(_ transform: (Int, [Double]) -> Double) -> Field {
        var flat = 0
        return Field(grid: grid) { point in
            defer { flat += 1 }
            return transform(flat, point)
        }
    }
}
