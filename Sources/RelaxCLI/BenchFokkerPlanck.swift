import ArgumentParser
import Foundation
import Relax

/// `relax bench fokker-planck`: the Swift side of Benchmarks/fokkerplanck.py (1-D double
/// well to t = 200 at N = 200, 400, 800; 2-D Kunin OU on 128^2 to stationarity).
struct BenchFokkerPlanck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fokker-planck",
        abstract: "Time the Fokker–Planck solver: 1-D double well to t = 200, 2-D OU to stationarity.")

    @Flag(help: "Print the rows as JSON (for Benchmarks/fokkerplanck.py).")
    var json = false

    @Option(help: "Repeats per case (the median is reported).")
    var repeats = 5

    @Option(parsing: .upToNextOption, help: "Node counts of the 1-D double well.")
    var sizes: [Int] = [200, 400, 800]

    @Option(name: .customLong("size-2d"), help: "Nodes per axis of the 2-D OU problem.")
    var size2D = 128

    func run() throws {
        let result = try FokkerPlanckBenchmark.run(repeats: repeats, sizes: sizes, size2D: size2D)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print("problem          N     method                                          steps   seconds      L1 error   mass error   min")
        for row in result.rows {
            print(row.problem.padding(toLength: 16, withPad: " ", startingAt: 0)
                  + String(format: "%5d ", row.n)
                  + row.method.padding(toLength: 48, withPad: " ", startingAt: 0)
                  + String(format: "%6d %9.4f %12.3e %12.1e %9.1e", row.steps, row.seconds, row.l1Error, row.massError, row.minimum))
        }
    }
}
