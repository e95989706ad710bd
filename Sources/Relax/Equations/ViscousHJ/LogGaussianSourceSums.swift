import Foundation

/// `LogGaussianPass` for narrow kernels, term by term but only over the terms that matter:
///
///     b_i = log sum_j exp(a_j - c (x_i - y_j)^2),   shifted by m_i = max_j a_j - c (x_i - y_j)^2,
///
/// with the means of the displacement `x_i - y_j` and of payloads under the same weights.
///
/// The significant terms are found source by source, with a proof instead of a search. For a
/// source `j` the gap to the envelope `g_j(x) = m(x) - a_j + c (x - y_j)^2` is a maximum of
/// functions affine in `x` (`m(x) = max_k a_k - c (x - y_k)^2`, and `-c (x - y_k)^2 + c (x - y_j)^2`
/// is affine), so it is convex, and at an output `i` whose largest term is source `p_i` the
/// affine piece of `p_i` touches it: `2c (p_i - y_j)` is a subgradient there. Hence with `i*` the
/// first output with `p_i >= j` (the prox map is found by the lower envelope), `g_j` does not
/// increase to the left of `i* - 1` nor to the right of `i*` from those points: its least value
/// over the outputs is `min(g_j(i* - 1), g_j(i*))`, and the outputs where `g_j <= truncation`
/// form one interval around it, found by walking out until `g_j` exceeds the truncation. Every
/// dropped term is below `exp(-truncation)` of its output's largest term (which is 1): the
/// truncation of the block path, with no block padding and no exponent computed in vain.
///
/// Work per line: `O(sources + outputs)` for the envelope and the scan, plus one `exp` and a few
/// multiply-adds per kept term. Kept terms per output: about `2 sqrt(truncation / c_eff)`, where
/// `c_eff = c (1 + t f''(prox))` is the curvature of the exponent at the prox point (`~5` on the
/// 2-D benchmark at beta = 1e4), plus the near-ties where two prox points compete.
struct LogGaussianSourceSums {
    let coefficient: Double
    let layout: LineLayout
    /// `LogGaussianPass.input`, `output` and `displacementFactor`.
    var input = AffineMap.identity
    var output = AffineMap.identity
    var displacementFactor = 1.0

    /// Lines along a strided axis are processed in groups of this many neighbours, gathered
    /// into and scattered from a contiguous tile: whole cache lines are read and written.
    static let groupSize = 32

