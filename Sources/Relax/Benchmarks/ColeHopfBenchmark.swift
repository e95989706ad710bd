import Foundation

/// The Cole–Hopf benchmark `relax bench cole-hopf` runs (and `Benchmarks/colehopf.py` compares
/// with the naive numpy/scipy transform on the same loss, in the same run):
///
/// 1. Cole–Hopf (`ColeHopf.solve` on the sampled loss, `path: .auto`) on the periodic domain
///    `[0, 2 pi)^d` at `t = 2`, `beta = 10` and `1e4`: 1-D with `N = 100000` nodes, 2-D with
///    `1024^2`; both sides get the sampled loss and time only the transform. Times are medians
///    over repeats of `u` alone and of `u` with `grad u`; the error is the max over sample points
///    of `|u - oracle|` and `|grad u - oracle|`, the oracle being the brute-force log-sum-exp
///    quadrature at those points (`ColeHopf.bruteForce(_:at:)`, O(N) per point). `u` at the
///    sample points is returned too, so the Python side checks it against its own quadrature.
///    The log-domain path is also timed at `beta = 10` (forced) to show its cost for wide kernels.
/// 2. the explicit monotone FD step (Godunov + central diffusion, `ViscousHJFD`) on the same
///    loss and grids at `beta = 10`, in points per second.
///
/// The loss (`loss(dimension:)`, rugged: local minima at three scales),
/// `f(x) = 0.3 (1 - cos x) + 0.15 sin(7x) + 0.06 sin(23x + 1)` in 1-D and
/// `(f(x) + f(y))/2 + 0.05 sin(x - y)` in 2-D, has `beta osc f ~ 10` at `beta = 10` (the FFT path,
/// and the naive transform, are accurate) and `~1e4` at `beta = 1e4` (where `exp(-beta f)`
/// underflows for the naive transform, and Cole–Hopf takes the log-domain path).
public enum ColeHopfBenchmark {
    public static let time = 2.0
    public static let betas = [10.0, 1e4]

    public static func one(_ x: Double) -> Double { 0.3 * (1 - cos(x)) + 0.15 * sin(7 * x) + 0.06 * sin(23 * x + 1) }

    /// The benchmark loss on `[0, 2 pi)^d`, d = 1 or 2.
    public static func loss(dimension d: Int) -> Loss {
        if d == 1 {
            return Loss(name: "0.3 (1 - cos x) + 0.15 sin 7x + 0.06 sin(23x + 1)", dimension: 1, value: { one($0[0]) })
        }
        return Loss(name: "(f(x) + f(y))/2 + 0.05 sin(x - y), f(x) = 0.3 (1 - cos x) + 0.15 sin 7x + 0.06 sin(23x + 1)",
                    dimension: 2, value: { 0.5 * (one($0[0]) + one($0[1])) + 0.05 * sin($0[0] - $0[1]) })
    }

    public static func grid(dimension d: Int, n: Int) throws -> Grid {
        try Grid(domain: [(Double, Double)](repeating: (0, 2 * Double.pi), count: d),
                 counts: [Int](repeating: n, count: d), boundary: .periodic)
    }

    public struct Case: Codable, Sendable {
        public var dimension: Int
        /// Nodes per axis.
        public var n: Int
        public var beta: Double
        public var time: Double
        /// The path asked for (`auto` or forced) and the one that ran.
        public var requestedPath: String
        public var path: String
        /// Median wall seconds: `u` and `grad u`; `u` alone.
        public var seconds: Double
        public var secondsValueOnly: Double
        /// Median process CPU seconds (all threads) for `u` and `grad u`, and for `u` alone: the
        /// work done, which other load on the machine inflates less than wall time.
        public var cpuSeconds: Double
        public var cpuSecondsValueOnly: Double
        /// The least process CPU seconds over the repeats (the least disturbed by other load).
        public var cpuSecondsLeast: Double
        public var cpuSecondsValueOnlyLeast: Double
        public var repeats: Int
        /// Grid points per second for `u` and `grad u`.
        public var pointsPerSecond: Double
        /// Max over the sample points of `|u - oracle|` and `|grad u - oracle|` (all axes).
        public var maxError: Double
        public var maxGradientError: Double
        /// Flat indices of the sample points and `u` there.
        public var samples: [Int]
        public var sampleValues: [Double]
        public var notes: [String]
    }

    public struct FDCase: Codable, Sendable {
        public var dimension: Int
        public var n: Int
        public var beta: Double
        public var steps: Int
        /// Median seconds per explicit step.
        public var secondsPerStep: Double
        public var pointsPerSecond: Double
        public var dt: Double
    }

    public struct Result: Codable, Sendable {
        public var threads: Int
        public var loss1D: String
        public var loss2D: String
        public var cases: [Case]
        public var fd: [FDCase]
    }

