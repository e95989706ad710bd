import CLAPACK
import Foundation

/// One separable pass of the log-domain Gaussian transform along one axis of an array,
///
///     b_i = log sum_j exp(a_j - c (x_i - y_j)^2),      c = beta h^2 / (2 t)  (cell units),
///
/// with, under the same positive weights `exp(a_j - c (x_i - y_j)^2)`, the means of payloads
/// `P_j` and of the displacement `x_i - y_j` (cells). `d` passes of it, one per axis, are the
/// Cole–Hopf integral: the Gaussian kernel factorises along the axes.
///
/// Stable for every dynamic range: each output is shifted by its largest term
/// `m_i = max_j a_j - c (x_i - y_j)^2` (the 1-D Hopf–Lax value of `-a`, from `LowerEnvelope`,
/// O(N)), so every term is `<= 1` and the sum is `>= 1`; terms below `exp(-truncation)`
/// relative are dropped. Periodic and mirror images reach only as far as a source can matter
/// (`imageReach`).
///
/// Narrow kernels (`sqrt(truncation/c) <= 50` cells) are summed source by source over exactly
/// the significant terms (`LogGaussianSourceSums`). Wider ones use blocks: sources and outputs
/// are cut into blocks of `s` cells; a pair of blocks
/// is skipped when `A_B - c dist(x_i, B)^2 - m_i < -truncation` for all its outputs
/// (`A_B = max_B a`). With `p, q` the centred offsets in blocks whose centres are `Delta` apart,
///
///     a_j - c (x - y)^2 - m_i = [a_j + 2c Delta q - rho] + [rho - c Delta^2 - 2c Delta p - m_i] - c (p - q)^2,
///
/// so a kept pair is the fixed Gaussian block `T_pq = exp(-c (p - q)^2)` (`GaussianBlockKernel`)
/// applied to source columns and scaled per output, and the pairs and payload columns go through
/// batched matrix products (each worker its own cache-sized batches). Which pairs matter follows
/// from the convexity of `c (x - y)^2 + m(x)` at the prox crossing (`sideGap`), as in the source
/// sums. Two ways to form the factors, both overflow-free:
/// - tilted (one `exp` per pair): `rho = A_B`, source columns `exp(a_j - A_B)` times a tilt table
///   `exp(2c Delta q)`, output factors `exp(A_B - c Delta^2 - M_I) [exp(M_I - m_i) exp(-2c Delta p)]`
///   (`M_I` the mid value of `m` on the block), when `c |Delta| (s-1) <= 250` and `m` varies by
///   less than 240 on the output block. Since every term is `<= 1`, the first factor is at most
///   `exp(40 + 2*250 + 120) = exp(660)`, the bracket at most `exp(370)` and their product (the
///   output factor) at most `exp(290)`: multiplied in that order nothing overflows, and a factor
///   that underflows belongs to terms below `exp(-400)`;
/// - normalized (two `exp` per pair and cell): `rho = max_q (a_j + 2c Delta q)`, so columns are
///   `<= 1` and output factors `<= exp(c (s-1)^2)`, for any `Delta` (prox points far away in
///   units of the kernel width, large beta).
/// Block size: dense blocks of up to 128 cells with `c (s-1)^2 <= 40`; wide kernels
/// (`sqrt(2/c) >= 255` cells) use low-rank blocks with `c (s-1)^2 <= 2`; when the blocks are
/// forced (`sourceSums: false`) for a kernel narrower than a third of a cell, pairs are summed
/// term by term (one `exp` per term, blocks of 4 for pruning).
/// All terms are positive, so sums and means carry relative rounding errors of a few ulps
/// (`~3e-14` with low-rank blocks).
///
/// Work: `O(N)` for the envelope and weights, plus per output and payload column about
/// `(W/s + 1)` kept pairs of `s` (dense) or `2r = 44` (low rank) multiply-adds, `W` the width in
/// cells of the significant neighbourhood (`~ 2 sqrt(2 * 46) sigma_eff / h`).
struct LogGaussianPass {
    /// `c = beta h^2 / (2 t)` in cell units.
    let coefficient: Double
    let layout: LineLayout
    /// Forces the source-by-source sums (true) or the blocks (false); nil chooses by the kernel width.
    var sourceSums: Bool? = nil
    /// The pass reads `a_j = input(logValues_j)`, and writes `output(b_i)` and the mean
    /// displacement times `displacementFactor` (a caller's scaling, without a pass of its own).
    var input = AffineMap.identity
    var output = AffineMap.identity
    var displacementFactor = 1.0

    /// The source-by-source sums (`LogGaussianSourceSums`) cost one `exp` per significant term;
    /// the blocks `s` multiply-adds per term of a padded block but one `exp` per pair. Narrow
    /// kernels, whose significant window `2 sqrt(truncation / c)` spans at most ~100 cells, go
    /// source by source.
    static let sourceSumsMaximumReach = 50.0
    static func prefersSourceSums(coefficient c: Double) -> Bool {
        (truncation / c).squareRoot() <= sourceSumsMaximumReach
    }