    /// The pass along `axis` of `shape` (see `LogGaussianPass.run`).
    func run(shape: ArrayShape, axis: Int, logValues: [Double], payloads: [[Double]], oddPayloads: [Bool],
             displacement wantDisplacement: Bool) -> LogGaussianPass.Result {
        let n = shape.dims[axis]
        let lines = shape.lineCount(along: axis)
        let outputs = layout.outputCount(lineLength: n)
        let outShape = shape.replacing(axis: axis, with: outputs)
        let inStep = shape.strides[axis], outStep = outShape.strides[axis]
        let group = inStep == 1 ? 1 : Self.groupSize
        // The input tile's rows hold a line with room for its images on both sides (filled in
        // place); rows a little longer than that, since power-of-two pitches would map a column
        // of a tile to one cache set.
        let margin = layout.images, sources = layout.sourceCount(lineLength: n)
        let inPitch = sources + 8 + sources % 2, outPitch = outputs + 8 + outputs % 2
        let groups = (lines + group - 1) / group
        let payloadCount = payloads.count
        let total = outShape.count
        // Fields written per output: log value, displacement, payload means.
        let fields = 1 + (wantDisplacement ? 1 : 0) + payloadCount
        let terms = ScratchBuffer<Int>(count: groups, repeating: 0)
        let ratios = RatioTable(coefficient: coefficient)
        let arrays = filledArrays(fields, length: total) { results in
        withBaseAddresses([logValues] + payloads) { inputs in
            Parallel.forEachChunk(groups, minimumPerChunk: max(1, 8192 / max(1, sources * group))) { range in
                var line = LineWork(sources: sources, outputs: outputs, payloads: payloadCount, ratios: ratios)
                // The tiles of a group of lines; a single field of a contiguous line (the last
                // axis) is written in place.
                let inPlace = group == 1 && fields == 1
                let inBuffer = ScratchBuffer<Double>(uninitializedCount: group * inPitch * (1 + payloadCount))
                let outBuffer = ScratchBuffer<Double>(uninitializedCount: inPlace ? 0 : group * outPitch * fields)
                let targets = ScratchBuffer<UnsafeMutablePointer<Double>>(uninitializedCount: fields)
                let inTile = inBuffer.base, outTile = outBuffer.base
                defer {
                    line.deallocate()
                    withExtendedLifetime((inBuffer, outBuffer, targets)) {}
                }
                var inStarts = [Int](repeating: 0, count: group), outStarts = inStarts
                let inRows = (0..<group).map { $0 * inPitch + margin }, outRows = (0..<group).map { $0 * outPitch }
                for g in range {
                    let first = g * group, width = min(group, lines - first)
                    for w in 0..<width {
                        inStarts[w] = shape.lineStart(along: axis, line: first + w)
                        outStarts[w] = outShape.lineStart(along: axis, line: first + w)
                    }
                    // The values (through `input`), then the payloads, into the rows of the input tile.
                    for (k, source) in inputs.enumerated() {
                        Self.copyLines(width, count: n, from: source, starts: inStarts, step: inStep,
                                       to: inTile + k * group * inPitch, starts: inRows, step: 1,
                                       map: k == 0 ? input : .identity)
                    }
                    var kept = 0
                    for w in 0..<width {
                        /// Line `w` of input `k`, in place in its row.
                        func row(_ k: Int) -> UnsafeMutablePointer<Double> { inTile + k * group * inPitch + inRows[w] }
                        let own = lineLayout(row(0), count: n)
                        own.fillImages(row(0), lineLength: n)
                        line.a = row(0) - own.images
                        for p in 0..<payloadCount {
                            own.fillImages(row(p + 1), lineLength: n, odd: oddPayloads[p])
                        }
                        line.payloadSources = row(1) - own.images
                        line.payloadStride = group * inPitch
                        for k in 0..<fields {
                            targets[k] = inPlace ? results[k] + outStarts[w] : outTile + k * group * outPitch + outRows[w]
                        }
                        kept += line.run(sources: own.sourceCount(lineLength: n), c: coefficient, offset: own.outputOffset,
                                         displacement: wantDisplacement)
                        line.finish(into: targets.base, displacement: wantDisplacement, output: output,
                                    displacementFactor: displacementFactor)
                    }
                    terms[g] = kept
                    for (k, result) in results.enumerated() where !inPlace {
                        Self.copyLines(width, count: outputs, from: outTile + k * group * outPitch, starts: outRows, step: 1,
                                       to: result, starts: outStarts, step: outStep)
                    }
                }
            }
        }
        }
        var statistics = LogGaussianPass.Statistics()
        statistics.mode = .sourceSums
        statistics.terms = terms.array.reduce(0, +)
        return LogGaussianPass.Result(
            shape: outShape, logValues: arrays[0], payloads: Array(arrays.suffix(payloadCount)),
            displacement: wantDisplacement ? arrays[1] : nil, statistics: statistics)
    }

    /// The layout for one line: periodic and mirror images only as far as a source can matter
    /// (`LogGaussianPass.imageReach`).
    private func lineLayout(_ values: UnsafePointer<Double>, count n: Int) -> LineLayout {
        switch layout {
        case .window: return layout
        case let .periodic(g):
            return .periodic(ghosts: LogGaussianPass.imageReach(values, step: 1, count: n, coefficient: coefficient, cap: g))
        case let .mirror(g):
            return .mirror(ghosts: LogGaussianPass.imageReach(values, step: 1, count: n, coefficient: coefficient, cap: g))
        }
    }

