import Foundation

/// The log-domain evaluation of the Cole–Hopf integral: `d` passes of `LogGaussianPass`, the
/// last axis first, starting from `a = -beta f`. Each pass carries the means of the earlier
/// passes' displacements and of the loss gradient (the second form of Lemma 1) as payloads,
/// so after the last pass they are the means under the full Gibbs weight `rho1`.
struct ColeHopfLogDomain {
    let setup: ColeHopf.Setup
    let options: ColeHopfOptions

    /// The line layout of the pass along `axis` of `values` (shape `shape`) that it reads as
    /// `input(values)`.
    func layout(axis: Int, coefficient c: Double, values: [Double], input: AffineMap, shape: ArrayShape) -> LineLayout {
        let working = setup.working
        if let padding = setup.padding {
            return .window(offset: padding.offsets[axis], count: padding.window.axes[axis].count)
        }
        guard working.boundary == .periodic || working.boundary == .neumann else {
            return .window(offset: 0, count: working.axes[axis].count)
        }
        let images: (Int) -> LineLayout = working.boundary == .periodic ? { .periodic(ghosts: $0) } : { .mirror(ghosts: $0) }
        // A source j can matter for output x only if c (x - y_j)^2 <= osc(a) + truncation. The
        // first pass reads a = -beta f; each pass's outputs lie within [min a, max a] + log S
        // (S the sum of the kernel over all images, the same for every output of a periodic or
        // mirrored line, less the dropped terms, a factor above 1 - N e^-truncation), so
        // beta osc f + 1 bounds osc(a) for every pass.
        let oscillation = setup.beta * (setup.lossRange.max - setup.lossRange.min) + 1
        let ghosts = Int(((oscillation + ColeHopf.truncation) / c).squareRoot().rounded(.up)) + 1
        // The source sums take each line's own reach; the blocks share one layout, the reach
        // the lines need.
        guard !LogGaussianPass.prefersSourceSums(coefficient: c) else { return images(ghosts) }
        let n = shape.dims[axis], step = shape.strides[axis]
        var needed = 0
        values.withUnsafeBufferPointer { v in
            for l in 0..<shape.lineCount(along: axis) {
                needed = max(needed, LogGaussianPass.imageReach(v.baseAddress! + shape.lineStart(along: axis, line: l),
                                                                step: step, count: n, coefficient: c, cap: ghosts,
                                                                map: input))
            }
        }
        return images(needed)
    }

    func run(report base: SolverReport) throws -> ColeHopfSolution {
        var report = base
        let beta = setup.beta, t = setup.time
        let working = setup.working
        let d = working.dimension
        let h = working.spacing
        var shape = ArrayShape(dims: working.shape)
        // The first pass reads a = -beta f; the last writes u = -(b + log normalization)/beta
        // (log v = b + sum_k (log h_k - log(2 pi t/beta)/2)); each writes its displacement
        // x - <y> divided by t (grad u), in place of a pass of its own.
        var values = setup.samples.values
        var input = AffineMap(factor: -beta)
        let normalization = h.reduce(0) { $0 + log($1) - 0.5 * log(2 * Double.pi * t / beta) }
        let lossPayloads = options.averagedLossGradient ? setup.lossGradient!.map(\.values) : []
        var averaged = lossPayloads
        var displacement = [[Double]?](repeating: nil, count: d)
        var passNotes: [String] = []
        var pairs = (tilted: 0, normalized: 0, direct: 0, terms: 0)
        for axis in stride(from: d - 1, through: 0, by: -1) {
            let c = beta * h[axis] * h[axis] / (2 * t)
            let layout = layout(axis: axis, coefficient: c, values: values, input: input, shape: shape)
            // The displacements of the axes already summed, when gradients are asked for.
            let carried = options.gradient ? (axis + 1)..<d : d..<d
            let payloads = averaged + carried.map { displacement[$0]! }
            var pass = LogGaussianPass(coefficient: c, layout: layout)
            pass.input = input
            pass.output = axis == 0 ? AffineMap(shift: normalization, factor: -1 / beta) : .identity
            pass.displacementFactor = h[axis] / t
            // The loss gradient's component along this axis is odd under reflection at mirror images.
            let odd = averaged.indices.map { $0 == axis } + carried.map { _ in false }
            let out = pass.run(shape: shape, axis: axis, logValues: values, payloads: payloads, oddPayloads: odd,
                               displacement: options.gradient)
            values = out.logValues
            input = .identity
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
        let u = Field(grid: window, values: values)
        let gradient = options.gradient ? (0..<d).map { Field(grid: window, values: displacement[$0]!) } : []
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
