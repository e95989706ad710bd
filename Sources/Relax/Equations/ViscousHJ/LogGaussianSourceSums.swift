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

    /// Lines along a strided axis are processed in groups of this many neighbours, gathered
    /// into and scattered from a contiguous tile: whole cache lines are read and written.
    static let groupSize = 8

    /// The pass along `axis` of `shape` (see `LogGaussianPass.run`).
    func run(shape: ArrayShape, axis: Int, logValues: [Double], payloads: [[Double]], oddPayloads: [Bool],
             displacement wantDisplacement: Bool) -> LogGaussianPass.Result {
        let n = shape.dims[axis]
        let lines = shape.lineCount(along: axis)
        let sources = layout.sourceCount(lineLength: n)
        let outputs = layout.outputCount(lineLength: n)
        let outShape = shape.replacing(axis: axis, with: outputs)
        let inStep = shape.strides[axis], outStep = outShape.strides[axis]
        let group = inStep == 1 ? 1 : Self.groupSize
        let groups = (lines + group - 1) / group
        let payloadCount = payloads.count
        let total = outShape.count
        // Fields written per output: log value, displacement, payload means.
        let fields = 1 + (wantDisplacement ? 1 : 0) + payloadCount
        let results = (0..<fields).map { _ in ScratchBuffer<Double>(count: total, repeating: 0) }
        let terms = ScratchBuffer<Int>(count: groups, repeating: 0)
        let reflected = (0..<sources).map { layout.isReflected(source: $0, lineLength: n) }
        let ratios = RatioTable(coefficient: coefficient)
        withBaseAddresses([logValues] + payloads) { inputs in
            Parallel.forEachChunk(groups, minimumPerChunk: max(1, 8192 / max(1, sources * group))) { range in
                let line = LineWork(sources: sources, outputs: outputs, payloads: payloadCount, ratios: ratios)
                let inTile = UnsafeMutablePointer<Double>.allocate(capacity: group * n * (1 + payloadCount))
                let outTile = UnsafeMutablePointer<Double>.allocate(capacity: group * outputs * fields)
                defer {
                    line.deallocate()
                    inTile.deallocate()
                    outTile.deallocate()
                }
                for g in range {
                    let first = g * group, width = min(group, lines - first)
                    let inStarts = (0..<width).map { shape.lineStart(along: axis, line: first + $0) }
                    let outStarts = (0..<width).map { outShape.lineStart(along: axis, line: first + $0) }
                    for (k, input) in inputs.enumerated() {
                        transpose(from: input, starts: inStarts, step: inStep, count: n, into: inTile + k * group * n)
                    }
                    var kept = 0
                    for w in 0..<width {
                        layout.gather(inTile + w * n, step: 1, lineLength: n, into: line.a)
                        for p in 0..<payloadCount {
                            let target = line.payloadSources + p * sources
                            layout.gather(inTile + (p + 1) * group * n + w * n, step: 1, lineLength: n, into: target)
                            if oddPayloads[p] { for j in 0..<sources where reflected[j] { target[j] = -target[j] } }
                        }
                        kept += line.run(c: coefficient, offset: layout.outputOffset, displacement: wantDisplacement)
                        line.finish(into: outTile + w * outputs, fieldStride: group * outputs,
                                    displacement: wantDisplacement)
                    }
                    terms[g] = kept
                    for (k, result) in results.enumerated() {
                        transpose(back: outTile + k * group * outputs, starts: outStarts, step: outStep, count: outputs,
                                  into: result.base)
                    }
                }
            }
        }
        var statistics = LogGaussianPass.Statistics()
        statistics.mode = .sourceSums
        statistics.terms = terms.array.reduce(0, +)
        var next = 1
        let displacement = wantDisplacement ? results[1].array : nil
        if wantDisplacement { next = 2 }
        return LogGaussianPass.Result(
            shape: outShape, logValues: results[0].array,
            payloads: (0..<payloadCount).map { results[next + $0].array },
            displacement: displacement, statistics: statistics)
    }

    /// Copies `starts.count` lines of `count` values, `step` apart, into consecutive rows of `tile`.
    private func transpose(from input: UnsafePointer<Double>, starts: [Int], step: Int, count: Int,
                           into tile: UnsafeMutablePointer<Double>) {
        let width = starts.count
        if width == 1 {
            let line = input + starts[0]
            for q in 0..<count { tile[q] = line[q * step] }
            return
        }
        for q in 0..<count {
            for w in 0..<width { tile[w * count + q] = input[starts[w] + q * step] }
        }
    }

    /// The inverse of `transpose(from:...)`.
    private func transpose(back tile: UnsafePointer<Double>, starts: [Int], step: Int, count: Int,
                           into output: UnsafeMutablePointer<Double>) {
        let width = starts.count
        if width == 1 {
            let line = output + starts[0]
            for q in 0..<count { line[q * step] = tile[q] }
            return
        }
        for q in 0..<count {
            for w in 0..<width { output[starts[w] + q * step] = tile[w * count + q] }
        }
    }
}

