import Foundation
import Testing
@testable import Relax

/// The seeded generator behind the figures' simulated paths: reproducible, and with the moments
/// of its distributions within the sampling error of N draws (5 standard errors: a false alarm
/// has probability ~6e-7 per check, and the seeds are fixed, so a pass is a pass for good).
@Suite("SeededRandom: xoshiro256** + Box–Muller, reproducible with correct moments")
struct SeededRandomTests {
    static let n = 1_000_000

    @Test("the same seed gives the same sequence; different seeds give different ones")
    func reproducible() {
        var a = SeededRandom(seed: 42), b = SeededRandom(seed: 42), c = SeededRandom(seed: 43)
        let sa = (0..<1000).map { _ in a.next() }, sb = (0..<1000).map { _ in b.next() }
        let sc = (0..<1000).map { _ in c.next() }
        #expect(sa == sb)
        #expect(zip(sa, sc).filter { $0 == $1 }.count == 0)
        #expect(Set(sa).count == 1000)
    }

    @Test("uniform on [0, 1): mean 1/2, variance 1/12, each bit set half the time")
    func uniformMoments() {
        var rng = SeededRandom(seed: 7)
        var sum = 0.0, sum2 = 0.0, lo = 1.0, hi = 0.0
        var bits = [Int](repeating: 0, count: 64)
        for _ in 0..<Self.n {
            let u = rng.nextUniform()
            sum += u; sum2 += u * u
            lo = min(lo, u); hi = max(hi, u)
        }
        for _ in 0..<100_000 {
            let w = rng.next()
            for k in 0..<64 where (w >> UInt64(k)) & 1 == 1 { bits[k] += 1 }
        }
        let n = Double(Self.n)
        let mean = sum / n, variance = sum2 / n - mean * mean
        #expect(lo >= 0 && hi < 1)
        // Standard errors: sqrt(1/12 / n) for the mean; sqrt(1/180 / n) for the variance (4th central moment 1/80).
        #expect(abs(mean - 0.5) <= 5 * (1.0 / 12 / n).squareRoot())
        #expect(abs(variance - 1.0 / 12) <= 5 * (1.0 / 180 / n).squareRoot())
        // Bit frequencies: binomial(1e5, 1/2), standard error 158.
        #expect(bits.allSatisfy { abs($0 - 50_000) <= 5 * 158 })
    }

    @Test("Box–Muller normals: mean 0, variance 1, skewness 0, kurtosis 3, pairs uncorrelated")
    func gaussianMoments() {
        var rng = SeededRandom(seed: 2024)
        var m1 = 0.0, m2 = 0.0, m3 = 0.0, m4 = 0.0, lag = 0.0
        var previous = rng.nextGaussian()
        var tail = 0
        for _ in 0..<Self.n {
            let z = rng.nextGaussian()
            m1 += z; m2 += z * z; m3 += z * z * z; m4 += z * z * z * z
            lag += z * previous
            previous = z
            if abs(z) > 3 { tail += 1 }
        }
        let n = Double(Self.n)
        // Standard errors of the sample moments of N(0, 1): sqrt(1/n), sqrt(2/n), sqrt(15/n), sqrt(96/n);
        // lag-1 product sqrt(1/n) (it also covers the two normals of one Box–Muller pair).
        #expect(abs(m1 / n) <= 5 * (1 / n).squareRoot())
        #expect(abs(m2 / n - 1) <= 5 * (2 / n).squareRoot())
        #expect(abs(m3 / n) <= 5 * (15 / n).squareRoot())
        #expect(abs(m4 / n - 3) <= 5 * (96 / n).squareRoot())
        #expect(abs(lag / n) <= 5 * (1 / n).squareRoot())
        // P(|Z| > 3) = 0.0026998: binomial standard error sqrt(p (1 - p) n).
        let p = 0.0026998
        #expect(abs(Double(tail) - p * n) <= 5 * (p * (1 - p) * n).squareRoot())
    }
}