    /// How many periodic or mirror images a line of `n` values (`step` apart) needs on each
    /// side, at most `cap`. A source at distance `d` from output `i` can carry its largest term
    /// or a significant one only if `a_j - c d^2 >= m_i - truncation >= a_i - truncation`
    /// (output `i`'s own node is among the sources), so `c d^2 <= max a - a_i + truncation`: the
    /// images must reach `max_i floor(sqrt((max a - a_i + truncation)/c)) + 1 - dist(i, end)`.
    /// Only outputs within `cap` of an end can need more than none; a square root only where the
    /// squared reach beats the need so far. The `a_j` are `map(values_j)`.
    static func imageReach(_ values: UnsafePointer<Double>, step: Int, count n: Int, coefficient c: Double,
                           cap: Int, map: AffineMap = .identity) -> Int {
        // Four running maxima: one would chain every comparison on the one before.
        var tops = (-Double.infinity, -Double.infinity, -Double.infinity, -Double.infinity)
        var i = 0
        while i + 3 < n {
            tops.0 = max(tops.0, map(values[i * step]))
            tops.1 = max(tops.1, map(values[(i + 1) * step]))
            tops.2 = max(tops.2, map(values[(i + 2) * step]))
            tops.3 = max(tops.3, map(values[(i + 3) * step]))
            i += 4
        }
        while i < n {
            tops.0 = max(tops.0, map(values[i * step]))
            i += 1
        }
        let top = max(max(tops.0, tops.1), max(tops.2, tops.3))
        let inverse = 1 / c
        var needed = 0
        for i in 0..<min(n, cap) {
            let lowest = min(map(values[i * step]), map(values[(n - 1 - i) * step]))
            let squared = (top - lowest + truncation) * inverse
            let beat = Double(needed + i)
            guard squared >= beat * beat else { continue }
            needed = max(needed, Int(squared.squareRoot()) + 1 - i)
        }
        return min(cap, needed)
    }

    /// The shift of every output, `m_i = max_j a_j - c (x_i - j)^2` with `x_i = i + offset`, and
    /// its smallest maximizer `prox_i` (non-decreasing in `i`): the lower envelope of `-a`
    /// (`LowerEnvelope` with `sign: -1`), split into `parts` query ranges over the cores when
    /// `parts > 1`. `vertices` and `crossings` are scratch of `count` and `count + 1` values.
    ///
    /// On one core the envelope considers only the sources that pass the three-point test
    /// `a_(j-1) - 2 a_j + a_(j+1) < 2c` (and both ends): where it fails, the parabola of `j` lies
    /// on or below the larger of its neighbours' everywhere (their differences are affine in `x`
    /// and cross in the wrong order), so `j` is never the smallest maximizer. About half the
    /// sources of a rugged loss fail it (the envelope keeps a few percent). `runStarts` (one core
    /// only) receives the first output of every run of equal prox index, then `outputs`; returns
    /// the number of runs (0 when not asked for).
    @discardableResult
    static func shifts(_ a: UnsafePointer<Double>, count: Int, offset: Int, coefficient c: Double, outputs: Int,
                       m: UnsafeMutablePointer<Double>, prox: UnsafeMutablePointer<Int32>,
                       vertices: UnsafeMutablePointer<Int32>,
                       crossings: UnsafeMutablePointer<Double>, candidates: UnsafeMutablePointer<Int32>? = nil,
                       runStarts: UnsafeMutablePointer<Int32>? = nil, parts: Int = 1) -> Int {
        var runs = 0
        if parts > 1 {
            precondition(runStarts == nil, "runs are found on one core")
            LowerEnvelope.transform(a, sign: -1, count: count, offset: -offset, a: c, queries: outputs, out: m,
                                    argmin: prox, parts: parts)
        } else if let candidates, count > 2 {
            let bound = 2 * c
            candidates[0] = 0
            var kept = 1
            for j in 1..<(count - 1) {
                candidates[kept] = Int32(truncatingIfNeeded: j)
                kept &+= (a[j - 1] - 2 * a[j]) + a[j + 1] < bound ? 1 : 0
            }
            candidates[kept] = Int32(truncatingIfNeeded: count - 1)
            runs = LowerEnvelope.transform(a, sign: -1, count: count, offset: -offset, a: c, queries: outputs, out: m,
                                           argmin: prox, vertices: vertices, crossings: crossings,
                                           candidates: candidates, candidateCount: kept + 1, runStarts: runStarts)
        } else {
            runs = LowerEnvelope.transform(a, sign: -1, count: count, offset: -offset, a: c, queries: outputs, out: m,
                                           argmin: prox, vertices: vertices, crossings: crossings, runStarts: runStarts)
        }
        return runs
    }

    /// Terms below `exp(-truncation)` times a point's largest term are dropped: at most
    /// `N exp(-46) ~ 1e-20 N` relative.
    static let truncation = 46.0
    /// Bounds on the exponents of the factors of a batched pair (see the type's comment).
    static let kernelRange = 40.0
    static let tiltRange = 250.0
    static let outputRange = 120.0
    static let maximumDenseBlock = 128
    static let minimumLowRankBlock = 256
    static let maximumLowRankBlock = 16384
    /// Values per buffer of a batch of source columns and of their products (256 KB: both stay in cache).
    static let batchValues = 1 << 15

    enum Mode: String, Sendable {
        case dense, lowRank = "low-rank", direct
        /// `LogGaussianSourceSums`: the significant terms source by source.
        case sourceSums = "source-sum"
    }

    struct Statistics: Sendable, Equatable {
        var blockSize = 0
        var mode = Mode.dense
        var tiltedPairs = 0
        var normalizedPairs = 0
        var directPairs = 0
        /// Terms summed by `sourceSums`.
        var terms = 0
    }

    struct Result {
        var shape: ArrayShape
        var logValues: [Double]
        /// The payload means, in the order given.
        var payloads: [[Double]]
        /// The mean displacement `x - <y>` along the axis in cells, when asked for.
        var displacement: [Double]?
        var statistics: Statistics
    }

