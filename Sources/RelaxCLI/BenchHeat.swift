import ArgumentParser
import Foundation
import Relax

/// `relax bench heat`: the spectral heat solve and the FTCS step for `Benchmarks/heat.py`.
struct BenchHeat: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heat",
        abstract: "2-D periodic spectral heat solves and the FTCS step against the memory-bandwidth bound.",
        discussion: """
            Spectral: plan once (FFTW_MEASURE), then the median time of repeated solves on N x N grids.
            FTCS: median time per step, points/s, and the fraction of the bound copy-bandwidth / 16 bytes.
            Example: relax bench heat --sizes 1024,2048 --repeats 11 --json
            """)

    @Option(help: ArgumentHelp("Spectral grid sizes N (N x N), comma-separated; empty for none.", valueName: "N,..."))
    var sizes: String = "1024,2048"

    @Option(help: "Timed repeats (the median is reported).")
    var repeats: Int = 11

    @Option(name: .customLong("ftcs-n"), help: "FTCS grid size N (N x N); 0 skips the FTCS part.")
    var ftcsN: Int = 2048

    @Option(name: .customLong("ftcs-steps"), help: "FTCS steps per timed repeat.")
    var ftcsSteps: Int = 10

    @Flag(help: "Print the result as JSON.")
    var json = false

    func run() throws {
        let parsed = sizes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parsed.allSatisfy({ $0 != nil }) else {
            throw ValidationError("--sizes must be whole numbers N,M,... (got '\(sizes)')")
        }
        let result: HeatBenchmark.Result
        do {
            result = try HeatBenchmark.run(sizes: parsed.map { $0! }, repeats: repeats,
                                           ftcsSize: ftcsN == 0 ? nil : ftcsN, ftcsSteps: ftcsSteps)
        } catch let error as RelaxError {
            throw ValidationError(error.description)
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(result), as: UTF8.self))
            return
        }
        print("heat: 2-D periodic, nu = \(result.diffusivity), t = \(result.time), \(result.threads) threads")
        print("size        solve (median)   planning   max error")
        for c in result.spectral {
            print("\(c.n)x\(c.n)".padding(toLength: 12, withPad: " ", startingAt: 0)
                  + String(format: "%10.2f ms %10.2f s %11.1e", c.secondsPerSolve * 1e3, c.planningSeconds, c.maxError))
        }
        guard let e = result.explicit else { return }
        print(String(format: "ftcs %dx%d: %.2f ms/step, %.3g points/s; copy bandwidth %.1f GB/s -> bound %.3g points/s; %.0f%% of bound",
                     e.n, e.n, e.secondsPerStep * 1e3, e.pointsPerSecond, e.copyBandwidth / 1e9,
                     e.boundPointsPerSecond, 100 * e.fractionOfBound))
    }
}
