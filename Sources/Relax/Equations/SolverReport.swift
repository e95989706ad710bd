import Foundation

/// What a solver did, for the `run.json` manifest and for users who want to know which
/// path ran: the equation, scheme and time stepping, the work done, and any warnings.
public struct SolverReport: Sendable, Codable, Equatable {
    /// The equation solved, e.g. `heat`, `hj`, `viscous-hj`, `fokker-planck`.
    public var equation: String
    /// The method asked for or chosen, e.g. `spectral`, `crank-nicolson`, `hopf-lax`.
    public var scheme: String
    /// The grid the solver actually worked on (after padding for a free boundary).
    public var workingShape: [Int]
    /// Time steps taken (0 for exact propagators).
    public var steps: Int
    /// The time step, when there is one.
    public var dt: Double?
    /// The CFL number `dt / dt_max` of an explicit scheme (<= 1 is stable).
    public var cfl: Double?
    /// Wall-clock seconds spent in the solver.
    public var wallTime: Double
    /// Named scalar diagnostics (mass, minimum, free energy, padding cells, ...).
    public var diagnostics: [String: Double]
    /// Human-readable notes on choices the solver made (sub-stepping, the Cole–Hopf path).
    public var notes: [String]
    /// Conditions the user should know about (under-resolved kernel, short window).
    public var warnings: [String]

    public init(equation: String, scheme: String, workingShape: [Int] = [], steps: Int = 0,
                dt: Double? = nil, cfl: Double? = nil, wallTime: Double = 0,
                diagnostics: [String: Double] = [:], notes: [String] = [], warnings: [String] = []) {
        self.equation = equation
        self.scheme = scheme
        self.workingShape = workingShape
        self.steps = steps
        self.dt = dt
        self.cfl = cfl
        self.wallTime = wallTime
        self.diagnostics = diagnostics
        self.notes = notes
        self.warnings = warnings
    }
}

/// Measures the wall time of a solver body: `let (value, seconds) = try Stopwatch.time { ... }`.
public enum Stopwatch {
    public static func time<T>(_ body: () throws -> T) rethrows -> (T, Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let value = try body()
        return (value, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
    }
}

/// Progress of a long computation, as a fraction in [0, 1] and a short label. The library
/// calls it; the CLI draws it on stderr when stderr is a terminal.
public typealias ProgressHandler = @Sendable (_ fraction: Double, _ label: String) -> Void
