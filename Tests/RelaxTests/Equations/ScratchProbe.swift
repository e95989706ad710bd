import Foundation
import Testing
@testable import Relax

@Suite struct ScratchProbe {
    @Test func fftParts() throws {
        for (d, n) in [(1, 100_000), (2, 1024)] {
            let grid = try ColeHopfBenchmark.grid(dimension: d, n: n)
            let f = try ColeHopfBenchmark.loss(dimension: d).sample(on: grid)
            for _ in 0..<3 {
                let (plan, t1) = try Stopwatch.time { try SpectralPlan(grid: grid, kind: .periodic) }
                let (symbol, t2) = Stopwatch.time { plan.symbol { exp(-0.1 * $0) } }
                let (v0, t3) = Stopwatch.time { f.values.map { exp(-10 * ($0 - 0.1)) } }
                var v = v0
                let (_, t4) = Stopwatch.time { plan.apply(multiplier: symbol, to: &v) }
                let (_, t5) = Stopwatch.time { v.map { log($0) } }
                let (s, t6) = try Stopwatch.time { try ColeHopf.solve(f, beta: 10, time: 2, options: ColeHopfOptions(path: .fft, gradient: false)) }
                let (_, t7) = Stopwatch.time { _ = f.oscillation; _ = f.minimum }
                print(d, String(format: "plan %.2f symbol %.2f exp %.2f apply %.2f log %.2f | total %.2f osc %.2f ms", t1*1e3, t2*1e3, t3*1e3, t4*1e3, t5*1e3, t6*1e3, t7*1e3), s.report.notes)
            }
        }
    }
}
