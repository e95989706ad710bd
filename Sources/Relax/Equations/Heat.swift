import Foundation

/// How `HeatEquation.smooth` solves `v_t = nu Lap v`.
public enum HeatMethod: Sendable, Equatable {
    /// The exact spectral propagator (`HeatPropagator`): periodic, Neumann and free boundaries.
    case spectral
    /// Explicit FTCS (`ExplicitHeatStep`): `steps` equal steps (default: the fewest stable
    /// ones), with `policy` deciding what happens when they break the CFL bound.
    case ftcs(steps: Int? = nil, policy: CFLPolicy = .subStep)
    /// Crank–Nicolson split along the axes (`CrankNicolsonHeat`) with a Rannacher start;
    /// default steps `ceil(sqrt(nu t) / h_min)`, which balances the `O(dt^2)` time error
    /// against the `O(h^2)` space error on the diffusion length `sqrt(nu t)`.
    case crankNicolson(steps: Int? = nil)

    /// The names the CLI accepts: `spectral`, `fd` (Crank–Nicolson), `ftcs`, `crank-nicolson` (`cn`).
    public static let names = ["spectral", "fd", "ftcs", "crank-nicolson"]

    /// Parses a CLI method name (see `names`).
    public init(name: String) throws {
        switch name.lowercased() {
        case "spectral": self = .spectral
        case "fd", "crank-nicolson", "cn": self = .crankNicolson()
        case "ftcs", "explicit": self = .ftcs()
        default:
            throw RelaxError.invalidParameter(
                name: "method", value: name,
                expected: "one of spectral, fd (= crank-nicolson), ftcs, crank-nicolson for the heat equation")
        }
    }

    /// The scheme's name as reports print it.
    public var schemeName: String {
        switch self {
        case .spectral: return "spectral"
        case .ftcs: return "ftcs"
        case .crankNicolson: return "crank-nicolson"
        }
    }
}

/// The paper's HEAT smoothing: `v_t = nu Lap v`, `v(., 0) = f`, with `nu = 1/(2 beta)`, so
/// `v(., t) = G_{t/beta} * f` (kernel variance `t/beta`, DESIGN.md §1).
///
/// `smooth` samples the loss on the grid (extended by the kernel reach for a free boundary),
/// solves by the chosen method, and returns `u = v(., t)`, `grad u` and the sampled `f` on the
/// window, with a `SolverReport`. Gradients: for the spectral solution, fourth-order central
/// differences (truncation `h^4/30 |u^(5)|`; one code path for periodic, Neumann and free
/// space, where an exact spectral derivative would need a complex symbol or a sine
/// transform); for the finite-difference schemes, second-order central differences, matching
/// their order; one-sided at Dirichlet ends.
public enum HeatEquation {
    /// `nu = 1/(2 beta)`.
    public static func diffusivity(beta: Double) -> Double { 1 / (2 * beta) }

    /// Solves `problem` by `method`. Throws `RelaxError.invalidParameter` for `t <= 0`, a
    /// missing or non-positive `beta`, or FTCS steps refused by the CFL policy;
    /// `.nonFinite` naming the node where the loss or the solution is NaN or infinite;
    /// `.unsupported` for the spectral method on a Dirichlet grid or a free boundary with a
    /// loss known only on its own grid.
    public static func smooth(_ problem: SmoothingProblem, method: HeatMethod = .spectral) throws -> SmoothingResult {
        try problem.validate(requiresBeta: true)
        let nu = diffusivity(beta: problem.beta!)
        var (result, seconds) = try Stopwatch.time { try solve(problem, nu: nu, method: method) }
        result.report.wallTime = seconds
        return result
    }

    /// The grid the solver works on, and the padding for a free boundary.
    static func workingGrid(for problem: SmoothingProblem, nu: Double) throws -> (Grid, PaddedGrid?) {
        let window = problem.grid
        guard window.boundary == .free else { return (window, nil) }
        guard problem.loss.isExtendable else {
            throw RelaxError.unsupported(
                "a free boundary evaluates the loss beyond the window, but \(problem.loss.description) is known "
                + "only on its own grid; use --boundary periodic, neumann or dirichlet, or a loss expression or preset")
        }
        let padded = HeatPropagator.freeSpacePadding(window, diffusivity: nu, time: problem.time)
        guard padded.grid.count <= maximumWorkingPoints else {
            throw RelaxError.unsupported(
                "free-space padding by the kernel reach 8.5 sqrt(2 nu t) = \(HeatPropagator.reach(diffusivity: nu, time: problem.time)) "
                + "needs a working grid of shape \(padded.grid.shape) (\(padded.grid.count) points, more than "
                + "\(maximumWorkingPoints)); use fewer nodes (a coarser grid), a smaller t/beta, or --boundary periodic or neumann")
        }
        return (padded.grid, padded)
    }

    /// The largest working grid a solve may allocate (2^26 points, 512 MB per field).
    public static let maximumWorkingPoints = 1 << 26

