import Foundation

/// The heat benchmark `relax bench heat` runs (and `Benchmarks/heat.py` compares with scipy):
///
/// 1. the exact spectral solve of 2-D periodic heat on `n x n` grids of `[0, 2 pi)^2`,
///    `nu = 1/2`, `t = 0.05`, data `HeatBenchmark.initial`; the plan is made once with
///    `PlanEffort.measure` (planning time reported separately), a solve is
///    "values in, values out" (`HeatPropagator.propagate(_:time:)`), and the time is the
///    median over repeats;
/// 2. the explicit FTCS step on a 2-D periodic grid, in points per second, against the
///    memory-bandwidth bound: a step reads and writes every value once (16 bytes per point
///    at the least), so at most `copy bandwidth / 16` points per second, with the copy
///    bandwidth measured in the same run by copying a buffer of the same size on all cores.
public enum HeatBenchmark {
    /// The diffusivity and time of the spectral solve.
    public static let diffusivity = 0.5
    public static let time = 0.05

    /// `sin(x) cos(2y) + 0.5 cos(3x + y)`: the data both sides sample.
    public static func initial(_ x: Double, _ y: Double) -> Double {
        sin(x) * cos(2 * y) + 0.5 * cos(3 * x + y)
    }

    /// The exact solution at time `t`: each mode decays as `exp(-nu |k|^2 t)`.
    public static func exact(_ x: Double, _ y: Double, t: Double) -> Double {
        exp(-diffusivity * 5 * t) * sin(x) * cos(2 * y) + 0.5 * exp(-diffusivity * 10 * t) * cos(3 * x + y)
    }

    public struct SpectralCase: Codable, Sendable {
        public var n: Int
        /// Median seconds per solve (transform, multiply, inverse; no planning).
        public var secondsPerSolve: Double
        public var minimumSeconds: Double
        /// Median process CPU seconds per solve (all threads): the work done, which other
        /// processes on the machine do not inflate the way they inflate wall time.
        public var cpuSecondsPerSolve: Double
        public var repeats: Int
        /// Seconds spent planning with FFTW_MEASURE, once.
        public var planningSeconds: Double
        /// Max-norm error against the exact solution (a check that the timed solve is right).
        public var maxError: Double
    }

    public struct ExplicitCase: Codable, Sendable {
        public var n: Int
        public var stepsPerRepeat: Int
        public var repeats: Int
        /// Median seconds per FTCS step.
        public var secondsPerStep: Double
        public var pointsPerSecond: Double
        /// Bytes a step must move at the least: read and write each value once.
        public var bytesPerStep: Double
        /// Read + write bytes per second of a same-size copy on all cores (median).
        public var copyBandwidth: Double
        /// `copyBandwidth / 16`, the points per second a bandwidth-bound step could reach.
        public var boundPointsPerSecond: Double
        /// `pointsPerSecond / boundPointsPerSecond`.
        public var fractionOfBound: Double
    }

    public struct Result: Codable, Sendable {
        public var threads: Int
        public var diffusivity: Double
        public var time: Double
        public var spectral: [SpectralCase]
        /// Nil when the FTCS part was skipped.
        public var explicit: ExplicitCase?
    }

    /// Runs both parts: spectral solves on `sizes` (none if empty), FTCS on `ftcsSize`
    /// (skipped if nil).
    public static func run(sizes: [Int] = [1024, 2048], repeats: Int = 11,
                           ftcsSize: Int? = 2048, ftcsSteps: Int = 10) throws -> Result {
        guard repeats >= 1, ftcsSteps >= 1, sizes.allSatisfy({ $0 >= 8 }), (ftcsSize ?? 8) >= 8 else {
            throw RelaxError.invalidParameter(name: "benchmark sizes", value: "\(sizes), \(ftcsSize.map(String.init) ?? "none")",
                                              expected: "sizes >= 8 and at least one repeat and step")
        }
        return Result(threads: Parallel.workers, diffusivity: diffusivity, time: time,
                      spectral: try sizes.map { try spectral(n: $0, repeats: repeats) },
                      explicit: ftcsSize.map { explicit(n: $0, steps: ftcsSteps, repeats: repeats) })
    }