    /// Runs the pass along `axis` of `shape`: `logValues` are the `a_j`; `payloads` are averaged.
    /// Payloads flagged in `oddPayloads` change sign at reflected (mirror) images.
    func run(shape: ArrayShape, axis: Int, logValues: [Double], payloads: [[Double]], oddPayloads: [Bool]? = nil,
             displacement: Bool) -> Result {
        let odd = oddPayloads ?? [Bool](repeating: false, count: payloads.count)
        if sourceSums ?? Self.prefersSourceSums(coefficient: coefficient) {
            return LogGaussianSourceSums(coefficient: coefficient, layout: layout, input: input, output: output,
                                         displacementFactor: displacementFactor)
                .run(shape: shape, axis: axis, logValues: logValues, payloads: payloads, oddPayloads: odd,
                     displacement: displacement)
        }
        let run = PassRun(c: coefficient, layout: layout, shape: shape, axis: axis,
                          payloadCount: payloads.count, displacement: displacement)
        run.input = input
        run.output = output
        run.displacementFactor = displacementFactor
        run.envelope(logValues)
        run.chooseBlocks()
        run.prepareBlocks(payloads, odd: odd)
        run.enumeratePairs()
        run.accumulate()
        return run.finish()
    }
}

/// The state of one pass, phase by phase; each phase is parallel over lines or output blocks
/// and writes disjoint parts of its buffers.
private final class PassRun {
    let c: Double
    let layout: LineLayout
    let shape: ArrayShape
    let axis: Int
    let lineLength: Int
    let lines: Int
    let sources: Int
    let outputs: Int
    let offset: Int
    let payloadCount: Int
    let wantDisplacement: Bool
    let tau = LogGaussianPass.truncation

    /// Pair kinds.
    static let skip: UInt8 = 0, tilted: UInt8 = 1, direct: UInt8 = 2, normalized: UInt8 = 3

    /// `a_j` of every line's extended sources, `sources` per line.
    let a: ScratchBuffer<Double>
    /// `m_i` (the largest exponent) per output, `outputs` per line.
    let m: ScratchBuffer<Double>
    /// The source of each output's largest term (its prox index; the smallest on ties, so
    /// non-decreasing along a line).
    let prox: ScratchBuffer<Int32>

    // Blocks (phase 2).
    var s = 1
    var mode = LogGaussianPass.Mode.dense
    var sourceBlocks = 0
    var outputBlocks = 0
    var blockStride = 0
    var blockMax = ScratchBuffer<Double>(count: 0, repeating: 0)     // A_B
    var prefixMax = ScratchBuffer<Double>(count: 0, repeating: 0)    // max A over blocks <= B
    var suffixMax = ScratchBuffer<Double>(count: 0, repeating: 0)    // max A over blocks >= B
    var weights = ScratchBuffer<Double>(count: 0, repeating: 0)      // exp(a_j - A_B), zero padded
    var payloadSources = ScratchBuffer<Double>(count: 0, repeating: 0) // payloadCount x lines x blockStride
    var outputMid = ScratchBuffer<Double>(count: 0, repeating: 0)    // M_I
    var outputFactor = ScratchBuffer<Double>(count: 0, repeating: 0) // exp(M_I - m_i)
    var rangeOK = ScratchBuffer<Bool>(count: 0, repeating: true)
    var kernel: GaussianBlockKernel?

    // Pairs (phase 3).
    var pairStart: [Int] = []
    var pairLow = ScratchBuffer<Int>(count: 0, repeating: 0)
    var pairKind = ScratchBuffer<UInt8>(count: 0, repeating: 0)
    var pairRho = ScratchBuffer<Double>(count: 0, repeating: 0)     // rho of normalized pairs
    var batchedCount = ScratchBuffer<Int>(count: 0, repeating: 0)
    /// Batched and direct pairs per output block (the block's share of the work).
    var keptPairs = ScratchBuffer<Int>(count: 0, repeating: 0)
    var minD = 0, maxD = -1
    var tiltSource: [Double] = []                                   // exp(2c Delta_D q~), s per D
    var tiltOutput: [Double] = []                                   // exp(-2c Delta_D p~), s per D
    var statistics = LogGaussianPass.Statistics()
    var input = AffineMap.identity
    var output = AffineMap.identity
    var displacementFactor = 1.0

    // Accumulators (phase 4), `outputs` per line; payloads stacked.
    var sum = ScratchBuffer<Double>(count: 0, repeating: 0)
    var displacementSum = ScratchBuffer<Double>(count: 0, repeating: 0)
    var payloadSums = ScratchBuffer<Double>(count: 0, repeating: 0)

    init(c: Double, layout: LineLayout, shape: ArrayShape, axis: Int, payloadCount: Int, displacement: Bool) {
        self.c = c
        self.layout = layout
        self.shape = shape
        self.axis = axis
        lineLength = shape.dims[axis]
        lines = shape.lineCount(along: axis)
        sources = layout.sourceCount(lineLength: lineLength)
        outputs = layout.outputCount(lineLength: lineLength)
        offset = layout.outputOffset
        self.payloadCount = payloadCount
        wantDisplacement = displacement
        // Written in full by `envelope` before any read.
        a = ScratchBuffer(uninitializedCount: lines * sources)
        m = ScratchBuffer(uninitializedCount: lines * outputs)
        prox = ScratchBuffer(uninitializedCount: lines * outputs)
    }

    var columnsPerPair: Int { 1 + (wantDisplacement ? 1 : 0) + payloadCount }
    var total: Int { lines * outputs }
    /// The half offset `(s - 1)/2` that centres in-block positions.
    var centre: Double { Double(s - 1) / 2 }

