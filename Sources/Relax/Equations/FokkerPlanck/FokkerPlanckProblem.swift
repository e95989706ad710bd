import Foundation

/// The drift of `rho_t = -div(b rho) + div(D grad rho)`.
public enum FokkerPlanckDrift: Sendable {
    /// `b = -grad V` from a potential sampled on the grid. The fitted fluxes use the
    /// differences `V_j - V_i` directly, so for `D = nu I` the discrete Gibbs density
    /// `exp(-V / nu)` is stationary to round-off. Requires a diagonal `D`.
    case potential(Field)
    /// `b` at the nodes, one field per axis (e.g. `-grad u` from another solver).
    case field([Field])

    /// `b = -grad f` for a loss `f` sampled on `grid` (the SGD drift of the paper).
    public static func potential(_ loss: Loss, on grid: Grid) throws -> FokkerPlanckDrift {
        .potential(try loss.sample(on: grid))
    }

    /// `b = -grad u` from a gradient given as fields (e.g. `SmoothingResult.gradient`).
    /// Prefer `.potential(u)` when `u` itself is available: potential differences make the
    /// Gibbs density exact.
    public static func negativeGradient(_ gradient: [Field]) -> FokkerPlanckDrift {
        .field(gradient.map { -1 * $0 })
    }

    /// The drift `-grad u` of a smoothed loss `u(., t)` from the heat, HJ or viscous-HJ
    /// solvers (the densities of the paper's Fig. 1). Uses the potential `u` itself (exact
    /// Gibbs equilibrium `exp(-u/nu)`); pass `usePotential: false` to take
    /// `SmoothingResult.gradient` instead.
    public static func smoothed(_ result: SmoothingResult, usePotential: Bool = true) -> FokkerPlanckDrift {
        usePotential ? .potential(result.u) : .negativeGradient(result.gradient)
    }

    /// A drift from one loss per component, `b_k(x) = components[k](x)` (the CLI's
    /// `--drift "EXPR;EXPR"`). Throws if the number of components is not the grid's dimension.
    public static func components(_ components: [Loss], on grid: Grid) throws -> FokkerPlanckDrift {
        guard components.count == grid.dimension else {
            throw RelaxError.invalidParameter(
                name: "drift", value: "\(components.count) component(s)",
                expected: "\(grid.dimension) components separated by ';' (one per axis of the grid)")
        }
        return .field(try components.enumerated().map { k, loss in
            do { return try loss.sample(on: grid) } catch let RelaxError.nonFinite(_, index, point, value) {
                throw RelaxError.nonFinite(what: "drift component \(Grid.axisNames[k])", index: index, point: point, value: value)
            }
        })
    }

    /// A drift from a closure `x -> b(x)` evaluated at every node.
    public static func sampled(on grid: Grid, _ b: ([Double]) -> [Double]) -> FokkerPlanckDrift {
        let values = (0..<grid.count).map { b(grid.point($0)) }
        return .field((0..<grid.dimension).map { k in Field(grid: grid, values: values.map { $0.count > k ? $0[k] : .nan }) })
    }
}

/// The constant symmetric positive definite diffusion matrix `D`.
public struct FokkerPlanckDiffusion: Sendable, Equatable {
    public let matrix: Matrix

    /// `D = nu I`.
    public init(nu: Double, dimension: Int) throws {
        try RelaxError.requirePositiveFinite(nu, name: "nu", expected: "a finite diffusivity nu > 0")
        matrix = nu * Matrix.identity(dimension)
    }

    /// `D = I / (2 beta)`: the paper's `rho_t = div(grad V rho) + 1/(2 beta) Lap rho`.
    public init(beta: Double, dimension: Int) throws {
        try RelaxError.requirePositiveFinite(beta, name: "beta", expected: "a finite inverse temperature beta > 0")
        try self.init(nu: 1 / (2 * beta), dimension: dimension)
    }

    /// A general `D`; throws unless it is square, finite, symmetric and positive definite.
    public init(matrix: Matrix) throws {
        let shown = "[" + (0..<matrix.rows).map { i in
            (0..<matrix.columns).map { String(matrix[i, $0]) }.joined(separator: ",")
        }.joined(separator: ";") + "]"
        guard matrix.rows == matrix.columns, (1...3).contains(matrix.rows), matrix.entries.allSatisfy(\.isFinite) else {
            throw RelaxError.invalidParameter(name: "diffusion", value: shown,
                                              expected: "a finite d x d matrix, d = 1, 2 or 3")
        }
        let scale = matrix.maxAbs
        for i in 0..<matrix.rows {
            for j in 0..<i where abs(matrix[i, j] - matrix[j, i]) > 1e-12 * scale {
                throw RelaxError.invalidParameter(name: "diffusion", value: shown,
                                                  expected: "a symmetric matrix (d\(i + 1)\(j + 1) = d\(j + 1)\(i + 1))")
            }
        }
        let symmetric = 0.5 * (matrix + matrix.transposed)
        let eigen = try LinearAlgebra.symmetricEigen(symmetric)
        guard let smallest = eigen.values.first, smallest > 1e-12 * scale else {
            throw RelaxError.invalidParameter(
                name: "diffusion", value: shown,
                expected: "a positive definite matrix (its smallest eigenvalue is \(eigen.values.first ?? .nan))")
        }
        self.matrix = symmetric
    }

