import Foundation

/// Timing of the discrete Hopf–Lax transform (`relax bench hopflax`).
///
/// Problem (the same in `Benchmarks/hopflax.py`): `f(x) = sin(7 x) + x^2/2` per axis summed
/// (`sum_k sin(7 x_k) + |x|^2/2`) on `[-2, 2]^d`, non-periodic (minimum over the window),
/// `t = 0.1`. Two timings per case, each the median of `repeats` calls after a warm-up of
/// `BenchmarkTiming.warmUpSeconds` of calls (at least one; the Python side does the same: the first calls of a
/// process pay for thread start-up and fresh pages, not the algorithm):
/// `kernel` = value + prox node index (the separable lower-envelope passes, what a numba
/// lower-envelope code computes), `call` = the public `HopfLax.infConvolution` (adds the prox
/// coordinates as fields). Cost model: O(N) per axis, so points/s should be flat in N until
/// memory bandwidth dominates; 2-D passes are split over the cores.
public enum HopfLaxBenchmark {
    public struct Case: Sendable, Codable, Equatable {
        public var dimension: Int
        public var n: Int
        public var points: Int { Int(pow(Double(n), Double(dimension))) }
        public init(dimension: Int, n: Int) {
            self.dimension = dimension
            self.n = n
        }
    }

    public struct Row: Sendable, Codable, Equatable {
        public var name: String
        public var dimension: Int
        public var points: Int
        /// Median seconds per call of the value + prox-index kernel.
        public var kernelSeconds: Double
        public var kernelPointsPerSecond: Double
        /// Median seconds per call of `HopfLax.infConvolution` (value + prox coordinates).
        public var callSeconds: Double
        public var callPointsPerSecond: Double
        public var repeats: Int
        public var workers: Int
        /// min(u), a checksum the Python side reproduces.
        public var minimum: Double
    }

    /// The standard cases: 1-D N = 1e6, 1e7; 2-D 2048^2, 4096^2.
    public static let standardCases = [Case(dimension: 1, n: 1_000_000), Case(dimension: 1, n: 10_000_000),
                                       Case(dimension: 2, n: 2048), Case(dimension: 2, n: 4096)]
    public static let time = 0.1

    public static func field(_ c: Case) throws -> Field {
        let grid = try Grid(domain: [(Double, Double)](repeating: (-2, 2), count: c.dimension),
                            counts: [Int](repeating: c.n, count: c.dimension), boundary: .neumann)
        return Field(grid: grid) { p in p.reduce(0) { $0 + sin(7 * $1) + 0.5 * $1 * $1 } }
    }

    public static func run(_ cases: [Case] = standardCases, repeats: Int = 5) throws -> [Row] {
        guard repeats >= 1 else {
            throw RelaxError.invalidParameter(name: "repeats", value: "\(repeats)", expected: "at least 1")
        }
        return try cases.map { c in
            let f = try field(c)
            let kernel = SeparableInfConvolution(grid: f.grid, time: time)
            var minimum = 0.0
            BenchmarkTiming.warmUp { _ = kernel.run(f.values) }
            let kernelTimes = (0..<repeats).map { _ in
                let (out, s) = Stopwatch.time { kernel.run(f.values) }
                minimum = out.value.min() ?? .nan
                return s
            }
            try BenchmarkTiming.warmUp { _ = try HopfLax.infConvolution(f, time: time) }
            let callTimes = try (0..<repeats).map { _ in
                try Stopwatch.time { try HopfLax.infConvolution(f, time: time) }.1
            }
            let k = BenchmarkTiming.median(Array(kernelTimes)), call = BenchmarkTiming.median(Array(callTimes))
            return Row(name: "hopf-lax \(c.dimension)-D " + (c.dimension == 1 ? "N=\(c.n)" : "\(c.n)^\(c.dimension)"),
                       dimension: c.dimension, points: f.grid.count,
                       kernelSeconds: k, kernelPointsPerSecond: Double(f.grid.count) / k,
                       callSeconds: call, callPointsPerSecond: Double(f.grid.count) / call,
                       repeats: repeats, workers: Parallel.workers, minimum: minimum)
        }
    }
}