    /// Copies line `l` of `values` (along `axis`) into `out[0..<sources]`, extended by the layout,
    /// each value through `map` (`LineLayout.gather`).
    func extend(_ values: UnsafePointer<Double>, line l: Int, into out: UnsafeMutablePointer<Double>,
                map: AffineMap = .identity, odd: Bool = false) {
        layout.gather(values + shape.lineStart(along: axis, line: l), step: shape.strides[axis], lineLength: lineLength,
                      into: out, map: map, odd: odd)
    }

    /// The distance in cells from position `x` to source block `b`.
    @inline(__always) func distance(_ x: Int, block b: Int) -> Double {
        let lo = b * s, hi = min(lo + s, sources) - 1
        return Double(max(0, lo - x, x - hi))
    }

    /// `Delta` for output block `I` and source block `B = I - d`: the distance of their centres.
    @inline(__always) func delta(_ d: Int) -> Double { Double(d * s + offset) }

    // MARK: Phase 1: sources and the shift m (lower envelope)

    /// `m` and the prox map of every line (`LogGaussianPass.shifts`); a lone long line (1-D) is
    /// split over the cores.
    func envelope(_ logValues: [Double]) {
        let parts = lines == 1 && sources >= LowerEnvelope.splitLength ? Parallel.workers : 1
        logValues.withUnsafeBufferPointer { input in
            let values = input.baseAddress!
            Parallel.forEachChunk(lines, minimumPerChunk: max(1, 16384 / max(1, sources))) { range in
                let vertices = ScratchBuffer<Int32>(uninitializedCount: sources)
                let crossings = ScratchBuffer<Double>(uninitializedCount: sources + 1)
                for l in range {
                    extend(values, line: l, into: a.base + l * sources, map: self.input)
                    LogGaussianPass.shifts(a.base + l * sources, count: sources, offset: offset, coefficient: c,
                                           outputs: outputs, m: m.base + l * outputs, prox: prox.base + l * outputs,
                                           vertices: vertices.base, crossings: crossings.base,
                                           parts: parts)
                }
                withExtendedLifetime((vertices, crossings)) {}
            }
        }
    }

    /// Dense blocks of up to 128 cells with `c (s-1)^2 <= 40`; low-rank blocks when the
    /// kernel is wide enough for `c (s-1)^2 <= 2` to allow 256 cells or more; term by term
    /// (blocks of 4 for pruning) when even 4 cells break `c (s-1)^2 <= 40`.
    func chooseBlocks() {
        let lowRankSize = Int(1 + (GaussianBlockKernel.lowRankSpread / c).squareRoot())
        let denseSize = Int(1 + (LogGaussianPass.kernelRange / c).squareRoot())
        if lowRankSize >= LogGaussianPass.minimumLowRankBlock {
            mode = .lowRank
            s = min(lowRankSize, LogGaussianPass.maximumLowRankBlock)
        } else if denseSize >= 4 {
            mode = .dense
            s = min(denseSize, LogGaussianPass.maximumDenseBlock)
        } else {
            mode = .direct
            s = 4
        }
        sourceBlocks = (sources + s - 1) / s
        outputBlocks = (outputs + s - 1) / s
        blockStride = sourceBlocks * s
        statistics.blockSize = s
        statistics.mode = mode
    }

    // MARK: Phase 2: block maxima, weights, output factors

    func prepareBlocks(_ payloads: [[Double]], odd: [Bool]) {
        blockMax = ScratchBuffer(uninitializedCount: lines * sourceBlocks)
        prefixMax = ScratchBuffer(uninitializedCount: lines * sourceBlocks)
        suffixMax = ScratchBuffer(uninitializedCount: lines * sourceBlocks)
        // Written in full by prepareSourceBlocks (padding included) and prepareOutputBlocks
        // (factors of the blocks that can tilt, the only ones read).
        weights = ScratchBuffer(uninitializedCount: lines * blockStride)
        outputMid = ScratchBuffer(uninitializedCount: lines * outputBlocks)
        outputFactor = ScratchBuffer(uninitializedCount: total)
        rangeOK = ScratchBuffer(count: lines * outputBlocks, repeating: true)
        if lines >= Parallel.workers {
            Parallel.forEachChunk(lines, minimumPerChunk: max(1, 8192 / max(1, sources))) { range in
                for l in range {
                    prepareSourceBlocks(l, range: 0..<sourceBlocks)
                    prepareOutputBlocks(l, range: 0..<outputBlocks)
                    prepareMaxima(l)
                }
            }
        } else {
            // Few long lines (1-D): split each line's blocks over the cores instead.
            for l in 0..<lines {
                Parallel.forEachChunk(sourceBlocks, minimumPerChunk: max(1, 8192 / s)) { prepareSourceBlocks(l, range: $0) }
                Parallel.forEachChunk(outputBlocks, minimumPerChunk: max(1, 8192 / s)) { prepareOutputBlocks(l, range: $0) }
                prepareMaxima(l)
            }
        }
        payloadSources = ScratchBuffer(count: payloadCount * lines * blockStride, repeating: 0)
        for (k, values) in payloads.enumerated() {
            values.withUnsafeBufferPointer { input in
                let target = payloadSources.base + k * lines * blockStride
                Parallel.forEachChunk(lines, minimumPerChunk: max(1, 16384 / max(1, sources))) { range in
                    for l in range {
                        extend(input.baseAddress!, line: l, into: target + l * blockStride, odd: odd[k])
                    }
                }
            }
        }
        if mode != .direct { kernel = GaussianBlockKernel(size: s, coefficient: c, lowRank: mode == .lowRank) }
    }

