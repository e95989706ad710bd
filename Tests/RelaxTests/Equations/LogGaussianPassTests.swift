import Foundation
import Testing
@testable import Relax

/// The block form of the log-domain pass on a single line long enough to be split over the cores
/// (its envelope by `LowerEnvelope.transform(parts:)`), against a brute-force log-sum-exp at
/// sampled outputs. A double well with a near-tie makes the largest terms of many outputs sit
/// far away (tilted and normalized pairs), which the convexity bound of `classify` must keep.
@Suite("Log-domain pass, blocks: one long line equals the brute-force log-sum-exp")
struct LogGaussianPassTests {
    static let eps = Double.ulpOfOne

    @Test("low-rank and dense blocks on 70000 sources (split envelope): values and mean displacement")
    func longLine() {
        var generator = SplitMix64(seed: 11)
        let n = 70_000, range = 4e3
        let a = LogGaussianSourceSumsTests.line(kind: 1, n: n, range: range, generator: &generator)
        let samples = stride(from: 3, to: n, by: 1747).map { $0 }
        for (c, mode) in [(1e-5, LogGaussianPass.Mode.lowRank), (2e-3, .dense)] {
            let out = LogGaussianPass(coefficient: c, layout: .window(offset: 0, count: n), sourceSums: false)
                .run(shape: ArrayShape(dims: [n]), axis: 0, logValues: a, payloads: [], displacement: true)
            #expect(out.statistics.mode == mode)
            #expect(out.statistics.tiltedPairs + out.statistics.normalizedPairs > 0)
            for i in samples {
                // Brute force over every source, shifted by the largest exponent.
                let x = Double(i)
                let exponents = a.indices.map { a[$0] - c * (x - Double($0)) * (x - Double($0)) }
                let top = exponents.max()!
                var sum = 0.0, first = 0.0
                for j in a.indices {
                    let w = exp(exponents[j] - top)
                    sum += w
                    first += w * (x - Double(j))
                }
                // Exponents of size up to range + c n^2 carry their rounding into every term (the
                // bound of the source-sums tests); low-rank blocks add ~3e-14 relative to the sums.
                let tolerance = 16 * Self.eps * (range + c * Double(n) * Double(n)) + 1e-13
                #expect(abs(out.logValues[i] - (top + log(sum))) <= tolerance, "c = \(c), output \(i)")
                #expect(abs(out.displacement![i] - first / sum) <= tolerance * Double(n), "c = \(c), output \(i)")
            }
        }
    }
}
