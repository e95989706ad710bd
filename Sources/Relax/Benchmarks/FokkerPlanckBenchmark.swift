import Foundation

/// Work–precision benchmarks of the Fokker–Planck solver (issue 5, item 9), the Swift side
/// of `Benchmarks/fokkerplanck.py` (which times fplanck and py-pde on the same problems).
///
/// - `doubleWell`: `rho_t = div(V' rho) + nu rho_xx`, `V = (x^2 - 1)^2`, `beta = 1`
///   (`nu = 1/2`), no-flux on [-2.5, 2.5] with N nodes, `rho0` a Gaussian at x = -1 (std
///   0.2), to t = 200. Error: L1 distance to the continuous Gibbs density `exp(-V/nu)/Z`
///   (Z by composite Simpson on 400 001 points).
/// - `ornsteinUhlenbeck2D`: Kunin et al. Fig. 3 drift `A (b - x)`, `D = diag(4, 1)`,
///   `kappa = 50`, on [-1.2, 1.2]^2 with 128^2 nodes, to stationarity. Error: L1 distance to
///   the Lyapunov Gaussian `N(b, B/kappa)`.
/// Times are medians of `repeats` runs of the solver call alone (problem set-up included,
/// error evaluation excluded).
public enum FokkerPlanckBenchmark {
    public struct Row: Sendable, Codable, Equatable {
        public var problem: String
        public var method: String
        public var n: Int
        public var steps: Int
        /// Median wall-clock seconds.
        public var seconds: Double
        public var l1Error: Double
        /// `|∫ rho - 1|` at the end.
        public var massError: Double
        public var minimum: Double
        public var negativeSteps: Int
    }

    public struct Result: Sendable, Codable, Equatable {
        public var rows: [Row]
    }

    public static func run(repeats: Int = 5, sizes: [Int] = [200, 400, 800], size2D: Int = 128) throws -> Result {
        var rows: [Row] = []
        for n in sizes { rows += try doubleWell(n: n, repeats: repeats) }
        rows += try ornsteinUhlenbeck2D(n: size2D, repeats: max(1, repeats / 2))
        return Result(rows: rows)
    }

    // MARK: 1-D double well

    static let wellNu = 0.5
    static func wellPotential(_ x: Double) -> Double { (x * x - 1) * (x * x - 1) }

    /// `∫ exp(-V/nu)` on [-2.5, 2.5] by composite Simpson (integrand analytic, error < 1e-15).
    static func wellPartition() -> Double {
        let m = 400_000, a = -2.5, h = 5.0 / Double(m)
        var s = 0.0
        for i in 0...m {
            let w: Double = (i == 0 || i == m) ? 1 : (i % 2 == 1 ? 4 : 2)
            s += w * exp(-wellPotential(a + Double(i) * h) / wellNu)
        }
        return s * h / 3
    }

    public static func doubleWellProblem(n: Int, stepping: FokkerPlanckStepping) throws -> FokkerPlanckProblem {
        let grid = try Grid(domain: [(-2.5, 2.5)], counts: [n], boundary: .neumann)
        let v = Field(grid: grid) { wellPotential($0[0]) }
        let rho0 = Field(grid: grid) { exp(-pow($0[0] + 1, 2) / (2 * 0.04)) }
        return FokkerPlanckProblem(grid: grid, drift: .potential(v), diffusion: try .init(nu: wellNu, dimension: 1),
                                   initial: rho0, time: 200, stepping: stepping)
    }

    static func doubleWell(n: Int, repeats: Int) throws -> [Row] {
        let z = wellPartition()
        let methods: [(String, FokkerPlanckStepping)] = [
            ("implicit-euler, geometric steps 1e-3 x1.25", .toStationarity(dt: 1e-3, growth: 1.25)),
            ("tr-bdf2, geometric steps 1e-3 x1.05", .init(method: .trBDF2, dt: 1e-3, growth: 1.05)),
            ("tr-bdf2, uniform dt = 0.01", .accurate(dt: 0.01)),
        ]
        var rows: [Row] = []
        for (label, stepping) in methods {
            let problem = try doubleWellProblem(n: n, stepping: stepping)
            var result: FokkerPlanckResult?
            let seconds = try median(repeats) { result = try FokkerPlanck.solve(problem) }
            let rho = result!.rho
            let exact = Field(grid: rho.grid) { exp(-wellPotential($0[0]) / wellNu) / z }
            rows.append(Row(problem: "double-well-1d", method: label, n: n, steps: result!.report.steps,
                            seconds: seconds, l1Error: l1(rho, exact), massError: abs(FokkerPlanck.mass(rho) - 1),
                            minimum: rho.minimum, negativeSteps: result!.negativeSteps))
        }
        // The t -> infinity limit of the scheme, by the direct stationary solve.
        let grid = try Grid(domain: [(-2.5, 2.5)], counts: [n], boundary: .neumann)
        let v = Field(grid: grid) { wellPotential($0[0]) }
        var stationary: Field?
        let seconds = try median(repeats) {
            stationary = try FokkerPlanck.stationaryDensity(grid: grid, drift: .potential(v), diffusion: try .init(nu: wellNu, dimension: 1))
        }
        let exact = Field(grid: grid) { exp(-wellPotential($0[0]) / wellNu) / z }
        rows.append(Row(problem: "double-well-1d", method: "stationary (direct GTH)", n: n, steps: 0, seconds: seconds,
                        l1Error: l1(stationary!, exact), massError: abs(FokkerPlanck.mass(stationary!) - 1),
                        minimum: stationary!.minimum, negativeSteps: 0))
        return rows
    }