    /// Parses `"d11,d12;d21,d22"` (rows separated by `;`), or a single number for `nu I`.
    public init(parsing text: String, dimension: Int) throws {
        let rows = text.split(separator: ";").map { $0.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) } }
        if rows.count == 1, rows[0].count == 1, let nu = rows[0][0] {
            try self.init(nu: nu, dimension: dimension)
            return
        }
        guard rows.count == dimension, rows.allSatisfy({ $0.count == dimension && $0.allSatisfy { $0 != nil } }) else {
            throw RelaxError.invalidParameter(
                name: "diffusion", value: text,
                expected: "\(dimension) rows of \(dimension) numbers, rows separated by ';' and entries by ',' "
                + "(e.g. \"1,0.2;0.2,0.5\"), or one number nu for nu I")
        }
        try self.init(matrix: Matrix(rows.map { $0.map { $0! } }))
    }

    public var dimension: Int { matrix.rows }

    /// `nu` when `D = nu I`.
    public var isotropicValue: Double? {
        let nu = matrix[0, 0]
        for i in 0..<dimension {
            for j in 0..<dimension where matrix[i, j] != (i == j ? nu : 0) { return nil }
        }
        return nu
    }

    public var isDiagonal: Bool {
        (0..<dimension).allSatisfy { i in (0..<dimension).allSatisfy { j in i == j || matrix[i, j] == 0 } }
    }
}

/// The exponentially fitted edge flux `F = gamma [w(-P) rho_i - w(P) rho_j]`. Both choices
/// have positive rates with `w(-P) / w(P) = e^P` (so positivity, mass and the exact Gibbs
/// state hold alike) and are second order; they differ in the symmetric part.
///
/// - `scharfetterGummel`: `w(P) = B(P) = P / (e^P - 1)`, the Scharfetter–Gummel / Il'in /
///   Chang–Cooper flux; rates grow like `|P|` (upwinding) for large Péclet numbers: robust
///   for steep potentials (beta = 50). The default.
/// - `squareRoot`: `w(P) = e^{-P/2}` (the square-root approximation of fplanck and of
///   Markov-state models); rates grow like `e^{|P|/2}`: stiffer and less accurate for
///   `|P| >> 1`, but with a smaller error constant at moderate `|P|` (about 3x on the 2-D
///   Kunin OU at 128^2).
public enum FokkerPlanckFlux: String, Sendable, CaseIterable, Codable {
    case scharfetterGummel = "scharfetter-gummel"
    case squareRoot = "square-root"

    /// `w(P)`.
    func weight(_ p: Double) -> Double {
        switch self {
        case .scharfetterGummel: return FokkerPlanckOperator.bernoulli(p)
        case .squareRoot: return exp(-p / 2)
        }
    }
}

/// Time stepping for `FokkerPlanck.solve`.
///
/// - `implicitEuler`: first order, unconditionally positive, mass-conserving and (for a
///   gradient drift with `D = nu I`) Gibbs-preserving for every step size; free energy
///   non-increasing. In 2-D/3-D the families of chains are applied in sequence (Lie
///   splitting, first order), each step still unconditionally positive.
/// - `trBDF2`: second order, L-stable; in 2-D/3-D nested Strang splitting over the
///   families (second order). Positive when `dt * maxRate <= 1 + sqrt 2` (see
///   `SolverReport.diagnostics["positivity_dt_bound"]`); larger steps are monitored, and a
///   step that produced a negative value is redone with implicit Euler and reported.
/// - `explicitEuler`: first order; positive iff `dt * maxRate <= 1`, which the solver
///   checks before it starts (a larger `dt` is refused).
///
/// Steps start at `dt` and grow by `growth` per step up to `maxStep` (growth 1: uniform
/// steps, adjusted to land on the snapshot times). Growing steps suit runs to
/// stationarity: the fitted scheme's stationary state does not depend on the step.
public struct FokkerPlanckStepping: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable, Codable {
        case implicitEuler = "implicit-euler"
        case trBDF2 = "tr-bdf2"
        case explicitEuler = "explicit-euler"
    }

    public var method: Method
    public var dt: Double
    public var growth: Double
    public var maxStep: Double
    /// Redo a TR-BDF2 step that produced a negative value with implicit Euler (reported).
    public var fallBackOnNegative: Bool

    public init(method: Method = .trBDF2, dt: Double, growth: Double = 1, maxStep: Double = .infinity,
                fallBackOnNegative: Bool = true) {
        self.method = method
        self.dt = dt
        self.growth = growth
        self.maxStep = maxStep
        self.fallBackOnNegative = fallBackOnNegative
    }

    /// Uniform TR-BDF2 steps of size `dt`.
    public static func accurate(dt: Double) -> FokkerPlanckStepping { .init(method: .trBDF2, dt: dt) }

    /// Implicit Euler from `dt`, growing geometrically: cheap runs to stationarity.
    public static func toStationarity(dt: Double, growth: Double = 1.2, maxStep: Double = .infinity) -> FokkerPlanckStepping {
        .init(method: .implicitEuler, dt: dt, growth: growth, maxStep: maxStep)
    }

    func validate() throws {
        try RelaxError.requirePositiveFinite(dt, name: "dt", expected: "a finite time step dt > 0")
        guard growth >= 1, growth.isFinite else {
            throw RelaxError.invalidParameter(name: "growth", value: "\(growth)", expected: "a step growth factor >= 1")
        }
        guard maxStep >= dt else {
            throw RelaxError.invalidParameter(name: "maxStep", value: "\(maxStep)", expected: "maxStep >= dt = \(dt)")
        }
    }
}