/// `exp(-2c delta)` for the integer offsets `|delta| <= 23/c + 2`: the ratios of the geometric
/// sequences of terms (a ratio of two terms within `[exp(-truncation), 1]` has `2c |delta| <= 46`).
private struct RatioTable: @unchecked Sendable {
    let reach: Int
    let values: [Double]

    init(coefficient c: Double) {
        reach = Int(min(1e6, (LogGaussianPass.truncation / (2 * c)).rounded(.up))) + 2
        values = (-reach...reach).map { VectorExp.exp(-2 * c * Double($0)) }
    }
}

/// The buffers of one line and the source-by-source accumulation.
private struct LineWork {
    let sources: Int
    let outputs: Int
    let payloads: Int
    let a: UnsafeMutablePointer<Double>
    let m: UnsafeMutablePointer<Double>
    let sum: UnsafeMutablePointer<Double>
    let displacement: UnsafeMutablePointer<Double>
    let payloadSources: UnsafeMutablePointer<Double>
    let payloadSums: UnsafeMutablePointer<Double>
    let negated: UnsafeMutablePointer<Double>
    let weights: UnsafeMutablePointer<Double>
    let prox: UnsafeMutablePointer<Int32>
    /// The first and last output of the run of equal prox index each output belongs to.
    let runFirst: UnsafeMutablePointer<Int32>
    let runLast: UnsafeMutablePointer<Int32>
    let vertices: UnsafeMutablePointer<Int32>
    let crossings: UnsafeMutablePointer<Double>

    let ratios: RatioTable

    /// Steps of the geometric recurrence between two exponentials (bounds its rounding error).
    static let recurrenceSteps = 64

    init(sources: Int, outputs: Int, payloads: Int, ratios: RatioTable) {
        self.ratios = ratios
        self.sources = sources
        self.outputs = outputs
        self.payloads = payloads
        a = .allocate(capacity: sources)
        m = .allocate(capacity: outputs)
        sum = .allocate(capacity: outputs)
        displacement = .allocate(capacity: outputs)
        payloadSources = .allocate(capacity: max(1, payloads * sources))
        payloadSums = .allocate(capacity: max(1, payloads * outputs))
        negated = .allocate(capacity: sources)
        weights = .allocate(capacity: outputs)
        prox = .allocate(capacity: outputs)
        runFirst = .allocate(capacity: outputs)
        runLast = .allocate(capacity: outputs)
        vertices = .allocate(capacity: sources)
        crossings = .allocate(capacity: sources + 1)
    }

    func deallocate() {
        for p in [a, m, sum, displacement, payloadSources, payloadSums, negated, weights, crossings] { p.deallocate() }
        for p in [prox, runFirst, runLast, vertices] { p.deallocate() }
    }

    /// The envelope `m`, its prox indices, and the sums over the significant terms of every
    /// source; returns the number of terms kept.
    func run(c: Double, offset: Int, displacement wantDisplacement: Bool) -> Int {
        for j in 0..<sources { negated[j] = -a[j] }
        LowerEnvelope.transform(negated, count: sources, offset: -offset, a: c, queries: outputs, out: m,
                                argmin: prox, vertices: vertices, crossings: crossings)
        for i in 0..<outputs { m[i] = -m[i] }
        findRuns()
        sum.update(repeating: 0, count: outputs)
        if wantDisplacement { displacement.update(repeating: 0, count: outputs) }
        if payloads > 0 { payloadSums.update(repeating: 0, count: payloads * outputs) }
        let tau = LogGaussianPass.truncation
        let m = self.m, a = self.a, outputs = self.outputs
        var kept = 0
        var next = 0                                   // the first output with prox >= j
        for j in 0..<sources {
            while next < outputs && Int(prox[next]) < j { next += 1 }
            let aj = a[j]
            // The gap g_j(i) = m_i - (a_j - c d^2), d = x_i - y_j in cells, at the two outputs
            // around the prox crossing: the least gaps of source j.
            var start = -1
            if next > 0 {
                let d = Double(next - 1 + offset - j)
                if m[next - 1] - (aj - c * (d * d)) <= tau { start = next - 1 }
            }
            if start < 0 && next < outputs {
                let d = Double(next + offset - j)
                if m[next] - (aj - c * (d * d)) <= tau { start = next }
            }
            guard start >= 0 else { continue }
            kept += sweep(source: j, from: start, forward: true, c: c, offset: offset, displacement: wantDisplacement)
            if start > 0 {
                kept += sweep(source: j, from: start - 1, forward: false, c: c, offset: offset,
                              displacement: wantDisplacement)
            }
        }
        return kept
    }