    // MARK: 2-D OU

    public static func kuninProcess() throws -> OrnsteinUhlenbeck {
        let v = Matrix([[-1, 1], [1, 1]])
        let a = try LinearAlgebra.inverse(v) * Matrix.diagonal([4, 1]) * v
        return try OrnsteinUhlenbeck(drift: a, mean: [-0.1, 0.05], diffusion: Matrix.diagonal([4, 1]), kappa: 50)
    }

    static func ornsteinUhlenbeck2D(n: Int, repeats: Int) throws -> [Row] {
        let ou = try kuninProcess()
        let grid = try Grid(domain: [(-1.2, 1.2), (-1.2, 1.2)], counts: [n, n], boundary: .neumann)
        let exact = try ou.stationaryDensity(on: grid)
        var rows: [Row] = []
        var stationary: Field?
        let direct = try median(repeats) {
            stationary = try FokkerPlanck.stationaryDensity(grid: grid, drift: try ou.fokkerPlanckDrift(on: grid),
                                                            diffusion: try ou.fokkerPlanckDiffusion)
        }
        rows.append(Row(problem: "ou-2d-kunin", method: "stationary (direct GTH)", n: n, steps: 0, seconds: direct,
                        l1Error: l1(stationary!, exact), massError: abs(FokkerPlanck.mass(stationary!) - 1),
                        minimum: stationary!.minimum, negativeSteps: 0))
        let directSqrt = try median(repeats) {
            stationary = try FokkerPlanck.stationaryDensity(grid: grid, drift: try ou.fokkerPlanckDrift(on: grid),
                                                            diffusion: try ou.fokkerPlanckDiffusion, flux: .squareRoot)
        }
        rows.append(Row(problem: "ou-2d-kunin", method: "stationary (direct GTH), square-root flux", n: n, steps: 0,
                        seconds: directSqrt, l1Error: l1(stationary!, exact),
                        massError: abs(FokkerPlanck.mass(stationary!) - 1), minimum: stationary!.minimum, negativeSteps: 0))
        // Time stepping from a Gaussian at (0.25, -0.2) to t = 12 (e^{-12} ~ 6e-6 of the slowest mode).
        let initial = try ou.density(at: 0.05, from: [0.25, -0.2], on: grid)
        for (label, stepping) in [("tr-bdf2 (Strang), dt = 0.01", FokkerPlanckStepping.accurate(dt: 0.01)),
                                  ("tr-bdf2 (Strang), dt = 0.005", FokkerPlanckStepping.accurate(dt: 0.005))] {
            let problem = FokkerPlanckProblem(grid: grid, drift: try ou.fokkerPlanckDrift(on: grid),
                                              diffusion: try ou.fokkerPlanckDiffusion, initial: initial, time: 12,
                                              stepping: stepping)
            var result: FokkerPlanckResult?
            let seconds = try median(1) { result = try FokkerPlanck.solve(problem) }
            rows.append(Row(problem: "ou-2d-kunin", method: label, n: n, steps: result!.report.steps, seconds: seconds,
                            l1Error: l1(result!.rho, exact), massError: abs(FokkerPlanck.mass(result!.rho) - 1),
                            minimum: result!.rho.minimum, negativeSteps: result!.negativeSteps))
        }
        return rows
    }

    // MARK: Helpers

    /// The L1 distance with the solver's quadrature (trapezoid on the node grid).
    static func l1(_ a: Field, _ b: Field) -> Double {
        FokkerPlanck.integrate(zip(a.values, b.values).map { abs($0 - $1) }, weights: FokkerPlanck.nodeWeights(a.grid),
                               cellVolume: a.grid.cellVolume)
    }

    static func median(_ repeats: Int, _ body: () throws -> Void) throws -> Double {
        var times: [Double] = []
        for _ in 0..<max(1, repeats) { times.append(try Stopwatch.time { try body() }.1) }
        return BenchmarkTiming.median(times)
    }
}