/// A Fokker–Planck problem `rho_t = -div(b rho) + div(D grad rho)` on `grid` (boundary
/// `.neumann` = no-flux, or `.periodic`), from `initial` to `time`, with `snapshots` equal
/// intervals (K + 1 stored densities including t = 0).
public struct FokkerPlanckProblem: Sendable {
    public var grid: Grid
    public var drift: FokkerPlanckDrift
    public var diffusion: FokkerPlanckDiffusion
    /// `rho0`, non-negative with positive mass; the solver normalizes it to mass 1.
    public var initial: Field
    public var time: Double
    public var snapshots: Int
    public var stepping: FokkerPlanckStepping
    /// A stationary density to measure relative entropy against when the drift has no
    /// potential (e.g. the OU Gaussian); with a potential and `D = nu I` the discrete Gibbs
    /// density is used.
    public var stationaryReference: Field?
    /// The fitted flux (Scharfetter–Gummel by default).
    public var flux: FokkerPlanckFlux
    public var progress: ProgressHandler?

    public init(grid: Grid, drift: FokkerPlanckDrift, diffusion: FokkerPlanckDiffusion, initial: Field,
                time: Double, snapshots: Int = 1, stepping: FokkerPlanckStepping? = nil,
                stationaryReference: Field? = nil, flux: FokkerPlanckFlux = .scharfetterGummel,
                progress: ProgressHandler? = nil) {
        self.grid = grid
        self.drift = drift
        self.diffusion = diffusion
        self.initial = initial
        self.time = time
        self.snapshots = snapshots
        self.stepping = stepping ?? .accurate(dt: time / 200)
        self.stationaryReference = stationaryReference
        self.flux = flux
        self.progress = progress
    }

    /// The paper's problem `rho_t = div(grad V rho) + 1/(2 beta) Lap rho` with `V` a loss.
    public init(grid: Grid, potential: Loss, beta: Double, initial: Field, time: Double,
                snapshots: Int = 1, stepping: FokkerPlanckStepping? = nil) throws {
        self.init(grid: grid, drift: try .potential(potential, on: grid),
                  diffusion: try FokkerPlanckDiffusion(beta: beta, dimension: grid.dimension),
                  initial: initial, time: time, snapshots: snapshots, stepping: stepping)
    }
}

/// Scalars of one snapshot.
public struct FokkerPlanckDiagnostics: Sendable, Codable, Equatable {
    public var time: Double
    /// `∫ rho` (trapezoid rule on the node grid).
    public var mass: Double
    public var minimum: Double
    /// `F(rho) = ∫ V rho + nu ∫ rho log rho` (potential drift with `D = nu I` only).
    public var freeEnergy: Double?
    /// `∫ rho log(rho / rho_inf)` against the discrete Gibbs density or the given reference.
    public var relativeEntropy: Double?
    /// Time steps taken up to this snapshot.
    public var steps: Int
}

/// What `FokkerPlanck.solve` returns.
public struct FokkerPlanckResult: Sendable {
    /// The density at the final time.
    public var rho: Field
    /// The K + 1 snapshot times `k T / K`.
    public var times: [Double]
    /// The densities at `times` (the first is the normalized `rho0`).
    public var snapshots: [Field]
    /// The probability current `J` at the final time, one field per axis.
    public var current: [Field]
    public var diagnostics: [FokkerPlanckDiagnostics]
    /// `∫ rho0` before normalization; the solver divided `rho0` by it.
    public var initialMass: Double
    /// The discrete Gibbs density `exp(-V/nu) / Z` (potential drift with `D = nu I`).
    public var gibbs: Field?
    /// Steps (after any fallback) whose result had a negative value; 0 unless TR-BDF2
    /// ran without fallback beyond its positivity bound.
    public var negativeSteps: Int
    public var report: SolverReport
}