    /// Copies `width` lines of `count` values from `source` (line `w` at `sourceStarts[w]`, values
    /// `sourceStep` apart) to `target` (at `targetStarts[w]`, `targetStep` apart): a group of
    /// strided grid lines into the rows of a tile and back. Four values of a line at a time, so
    /// that each pass over the group touches the tile's rows (and the strided side's cache lines)
    /// four times less often.
    static func copyLines(_ width: Int, count: Int, from source: UnsafePointer<Double>, starts sourceStarts: [Int],
                          step sourceStep: Int, to target: UnsafeMutablePointer<Double>, starts targetStarts: [Int],
                          step targetStep: Int, map: AffineMap = .identity) {
        sourceStarts.withUnsafeBufferPointer { from in
            targetStarts.withUnsafeBufferPointer { to in
                if sourceStep == 1 && targetStep == 1 {
                    for w in 0..<width {
                        let s = source + from[w], t = target + to[w]
                        if map == .identity {
                            t.update(from: s, count: count)
                        } else {
                            for q in 0..<count { t[q] = map(s[q]) }
                        }
                    }
                    return
                }
                var q = 0
                while q + 4 <= count {
                    for w in 0..<width {
                        let s = source + from[w] + q * sourceStep, t = target + to[w] + q * targetStep
                        let v0 = map(s[0]), v1 = map(s[sourceStep]), v2 = map(s[2 * sourceStep]), v3 = map(s[3 * sourceStep])
                        t[0] = v0
                        t[targetStep] = v1
                        t[2 * targetStep] = v2
                        t[3 * targetStep] = v3
                    }
                    q += 4
                }
                while q < count {
                    for w in 0..<width { target[to[w] + q * targetStep] = map(source[from[w] + q * sourceStep]) }
                    q += 1
                }
            }
        }
    }
}

/// `exp(-2c delta)` for the integer offsets `|delta| <= 23/c + 2`: the ratios of the geometric
/// sequences of terms (a ratio of two terms within `[exp(-truncation), 1]` has `2c |delta| <= 46`);
/// and `1/(2c delta)` for `0 < delta <= reach`, which turns the exponent's distance to the
/// truncation into steps (a product instead of a division per run of terms).
private final class RatioTable: @unchecked Sendable {
    let reach: Int
    /// `values[delta + reach] = exp(-2c delta)`.
    let values: UnsafeMutablePointer<Double>
    /// `inverseSlopes[delta] = 1 / (2c delta)` (entry 0 unused).
    let inverseSlopes: UnsafeMutablePointer<Double>

    init(coefficient c: Double) {
        let reach = Int(min(1e6, (LogGaussianPass.truncation / (2 * c)).rounded(.up))) + 2
        self.reach = reach
        values = .allocate(capacity: 2 * reach + 1)
        inverseSlopes = .allocate(capacity: reach + 1)
        for delta in -reach...reach { values[delta + reach] = VectorExp.exp(-2 * c * Double(delta)) }
        inverseSlopes[0] = 0
        for delta in 1...reach { inverseSlopes[delta] = 1 / (2 * c * Double(delta)) }
    }

    deinit {
        values.deallocate()
        inverseSlopes.deallocate()
    }

    @inline(__always) func ratio(_ delta: Int) -> Double { values[delta + reach] }
}

/// The buffers of one line and the source-by-source accumulation.
private struct LineWork {
    let sources: Int
    let outputs: Int
    let payloads: Int
    /// The sources of the line (in the input tile, images filled in place).
    var a: UnsafeMutablePointer<Double>
    let m: UnsafeMutablePointer<Double>
    let sum: UnsafeMutablePointer<Double>
    let displacement: UnsafeMutablePointer<Double>
    /// Payload `p`'s sources at `payloadSources + p * payloadStride`.
    var payloadSources: UnsafeMutablePointer<Double>
    var payloadStride = 0
    let payloadSums: UnsafeMutablePointer<Double>
    let weights: UnsafeMutablePointer<Double>
    let prox: UnsafeMutablePointer<Int32>
    /// The first and last output of the run of equal prox index each output belongs to.
    let runFirst: UnsafeMutablePointer<Int32>
    let runLast: UnsafeMutablePointer<Int32>
    /// `exp(eps_k)` and `exp(-eps_k)` at the boundary between outputs `k` and `k + 1` of two runs.
    let boundaryFactor: UnsafeMutablePointer<Double>
    let inverseBoundaryFactor: UnsafeMutablePointer<Double>
    /// The first output of every run (`runs + 1` entries, the last `outputs`), from the envelope,
    /// and scratch per run.
    let runStart: UnsafeMutablePointer<Int32>
    let runEps: UnsafeMutablePointer<Double>
    /// The significant sources, the output where each one's sweeps start, and its term there.
    let kept: UnsafeMutablePointer<Int32>
    let keptStart: UnsafeMutablePointer<Int32>
    let keptTerm: UnsafeMutablePointer<Double>
    let vertices: UnsafeMutablePointer<Int32>
    let crossings: UnsafeMutablePointer<Double>
    /// The sources the envelope considers (`LogGaussianPass.shifts`).
    let candidates: UnsafeMutablePointer<Int32>
    /// The largest source value of every block of `scanBlock` sources.
    let blockMaxima: UnsafeMutablePointer<Double>