    /// Writes `m + log(sum)`, then the mean displacement (if asked for) and the payload means,
    /// `fieldStride` apart.
    func finish(into out: UnsafeMutablePointer<Double>, fieldStride: Int, displacement wantDisplacement: Bool) {
        for i in 0..<outputs { out[i] = m[i] + log(sum[i]) }
        var field = out + fieldStride
        if wantDisplacement {
            for i in 0..<outputs { field[i] = displacement[i] / sum[i] }
            field += fieldStride
        }
        for p in 0..<payloads {
            let acc = payloadSums + p * outputs
            for i in 0..<outputs { field[i] = acc[i] / sum[i] }
            field += fieldStride
        }
    }

    /// `runFirst` and `runLast` of every output.
    func findRuns() {
        var first = 0
        for i in 0..<outputs {
            if i > 0 && prox[i] != prox[i - 1] { first = i }
            runFirst[i] = Int32(truncatingIfNeeded: first)
        }
        var last = outputs - 1
        for i in stride(from: outputs - 1, through: 0, by: -1) {
            if i < outputs - 1 && prox[i] != prox[i + 1] { last = i }
            runLast[i] = Int32(truncatingIfNeeded: last)
        }
    }

    /// Adds source `j`'s terms to the outputs from `start` on (forward) or down from `start`
    /// (backward) while its gap stays within the truncation; returns the number of terms.
    ///
    /// On a run of outputs sharing the prox index `p`, `m_i = a_p - c (x_i - p)^2`, so the
    /// exponent `a_j - c (x_i - y_j)^2 - m_i` is affine in `i` with slope `-2c (p - y_j)`: the
    /// terms are a geometric sequence (ratio `exp(-2c (p - y_j))`, restarted from an exact
    /// exponential every `recurrenceSteps`), and where the exponent leaves `[-truncation, 0]`
    /// follows from the slope. Beyond a run the next run is taken up; the sweep stops where
    /// the gap exceeds the truncation, beyond which it only grows (convexity, see the type).
    @inline(__always)
    func sweep(source j: Int, from start: Int, forward: Bool, c: Double, offset: Int,
               displacement wantDisplacement: Bool) -> Int {
        let tau = LogGaussianPass.truncation
        let aj = a[j]
        let step = forward ? 1 : -1
        var k = start
        var count = 0
        while k >= 0 && k < outputs {
            let end = Int(forward ? runLast[k] : runFirst[k])          // the run's far end
            let delta = Double(Int(prox[k]) - j)
            let d0 = Double(k + offset - j)
            let exponent = (aj - c * (d0 * d0)) - m[k]
            guard exponent >= -tau else { break }
            // The exponent changes by `slope` per step in the sweep's direction.
            let slope = forward ? -2 * c * delta : 2 * c * delta
            var steps = min(abs(end - k), Self.recurrenceSteps - 1)
            if slope < 0 { steps = Int(min(Double(steps), ((exponent + tau) / -slope).rounded(.down))) }
            let last = k + step * steps
            // With a second term the slope lies within [-truncation, -exponent]: no overflow, and
            // no subnormal terms.
            var ratio = 0.0
            if steps > 0 {
                let index = forward ? Int(prox[k]) - j : j - Int(prox[k])      // exp(slope) = exp(-2c index)
                ratio = abs(index) <= ratios.reach ? ratios.values[index + ratios.reach] : VectorExp.exp(slope)
            }
            terms(source: j, from: k, count: steps + 1, step: step, first: VectorExp.exp(exponent),
                  ratio: ratio, d0: d0, displacement: wantDisplacement)
            count += steps + 1
            if last != end && steps < Self.recurrenceSteps - 1 { break }      // left the truncation inside the run
            k = last + step
        }
        return count
    }

    /// `count` terms of a geometric sequence `first * ratio^n` at outputs `from + n * step`.
    @inline(__always)
    func terms(source j: Int, from k0: Int, count: Int, step: Int, first: Double, ratio: Double, d0: Double,
               displacement wantDisplacement: Bool) {
        var t = first
        if payloads == 0 && !wantDisplacement {
            var k = k0
            for _ in 0..<count {
                sum[k] += t
                t *= ratio
                k += step
            }
            return
        }
        var k = k0
        var d = d0
        let dStep = Double(step)
        for n in 0..<count {
            sum[k] += t
            if wantDisplacement { displacement[k] += t * d }
            weights[n] = t
            t *= ratio
            k += step
            d += dStep
        }
        for p in 0..<payloads {
            let value = payloadSources[p * sources + j]
            let acc = payloadSums + p * outputs
            var k = k0
            for n in 0..<count {
                acc[k] += weights[n] * value
                k += step
            }
        }
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
