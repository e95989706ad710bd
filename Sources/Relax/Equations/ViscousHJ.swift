import Foundation

/// How `ViscousHJ.smooth` solves the viscous Hamilton–Jacobi equation.
public enum ViscousHJMethod: Sendable, Equatable {
    /// Cole–Hopf, except for a sampled loss with a free boundary (unknown beyond the window),
    /// where it runs `fdIMEX` on the window with an extrapolating edge and a warning.
    case auto
    /// The Cole–Hopf integral (`ColeHopf`), FFT or log-domain path.
    case coleHopf(path: ColeHopfPath = .auto)
    /// Monotone explicit finite differences (Godunov or Lax–Friedrichs + central diffusion).
    case fd(flux: ViscousHJFD<QuadraticHamiltonian>.Scheme = .godunov, cfl: Double? = nil)
    /// Godunov explicit + backward-Euler diffusion: no diffusive step bound.
    case fdIMEX(cfl: Double? = nil)
    /// WENO5 + TVD-RK3 with fourth-order diffusion, for smooth regimes.
    case weno(cfl: Double? = nil)

    /// The names the CLI accepts.
    public static let names = ["auto", "cole-hopf", "fd", "fd-imex", "weno"]

    /// Parses a CLI method name (`names`); `path` applies to `cole-hopf`.
    public init(name: String, path: ColeHopfPath = .auto, cfl: Double? = nil) throws {
        switch name.lowercased() {
        case "auto": self = .auto
        case "cole-hopf", "colehopf": self = .coleHopf(path: path)
        case "fd", "godunov": self = .fd(flux: .godunov, cfl: cfl)
        case "lax-friedrichs", "fd-lf": self = .fd(flux: .laxFriedrichs, cfl: cfl)
        case "fd-imex", "imex": self = .fdIMEX(cfl: cfl)
        case "weno", "weno5": self = .weno(cfl: cfl)
        default:
            throw RelaxError.invalidParameter(
                name: "method", value: name,
                expected: "one of auto, cole-hopf, fd, fd-imex, weno for the viscous HJ equation")
        }
    }

    /// The finite-difference scheme of an FD method.
    var fdScheme: (ViscousHJFD<QuadraticHamiltonian>.Scheme, Double?)? {
        switch self {
        case let .fd(flux, cfl): return (flux == .laxFriedrichs ? .laxFriedrichs : .godunov, cfl)
        case let .fdIMEX(cfl): return (.imex, cfl)
        case let .weno(cfl): return (.weno5, cfl)
        case .auto, .coleHopf: return nil
        }
    }
}

/// Local entropy: the viscous Hamilton–Jacobi equation of the paper (Lemma 1),
///
///     u_t = -1/2 |grad u|^2 + 1/(2 beta) Lap u,   u(., 0) = f,    f_gamma = u(., gamma),
///
/// solved by Cole–Hopf (`ColeHopf`: exact for the sampled loss up to quadrature error, stable for
/// every beta) or by finite differences (`ViscousHJFD`: monotone explicit, IMEX, WENO5). The
/// result is `u`, `grad u` and the sampled `f` on the window, with a report saying which method
/// and path ran. Gradients: Cole–Hopf returns `(x - <y>)/t` (Lemma 1); the FD methods central
/// differences of `u` (second order, fourth for WENO).
///
/// `auto` picks Cole–Hopf (with its own FFT / log-domain choice), except for a sampled loss
/// with a free boundary: the loss is unknown beyond the window, so no method can give the
/// whole-space answer; `auto` then runs `fd-imex` on the window with an extrapolating edge and
/// says so (Cole–Hopf would refuse).
public enum ViscousHJ {
    public static func smooth(_ problem: SmoothingProblem, method: ViscousHJMethod = .auto) throws -> SmoothingResult {
        try problem.validate(requiresBeta: true)
        if case .dirichlet = problem.grid.boundary {
            throw RelaxError.unsupported(
                "viscous HJ with a Dirichlet boundary: use --boundary free (whole space), periodic or neumann")
        }
        var chosen = method
        var notes: [String] = []
        var warnings: [String] = []
        if method == .auto {
            if problem.grid.boundary == .free && !problem.loss.isExtendable {
                chosen = .fdIMEX()
                notes.append("auto: fd-imex (the sampled loss is unknown beyond the window, so Cole–Hopf cannot sum "
                             + "over the whole space)")
                warnings.append("free boundary with a sampled loss: solved on the window with an extrapolating edge; "
                                + "values within the prox reach t*Lip(f) of the edge depend on that boundary treatment")
            } else {
                chosen = .coleHopf()
                notes.append("auto: cole-hopf")
            }
        }
        var result: SmoothingResult
        if case let .coleHopf(path) = chosen {
            let solution = try ColeHopf.solve(problem, options: ColeHopfOptions(path: path))
            result = SmoothingResult(f: solution.f, u: solution.u, gradient: solution.gradient, report: solution.report)
        } else {
            let (scheme, cfl) = chosen.fdScheme!
            result = try finiteDifferences(problem, scheme: scheme, cfl: cfl)
        }
        result.report.notes = notes + result.report.notes
        result.report.warnings = warnings + result.report.warnings
        return result
    }

    /// The FD solve: on the window (periodic, Neumann, sampled free) or on the window padded by
    /// the reach of characteristics and diffusion (`SignificanceReach`) with an extrapolating edge.
    static func finiteDifferences(_ problem: SmoothingProblem, scheme: ViscousHJFD<QuadraticHamiltonian>.Scheme,
                                  cfl: Double?) throws -> SmoothingResult {
        let beta = problem.beta!, t = problem.time, window = problem.grid
        let (result, wall) = try Stopwatch.time { () throws -> SmoothingResult in
            let (f, padding, notes, warnings) = try SignificanceReach.sample(problem)
            let solver = ViscousHJFD(beta: beta, scheme: scheme, cfl: cfl)
            var (u, report) = try solver.evolve(f, time: t, progress: problem.progress)
            // One-sided differences at a free (extrapolating) edge; the grid's ghost rules otherwise.
            let rules = window.boundary == .free ? [GhostRule](repeating: .fixed(0), count: u.grid.dimension) : nil
            let gradient = Differences.gradient(of: u, order: scheme == .weno5 ? 4 : 2, rules: rules)
            let crop = { (field: Field) in padding?.crop(field) ?? field }
            u = crop(u)
            report.notes = notes + report.notes + ["grad u: central differences of order \(scheme == .weno5 ? 4 : 2)"]
            report.warnings = warnings + report.warnings
            if let warning = ColeHopf.resolutionWarning(ColeHopf.Setup(samples: f, lossGradient: nil, padding: padding,
                                                                       beta: beta, time: t)) {
                report.warnings.append(warning)
            }
            return SmoothingResult(f: crop(f), u: u, gradient: gradient.map(crop), report: report)
        }
        var out = result
        out.report.wallTime = wall
        return out
    }
}