    let ratios: RatioTable

    /// Sources per block of the scan's bound (a multiple of 4: four running maxima).
    static let scanBlock = 16
    /// Steps of the geometric recurrence between two exponentials (bounds its rounding error).
    static let recurrenceSteps = 64

    init(sources: Int, outputs: Int, payloads: Int, ratios: RatioTable) {
        self.ratios = ratios
        self.sources = sources
        self.outputs = outputs
        self.payloads = payloads
        m = .allocate(capacity: outputs)
        a = m                             // both set per line, to the line's rows of the input tile
        payloadSources = m
        sum = .allocate(capacity: outputs)
        displacement = .allocate(capacity: outputs)
        payloadSums = .allocate(capacity: max(1, payloads * outputs))
        weights = .allocate(capacity: outputs)
        prox = .allocate(capacity: outputs)
        runFirst = .allocate(capacity: outputs)
        runLast = .allocate(capacity: outputs)
        boundaryFactor = .allocate(capacity: outputs)
        inverseBoundaryFactor = .allocate(capacity: outputs)
        runStart = .allocate(capacity: outputs + 1)
        runEps = .allocate(capacity: outputs + 1)
        kept = .allocate(capacity: sources + 1)
        keptStart = .allocate(capacity: sources + 1)
        keptTerm = .allocate(capacity: sources + 1)
        vertices = .allocate(capacity: sources)
        candidates = .allocate(capacity: sources)
        blockMaxima = .allocate(capacity: sources / Self.scanBlock + 1)
        crossings = .allocate(capacity: sources + 1)
    }

    func deallocate() {
        for p in [m, sum, displacement, payloadSums, weights, crossings, boundaryFactor,
                  inverseBoundaryFactor, runEps, keptTerm, blockMaxima] { p.deallocate() }
        for p in [prox, runFirst, runLast, runStart, vertices, kept, keptStart, candidates] { p.deallocate() }
    }

    /// The envelope `m`, its prox indices, and the sums over the significant terms of every
    /// source; returns the number of terms kept.
    func run(sources: Int, c: Double, offset: Int, displacement wantDisplacement: Bool) -> Int {
        let runs = LogGaussianPass.shifts(a, count: sources, offset: offset, coefficient: c, outputs: outputs, m: m,
                                          prox: prox, vertices: vertices, crossings: crossings,
                                          candidates: candidates, runStarts: runStart)
        findRuns(runs, c: c, offset: offset)
        sum.update(repeating: 0, count: outputs)
        if wantDisplacement { displacement.update(repeating: 0, count: outputs) }
        if payloads > 0 { payloadSums.update(repeating: 0, count: payloads * outputs) }
        let count = significantSources(sources: sources, runs: runs, c: c, offset: offset)
        // One exact exponential per source, all in one loop (it vectorizes).
        let kept = self.kept, keptStart = self.keptStart, keptTerm = self.keptTerm
        for s in 0..<count { keptTerm[s] = VectorExp.exp(keptTerm[s]) }
        var terms = 0
        for s in 0..<count {
            let j = Int(kept[s]), start = Int(keptStart[s]), first = keptTerm[s]
            terms += sweep(source: j, from: start, forward: true, first: first, stepsFromExact: 0, c: c,
                           offset: offset, displacement: wantDisplacement)
            // The backward sweep starts from the forward one's first term times the step to the
            // output before (the recurrence of `sweep`).
            if start > 0 {
                terms += sweep(source: j, from: start - 1, forward: false, first: stepBack(source: j, from: start, term: first),
                               stepsFromExact: 1, c: c, offset: offset, displacement: wantDisplacement)
            }
        }
        return terms
    }

