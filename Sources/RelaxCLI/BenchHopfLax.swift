import ArgumentParser
import Foundation
import Relax

/// `relax bench hopflax`: timings of the discrete Hopf–Lax transform for `Benchmarks/hopflax.py`.
struct BenchHopfLax: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hopflax",
        abstract: "Discrete Hopf–Lax inf-convolution (value + prox): points/s, 1-D and 2-D.",
        discussion: """
            f = sum_k sin(7 x_k) + x_k^2/2 on [-2, 2]^d, t = 0.1; median of the repeats after a 0.25 s warm-up.
            Cases are D:N (N nodes per axis). Example: relax bench hopflax --cases 1:1000000,2:2048 --json
            """)

    @Option(help: ArgumentHelp("Cases D:N, comma-separated (default 1:1000000,1:10000000,2:2048,2:4096).",
                               valueName: "D:N,..."))
    var cases: String = "1:1000000,1:10000000,2:2048,2:4096"

    @Option(help: "Timed repeats (the median is reported).")
    var repeats: Int = 5

    @Flag(help: "Print the result as JSON.")
    var json = false

    struct Output: Codable {
        var time: Double
        var workers: Int
        var rows: [HopfLaxBenchmark.Row]
    }

    func run() throws {
        var parsed: [HopfLaxBenchmark.Case] = []
        for item in cases.split(separator: ",") {
            let parts = item.split(separator: ":").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard parts.count == 2, (1...3).contains(parts[0]), parts[1] >= 3 else {
                throw ValidationError("--cases wants D:N items with D in 1...3 and N >= 3 (got '\(item)')")
            }
            parsed.append(.init(dimension: parts[0], n: parts[1]))
        }
        let rows: [HopfLaxBenchmark.Row]
        do {
            rows = try HopfLaxBenchmark.run(parsed, repeats: repeats)
        } catch let error as RelaxError {
            throw ValidationError(error.description)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let out = Output(time: HopfLaxBenchmark.time, workers: Parallel.workers, rows: rows)
            print(String(decoding: try encoder.encode(out), as: UTF8.self))
            return
        }
        print("hopf-lax: f = sum sin(7x) + x^2/2 on [-2,2]^d, t = \(HopfLaxBenchmark.time), \(Parallel.workers) workers")
        for r in rows {
            print(r.name.padding(toLength: 26, withPad: " ", startingAt: 0)
                  + String(format: "kernel %8.2f ms %10.3e pts/s   call %8.2f ms %10.3e pts/s",
                           r.kernelSeconds * 1e3, r.kernelPointsPerSecond, r.callSeconds * 1e3, r.callPointsPerSecond))
        }
    }
}