    /// `A_B` and the weights `exp(a_j - A_B)` of the source blocks `range` of line `l`.
    func prepareSourceBlocks(_ l: Int, range: Range<Int>) {
        let src = a.base + l * sources
        let top = blockMax.base + l * sourceBlocks
        let w = weights.base + l * blockStride
        let s = self.s, sources = self.sources
        for b in range {
            let lo = b * s, hi = min(lo + s, sources)
            var largest = -Double.infinity
            for j in lo..<hi { largest = max(largest, src[j]) }
            top[b] = largest
            VectorExp.apply(src + lo, shift: -largest, into: w + lo, count: hi - lo)
            (w + hi).update(repeating: 0, count: lo + s - hi)          // the last block's padding
        }
    }

    /// The prefix and suffix maxima of `A_B` along line `l`.
    func prepareMaxima(_ l: Int) {
        let top = blockMax.base + l * sourceBlocks
        let prefix = prefixMax.base + l * sourceBlocks, suffix = suffixMax.base + l * sourceBlocks
        let sourceBlocks = self.sourceBlocks
        var run = -Double.infinity
        for b in 0..<sourceBlocks { run = max(run, top[b]); prefix[b] = run }
        run = -Double.infinity
        for b in stride(from: sourceBlocks - 1, through: 0, by: -1) { run = max(run, top[b]); suffix[b] = run }
    }

    /// `M_I`, the range check and the factors `exp(M_I - m_i)` of the output blocks `range` of line `l`.
    func prepareOutputBlocks(_ l: Int, range: Range<Int>) {
        let mLine = m.base + l * outputs
        let mids = outputMid.base + l * outputBlocks, fits = rangeOK.base + l * outputBlocks
        let factor = outputFactor.base + l * outputs
        let s = self.s, outputs = self.outputs
        for block in range {
            let lo = block * s, hi = min(lo + s, outputs)
            var top = -Double.infinity, bottom = Double.infinity
            for i in lo..<hi { top = max(top, mLine[i]); bottom = min(bottom, mLine[i]) }
            let mid = 0.5 * (top + bottom)
            let ok = top - bottom <= 2 * LogGaussianPass.outputRange
            mids[block] = mid
            fits[block] = ok
            if ok { for i in lo..<hi { factor[i] = VectorExp.exp(mid - mLine[i]) } }
        }
    }

    // MARK: Phase 3: the pairs of blocks that matter

    func enumeratePairs() {
        let blocks = lines * outputBlocks
        pairLow = ScratchBuffer(count: blocks, repeating: 0)
        let pairCount = ScratchBuffer<Int>(count: blocks, repeating: 0)
        Parallel.forEachChunk(blocks, minimumPerChunk: 64) { range in
            for block in range {
                let (lo, hi) = candidateInterval(block)
                pairLow[block] = lo
                pairCount[block] = hi - lo + 1
            }
        }
        pairStart = [Int](repeating: 0, count: blocks + 1)
        for b in 0..<blocks { pairStart[b + 1] = pairStart[b] + pairCount[b] }
        pairKind = ScratchBuffer(count: pairStart[blocks], repeating: 0)
        pairRho = ScratchBuffer(count: pairStart[blocks], repeating: 0)
        batchedCount = ScratchBuffer(count: blocks, repeating: 0)
        keptPairs = ScratchBuffer(count: blocks, repeating: 0)
        let counts = ScratchBuffer<Int>(count: 3 * blocks, repeating: 0)
        let lowD = ScratchBuffer<Int>(count: blocks, repeating: Int.max)
        let highD = ScratchBuffer<Int>(count: blocks, repeating: Int.min)
        Parallel.forEachChunk(blocks, minimumPerChunk: 64) { range in
            for block in range {
                let r = classify(block)
                batchedCount[block] = r.tilted + r.normalized
                keptPairs[block] = r.tilted + r.normalized + r.direct
                counts[3 * block] = r.tilted
                counts[3 * block + 1] = r.normalized
                counts[3 * block + 2] = r.direct
                lowD[block] = r.lowD
                highD[block] = r.highD
            }
        }
        let all = counts.array
        statistics.tiltedPairs = stride(from: 0, to: all.count, by: 3).reduce(0) { $0 + all[$1] }
        statistics.normalizedPairs = stride(from: 1, to: all.count, by: 3).reduce(0) { $0 + all[$1] }
        statistics.directPairs = stride(from: 2, to: all.count, by: 3).reduce(0) { $0 + all[$1] }
        minD = lowD.array.min() ?? 0
        maxD = highD.array.max() ?? -1
        guard maxD >= minD else { return }
        let nD = maxD - minD + 1
        let s = self.s, c = self.c, centre = self.centre, minD = self.minD
        let offset = self.offset
        let tilts = { (sign: Double) in
            [Double](unsafeUninitializedCapacity: nD * s) { table, initialized in
                let base = table.baseAddress!
                // One row per offset, `exp(tilt (q - centre))`: up to ~100 rows of a few hundred cells.
                Parallel.forEachChunk(nD, minimumPerChunk: max(1, 16384 / s)) { range in
                    for k in range {
                        let tilt = sign * 2 * c * Double((minD + k) * s + offset)
                        VectorExp.geometric(start: -tilt * centre, step: tilt, into: base + k * s, count: s)
                    }
                }
                initialized = nD * s
            }
        }
        tiltSource = tilts(1)
        tiltOutput = tilts(-1)
    }