    /// The sources with a term within the truncation, in `kept` (their number returned), with
    /// the output where their sweeps start (`keptStart`) and the exponent there (`keptTerm`).
    ///
    /// The sources up to run r's prox index (and past the last one, those of no run) have their
    /// prox crossing at `next`, the run's first output: the first output with prox >= j. A
    /// source's least gap is the smaller of those at the outputs before and at the crossing
    /// (see the type). Blocks of sources whose gaps all exceed the truncation by the bound
    /// `m - (max a - c d^2)` (`blockMaxima`, `d` the block's least distance) are passed over
    /// whole: most sources are insignificant, in long stretches. Within a block the sources are
    /// collected without a branch (selects here would be compiled to branches that mispredict
    /// at the edges of the significant clusters).
    func significantSources(sources: Int, runs: Int, c: Double, offset: Int) -> Int {
        fillBlockMaxima(sources: sources)
        let tau = LogGaussianPass.truncation
        let above = tau.nextUp                      // gap <= tau exactly when gap - above < 0
        let m = self.m, a = self.a, outputs = self.outputs, runStart = self.runStart, prox = self.prox
        let kept = self.kept, keptStart = self.keptStart, keptTerm = self.keptTerm
        let blockMaxima = self.blockMaxima, block = Self.scanBlock
        var count = 0
        var j = 0
        for r in 0...runs {
            let next = Int(runStart[r])
            let through = r < runs ? Int(prox[next]) : sources - 1
            // m at the outputs before and at the crossing (an absent end is never kept).
            let mBefore = next > 0 ? m[next - 1] : .infinity, mAt = next < outputs ? m[next] : .infinity
            while j <= through {
                let blockEnd = min((j / block + 1) * block, through + 1)
                // The distances d (cells) from sources j ..< blockEnd to the output before the
                // crossing decrease from `far` to `near`; to the output at it they are one more.
                let far = Double(next - 1 + offset - j), near = Double(next - 1 + offset - (blockEnd - 1))
                let top = blockMaxima[j / block]
                let leastBefore = near > 0 ? near * near : far < 0 ? far * far : 0
                let leastAt = near + 1 > 0 ? (near + 1) * (near + 1) : far + 1 < 0 ? (far + 1) * (far + 1) : 0
                guard mBefore - (top - c * leastBefore) <= tau || mAt - (top - c * leastAt) <= tau else {
                    j = blockEnd
                    continue
                }
                for i in j..<blockEnd {
                    // The gap g_i(k) = m_k - (a_i - c d^2), d = x_k - y_i in cells, at the two
                    // outputs around the prox crossing; the smaller one and its output.
                    let dBefore = Double(next - 1 + offset - i), dAt = dBefore + 1
                    let gapBefore = mBefore - (a[i] - c * (dBefore * dBefore))
                    let gapAt = mAt - (a[i] - c * (dAt * dAt))
                    let least = gapAt < gapBefore ? gapAt : gapBefore
                    kept[count] = Int32(truncatingIfNeeded: i)
                    keptStart[count] = Int32(truncatingIfNeeded: next - 1 + Self.isNegative(gapAt - gapBefore))
                    keptTerm[count] = -least
                    count &+= Self.isNegative(least - above)
                }
                j = blockEnd
            }
        }
        return count
    }

    /// 1 when `x` (not NaN) is negative, else 0, from its sign bit: no branch. (The difference
    /// `a - b` of two doubles is negative exactly when `a < b`, and never -0 then.)
    @inline(__always)
    static func isNegative(_ x: Double) -> Int { Int(x.bitPattern >> 63) }

    /// The largest source value of every block of `scanBlock` sources, with four running maxima
    /// per block (one would chain every comparison; `>` selects vectorize, `max()` does not).
    func fillBlockMaxima(sources: Int) {
        let a = self.a, blockMaxima = self.blockMaxima, block = Self.scanBlock
        let whole = sources / block
        for b in 0..<whole {
            let v = a + b * block
            var t0 = v[0], t1 = v[1], t2 = v[2], t3 = v[3]
            for q in stride(from: 4, to: block, by: 4) {
                t0 = v[q] > t0 ? v[q] : t0
                t1 = v[q + 1] > t1 ? v[q + 1] : t1
                t2 = v[q + 2] > t2 ? v[q + 2] : t2
                t3 = v[q + 3] > t3 ? v[q + 3] : t3
            }
            blockMaxima[b] = max(max(t0, t1), max(t2, t3))
        }
        if whole * block < sources {
            var top = -Double.infinity
            for j in (whole * block)..<sources { top = max(top, a[j]) }
            blockMaxima[whole] = top
        }
    }

