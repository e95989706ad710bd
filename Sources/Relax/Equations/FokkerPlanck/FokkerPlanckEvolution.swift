/// A density advanced step by step under a drift that may change from step to step: the
/// controlled Fokker–Planck equation `rho_t = div((grad f + grad u(., t)) rho) + nu Lap rho`
/// of the forward–backward system (paper Sec. 5, eq. 26), whose `u` comes from a backward
/// HJB solve, or any time-dependent drift.
///
/// Each `advance(by:drift:)` builds the fitted operator for that drift (O(N) rates) and
/// takes one step with the same scheme and checks as `FokkerPlanck.solve` (same positivity,
/// mass and Gibbs guarantees per step; the drift is frozen over the step, which is first
/// order in time for a time-dependent drift unless the caller passes the drift at the step
/// midpoint, which makes TR-BDF2 second order).
public struct FokkerPlanckEvolution: Sendable {
    public let grid: Grid
    public let diffusion: FokkerPlanckDiffusion
    public let flux: FokkerPlanckFlux
    /// The current density (unit mass).
    public private(set) var rho: Field
    public private(set) var time: Double = 0
    public private(set) var steps = 0
    /// Steps whose result had a negative value (after any implicit Euler fallback).
    public private(set) var negativeSteps = 0
    /// TR-BDF2 steps redone by implicit Euler because they produced a negative value.
    public private(set) var fallbacks = 0
    /// The largest mass error a step produced before its round-off was removed.
    public private(set) var maxStepMassError = 0.0
    /// `∫ rho0` before normalization.
    public let initialMass: Double
    private let weights: [Double]

    /// Validates `initial` (finite, >= 0, positive mass) and normalizes it to unit mass.
    public init(grid: Grid, diffusion: FokkerPlanckDiffusion, initial: Field,
                flux: FokkerPlanckFlux = .scharfetterGummel) throws {
        guard grid.boundary == .neumann || grid.boundary == .periodic else {
            throw RelaxError.unsupported("Fokker–Planck boundary \(grid.boundary): use no-flux (neumann) or periodic")
        }
        guard initial.grid == grid else { throw RelaxError.invalidGrid("rho0 lives on another grid than the evolution") }
        try initial.checkFinite("rho0")
        if let flat = initial.values.firstIndex(where: { $0 < 0 }) {
            throw RelaxError.invalidParameter(name: "rho0", value: "\(initial.values[flat]) at \(grid.point(flat))",
                                              expected: "a density that is >= 0 everywhere")
        }
        weights = FokkerPlanck.nodeWeights(grid)
        let mass = FokkerPlanck.integrate(initial.values, weights: weights, cellVolume: grid.cellVolume)
        guard mass > 0, mass.isFinite else {
            throw RelaxError.invalidParameter(name: "rho0", value: "mass \(mass)",
                                              expected: "a density with a positive, finite integral over the domain")
        }
        self.grid = grid
        self.diffusion = diffusion
        self.flux = flux
        self.initialMass = mass
        rho = Field(grid: grid, values: initial.values.map { $0 / mass })
    }

    /// One step of length `dt` with the drift `drift` (frozen over the step). Implicit Euler
    /// is unconditionally positive; TR-BDF2 falls back to implicit Euler on a negative value.
    public mutating func advance(by dt: Double, drift: FokkerPlanckDrift,
                                 method: FokkerPlanckStepping.Method = .trBDF2) throws {
        try RelaxError.requirePositiveFinite(dt, name: "dt", expected: "a finite time step dt > 0")
        let op = try FokkerPlanck.makeOperator(grid: grid, drift: drift, diffusion: diffusion, flux: flux)
        if method == .explicitEuler {
            let bound = 1 / op.totalMaxRate
            guard dt <= bound else {
                throw RelaxError.invalidParameter(name: "dt", value: "\(dt)",
                                                  expected: "dt <= \(bound) for a positive explicit Euler step")
            }
        }
        var values = rho.values
        let outcome = try FokkerPlanck.checkedStep(op, &values, dt: dt, method: method, fallBack: true,
                                                   weights: weights, cellVolume: grid.cellVolume,
                                                   stepNumber: steps + 1) { _, _ in nil }
        rho = Field(grid: grid, values: values)
        time += dt
        steps += 1
        if outcome.fellBack { fallbacks += 1 }
        if outcome.minimum < 0 { negativeSteps += 1 }
        maxStepMassError = max(maxStepMassError, outcome.massError)
    }

    /// The probability current of the present density under `drift`.
    public func current(drift: FokkerPlanckDrift) throws -> [Field] {
        try FokkerPlanck.current(of: rho, drift: drift, diffusion: diffusion, flux: flux)
    }

    /// `∫ rho` (1 up to round-off).
    public var mass: Double { FokkerPlanck.mass(rho) }
}

extension FokkerPlanckResult {
    /// The final current stacked node-major with the component last, shape `grid.shape + [d]`
    /// (for 1-D just the `n` values), as `current.npy` stores it.
    public var stackedCurrent: (values: [Double], shape: [Int]) {
        let grid = rho.grid
        let d = grid.dimension
        if d == 1 { return (current[0].values, grid.shape) }
        var values = [Double](repeating: 0, count: grid.count * d)
        for i in 0..<grid.count { for k in 0..<d { values[i * d + k] = current[k].values[i] } }
        return (values, grid.shape + [d])
    }

    /// The snapshots stacked with time first, shape `[K + 1] + grid.shape` (`rho_t.npy`).
    public var stackedSnapshots: (values: [Double], shape: [Int]) {
        (snapshots.flatMap(\.values), [snapshots.count] + rho.grid.shape)
    }
}
