import Foundation

/// The log-domain evaluation of the Cole–Hopf integral: `d` passes of `LogGaussianPass`, the
/// last axis first, starting from `a = -beta f`. Each pass carries the means of the earlier
/// passes' displacements and of the loss gradient (the second form of Lemma 1) as payloads,
/// so after the last pass they are the means under the full Gibbs weight `rho1`.
struct ColeHopfLogDomain {
    let setup: ColeHopf.Setup
    let options: ColeHopfOptions

    /// The line layout of the pass along `axis` of `values` (shape `shape`).
    func layout(axis: Int, coefficient c: Double, values: [Double], shape: ArrayShape) -> LineLayout {
        let working = setup.working
        if let padding = setup.padding {
            return .window(offset: padding.offsets[axis], count: padding.window.axes[axis].count)
        }
        guard working.boundary == .periodic || working.boundary == .neumann else {
            return .window(offset: 0, count: working.axes[axis].count)
        }
        let images: (Int) -> LineLayout = working.boundary == .periodic ? { .periodic(ghosts: $0) } : { .mirror(ghosts: $0) }
        // A source j can matter for output x only if c (x - y_j)^2 <= osc(a) + truncation.
        let oscillation = Self.oscillation(values)
        let ghosts = Int(((oscillation + ColeHopf.truncation) / c).squareRoot().rounded(.up)) + 1
        // The source sums take each line's own reach; the blocks share one layout, the reach
        // the lines need.
        guard !LogGaussianPass.prefersSourceSums(coefficient: c) else { return images(ghosts) }
        let n = shape.dims[axis], step = shape.strides[axis]
        var needed = 0
        values.withUnsafeBufferPointer { v in
            for l in 0..<shape.lineCount(along: axis) {
                needed = max(needed, LogGaussianPass.imageReach(v.baseAddress! + shape.lineStart(along: axis, line: l),
                                                                step: step, count: n, coefficient: c, cap: ghosts))
            }
        }
        return images(needed)
    }

    /// `target[i] = ((source[i] + shift) * factor) / divisor` for `i in 0..<count` (`target` may
    /// be `source`), split over the cores: the arrays of the window's size are large, and `map`
    /// would build a new one element by element (appends, no vectorization, fresh pages) on one
    /// core. (Plain numbers, not a closure: a closure called from the workers' loop stays an
    /// indirect call per element.)
    static func rescale(_ source: UnsafePointer<Double>, into target: UnsafeMutablePointer<Double>, count: Int,
                        plus shift: Double = 0, times factor: Double = 1, over divisor: Double = 1) {
        Parallel.forEachChunk(count, minimumPerChunk: 1 << 16) { range in
            for i in range { target[i] = ((source[i] + shift) * factor) / divisor }
        }
    }

    /// `rescale` in place (no copy when `values` is the array's only reference).
    static func rescale(_ values: inout [Double], plus shift: Double = 0, times factor: Double = 1,
                        over divisor: Double = 1) {
        values.withUnsafeMutableBufferPointer { v in
            guard let base = v.baseAddress else { return }
            rescale(base, into: base, count: v.count, plus: shift, times: factor, over: divisor)
        }
    }

    /// `rescale` into a new array (one pass, instead of a copy and a pass).
    static func rescaled(_ values: [Double], plus shift: Double = 0, times factor: Double = 1,
                         over divisor: Double = 1) -> [Double] {
        [Double](unsafeUninitializedCapacity: values.count) { target, initialized in
            values.withUnsafeBufferPointer { v in
                guard let source = v.baseAddress else { return }
                rescale(source, into: target.baseAddress!, count: v.count, plus: shift, times: factor, over: divisor)
            }
            initialized = values.count
        }
    }

    /// `max - min` of `values` (0 when empty), one sweep per core.
    static func oscillation(_ values: [Double]) -> Double {
        let (lo, hi) = Extrema.of(values)
        return hi >= lo ? hi - lo : 0
    }

    func run(report base: SolverReport) throws -> ColeHopfSolution {
        var report = base
        let beta = setup.beta, t = setup.time
        let working = setup.working
        let d = working.dimension
        let h = working.spacing
        var shape = ArrayShape(dims: working.shape)
        var values = Self.rescaled(setup.samples.values, times: -beta)
        let lossPayloads = options.averagedLossGradient ? setup.lossGradient!.map(\.values) : []
        var averaged = lossPayloads
        var displacement = [[Double]?](repeating: nil, count: d)
        var passNotes: [String] = []
        var pairs = (tilted: 0, normalized: 0, direct: 0, terms: 0)
        for axis in stride(from: d - 1, through: 0, by: -1) {
            let c = beta * h[axis] * h[axis] / (2 * t)
            let layout = layout(axis: axis, coefficient: c, values: values, shape: shape)
            // The displacements of the axes already summed, when gradients are asked for.
            let carried = options.gradient ? (axis + 1)..<d : d..<d
            let payloads = averaged + carried.map { displacement[$0]! }
            let pass = LogGaussianPass(coefficient: c, layout: layout)
            // The loss gradient's component along this axis is odd under reflection at mirror images.
            let odd = averaged.indices.map { $0 == axis } + carried.map { _ in false }
            let out = pass.run(shape: shape, axis: axis, logValues: values, payloads: payloads, oddPayloads: odd,
                               displacement: options.gradient)
            values = out.logValues
            shape = out.shape
            averaged = Array(out.payloads.prefix(averaged.count))
            for (k, m) in carried.enumerated() { displacement[m] = out.payloads[averaged.count + k] }
            displacement[axis] = out.displacement
            let st = out.statistics
            pairs.tilted += st.tiltedPairs
            pairs.normalized += st.normalizedPairs
            pairs.direct += st.directPairs
            pairs.terms += st.terms
            if st.mode == .sourceSums {
                passNotes.append("\(Grid.axisNames[axis]): source by source, \(st.terms) significant terms")
            } else {
                passNotes.append("\(Grid.axisNames[axis]): \(st.mode.rawValue) blocks of \(st.blockSize), \(st.tiltedPairs) tilted + "
                                 + "\(st.normalizedPairs) normalized + \(st.directPairs) direct block pairs")
            }
        }
        let window = setup.window
        precondition(shape.dims == window.shape)
        // log v = b + sum_k (log h_k - log(2 pi t/beta)/2); u = -log(v)/beta.
        let normalization = h.reduce(0) { $0 + log($1) - 0.5 * log(2 * Double.pi * t / beta) }
        Self.rescale(&values, plus: normalization, times: -1, over: beta)
        let u = Field(grid: window, values: values)
        var gradient: [Field] = []
        for k in 0..<d where options.gradient {
            var g = displacement[k]!
            displacement[k] = nil              // g is the only reference: scaled in place, no copy
            Self.rescale(&g, times: h[k], over: t)
            gradient.append(Field(grid: window, values: g))
        }
        report.scheme = "cole-hopf (log-domain)"
        report.notes.append("log-domain passes (last axis first): " + passNotes.joined(separator: "; "))
        report.diagnostics["tilted_block_pairs"] = Double(pairs.tilted)
        report.diagnostics["normalized_block_pairs"] = Double(pairs.normalized)
        report.diagnostics["direct_block_pairs"] = Double(pairs.direct)
        report.diagnostics["source_sum_terms"] = Double(pairs.terms)
        return ColeHopfSolution(
            f: setup.windowSamples, u: u, gradient: gradient,
            averagedLossGradient: options.averagedLossGradient ? averaged.map { Field(grid: window, values: $0) } : nil,
            path: .logDomain, report: report)
    }
}