    /// The first and last source block that may matter for output block `block` by the coarse
    /// bound `A_B - c dist^2 >= min m - truncation`, scanning outward until the prefix (suffix)
    /// maxima of `A` rule out every block beyond.
    func candidateInterval(_ block: Int) -> (Int, Int) {
        let l = block / outputBlocks, ib = block % outputBlocks
        let i0 = ib * s, i1 = min(i0 + s, outputs) - 1
        let xLow = i0 + offset, xHigh = i1 + offset
        let mLine = m.base + l * outputs
        var mLow = Double.infinity
        for i in i0...i1 { mLow = min(mLow, mLine[i]) }
        let floor = mLow - tau
        let bLow = min(max(xLow / s, 0), sourceBlocks - 1)
        let bHigh = min(max(xHigh / s, 0), sourceBlocks - 1)
        let top = blockMax.base + l * sourceBlocks, prefix = prefixMax.base + l * sourceBlocks
        let suffix = suffixMax.base + l * sourceBlocks
        let c = self.c
        var lo = bLow, hi = bHigh
        var b = bLow - 1
        while b >= 0 {
            let d = distance(xLow, block: b)
            if prefix[b] - c * d * d < floor { break }
            if top[b] - c * d * d >= floor { lo = b }
            b -= 1
        }
        b = bHigh + 1
        while b < sourceBlocks {
            let d = distance(xHigh, block: b)
            if suffix[b] - c * d * d < floor { break }
            if top[b] - c * d * d >= floor { hi = b }
            b += 1
        }
        return (lo, hi)
    }

    /// `min_i c (x_i - y)^2 + m_i` over the outputs `range` of line `l`, all on one side of the
    /// source position `y`: the least gap to the envelope of a source block whose nearest cell
    /// to those outputs is `y`. As in `LogGaussianSourceSums`, `c x^2 + m(x) = max_k a_k - c k^2 + 2ck x`
    /// is convex with slopes `2c prox(x)`, so `c (x - y)^2 + m(x)` does not increase while
    /// `prox < y` and does not decrease once `prox >= y`: its least value over the outputs is at
    /// the first output with `prox >= y` or the one before (clamped to the range), found by
    /// bisection of the monotone prox map. Two evaluations instead of one per output.
    func sideGap(line l: Int, outputs range: Range<Int>, nearest y: Int) -> Double {
        let line = prox.base + l * outputs, mLine = m.base + l * outputs
        var lo = range.lowerBound, hi = range.upperBound          // first output with prox >= y in lo...hi
        while lo < hi {
            let mid = (lo + hi) / 2
            if Int(line[mid]) < y { lo = mid + 1 } else { hi = mid }
        }
        var least = Double.infinity
        for i in max(range.lowerBound, lo - 1)...min(range.upperBound - 1, lo) {
            let d = Double(i + offset - y)
            least = min(least, c * d * d + mLine[i])
        }
        return least
    }

    /// Marks each candidate pair of output block `block`: skipped (no output has a term above
    /// the truncation), tilted, normalized, or direct.
    func classify(_ block: Int) -> (tilted: Int, normalized: Int, direct: Int, lowD: Int, highD: Int) {
        let l = block / outputBlocks, ib = block % outputBlocks
        let i0 = ib * s, i1 = min(i0 + s, outputs)
        let start = pairStart[block], count = pairStart[block + 1] - start
        let canTilt = mode != .direct && rangeOK[block]
        let blockTop = blockMax.base + l * sourceBlocks, mLine = m.base + l * outputs, kinds = pairKind.base + start
        let low = pairLow[block], c = self.c, tau = self.tau, s = self.s, sources = self.sources, offset = self.offset
        var mLow = Double.infinity
        for i in i0..<i1 { mLow = min(mLow, mLine[i]) }
        let xLow = i0 + offset, xHigh = i1 - 1 + offset
        var result = (tilted: 0, normalized: 0, direct: 0, lowD: Int.max, highD: Int.min)
        for k in 0..<count {
            let b = low + k
            let top = blockTop[b]
            let lo = b * s, hi = min(lo + s, sources) - 1
            // The O(1) block bound first (distance between the blocks, smallest m), then per output.
            let gap = Double(max(0, lo - xHigh, xLow - hi))
            guard top - c * gap * gap - mLow >= -tau else { kinds[k] = Self.skip; continue }
            let best: Double
            if hi < xLow {
                best = top - sideGap(line: l, outputs: i0..<i1, nearest: hi)
            } else if lo > xHigh {
                best = top - sideGap(line: l, outputs: i0..<i1, nearest: lo)
            } else {
                var most = -Double.infinity
                for i in i0..<i1 {
                    let x = i + offset
                    let d = Double(max(0, lo - x, x - hi))
                    most = max(most, top - c * d * d - mLine[i])
                }
                best = most
            }
            guard best >= -tau else { kinds[k] = Self.skip; continue }
            let dIndex = ib - b
            if mode == .direct {
                kinds[k] = Self.direct
                result.direct += 1
            } else if canTilt && c * abs(delta(dIndex)) * Double(s - 1) <= LogGaussianPass.tiltRange {
                kinds[k] = Self.tilted
                result.tilted += 1
                result.lowD = min(result.lowD, dIndex)
                result.highD = max(result.highD, dIndex)
            } else {
                kinds[k] = Self.normalized
                result.normalized += 1
            }
        }
        return result
    }

    // MARK: Phase 4: batched products and direct sums