    /// Writes `output(m + log(sum))` to `targets[0]`, then the mean displacement times
    /// `displacementFactor` (if asked for) and the payload means to the next targets. (`sum >= 1`:
    /// the largest term of every output is 1, so `VectorLog`'s domain holds.)
    /// The pointers are copied to locals: read through `self`, each store through `out` could
    /// change them (as far as the compiler knows), which keeps these loops from vectorizing.
    func finish(into targets: UnsafePointer<UnsafeMutablePointer<Double>>, displacement wantDisplacement: Bool,
                output: AffineMap, displacementFactor: Double) {
        let m = self.m, sum = self.sum, displacement = self.displacement, payloadSums = self.payloadSums
        let outputs = self.outputs
        let out = targets[0]
        for i in 0..<outputs { out[i] = output(m[i] + VectorLog.log(sum[i])) }
        var next = 1
        if wantDisplacement {
            let field = targets[next]
            for i in 0..<outputs { field[i] = displacement[i] / sum[i] * displacementFactor }
            next += 1
        }
        for p in 0..<payloads {
            let acc = payloadSums + p * outputs, field = targets[next + p]
            for i in 0..<outputs { field[i] = acc[i] / sum[i] }
        }
    }

    /// The boundary factors between the `runs` runs of equal prox index (`runStart`), and
    /// `runFirst` and `runLast` of every output. (Locals, not `self`'s fields: see `finish`.)
    func findRuns(_ runs: Int, c: Double, offset: Int) {
        let prox = self.prox, a = self.a, runFirst = self.runFirst, runLast = self.runLast
        let runStart = self.runStart, eps = self.runEps
        let boundaryFactor = self.boundaryFactor, inverseBoundaryFactor = self.inverseBoundaryFactor
        for r in 1..<runs {
            let k = Int(runStart[r]) - 1
            let p = Int(prox[k]), q = Int(prox[k + 1])
            eps[r] = (a[p] - a[q]) + c * Double(p - q) * Double(2 * (k + 1 + offset) - p - q)
        }
        for r in 1..<runs { eps[r] = abs(eps[r]) <= 700 ? VectorExp.exp(eps[r]) : 0 }
        for r in 0..<runs {
            let first = runStart[r], end = runStart[r + 1]
            for i in Int(first)..<Int(end) {
                runFirst[i] = first
                runLast[i] = end - 1
            }
            guard r > 0 else { continue }
            let factor = eps[r]
            boundaryFactor[Int(first) - 1] = factor
            inverseBoundaryFactor[Int(first) - 1] = factor > 0 ? 1 / factor : 0
        }
    }

