/// `exp` in a branch-free form that the compiler vectorizes inside loops over arrays:
/// Cody–Waite reduction `x = n ln2 + r`, `|r| <= ln2/2` (`n` rounded with the `1.5 * 2^52`
/// trick, so no conversion traps), a degree-13 Taylor polynomial for `e^r` (truncation
/// `0.347^14/14! < 5e-18`) in Estrin's form (plain multiply-add: the baseline x86-64 target has
/// no FMA instruction, and `addingProduct` would become a library call), and `2^n` assembled from exponent bits in two
/// halves with wrapping integer arithmetic (results down into the subnormal range are right).
/// Relative error a few ulps (`<= 1e-15`, tested against `Foundation.exp`); `x < -745.2`
/// gives 0 and `x > 709.78` infinity. Inputs must not be NaN.
enum VectorExp {
    @inline(__always)
    static func exp(_ x: Double) -> Double {
        let ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10
        let magic = 6755399441055744.0  // 1.5 * 2^52: adding it rounds to an integer in the low bits
        let clamped = Swift.min(Swift.max(x, -745.2), 709.8)
        let shifted = clamped * 1.44269504088896338700 + magic
        let n = shifted - magic
        let r = (clamped - n * ln2Hi) - n * ln2Lo
        // Estrin's scheme: pairs, then powers r^2, r^4, r^8 (a dependency depth of 4 multiply-adds
        // instead of Horner's 13, so consecutive elements overlap in the pipeline).
        let r2 = r * r, r4 = r2 * r2, r8 = r4 * r4
        let q0 = 1.0 + r, q1 = 0.5 + r * (1.0 / 6.0)
        let q2 = 1.0 / 24.0 + r * (1.0 / 120.0), q3 = 1.0 / 720.0 + r * (1.0 / 5040.0)
        let q4 = 1.0 / 40320.0 + r * (1.0 / 362880.0), q5 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0)
        let q6 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0)
        let s0 = q0 + r2 * q1, s1 = q2 + r2 * q3, s2 = q4 + r2 * q5
        let p = (s0 + r4 * s1) + r8 * (s2 + r4 * q6)
        let k = Int64(bitPattern: shifted.bitPattern) &- Int64(bitPattern: magic.bitPattern)
        let half = k &>> 1
        let first = Double(bitPattern: UInt64(bitPattern: (half &+ 1023) &<< 52))
        let second = Double(bitPattern: UInt64(bitPattern: (k &- half &+ 1023) &<< 52))
        let value = p * first * second
        return x < -745.2 ? 0 : value
    }

    /// `out[i] = exp(start + step * i)` for `i in 0..<count` as the product of two exponentials,
    /// `exp(start + step * 16k) * exp(step * r)` for `i = 16k + r`: about `count/16 + 16` calls of
    /// `exp` instead of `count`. Relative error: a few ulps (two exponentials and one product) plus
    /// the rounding of the split argument, `~2 eps |start + step i|` (as `exp` of any rounded
    /// argument); none grows along the sequence, unlike a recurrence. The two factors must not
    /// overflow or underflow on their own (`|start| + |step| count` well within 700).
    static func geometric(start: Double, step: Double, into out: UnsafeMutablePointer<Double>, count: Int) {
        let width = 16
        var low = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
        withUnsafeMutableBytes(of: &low) { bytes in
            let factors = bytes.baseAddress!.assumingMemoryBound(to: Double.self)
            for r in 0..<width { factors[r] = exp(step * Double(r)) }
            var first = 0
            while first < count {
                let high = exp(start + step * Double(first))
                let n = Swift.min(width, count - first)
                for r in 0..<n { out[first + r] = high * factors[r] }
                first += width
            }
        }
    }

    /// `out[i] = exp(x[i] + shift)` for `i in 0..<count` (`out` may alias `x`).
    static func apply(_ x: UnsafePointer<Double>, shift: Double = 0, into out: UnsafeMutablePointer<Double>, count: Int) {
        for i in 0..<count { out[i] = exp(x[i] + shift) }
    }
}