    /// The kept pairs of all output blocks. The blocks are split over the cores in contiguous
    /// ranges of about equal work; each worker takes its range in batches whose source columns
    /// fit its cache (`batchValues` per buffer): gathers them, applies the Gaussian block to all
    /// at once, and scatters the products and direct sums to its own outputs.
    func accumulate() {
        sum = ScratchBuffer(count: total, repeating: 0)
        displacementSum = ScratchBuffer(count: wantDisplacement ? total : 0, repeating: 0)
        payloadSums = ScratchBuffer(count: payloadCount * total, repeating: 0)
        let blocks = lines * outputBlocks
        let cpp = columnsPerPair, s = self.s
        var work = [Int](repeating: 0, count: blocks + 1)
        for b in 0..<blocks { work[b + 1] = work[b] + 1 + keptPairs[b] * s }
        let parts = max(1, min(Parallel.workers, work[blocks] / 65536))
        // The first block of each part: where the running work reaches the part's share (bisection).
        let ends = (0...parts).map { part -> Int in
            let share = work[blocks] * part / parts
            var lo = 0, hi = blocks
            while lo < hi {
                let mid = (lo + hi) / 2
                if work[mid] < share { lo = mid + 1 } else { hi = mid }
            }
            return lo
        }
        let budget = max(cpp, LogGaussianPass.batchValues / s / cpp * cpp)
        Parallel.forEachChunk(parts, minimumPerChunk: 1) { range in
            for part in range {
                var capacity = 0
                var x = ScratchBuffer<Double>(count: 0, repeating: 0)
                var y = x, z = x
                var first = ends[part]
                while first < ends[part + 1] {
                    var last = first, columns = 0
                    while last < ends[part + 1] && (last == first || columns + batchedCount[last] * cpp <= budget) {
                        columns += batchedCount[last] * cpp
                        last += 1
                    }
                    if columns > capacity {
                        // Written in full before they are read (gatherBlock, then the products).
                        capacity = max(columns, budget)
                        x = ScratchBuffer(uninitializedCount: capacity * s)
                        y = ScratchBuffer(uninitializedCount: capacity * s)
                        z = ScratchBuffer(uninitializedCount: kernel?.scratchCount(columns: capacity) ?? 0)
                    }
                    var column = 0
                    for block in first..<last {
                        gatherBlock(block, into: x.base + column * s)
                        column += batchedCount[block] * cpp
                    }
                    if columns > 0, let kernel { kernel.apply(x.base, columns: columns, into: y.base, scratch: z.base) }
                    column = 0
                    for block in first..<last {
                        if batchedCount[block] > 0 { scatterBlock(block, products: y.base + column * s) }
                        column += batchedCount[block] * cpp
                        directBlock(block)
                    }
                    first = last
                }
                withExtendedLifetime((x, y, z)) {}
            }
        }
    }

    /// The source columns of the batched pairs of one output block: the source weights (tilted
    /// or normalized), their product with the centred in-block offset (for the displacement),
    /// and with each payload.
    func gatherBlock(_ block: Int, into x: UnsafeMutablePointer<Double>) {
        let l = block / outputBlocks, ib = block % outputBlocks
        let start = pairStart[block], count = pairStart[block + 1] - start
        let cpp = columnsPerPair, s = self.s
        let centre = self.centre
        let kinds = pairKind.base + start, rhos = pairRho.base + start, low = pairLow[block]
        let w0 = weights.base + l * blockStride
        let payloadBase = payloadSources.base, payloadStride = lines * blockStride
        var column = 0
        tiltSource.withUnsafeBufferPointer { tilts in
            for k in 0..<count {
                let kind = kinds[k]
                guard kind == Self.tilted || kind == Self.normalized else { continue }
                let b = low + k
                let col = x + column * s
                if kind == Self.tilted {
                    let t = tilts.baseAddress! + (ib - b - minD) * s
                    let w = w0 + b * s
                    for q in 0..<s { col[q] = w[q] * t[q] }
                } else {
                    rhos[k] = normalizedColumn(line: l, block: b, delta: delta(ib - b), into: col)
                }
                var next = 1
                if wantDisplacement {
                    let dcol = x + (column + 1) * s
                    for q in 0..<s { dcol[q] = col[q] * (Double(q) - centre) }
                    next = 2
                }
                for p in 0..<payloadCount {
                    let pcol = x + (column + next + p) * s
                    let src = payloadBase + p * payloadStride + l * blockStride + b * s
                    for q in 0..<s { pcol[q] = col[q] * src[q] }
                }
                column += cpp
            }
        }
    }

    /// `exp(a_j + 2c Delta q~ - rho)` with `rho` their maximum over the block (returned);
    /// zero beyond the last source.
    func normalizedColumn(line l: Int, block b: Int, delta: Double, into col: UnsafeMutablePointer<Double>) -> Double {
        let j0 = b * s, valid = min(s, sources - j0)
        let src = a.base + l * sources + j0
        let tilt = 2 * c * delta
        var rho = -Double.infinity
        for q in 0..<valid {
            let e = src[q] + tilt * (Double(q) - centre)
            col[q] = e
            rho = max(rho, e)
        }
        VectorExp.apply(col, shift: -rho, into: col, count: valid)
        for q in valid..<s { col[q] = 0 }
        return rho
    }

