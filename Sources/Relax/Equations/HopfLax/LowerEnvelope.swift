/// The one-dimensional discrete inf-convolution with a quadratic,
///
///     out[i] = min_j  f[j] + a (i - (j + offset))^2,   i in 0..<queries,  j in 0..<count,
///
/// by the lower envelope of parabolas (Felzenszwalb & Huttenlocher, "Distance transforms of
/// sampled functions", 2012): each source `j` contributes the parabola
/// `y -> f[j] + a (y - j - offset)^2`; a left-to-right sweep keeps the parabolas that are
/// lowest somewhere, with the abscissae `z` where consecutive ones cross, and a second sweep
/// reads the envelope at the query nodes. O(count + queries) work, exact: every value is
/// `f[j*] + a * d * d` for the selected source, computed in the same floating-point order as
/// the brute-force minimum.
///
/// Tie rule: among sources with equal cost at a query node the smallest `j` wins. (A parabola
/// that meets the envelope only where two others cross is dropped, `s <= z[k]`; a query node
/// on a crossing keeps the left parabola, `z[k+1] < x`.)
///
/// Positions are in units of grid cells: `a = h^2 / (2 t)` and `offset` is the position of
/// source 0 relative to query 0 (negative for a periodic line extended by ghost images).
enum LowerEnvelope {
    /// Scratch for one line: the envelope's parabola indices and crossing abscissae
    /// (`count` and `count + 1` entries for a line of `count` sources).
    struct Workspace {
        var vertices: [Int32]
        var crossings: [Double]
        init(capacity: Int) {
            vertices = [Int32](repeating: 0, count: capacity)
            crossings = [Double](repeating: 0, count: capacity + 1)
        }
    }

    /// Writes `out[i]` and the minimizing source index `argmin[i]` (in `0..<count`) for
    /// `i in 0..<queries`. `f` must hold `count >= 1` finite values; `a > 0`.
    @inline(__always)
    static func transform(
        _ f: UnsafePointer<Double>, count: Int, offset: Int, a: Double,
        queries: Int, out: UnsafeMutablePointer<Double>, argmin: UnsafeMutablePointer<Int32>,
        vertices v: UnsafeMutablePointer<Int32>, crossings z: UnsafeMutablePointer<Double>
    ) {
        let halfOverA = 0.5 / a
        var k = 0
        v[0] = 0
        z[0] = -Double.infinity
        var q = 1
        while q < count {
            let fq = f[q]
            var s: Double
            while true {
                let p = Int(v[k])
                // Crossing of the parabolas of p < q, written around their midpoint so that
                // large positions do not cancel: s = (p+q)/2 + (f[q]-f[p]) / (2a (q-p)).
                s = 0.5 * Double(p + q) + (fq - f[p]) * halfOverA / Double(q - p)
                if s <= z[k] && k > 0 { k -= 1 } else { break }
            }
            k += 1
            v[k] = Int32(truncatingIfNeeded: q)
            z[k] = s
            q += 1
        }
        z[k + 1] = Double.infinity
        k = 0
        for i in 0..<queries {
            let x = Double(i - offset)
            while z[k + 1] < x { k += 1 }
            let p = Int(v[k])
            let d = x - Double(p)
            out[i] = f[p] + a * (d * d)
            argmin[i] = Int32(truncatingIfNeeded: p)
        }
    }
}