    private static func solve(_ problem: SmoothingProblem, nu: Double, method: HeatMethod) throws -> SmoothingResult {
        let t = problem.time
        let (working, padding) = try workingGrid(for: problem, nu: nu)
        let f = try problem.loss.sample(on: working)
        var report = SolverReport(equation: "heat", scheme: method.schemeName, workingShape: working.shape)
        report.diagnostics["nu"] = nu
        if let padding {
            let cells = padding.offsets
            report.diagnostics["paddingCells"] = Double(cells.max()!)
            report.notes.append("free boundary: padded by \(cells.map(String.init).joined(separator: ",")) cells per side "
                                + "(reach 8.5 sqrt(2 nu t) = \(HeatPropagator.reach(diffusivity: nu, time: t)))")
        }
        var u = f.values
        let differenceOrder: Int
        switch method {
        case .spectral:
            let propagator = try HeatPropagator(window: problem.grid, diffusivity: nu, maximumTime: t)
            try propagator.propagate(&u, time: t)
            differenceOrder = 4
            let leak = propagator.edgeLeakEstimate(f, time: t)
            let scale = max(1, f.values.reduce(0) { max($0, abs($1)) })
            if leak > 1e-12 * scale {
                report.warnings.append(
                    "the heat kernel width sqrt(2 nu t) = \((2 * nu * t).squareRoot()) spans too few grid spacings "
                    + "for the free-space padding to stay at round-off: the reflection at the padded edge may reach "
                    + "the window at about \(leak); refine the grid (sigma >= 2.4 h) or use --method fd")
            }
        case let .ftcs(requested, policy):
            let schedule = try ExplicitHeatSchedule(diffusivity: nu, time: t, spacing: working.spacing,
                                                    requestedSteps: requested, policy: policy)
            let stepper = ExplicitHeatStep(grid: working, diffusivity: nu, dt: schedule.dt)
            advance(&u, steps: schedule.steps, progress: problem.progress) { v, n, _ in stepper.advance(&v, steps: n) }
            report.steps = schedule.steps
            report.dt = schedule.dt
            report.cfl = schedule.cfl
            report.notes.append(schedule.note)
            differenceOrder = 2
        case let .crankNicolson(requested):
            let steps = try requested.map { s -> Int in
                guard s >= 1 else {
                    throw RelaxError.invalidParameter(name: "steps", value: "\(s)", expected: "at least 1 time step")
                }
                return s
            } ?? max(2, Int(((nu * t).squareRoot() / working.spacing.min()!).rounded(.up)))
            let dt = t / Double(steps)
            let stepper = CrankNicolsonHeat(grid: working, diffusivity: nu, dt: dt)
            advance(&u, steps: steps, progress: problem.progress) { v, n, first in
                stepper.advance(&v, steps: n, rannacherStart: first)
            }
            report.steps = steps
            report.dt = dt
            report.cfl = ExplicitHeatStep(grid: working, diffusivity: nu, dt: dt).cflNumber
            report.notes.append("crank-nicolson: \(steps) steps (axis-split, Rannacher start: first step as two "
                                + "backward-Euler half steps); CFL number reported for reference only, the scheme is "
                                + "unconditionally stable")
            differenceOrder = 2
        }
        let solution = Field(grid: working, values: u)
        try solution.checkFinite("heat solution u(., t)")
        if padding == nil, problem.grid.boundary == .periodic || problem.grid.boundary == .neumann {
            report.diagnostics["massInitial"] = conservedMass(f)
            report.diagnostics["massFinal"] = conservedMass(solution)
        }
        // A free boundary's padded edge is zero flux (`GhostRule(.free) == .mirror`) for the
        // finite-difference schemes; the window lies at least 4 cells inside it.
        let gradient = Differences.gradient(of: solution, order: differenceOrder)
        let crop = { (field: Field) in padding?.crop(field) ?? field }
        return SmoothingResult(f: crop(f), u: crop(solution), gradient: gradient.map(crop), report: report)
    }

    /// Runs `steps` time steps in blocks of about 1% so `progress` can be reported;
    /// `body(values, n, isFirstBlock)` takes `n` steps.
    private static func advance(_ values: inout [Double], steps: Int, progress: ProgressHandler?,
                                _ body: (inout [Double], Int, Bool) -> Void) {
        guard let progress else {
            body(&values, steps, true)
            return
        }
        let block = max(1, steps / 100)
        var done = 0
        while done < steps {
            let n = min(block, steps - done)
            body(&values, n, done == 0)
            done += n
            progress(Double(done) / Double(steps), "heat: step \(done)/\(steps)")
        }
    }

    /// The mass the finite-difference schemes conserve: `h^d sum w_i v_i` with weight 1 on
    /// periodic axes and trapezoidal weights (1/2 at the end nodes) on node axes, the
    /// weights for which the mirror (Neumann) Laplacian sums to zero.
    public static func conservedMass(_ field: Field) -> Double {
        let grid = field.grid
        var total = 0.0
        var index = [Int](repeating: 0, count: grid.dimension)
        let shape = grid.shape
        for flat in 0..<grid.count {
            var w = 1.0
            for k in 0..<grid.dimension where !grid.axes[k].periodic {
                if index[k] == 0 || index[k] == grid.axes[k].count - 1 { w *= 0.5 }
            }
            total += w * field.values[flat]
            index.advanceRowMajor(in: shape)
        }
        return total * grid.cellVolume
    }
}