    /// Adds source `j`'s terms to the outputs from `start` on (forward) or down from `start`
    /// (backward) while its gap stays within the truncation; returns the number of terms.
    ///
    /// On a run of outputs sharing the prox index `p`, `m_i = a_p - c (x_i - p)^2`, so the
    /// exponent `a_j - c (x_i - y_j)^2 - m_i` is affine in `i` with slope `-2c (p - y_j)`: the
    /// terms are a geometric sequence (ratio `exp(-2c (p - y_j))` from `RatioTable`), and where
    /// the exponent leaves `[-truncation, 0]` follows from the slope. From one run to the next
    /// (`p` to `p'` after output `k`) the exponent changes by `2c (y_j - p) + eps_k` with
    /// `eps_k = a_p - a_p' + c (p - p')(2 x_{k+1} - p - p')` (`boundaryFactor`), so the sequence
    /// carries over without an `exp`. The exponent itself is recomputed at every run, and an
    /// exact exponential restarts the sequence after `recurrenceSteps` terms, so rounding grows
    /// by at most about `recurrenceSteps` ulps (plus the rounding of the `eps_k`, a few ulps of
    /// `|a|`). The sweep stops where the gap exceeds the truncation, beyond which it only grows
    /// (convexity, see the type).
    ///
    /// `first` is the term at `start` when known (`stepsFromExact` recurrence steps from an exact
    /// exponential), 0 to compute it.
    @inline(__always)
    func sweep(source j: Int, from start: Int, forward: Bool, first: Double, stepsFromExact: Int, c: Double,
               offset: Int, displacement wantDisplacement: Bool) -> Int {
        let tau = LogGaussianPass.truncation
        let aj = a[j]
        let step = forward ? 1 : -1
        let reach = ratios.reach
        var k = start
        var count = 0
        var carried = first          // the term at k carried over from the previous run (0: none)
        var sinceExact = stepsFromExact
        while k >= 0 && k < outputs {
            let end = Int(forward ? runLast[k] : runFirst[k])          // the run's far end
            let p = Int(prox[k])
            let d0 = Double(k + offset - j)
            let exponent = (aj - c * (d0 * d0)) - m[k]
            guard exponent >= -tau else { break }
            // The exponent changes by `slope` per step in the sweep's direction.
            let index = forward ? p - j : j - p                            // slope = -2c index
            let slope = -2 * c * Double(index)
            var steps = min(abs(end - k), Self.recurrenceSteps - 1)
            // (exponent + tau) / -slope >= 0, by the tabulated 1/(2c index) where it reaches (the
            // product rounds differently from the quotient only within an ulp of a whole step, where
            // the term left out or kept is exp(-truncation)): truncation toward zero is the floor.
            if slope < 0 {
                let toTruncation = index <= reach ? (exponent + tau) * ratios.inverseSlopes[index] : (exponent + tau) / -slope
                steps = Int(min(Double(steps), toTruncation))
            }
            let last = k + step * steps
            // With a second term the slope lies within [-truncation, -exponent]: no overflow, and
            // no subnormal terms.
            var ratio = 0.0
            if steps > 0 { ratio = abs(index) <= reach ? ratios.ratio(index) : VectorExp.exp(slope) }
            if carried == 0 || sinceExact >= Self.recurrenceSteps {
                carried = VectorExp.exp(exponent)
                sinceExact = 0
            }
            let final = terms(source: j, from: k, count: steps + 1, step: step, first: carried, ratio: ratio, d0: d0,
                              displacement: wantDisplacement)
            count += steps + 1
            sinceExact += steps + 1
            if last != end && steps < Self.recurrenceSteps - 1 { break }      // left the truncation inside the run
            if last != end {
                carried = 0                                                    // capped: restart exactly
                k = last + step
                continue
            }
            // Into the next run: the boundary between outputs b and b + 1.
            let b = forward ? last : last - 1
            guard b >= 0 && b + 1 < outputs else { break }
            let q = Int(prox[forward ? last : last - 1])                      // the prox index the crossing uses
            let toward = forward ? q - j : j - q
            let boundary = forward ? boundaryFactor[b] : inverseBoundaryFactor[b]
            carried = abs(toward) <= reach && boundary > 0 && boundary.isFinite
                ? final * ratios.ratio(toward) * boundary : 0
            k = last + step
        }
        return count
    }

    /// Source `j`'s term at output `k - 1` from its `term` at output `k`: the step of `sweep`
    /// backward, within a run (`exp(-2c (j - p))`) or across the boundary into the run of
    /// `q = prox[k - 1]` (times `exp(-eps_(k-1))`); 0 (compute it exactly) where the table or the
    /// boundary factor does not apply.
    @inline(__always)
    func stepBack(source j: Int, from k: Int, term: Double) -> Double {
        let toward = j - Int(prox[k - 1])
        guard abs(toward) <= ratios.reach else { return 0 }
        let ratio = ratios.ratio(toward)
        if prox[k - 1] == prox[k] { return term * ratio }
        let boundary = inverseBoundaryFactor[k - 1]
        return boundary > 0 && boundary.isFinite ? term * ratio * boundary : 0
    }

