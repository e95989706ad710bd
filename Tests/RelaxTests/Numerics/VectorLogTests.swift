import Foundation
import Testing
@testable import Relax

@Suite("VectorLog: the branch-free log of the Cole–Hopf source sums")
struct VectorLogTests {
    /// The reduction and `f = m - 1` are exact, the series' truncation is below 2e-19 relative, and
    /// the roundings of `s`, the correction `s (f - R)` (at most `0.09 |f|`) and `k ln2` add about
    /// one ulp: within 2 ulps of `Foundation.log` (itself within an ulp of the true value), over
    /// the whole normal range, densely near 1 (where `log` is small and cancellation would show),
    /// at the ends of the range, and exactly 0 at 1.
    @Test("matches Foundation.log to 2 ulps over the normal range")
    func accuracy() {
        var generator = SystemRandomNumberGenerator()
        var samples = (0..<100_000).map { _ in exp(Double.random(in: -700...700, using: &generator)) }
        samples += (0..<100_000).map { _ in Double.random(in: 0.5...2, using: &generator) }
        samples += stride(from: 1.0, through: 100, by: 0.001).map { $0 }
        samples += [Double.leastNormalMagnitude, Double.greatestFiniteMagnitude, 1.0.nextUp, 1.0.nextDown, 2, 0.5]
        var worst = 0.0
        for x in samples {
            let reference = log(x)
            worst = max(worst, abs(VectorLog.log(x) - reference) / reference.ulp)
        }
        #expect(worst <= 2)
        #expect(VectorLog.log(1) == 0)
    }
}
