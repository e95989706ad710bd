/// `log` in a branch-free form that the compiler vectorizes inside loops over arrays (the
/// companion of `VectorExp`; the source sums take one `log` per output and pass, a library call
/// each otherwise). The fdlibm reduction: `x = 2^k m` with `m` in `[sqrt(1/2), sqrt(2))` (integer
/// arithmetic on the bits, offset so that only logical shifts are needed), `f = m - 1` (exact),
/// `s = f / (2 + f)`, and `log(1 + f) = 2 atanh(s) = f - s (f - R(s^2))` with
/// `R = sum_{n=1}^{10} 2 s^(2n) / (2n + 1)` (Estrin's form; truncation `|s|^22 / 23 * 2 < 2e-19 |f|` for
/// `|s| <= 0.1716`); then `k ln2` is added in two parts (`ln2Hi` has trailing zeros, so `k ln2Hi`
/// is exact). Plain multiply-add (no FMA on the baseline target), `k` converted to a double by
/// the `2^52` trick (SSE2 has no 64-bit integer conversion). Error a few ulps (tested against
/// `Foundation.log`). Defined for positive normal finite `x` only (no checks: callers guarantee it).
enum VectorLog {
    @inline(__always)
    static func log(_ x: Double) -> Double {
        let ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10
        let bits = x.bitPattern
        // Biased so that it stays positive: the top 12 bits are k + 1023.
        let shifted = bits &- 0x3FE6_A09E_667F_3BCD &+ 0x3FF0_0000_0000_0000   // minus the bits of sqrt(1/2)
        let exponentBits = shifted & 0xFFF0_0000_0000_0000
        let m = Double(bitPattern: bits &- exponentBits &+ 0x3FF0_0000_0000_0000)  // in [sqrt(1/2), sqrt(2))
        // k as a double: 2^52 + (k + 1023), less 2^52 + 1023.
        let k = Double(bitPattern: 0x4330_0000_0000_0000 | (exponentBits >> 52)) - (4503599627370496.0 + 1023.0)
        let f = m - 1
        let s = f / (2 + f)
        let z = s * s
        // Estrin's scheme (as in `VectorExp`): pairs, then the powers z^2, z^4, z^8.
        let z2 = z * z, z4 = z2 * z2, z8 = z4 * z4
        let q0 = 2.0 / 3 + z * (2.0 / 5), q1 = 2.0 / 7 + z * (2.0 / 9), q2 = 2.0 / 11 + z * (2.0 / 13)
        let q3 = 2.0 / 15 + z * (2.0 / 17), q4 = 2.0 / 19 + z * (2.0 / 21)
        let r = z * (((q0 + z2 * q1) + z4 * (q2 + z2 * q3)) + z8 * q4)
        return k * ln2Hi + ((f - s * (f - r)) + k * ln2Lo)
    }
}
