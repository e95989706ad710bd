/// A smoothing problem as `relax smooth` poses it: evolve the loss `f` for time `t` by
/// one equation (heat, Hopf–Lax / HJ, viscous HJ) and report the result on `grid`.
///
/// `grid` is the window the user asked for; `grid.boundary` is the boundary kind. With
/// `.free` the solver extends the grid itself (the loss must then be extendable) and
/// returns only the window.
public struct SmoothingProblem: Sendable {
    public var loss: Loss
    public var grid: Grid
    /// The smoothing time `t` (the paper's `gamma`), > 0.
    public var time: Double
    /// The inverse temperature `beta` > 0 for heat (`nu = 1/(2 beta)`) and viscous HJ;
    /// not used by the inviscid HJ equation.
    public var beta: Double?
    public var progress: ProgressHandler?

    public init(loss: Loss, grid: Grid, time: Double, beta: Double? = nil, progress: ProgressHandler? = nil) {
        self.loss = loss
        self.grid = grid
        self.time = time
        self.beta = beta
        self.progress = progress
    }

    /// Throws unless `time > 0` (and `beta > 0` when `requiresBeta`).
    public func validate(requiresBeta: Bool) throws {
        try RelaxError.requirePositiveFinite(time, name: "t", expected: "a finite time t > 0")
        if requiresBeta {
            guard let beta else {
                throw RelaxError.invalidParameter(name: "beta", value: "none", expected: "an inverse temperature beta > 0")
            }
            try RelaxError.requirePositiveFinite(beta, name: "beta", expected: "a finite beta > 0")
        }
    }
}

/// The result of a smoothing solve on the requested window.
public struct SmoothingResult: Sendable {
    /// The loss sampled on the window.
    public var f: Field
    /// The solution `u(., t)` on the window.
    public var u: Field
    /// `grad u(., t)`, one field per axis.
    public var gradient: [Field]
    /// The proximal point `prox(x)` per axis (inviscid HJ only).
    public var prox: [Field]?
    public var report: SolverReport

    public init(f: Field, u: Field, gradient: [Field], prox: [Field]? = nil, report: SolverReport) {
        self.f = f
        self.u = u
        self.gradient = gradient
        self.prox = prox
        self.report = report
    }
}
