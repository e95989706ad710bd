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

    func run(_ f: [Double]) -> Output {
        precondition(f.count == grid.count)
        let d = grid.dimension
        let count = grid.count
        var value = f
        var index = [Int32](repeating: 0, count: d * count)
        let oscillation = (f.max() ?? 0) - (f.min() ?? 0)
        for axis in stride(from: d - 1, through: 0, by: -1) {
            pass(axis: axis, oscillation: oscillation, value: &value, index: &index)
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

    private func pass(axis: Int, oscillation: Double, value: inout [Double], index: inout [Int32]) {
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
        value.withUnsafeMutableBufferPointer { valueBuffer in
            index.withUnsafeMutableBufferPointer { indexBuffer in
                let u = valueBuffer.baseAddress!
                let idx = indexBuffer.baseAddress!
                Parallel.forEachChunk(lines, minimumPerChunk: max(1, 32768 / n)) { range in
                    var work = LowerEnvelope.Workspace(capacity: sources)
                    var line = [Double](repeating: 0, count: sources)
                    var out = [Double](repeating: 0, count: n)
                    var arg = [Int32](repeating: 0, count: n)
                    var carry = [Int32](repeating: 0, count: n)
                    for l in range {
                        let start = grid.lineStart(along: axis, line: l)
                        for j in 0..<sources {
                            var w = j - ghosts
                            if ghosts > 0 { w = ((w % n) + n) % n }
                            line[j] = u[start + w * stride]
                        }
                        line.withUnsafeBufferPointer { f in
                            work.vertices.withUnsafeMutableBufferPointer { v in
                                work.crossings.withUnsafeMutableBufferPointer { z in
                                    out.withUnsafeMutableBufferPointer { o in
                                        arg.withUnsafeMutableBufferPointer { am in
                                            LowerEnvelope.transform(
                                                f.baseAddress!, count: sources, offset: -ghosts, a: a,
                                                queries: n, out: o.baseAddress!, argmin: am.baseAddress!,
                                                vertices: v.baseAddress!, crossings: z.baseAddress!)
                                        }
                                    }
                                }
                            }
                        }
                        for i in 0..<n { u[start + i * stride] = out[i] }
                        // Compose: the prox of node i along the earlier axes is that of node j*(i).
                        for m in carried {
                            let base = idx + m * count + start
                            for i in 0..<n { carry[i] = base[i * stride] }
                            for i in 0..<n {
                                var w = Int(arg[i]) - ghosts
                                if ghosts > 0 { w = ((w % n) + n) % n }
                                base[i * stride] = carry[w]
                            }
                        }
                        let own = idx + axis * count + start
                        for i in 0..<n { own[i * stride] = arg[i] - Int32(ghosts) }
                    }
                }
            }
        }
    }
}