    /// Adds the batched pairs of one output block: the products times the output factors.
    func scatterBlock(_ block: Int, products y: UnsafePointer<Double>) {
        let l = block / outputBlocks, ib = block % outputBlocks
        let i0 = ib * s, np = min(s, outputs - i0)
        let start = pairStart[block], count = pairStart[block + 1] - start
        let cpp = columnsPerPair, s = self.s, c = self.c
        let out = l * outputs + i0
        let centre = self.centre
        let kinds = pairKind.base + start, rhos = pairRho.base + start, low = pairLow[block]
        let blockTop = blockMax.base + l * sourceBlocks, mid = outputMid[block]
        let factorOut = outputFactor.base + out, mOut = m.base + out
        let totalOut = sum.base + out
        let dispOut = wantDisplacement ? displacementSum.base + out : nil
        let payloadOut = payloadSums.base + out, total = self.total
        var factor = [Double](repeating: 0, count: np)
        var column = 0
        tiltOutput.withUnsafeBufferPointer { tilts in
            factor.withUnsafeMutableBufferPointer { fb in
                let factor = fb.baseAddress!
                for k in 0..<count {
                    let kind = kinds[k]
                    guard kind == Self.tilted || kind == Self.normalized else { continue }
                    let b = low + k
                    let dIndex = ib - b
                    let delta = delta(dIndex)
                    if kind == Self.tilted {
                        let alpha = exp(blockTop[b] - c * delta * delta - mid)
                        let t = tilts.baseAddress! + (dIndex - minD) * s
                        // (exp(M_I - m_i) exp(-2c Delta p~)) first: alpha alone may reach exp(660).
                        for p in 0..<np { factor[p] = alpha * (factorOut[p] * t[p]) }
                    } else {
                        // exp(rho - c Delta^2 - 2c Delta p~ - m_i)
                        let base = rhos[k] - c * delta * delta
                        let tilt = 2 * c * delta
                        for p in 0..<np { factor[p] = VectorExp.exp(base - tilt * (Double(p) - centre) - mOut[p]) }
                    }
                    let y0 = y + column * s
                    for p in 0..<np { totalOut[p] += factor[p] * y0[p] }
                    var next = 1
                    if let disp = dispOut {
                        let y1 = y + (column + 1) * s
                        let shift = delta - centre
                        for p in 0..<np { disp[p] += factor[p] * ((shift + Double(p)) * y0[p] - y1[p]) }
                        next = 2
                    }
                    for pIndex in 0..<payloadCount {
                        let yk = y + (column + next + pIndex) * s
                        let acc = payloadOut + pIndex * total
                        for p in 0..<np { acc[p] += factor[p] * yk[p] }
                    }
                    column += cpp
                }
            }
        }
    }

    /// Adds the direct pairs of one output block, one exponential per term.
    func directBlock(_ block: Int) {
        let l = block / outputBlocks, ib = block % outputBlocks
        let i0 = ib * s, i1 = min(i0 + s, outputs)
        let start = pairStart[block], count = pairStart[block + 1] - start
        for k in 0..<count where pairKind[start + k] == Self.direct {
            let b = pairLow[block] + k
            let j0 = b * s, j1 = min(j0 + s, sources)
            for i in i0..<i1 {
                let x = i + offset
                let index = l * outputs + i
                let shift = m[index]
                var weight = 0.0, disp = 0.0
                for j in j0..<j1 {
                    let d = Double(x - j)
                    let e = a[l * sources + j] - c * d * d - shift
                    guard e > -tau - 8 else { continue }
                    let term = VectorExp.exp(e)
                    weight += term
                    disp += term * d
                    for p in 0..<payloadCount {
                        payloadSums[p * total + index] += term * payloadSources[p * lines * blockStride + l * blockStride + j]
                    }
                }
                sum[index] += weight
                if wantDisplacement { displacementSum[index] += disp }
            }
        }
    }

    // MARK: Phase 5: logarithms and means, in the output shape

    /// `target[i * step] = value(i)` for `i in 0..<count`, with a contiguous copy of the loop
    /// for `step == 1` (which the compiler vectorizes).
    @inline(__always)
    static func store(_ target: UnsafeMutablePointer<Double>, step: Int, count: Int, _ value: (Int) -> Double) {
        if step == 1 {
            for i in 0..<count { target[i] = value(i) }
        } else {
            for i in 0..<count { target[i * step] = value(i) }
        }
    }

    func finish() -> LogGaussianPass.Result {
        let outShape = shape.replacing(axis: axis, with: outputs)
        let step = outShape.strides[axis]
        let n = outShape.count
        let outputs = self.outputs, payloadCount = self.payloadCount, total = self.total
        let wantDisplacement = self.wantDisplacement, output = self.output, displacementFactor = self.displacementFactor
        let (sum, displacementSum, payloadSums, m) = (self.sum, self.displacementSum, self.payloadSums, self.m)
        let fields = 1 + (wantDisplacement ? 1 : 0) + payloadCount
        // Split over outputs (not lines): 1-D passes have one line. Each worker takes its range
        // line segment by line segment.
        let arrays = filledArrays(fields, length: n) { out in
            Parallel.forEachChunk(total, minimumPerChunk: 16384) { range in
                var k = range.lowerBound
                while k < range.upperBound {
                    let i0 = k % outputs, count = min(outputs - i0, range.upperBound - k)
                    let at = outShape.lineStart(along: axis, line: k / outputs) + i0 * step
                    // `sum >= 1` up to rounding (every output's largest term is 1): `VectorLog`'s domain.
                    let weights = sum.base + k, shifts = m.base + k
                    Self.store(out[0] + at, step: step, count: count) { output(shifts[$0] + VectorLog.log(weights[$0])) }
                    if wantDisplacement {
                        let moments = displacementSum.base + k
                        Self.store(out[1] + at, step: step, count: count) { moments[$0] / weights[$0] * displacementFactor }
                    }
                    for p in 0..<payloadCount {
                        let moments = payloadSums.base + p * total + k
                        Self.store(out[fields - payloadCount + p] + at, step: step, count: count) { moments[$0] / weights[$0] }
                    }
                    k += count
                }
            }
        }
        return LogGaussianPass.Result(
            shape: outShape, logValues: arrays[0], payloads: Array(arrays.suffix(payloadCount)),
            displacement: wantDisplacement ? arrays[1] : nil, statistics: statistics)
    }
}