    /// `count` terms of a geometric sequence `first * ratio^n` at outputs `from + n * step`, as
    /// two interleaved chains (ratio squared) so that the multiplications overlap.
    /// Returns the last term.
    @inline(__always)
    func terms(source j: Int, from k0: Int, count: Int, step: Int, first: Double, ratio: Double, d0: Double,
               displacement wantDisplacement: Bool) -> Double {
        if payloads <= 1 {
            let disp = wantDisplacement ? displacement + k0 : nil
            let payload = payloads == 1 ? payloadSums + k0 : nil
            let value = payloads == 1 ? payloadSources[j] : 0
            if step == 1 {
                return Self.accumulate(into: sum + k0, displacement: disp, payload: payload, value: value, step: 1,
                                       count: count, first: first, ratio: ratio, d0: d0)
            }
            return Self.accumulate(into: sum + k0, displacement: disp, payload: payload, value: value, step: -1,
                                   count: count, first: first, ratio: ratio, d0: d0)
        }
        let w = weights
        var even = first, odd = first * ratio
        let square = ratio * ratio
        var n = 0
        while n + 1 < count {
            w[n] = even
            w[n + 1] = odd
            even *= square
            odd *= square
            n += 2
        }
        if n < count { w[n] = even }
        var k = k0
        for n in 0..<count {
            sum[k] += w[n]
            k += step
        }
        if wantDisplacement {
            var k = k0, d = d0
            let dStep = Double(step)
            for n in 0..<count {
                displacement[k] += w[n] * d
                k += step
                d += dStep
            }
        }
        for p in 0..<payloads {
            let value = payloadSources[p * payloadStride + j]
            let acc = payloadSums + p * outputs
            var k = k0
            for n in 0..<count {
                acc[k] += w[n] * value
                k += step
            }
        }
        return w[count - 1]
    }

    /// `sum[n * step] += first * ratio^n`, and the same times `d0 + n * step` into
    /// `displacement` and times `value` into `payload` when given, two chains at a time; `step`
    /// is a literal at the call sites, so each is a tight loop. Returns the last term.
    @inline(__always)
    static func accumulate(into sum: UnsafeMutablePointer<Double>, displacement: UnsafeMutablePointer<Double>?,
                           payload: UnsafeMutablePointer<Double>?, value: Double,
                           step: Int, count: Int, first: Double, ratio: Double, d0: Double) -> Double {
        if displacement == nil && payload == nil {
            // Four chains (ratio^4): the multiplications' latency, not the adds, bounds a chain.
            let r2 = ratio * ratio
            let r4 = r2 * r2
            var t0 = first, t1 = first * ratio, t2 = first * r2, t3 = t1 * r2
            var n = 0
            while n + 4 < count {
                sum[n * step] += t0
                sum[(n + 1) * step] += t1
                sum[(n + 2) * step] += t2
                sum[(n + 3) * step] += t3
                t0 *= r4; t1 *= r4; t2 *= r4; t3 *= r4
                n += 4
            }
            // 1 to 4 terms remain.
            sum[n * step] += t0
            guard n + 1 < count else { return t0 }
            sum[(n + 1) * step] += t1
            guard n + 2 < count else { return t1 }
            sum[(n + 2) * step] += t2
            guard n + 3 < count else { return t2 }
            sum[(n + 3) * step] += t3
            return t3
        }
        var even = first, odd = first * ratio
        let square = ratio * ratio
        var n = 0
        let dStep = Double(step)
        var d = d0
        // Pairs while more than two terms remain, then the last one or two.
        while n + 2 < count {
            sum[n * step] += even
            sum[(n + 1) * step] += odd
            if let displacement {
                displacement[n * step] += even * d
                displacement[(n + 1) * step] += odd * (d + dStep)
            }
            if let payload {
                payload[n * step] += even * value
                payload[(n + 1) * step] += odd * value
            }
            even *= square
            odd *= square
            d += 2 * dStep
            n += 2
        }
        sum[n * step] += even
        displacement?[n * step] += even * d
        payload?[n * step] += even * value
        guard n + 1 < count else { return even }
        sum[(n + 1) * step] += odd
        displacement?[(n + 1) * step] += odd * (d + dStep)
        payload?[(n + 1) * step] += odd * value
        return odd
    }
}

/// Runs `body` with the base addresses of `arrays` (each valid for the duration of the call).
private func withBaseAddresses<R>(_ arrays: [[Double]], _ body: ([UnsafePointer<Double>]) -> R) -> R {
    func nest(_ index: Int, _ collected: [UnsafePointer<Double>]) -> R {
        guard index < arrays.count else { return body(collected) }
        return arrays[index].withUnsafeBufferPointer { nest(index + 1, collected + [$0.baseAddress!]) }
    }
    return nest(0, [])
}
