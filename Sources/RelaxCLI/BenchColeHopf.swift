import ArgumentParser
import Foundation
import Relax

/// `relax bench cole-hopf`: times Cole–Hopf (auto path and forced log domain) at beta = 10 and
/// 1e4 on the 1-D (N = 100000) and 2-D (1024^2) benchmark loss, and the explicit FD step; see
/// `ColeHopfBenchmark`. `Benchmarks/colehopf.py` runs it with `--json` and times the naive
/// numpy/scipy transform on the same loss in the same run.
struct BenchColeHopf: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cole-hopf",
        abstract: "Benchmark the Cole–Hopf solver (FFT and log-domain paths) and the explicit viscous-HJ FD step.")

    @Flag(name: .long, help: "Print the result as JSON (for Benchmarks/colehopf.py).")
    var json = false

    @Flag(name: .long, help: "Small grids (1-D N = 10000, 2-D 128^2): a smoke run.")
    var quick = false

    @Option(name: .long, help: "Repeats per case (median reported; 2-D uses half).")
    var repeats = 5

    @Option(name: .long, parsing: .upToNextOption, help: "Only these dimensions (1, 2).")
    var dimensions: [Int] = [1, 2]

    @Option(name: .long, parsing: .upToNextOption, help: "Only these betas (default 10 1e4).")
    var betas: [Double] = ColeHopfBenchmark.betas

    @Flag(name: .long, help: "Skip the forced log-domain runs at beta = 10 and the FD step.")
    var noExtras = false

    func run() throws {
        let result = try ColeHopfBenchmark.run(quick: quick, repeats: repeats, dimensions: dimensions, betas: betas,
                                               extras: !noExtras)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            FileHandle.standardOutput.write(try encoder.encode(result))
            FileHandle.standardOutput.write(Data("\n".utf8))
            return
        }
        print("Cole–Hopf, periodic [0, 2pi)^d, t = \(ColeHopfBenchmark.time), \(result.threads) threads")
        print("d          N   beta  path          u+grad ms     u ms  Mpoints/s  max|u-oracle|  max|grad-oracle|")
        for c in result.cases {
            let size = c.dimension == 1 ? "\(c.n)" : "\(c.n)^2"
            let path = c.requestedPath == "auto" ? c.path : c.path + "*"
            let pad = { (text: String, width: Int) in String(repeating: " ", count: max(0, width - text.count)) + text }
            print("\(c.dimension) " + pad(size, 10) + String(format: " %6.0e  ", c.beta) + path.padding(toLength: 12, withPad: " ", startingAt: 0)
                  + String(format: " %10.2f %8.2f %10.2f %14.2e %16.2e", c.seconds * 1e3, c.secondsValueOnly * 1e3,
                           c.pointsPerSecond / 1e6, c.maxError, c.maxGradientError))
        }
        print("(* forced path)")
        for f in result.fd {
            let size = f.dimension == 1 ? "\(f.n)" : "\(f.n)^2"
            print("explicit Godunov FD step, d = \(f.dimension), N = \(size), beta = \(Int(f.beta)): "
                  + String(format: "%.3f ms/step, %.1f Mpoints/s", f.secondsPerStep * 1e3, f.pointsPerSecond / 1e6))
        }
    }
}
