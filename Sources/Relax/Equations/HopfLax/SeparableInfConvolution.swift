/// The discrete Hopf–Lax transform of node values,
///
///     u_i = min_j  f_j + sum_k (h_k (i_k - j_k))^2 / (2t),
///
/// in d passes of `LowerEnvelope` (the quadratic kernel is separable), carrying the argmin
/// multi-index through the passes: after the pass along axis k picks node `j_k` of the line,
/// the argmins of the axes already done are read at that node. Axes run from the last
/// (contiguous) to the first, so the first axis is the most significant: ties go to the
/// smallest row-major flat index of the prox node, the rule `HopfLax.bruteForce` uses.
///
/// Periodic axes use the periodic distance: each line is extended by `R` ghost images on
/// both sides, `R h >= sqrt(2 t osc f)`, beyond which no source can beat the query node
/// itself, and the argmin is the unwrapped node index (it may lie outside `0..<n`).
struct SeparableInfConvolution {
    let grid: Grid
    let time: Double

    /// Node values of `u` and, per axis, the prox node index (unwrapped on periodic axes).
    struct Output {
        var value: [Double]
        /// `index[k * count + flat]` is the axis-k node index of the prox of node `flat`.
        var index: [Int32]
    }

    /// Lines processed together on a strided axis, so that each cache line read serves
    /// `block` lines (a gather/scatter of a `block x n` tile instead of `n` scattered reads).
    static let block = 16

    func run(_ f: [Double]) -> Output {
        precondition(f.count == grid.count)
        let d = grid.dimension
        let count = grid.count
        // Every element is written by the first pass (value) and by each axis's pass (index).
        var value = [Double](unsafeUninitializedCapacity: count) { _, n in n = count }
        var index = [Int32](unsafeUninitializedCapacity: d * count) { _, n in n = d * count }
        // Only periodic axes need it (for their ghost images).
        let oscillation = grid.axes.contains(where: \.periodic) ? (f.max() ?? 0) - (f.min() ?? 0) : 0
        f.withUnsafeBufferPointer { fb in
            value.withUnsafeMutableBufferPointer { vb in
                index.withUnsafeMutableBufferPointer { ib in
                    for axis in stride(from: d - 1, through: 0, by: -1) {
                        // The first pass (last axis, contiguous) reads f; later ones work in place.
                        let source = axis == d - 1 ? fb.baseAddress! : UnsafePointer(vb.baseAddress!)
                        pass(axis: axis, oscillation: oscillation, source: source,
                             target: vb.baseAddress!, index: ib.baseAddress!)
                    }
                }
            }
        }
        return Output(value: value, index: index)
    }

    /// Ghost nodes per side on a periodic axis: sources farther than sqrt(2 t osc) cost more
    /// than the query node itself.
    func periodicExtension(axis: Int, oscillation: Double) -> Int {
        guard grid.axes[axis].periodic else { return 0 }
        let reach = (2 * time * max(0, oscillation)).squareRoot()
        return Int((reach / grid.axes[axis].spacing).rounded(.up)) + 1
    }

    /// One pass along `axis`: `target` = transform of `source` line by line (they may alias),
    /// the axis's prox index written, and the earlier axes' indices composed.
    private func pass(axis: Int, oscillation: Double, source: UnsafePointer<Double>,
                      target: UnsafeMutablePointer<Double>, index idx: UnsafeMutablePointer<Int32>) {
        let d = grid.dimension
        let count = grid.count
        let n = grid.axes[axis].count
        let stride = grid.strides[axis]
        let h = grid.axes[axis].spacing
        let a = h * h / (2 * time)
        let ghosts = periodicExtension(axis: axis, oscillation: oscillation)
        let sources = n + 2 * ghosts
        let lines = grid.lineCount(along: axis)
        let carried = Array((axis + 1)..<d)      // axes whose argmins are already known
        let grid = self.grid
        let blockSize = stride == 1 ? 1 : Self.block
        // One long line (1-D, free or periodic): the line itself is split over the cores
        // (its ranges read the sources while others write: never in place).
        let parts = lines == 1 && sources >= LowerEnvelope.splitLength && (ghosts > 0 || source != UnsafePointer(target))
            ? Parallel.workers : 1
        Parallel.forEachChunk(lines, minimumPerChunk: max(1, 32768 / n)) { range in
            let line = UnsafeMutablePointer<Double>.allocate(capacity: blockSize * sources)
            let out = UnsafeMutablePointer<Double>.allocate(capacity: blockSize * n)
            let arg = UnsafeMutablePointer<Int32>.allocate(capacity: blockSize * n)
            let carry = UnsafeMutablePointer<Int32>.allocate(capacity: carried.isEmpty ? 1 : blockSize * n)
            let v = UnsafeMutablePointer<Int32>.allocate(capacity: sources)
            let z = UnsafeMutablePointer<Double>.allocate(capacity: sources + 1)
            defer {
                line.deallocate(); out.deallocate(); arg.deallocate()
                carry.deallocate(); v.deallocate(); z.deallocate()
            }
            @inline(__always) func wrap(_ j: Int) -> Int { ghosts == 0 ? j : ((j - ghosts) % n + n) % n }
            var l = range.lowerBound
            while l < range.upperBound {
                let start = grid.lineStart(along: axis, line: l)
                if stride == 1 {
                    // Contiguous line (the first pass): read in place, write outputs directly.
                    let own = idx + axis * count + start
                    if ghosts > 0 { for j in 0..<sources { line[j] = source[start + wrap(j)] } }
                    let input = ghosts > 0 ? UnsafePointer(line) : source + start
                    if parts > 1 {
                        LowerEnvelope.transform(input, count: sources, offset: -ghosts, a: a, queries: n,
                                                out: target + start, argmin: own, parts: parts)
                    } else {
                        LowerEnvelope.transform(input, count: sources, offset: -ghosts, a: a, queries: n,
                                                out: target + start, argmin: own, vertices: v, crossings: z)
                    }
                    let shift = Int32(ghosts)
                    if ghosts > 0 { for i in 0..<n { own[i] &-= shift } }
                    l += 1
                    continue
                }
                // Strided: a tile of b lines with consecutive starts (same outer index).
                let b = min(blockSize, range.upperBound - l, stride - l % stride)
                for j in 0..<sources {
                    let row = source + start + wrap(j) * stride
                    for bb in 0..<b { line[bb * sources + j] = row[bb] }
                }
                for bb in 0..<b {
                    LowerEnvelope.transform(line + bb * sources, count: sources, offset: -ghosts, a: a,
                                            queries: n, out: out + bb * n, argmin: arg + bb * n,
                                            vertices: v, crossings: z)
                }
                for i in 0..<n {
                    let row = target + start + i * stride
                    for bb in 0..<b { row[bb] = out[bb * n + i] }
                }
                // Compose: the prox of node i along the earlier axes is that of node j*(i).
                for m in carried {
                    let base = idx + m * count + start
                    for i in 0..<n {
                        let row = base + i * stride
                        for bb in 0..<b { carry[bb * n + i] = row[bb] }
                    }
                    for i in 0..<n {
                        let row = base + i * stride
                        for bb in 0..<b { row[bb] = carry[bb * n + wrap(Int(arg[bb * n + i]))] }
                    }
                }
                let own = idx + axis * count + start
                let shift = Int32(ghosts)
                for i in 0..<n {
                    let row = own + i * stride
                    for bb in 0..<b { row[bb] = arg[bb * n + i] &- shift }
                }
                l += b
            }
        }
    }
}
