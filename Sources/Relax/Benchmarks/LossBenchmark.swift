import Foundation

/// Timing of loss evaluation on whole grids (`relax bench losses`).
///
/// Problem (the same in `Benchmarks/losses.py`): the `rugged-2d` preset on `[-3, 3]^2` with
/// `n^2` nodes, boundary free. Two timings per case, each the median of `repeats` calls after
/// one warm-up: `value` = `Loss.sample(on:)` (compiled expression, block-vectorized, split over
/// the cores), `gradient` = `Loss.sampleWithGradient(on:)` (value and exact gradient by dual
/// numbers). Cost model: O(N) with a constant set by the expression's transcendental calls
/// (here 4 `exp`/`cos` per point for the value; the dual pass adds the `sin` partners).
/// The Python reference evaluates the same expression with numpy on the same grid.
/// `relax bench losses --json --repeats R --sizes 2048,4096` is expected to print `run(...)`
/// as a JSON array of `Row` (what `Benchmarks/losses.py` reads).
public enum LossBenchmark {
    public struct Row: Sendable, Codable, Equatable {
        public var name: String
        public var points: Int
        /// Median seconds per `sample(on:)`.
        public var valueSeconds: Double
        public var valuePointsPerSecond: Double
        /// Median seconds per `sampleWithGradient(on:)`.
        public var gradientSeconds: Double
        public var gradientPointsPerSecond: Double
        public var repeats: Int
        public var workers: Int
        /// The sum of the sampled values, a checksum the Python side reproduces.
        public var checksum: Double
    }

    public static let preset = "rugged-2d"
    public static let standardSizes = [2048, 4096]

    public static func run(sizes: [Int] = standardSizes, repeats: Int = 5) throws -> [Row] {
        guard repeats >= 1 else {
            throw RelaxError.invalidParameter(name: "repeats", value: "\(repeats)", expected: "at least 1")
        }
        let loss = try Loss(preset: preset)
        return try sizes.map { n in
            let grid = try Grid(domain: [(-3, 3), (-3, 3)], counts: [n, n])
            var checksum = 0.0
            let valueTimes = try (0...repeats).map { _ in
                let (f, s) = try Stopwatch.time { try loss.sample(on: grid) }
                checksum = f.values.reduce(0, +)
                return s
            }.dropFirst()
            let gradientTimes = try (0...repeats).map { _ in
                try Stopwatch.time { try loss.sampleWithGradient(on: grid) }.1
            }.dropFirst()
            let v = BenchmarkTiming.median(Array(valueTimes)), g = BenchmarkTiming.median(Array(gradientTimes))
            return Row(name: "\(preset) \(n)^2", points: grid.count,
                       valueSeconds: v, valuePointsPerSecond: Double(grid.count) / v,
                       gradientSeconds: g, gradientPointsPerSecond: Double(grid.count) / g,
                       repeats: repeats, workers: Parallel.workers, checksum: checksum)
        }
    }
}