    /// Runs every case (or those of the given dimensions and betas; `extras: false` skips the
    /// forced log-domain runs at beta = 10 and the FD step); `quick` uses 1-D N = 10000 and 2-D 128^2
    /// (a smoke run).
    public static func run(quick: Bool = false, repeats: Int = 5, dimensions: [Int] = [1, 2], betas: [Double] = betas,
                           extras: Bool = true) throws -> Result {
        guard repeats >= 1 else {
            throw RelaxError.invalidParameter(name: "repeats", value: "\(repeats)", expected: "at least 1")
        }
        let sizes = quick ? [1: 10_000, 2: 128] : [1: 100_000, 2: 1024]
        var cases: [Case] = []
        var fd: [FDCase] = []
        for d in dimensions where d == 1 || d == 2 {
            let grid = try grid(dimension: d, n: sizes[d]!)
            let f = try loss(dimension: d).sample(on: grid)
            let samples = samplePoints(grid)
            let reps = d == 1 ? repeats : max(1, (repeats + 1) / 2)
            for beta in betas {
                cases.append(try timeCase(f, beta: beta, path: .auto, samples: samples, repeats: reps))
                if extras && beta == Self.betas[0] {
                    cases.append(try timeCase(f, beta: beta, path: .logDomain, samples: samples, repeats: reps))
                }
            }
            if extras { fd.append(try timeFD(f, beta: Self.betas[0], repeats: reps)) }
        }
        return Result(threads: Parallel.workers, loss1D: loss(dimension: 1).description, loss2D: loss(dimension: 2).description,
                      cases: cases, fd: fd)
    }

    /// 101 evenly spaced nodes in 1-D, a 4 x 4 lattice in 2-D.
    static func samplePoints(_ grid: Grid) -> [Int] {
        let per = grid.dimension == 1 ? 101 : 4
        let along = (0..<grid.dimension).map { k in (0..<per).map { $0 * grid.axes[k].count / per + 7 } }
        if grid.dimension == 1 { return along[0] }
        return along[0].flatMap { i in along[1].map { j in grid.flatIndex([i, j]) } }
    }

    static func timeCase(_ f: Field, beta: Double, path: ColeHopfPath, samples: [Int], repeats: Int) throws -> Case {
        let options = ColeHopfOptions(path: path, gradient: true)
        let valueOnly = ColeHopfOptions(path: path, gradient: false)
        var solution = try ColeHopf.solve(f, beta: beta, time: time, options: options)
        try BenchmarkTiming.warmUp { solution = try ColeHopf.solve(f, beta: beta, time: time, options: options) }
        var wall: [Double] = [], cpu: [Double] = [], plain: [Double] = [], plainCPU: [Double] = []
        for _ in 0..<repeats {
            let c0 = BenchmarkTiming.processCPUSeconds()
            let (s, seconds) = try Stopwatch.time { try ColeHopf.solve(f, beta: beta, time: time, options: options) }
            cpu.append(BenchmarkTiming.processCPUSeconds() - c0)
            wall.append(seconds)
            solution = s
            let c1 = BenchmarkTiming.processCPUSeconds()
            plain.append(try Stopwatch.time { try ColeHopf.solve(f, beta: beta, time: time, options: valueOnly) }.1)
            plainCPU.append(BenchmarkTiming.processCPUSeconds() - c1)
        }
        let oracle = ColeHopf.bruteForce(f, beta: beta, time: time, at: samples)
        var error = 0.0, gradientError = 0.0
        for (slot, flat) in samples.enumerated() {
            error = max(error, abs(solution.u.values[flat] - oracle.u[slot]))
            for k in 0..<f.grid.dimension {
                gradientError = max(gradientError, abs(solution.gradient[k].values[flat] - oracle.gradient[k][slot]))
            }
        }
        let seconds = BenchmarkTiming.median(wall)
        return Case(dimension: f.grid.dimension, n: f.grid.shape[0], beta: beta, time: time, requestedPath: path.rawValue,
                    path: solution.path.rawValue, seconds: seconds, secondsValueOnly: BenchmarkTiming.median(plain), cpuSeconds: BenchmarkTiming.median(cpu),
                    cpuSecondsValueOnly: BenchmarkTiming.median(plainCPU), cpuSecondsLeast: cpu.min()!, cpuSecondsValueOnlyLeast: plainCPU.min()!,
                    repeats: repeats, pointsPerSecond: Double(f.grid.count) / seconds, maxError: error,
                    maxGradientError: gradientError, samples: samples, sampleValues: samples.map { solution.u.values[$0] },
                    notes: solution.report.notes)
    }

    /// The explicit Godunov step: time `steps` stable steps (a run to `steps` stable step lengths).
    static func timeFD(_ f: Field, beta: Double, repeats: Int, steps: Int = 20) throws -> FDCase {
        let solver = ViscousHJFD(beta: beta, scheme: .godunov)
        let explicit = solver.explicitSolver
        var rate = [Double](repeating: 0, count: f.grid.count)
        let speeds = explicit.rate(f.values, ghosts: .periodic, grid: f.grid, into: &rate)
        let dt = explicit.cfl * explicit.stableStep(speeds: speeds, grid: f.grid)
        var perStep: [Double] = []
        var taken = 0
        for _ in 0..<repeats {
            let ((_, report), seconds) = try Stopwatch.time { try solver.evolve(f, time: Double(steps) * dt) }
            taken = report.steps
            perStep.append(seconds / Double(report.steps))
        }
        let seconds = BenchmarkTiming.median(perStep)
        return FDCase(dimension: f.grid.dimension, n: f.grid.shape[0], beta: beta, steps: taken, secondsPerStep: seconds,
                      pointsPerSecond: Double(f.grid.count) / seconds, dt: dt)
    }
}