    static func grid(_ n: Int) throws -> Grid {
        try Grid(domain: [(0, 2 * Double.pi), (0, 2 * Double.pi)], counts: [n, n], boundary: .periodic)
    }

    public static func spectral(n: Int, repeats: Int) throws -> SpectralCase {
        let grid = try grid(n)
        let (propagator, planning) = try Stopwatch.time {
            try HeatPropagator(window: grid, diffusivity: diffusivity, maximumTime: time, effort: .measure)
        }
        let data = Field(grid: grid) { initial($0[0], $0[1]) }.values
        var values = data
        try propagator.propagate(&values, time: time)     // warm-up; tabulates the symbol
        var seconds: [Double] = []
        var cpu: [Double] = []
        for _ in 0..<repeats {
            values = data
            let c0 = BenchmarkTiming.processCPUSeconds()
            let (_, s) = try Stopwatch.time { try propagator.propagate(&values, time: time) }
            cpu.append(BenchmarkTiming.processCPUSeconds() - c0)
            seconds.append(s)
        }
        let exactField = Field(grid: grid) { exact($0[0], $0[1], t: time) }
        let error = Field(grid: grid, values: values).distance(to: exactField, .max)
        return SpectralCase(n: n, secondsPerSolve: BenchmarkTiming.median(seconds), minimumSeconds: seconds.min()!,
                            cpuSecondsPerSolve: BenchmarkTiming.median(cpu), repeats: repeats, planningSeconds: planning, maxError: error)
    }

    public static func explicit(n: Int, steps: Int, repeats: Int) -> ExplicitCase {
        let grid = try! grid(n)
        let h = grid.spacing[0]
        let step = ExplicitHeatStep(grid: grid, diffusivity: diffusivity, dt: 0.2 * h * h / diffusivity)
        var a = Field(grid: grid) { initial($0[0], $0[1]) }.values
        var b = [Double](repeating: 0, count: grid.count)
        var seconds: [Double] = []
        var copySeconds: [Double] = []
        a.withUnsafeMutableBufferPointer { pa in
            b.withUnsafeMutableBufferPointer { pb in
                let x = pa.baseAddress!, y = pb.baseAddress!
                step.apply(from: x, to: y)      // warm-up: touch both buffers
                step.apply(from: y, to: x)
                for _ in 0..<repeats {
                    let (_, s) = Stopwatch.time {
                        for s in 0..<steps {
                            if s % 2 == 0 { step.apply(from: x, to: y) } else { step.apply(from: y, to: x) }
                        }
                    }
                    seconds.append(s / Double(steps))
                    // The reference is timed the same way: as many copies, back to back.
                    let (_, c) = Stopwatch.time {
                        for s in 0..<steps {
                            if s % 2 == 0 { parallelCopy(from: x, to: y, count: grid.count) } else {
                                parallelCopy(from: y, to: x, count: grid.count)
                            }
                        }
                    }
                    copySeconds.append(c / Double(steps))
                }
            }
        }
        let perStep = BenchmarkTiming.median(seconds)
        let bytes = 16 * Double(grid.count)
        let bandwidth = bytes / BenchmarkTiming.median(copySeconds)
        let points = Double(grid.count) / perStep
        return ExplicitCase(n: n, stepsPerRepeat: steps, repeats: repeats, secondsPerStep: perStep,
                            pointsPerSecond: points, bytesPerStep: bytes, copyBandwidth: bandwidth,
                            boundPointsPerSecond: bandwidth / 16, fractionOfBound: points / (bandwidth / 16))
    }

    /// `memcpy` of `count` doubles split over the cores, as the bandwidth reference.
    static func parallelCopy(from source: UnsafeMutablePointer<Double>, to target: UnsafeMutablePointer<Double>,
                             count: Int) {
        Parallel.forEachChunk(count, minimumPerChunk: 1 << 16) { range in
            (target + range.lowerBound).update(from: source + range.lowerBound, count: range.count)
        }
    }
}
