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
    ///
    /// `candidates` (increasing, `candidateCount` of them, the first 0 and the last `count - 1`),
    /// when given, are the only sources considered: the caller has proved the others are never
    /// the smallest minimizer (`LogGaussianPass.shifts`). `runStarts`, when given, receives the
    /// first query of every run of equal `argmin` and then `queries`; returns the number of runs.
    /// `sign: -1` transforms `-f` and writes `-out` (the upper envelope of `f - a (i - j)^2`),
    /// bit for bit as negating before and after would (negation is exact).
    @inline(__always) @discardableResult
    static func transform(
        _ f: UnsafePointer<Double>, sign: Double = 1, count: Int, offset: Int, a: Double,
        queries: Int, out: UnsafeMutablePointer<Double>, argmin: UnsafeMutablePointer<Int32>,
        vertices v: UnsafeMutablePointer<Int32>, crossings z: UnsafeMutablePointer<Double>,
        candidates: UnsafePointer<Int32>? = nil, candidateCount: Int = 0,
        runStarts: UnsafeMutablePointer<Int32>? = nil
    ) -> Int {
        // (-f[q]) - (-f[p]) = -(f[q] - f[p]) exactly: the sign rides on 1/(2a).
        let halfOverA = sign * (0.5 / a)
        var k = 0
        v[0] = candidates.map { $0[0] } ?? 0
        z[0] = -Double.infinity
        var next = 1
        let end = candidates == nil ? count : candidateCount
        while next < end {
            let q = candidates.map { Int($0[next]) } ?? next
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
            next += 1
        }
        z[k + 1] = Double.infinity
        // Query i (at x = i - offset) reads parabola k for z[k] < x <= z[k+1]: the queries of
        // vertex k start at the first integer x above z[k]. Filled range by range (a run of
        // queries per parabola, no test per query); the empty ranges are skipped.
        var runs = 0
        var start = 0
        for r in 0...k {
            let end = r == k ? queries : firstQuery(above: z[r + 1], offset: offset, queries: queries)
            guard end > start else { continue }
            let p = Int(v[r])
            let fp = f[p], index = Int32(truncatingIfNeeded: p)
            runStarts?[runs] = Int32(truncatingIfNeeded: start)
            runs += 1
            // sign (sign f[p] + a d^2) = f[p] + (sign a) d^2, exactly; positions counted in doubles
            // (exact integers), which vectorizes where integer-to-double conversions do not.
            let signedA = sign * a
            var x = Double(start - offset)
            for i in start..<end {
                let d = x - Double(p)
                out[i] = fp + signedA * (d * d)
                argmin[i] = index
                x += 1
            }
            start = end
        }
        runStarts?[runs] = Int32(truncatingIfNeeded: queries)
        return runs
    }

    /// The first query `i` in `0...queries` with `i - offset > z` (`z` may be infinite).
    @inline(__always)
    static func firstQuery(above z: Double, offset: Int, queries: Int) -> Int {
        let clamped = min(max(z, Double(-offset - 1)), Double(queries - offset))
        // floor: truncation toward zero, one less for a negative non-integer (no library call).
        let truncated = Int(clamped)
        let below = Double(truncated) > clamped ? 1 : 0
        return min(max(truncated - below + 1 + offset, 0), queries)
    }
}

extension LowerEnvelope {
    /// Lines at least this long are split over the cores when they are alone (1-D grids).
    static let splitLength = 1 << 16

    /// `transform` for one long line, split into `parts` query ranges run in parallel.
    ///
    /// The smallest minimizing source is non-decreasing in the query position (if `p`
    /// minimizes at `x` and `p'` at `x' > x`, exchanging them costs `2a (x' - x)(p - p') >= 0`
    /// more when `p > p'`, so `min(p, p')` minimizes at `x` and `max` at `x'`). So after the
    /// smallest minimizer `p_b` at each range boundary `q_b` is found by a brute-force minimum
    /// (split over the cores too), the queries `q_b ..< q_(b+1)` need only the sources
    /// `p_b ... p_(b+1)`: one envelope per range, the same values, `argmin` in `0..<count`.
    /// Work: `O(count + queries)` plus `parts - 1` brute-force minima of `count` terms. `sign`
    /// as in the one-range `transform`.
    static func transform(
        _ f: UnsafePointer<Double>, sign: Double = 1, count: Int, offset: Int, a: Double, queries: Int,
        out: UnsafeMutablePointer<Double>, argmin: UnsafeMutablePointer<Int32>, parts: Int
    ) {
        let parts = max(1, min(parts, queries))
        let q = (0...parts).map { queries * $0 / parts }
        var p = [Int](repeating: 0, count: parts + 1)
        p[parts] = count - 1
        for b in 1..<parts { p[b] = max(p[b - 1], smallestMinimizer(f, sign: sign, count: count, position: Double(q[b] - offset), a: a)) }
        p[parts] = max(p[parts], p[parts - 1])
        // One scratch for all ranges, allocated here (not per worker thread, whose arenas give
        // freed pages back and fault them in again on the next call): range b's envelope
        // starts at p_b + b, its crossings at p_b + 2b.
        let vertices = UnsafeMutablePointer<Int32>.allocate(capacity: count + parts)
        let crossings = UnsafeMutablePointer<Double>.allocate(capacity: count + 2 * parts)
        defer { vertices.deallocate(); crossings.deallocate() }
        Parallel.forEachChunk(parts, minimumPerChunk: 1) { range in
            for b in range {
                let sources = p[b + 1] - p[b] + 1
                // Local source 0 (global p_b) sits at p_b + offset - q_b from local query 0.
                transform(f + p[b], sign: sign, count: sources, offset: offset + p[b] - q[b], a: a, queries: q[b + 1] - q[b],
                          out: out + q[b], argmin: argmin + q[b],
                          vertices: vertices + p[b] + b, crossings: crossings + p[b] + 2 * b)
                let shift = Int32(p[b])
                for i in q[b]..<q[b + 1] { argmin[i] &+= shift }
            }
        }
    }

    /// The smallest `j` minimizing `sign f[j] + a (x - j)^2` (the cost as `transform` rounds it),
    /// by a brute-force minimum split over the cores.
    static func smallestMinimizer(_ f: UnsafePointer<Double>, sign: Double = 1, count: Int, position x: Double,
                                  a: Double) -> Int {
        let chunks = max(1, min(Parallel.workers, count / 16384))
        var best = [(cost: Double, index: Int)](repeating: (.infinity, 0), count: chunks)
        best.withUnsafeMutableBufferPointer { bb in
            let slots = bb.baseAddress!
            Parallel.forEachChunk(chunks, minimumPerChunk: 1) { range in
                for c in range {
                    var least = Double.infinity, at = 0
                    for j in (count * c / chunks)..<(count * (c + 1) / chunks) {
                        let d = x - Double(j)
                        let cost = sign * f[j] + a * (d * d)
                        if cost < least { least = cost; at = j }
                    }
                    slots[c] = (least, at)
                }
            }
        }
        // Chunks are in index order: the first with the least cost holds the smallest minimizer.
        return best.min { $0.cost < $1.cost }!.index
    }
}
