import ArgumentParser
import Foundation
import Relax

/// `relax bench losses`: compiled loss evaluation (values, and values with exact gradients)
/// for `Benchmarks/losses.py`.
struct BenchLosses: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "losses",
        abstract: "Loss evaluation on n x n grids (preset rugged-2d): values and exact gradients, points/s.",
        discussion: "Example: relax bench losses --sizes 2048,4096 --repeats 5 --json")

    @Option(help: ArgumentHelp("Grid sizes n (n x n), comma-separated.", valueName: "N,..."))
    var sizes: String = LossBenchmark.standardSizes.map(String.init).joined(separator: ",")

    @Option(help: "Timed repeats (the median is reported).")
    var repeats: Int = 5

    @Flag(help: "Print the rows as JSON.")
    var json = false

    func run() throws {
        let ns = try sizes.split(separator: ",").map { item -> Int in
            guard let n = Int(item), n >= 3 else {
                throw ValidationError("--sizes wants whole numbers >= 3 (got '\(item)')")
            }
            return n
        }
        let rows = try LossBenchmark.run(sizes: ns, repeats: repeats)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(rows), as: UTF8.self))
            return
        }
        for r in rows {
            print(r.name.padding(toLength: 24, withPad: " ", startingAt: 0)
                  + String(format: "values %8.1f ms %10.3e pts/s   with gradient %8.1f ms %10.3e pts/s",
                           r.valueSeconds * 1e3, r.valuePointsPerSecond, r.gradientSeconds * 1e3, r.gradientPointsPerSecond))
        }
    }
}
