import Foundation

/// A small, fast, seeded pseudo-random generator for reproducible simulations: xoshiro256**
/// (Blackman and Vigna, 2018; period 2^256 - 1, passes BigCrush) with its 256-bit state filled
/// from one 64-bit seed by SplitMix64, as its authors recommend. The same seed gives the same
/// sequence on every platform and run, so a figure drawn from a simulated path is exactly
/// reproducible. Not for cryptography.
///
/// `nextUniform()` is uniform on `[0, 1)` with 53 random bits; `nextGaussian()` is a standard
/// normal by the Box–Muller transform (exact in distribution; each pair of uniforms gives two
/// independent normals, the second kept for the next call).
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64
    private var spareGaussian: Double?

    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = next(); s1 = next(); s2 = next(); s3 = next()
    }

    /// The next 64 random bits (xoshiro256**).
    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// Uniform on `[0, 1)`: the top 53 bits scaled by `2^-53`.
    public mutating func nextUniform() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A standard normal variate (Box–Muller on `u1` in `(0, 1]`, so the logarithm is finite).
    public mutating func nextGaussian() -> Double {
        if let spare = spareGaussian {
            spareGaussian = nil
            return spare
        }
        let u1 = 1 - nextUniform()
        let u2 = nextUniform()
        let radius = (-2 * log(u1)).squareRoot()
        let angle = 2 * Double.pi * u2
        spareGaussian = radius * sin(angle)
        return radius * cos(angle)
    }

    private func rotateLeft(_ x: UInt64, _ k: UInt64) -> UInt64 {
        (x << k) | (x >> (64 - k))
    }
}
