import Foundation

/// The FFT evaluation of the Cole–Hopf integral: `v = G_{t/beta} * v0`, `v0 = exp(-beta (f - min f))`,
/// by the exact heat propagator `exp(-nu t |k|^2)` (`nu = 1/(2 beta)`) on a periodic grid —
/// the working grid itself, or for Neumann and padded free grids its even extension (period
/// `2(n-1)` per axis, the operator of the DCT-I) — with `u = min f - log(v)/beta` and
/// `grad u = -(1/beta) grad v / v`, `grad v` by spectral differentiation: the displacement form
/// of Lemma 1, `x - <y> = -(t/beta) grad v/v`,
/// with the displacement to each image. The averaged loss gradient is `G*(grad f v0)/v`, the
/// component along an axis extended oddly across its mirror (as the gradient of the even
/// extension of `f`).
///
/// Error: the transforms are accurate to about `2e-16 log2(N) max v0` in absolute terms, so at
/// a point the relative error of `v` is `r = 2e-16 log2(N)/v(x)` (`max v0 = 1`): it grows like
/// `exp(beta (u(x) - min u))`. Predicted errors: `r/beta` for `u`, `4 r/sqrt(t beta)` for the
/// gradient (the derivative amplifies the noise up to the kernel's bandwidth `~1/sigma`), `r max|grad f|`
/// for the averaged loss gradient; `ColeHopf` runs the path only while they stay below its
/// tolerance (about `beta (u - min u) <= 11-14`).
///
/// The transforms are pruned (`BandLimitedSpectralPlan`): the propagator is below `exp(-50)`
/// once `nu t k_a^2 >= 50` on an axis, so only the modes below that are transformed along all
/// axes but the last, which changes `v` by at most `N exp(-50)` (added to the predicted error).
/// One forward transform serves `v`, each gradient component and nothing else; each costs one
/// inverse (about one row transform of the grid).
struct ColeHopfFFT {
    let setup: ColeHopf.Setup
    let options: ColeHopfOptions

    struct Outcome {
        var setup: ColeHopf.Setup
        var u: Field
        var gradient: [Field]
        var averaged: [Field]?
        var predictedError: Double
        var dynamicRange: Double

        func solution(report base: SolverReport) -> ColeHopfSolution {
            var report = base
            report.scheme = "cole-hopf (fft)"
            return ColeHopfSolution(f: setup.windowSamples, u: u, gradient: gradient, averagedLossGradient: averaged,
                                    path: .fft, report: report)
        }
    }

    /// `log2 N`-scaled unit error of the transforms on this grid.
    static func unitError(_ setup: ColeHopf.Setup) -> Double {
        ColeHopf.fftUnitError * max(1, log2(Double(setup.working.count)))
    }

    /// The largest scale the relative error of `v` is multiplied by (see the type's comment).
    static func errorScale(_ setup: ColeHopf.Setup, options: ColeHopfOptions) -> Double {
        var scale = 1 / setup.beta
        if options.gradient { scale = max(scale, 4 / (setup.time * setup.beta).squareRoot()) }
        if options.averagedLossGradient, let g = setup.lossGradient {
            scale = max(scale, g.map { $0.norm(.max) }.max() ?? 0)
        }
        return scale
    }

    /// The dynamic range `beta (u(x) - min u)` the FFT path tolerates with these options.
    static func dynamicRangeBudget(_ setup: ColeHopf.Setup, options: ColeHopfOptions = ColeHopfOptions()) -> Double {
        log(ColeHopf.fftTolerance / (unitError(setup) * errorScale(setup, options: options)))
    }

    /// `beta (max_window u_HL - min u_HL)` from the discrete Hopf–Lax value on the working grid,
    /// plus 1 for the viscous correction: an estimate of the FFT path's dynamic range. The `auto`
    /// rule only uses it to choose a path (the FFT result is checked after the fact, and the log
    /// domain is exact either way), so on large grids without padding it is taken on every
    /// `s`-th node per axis (at most 4096 per axis and `2^16` in all): it then moves by at most
    /// `beta (Lip f + D/t) s h`.
    static func hopfLaxDynamicRange(_ setup: ColeHopf.Setup) -> Double {
        let working = setup.working
        if setup.padding == nil, let coarse = coarsened(setup.samples) {
            let hl = SeparableInfConvolution(grid: coarse.grid, time: setup.time).run(coarse.values).value
            return setup.beta * ((hl.max() ?? 0) - (hl.min() ?? 0)) + 1
        }
        let hl = SeparableInfConvolution(grid: working, time: setup.time).run(setup.samples.values).value
        let lowest = hl.min() ?? 0
        let highest = setup.padding?.crop(Field(grid: working, values: hl)).maximum ?? (hl.max() ?? 0)
        return setup.beta * (highest - lowest) + 1
    }

    /// Every `s`-th node of `f` per axis, with `s` the least stride leaving at most 4096 nodes
    /// per axis and `2^16` in all (as many per axis) that keeps the grid's nodes (the node count
    /// minus one divisible by `s` on node axes, the count on periodic ones); nil when no axis
    /// needs it or none fits.
    static func coarsened(_ f: Field) -> Field? {
        let grid = f.grid
        let perAxis = min(4096, Int(pow(65536, 1 / Double(grid.dimension)).rounded(.down)))
        var strides: [Int] = []
        for axis in grid.axes {
            let cells = axis.periodic ? axis.count : axis.count - 1
            var s = 1
            while cells / s > perAxis || cells % s != 0 {
                s += 1
                if s > cells / 64 { return nil }
            }
            strides.append(s)
        }
        guard strides.contains(where: { $0 > 1 }),
              let coarse = try? Grid(domain: grid.axes.map { ($0.lower, $0.upper) },
                                     counts: zip(grid.axes, strides).map { $0.periodic ? $0.count / $1 : ($0.count - 1) / $1 + 1 },
                                     boundary: grid.boundary) else { return nil }
        // The fine-grid step of each coarse axis; one odometer over the coarse nodes.
        let steps = zip(strides, grid.strides).map { $0 * $1 }
        let shape = coarse.shape
        var index = [Int](repeating: 0, count: shape.count)
        let values = f.values.withUnsafeBufferPointer { fine in
            (0..<coarse.count).map { _ -> Double in
                var flat = 0
                for k in 0..<index.count { flat += index[k] * steps[k] }
                index.advanceRowMajor(in: shape)
                return fine[flat]
            }
        }
        return Field(grid: coarse, values: values)
    }

    /// The periodic grid the transforms run on.
    static func transformGrid(_ working: Grid) throws -> Grid {
        guard working.boundary != .periodic else { return working }
        return try Grid(domain: working.axes.map { ($0.lower, $0.lower + 2 * $0.length) },
                        counts: working.axes.map { 2 * ($0.count - 1) }, boundary: .periodic)
    }

    func run() throws -> Outcome {
        let extended = try Self.transformGrid(setup.working)
        let nuT = setup.time / (2 * setup.beta)
        let kmax = (BandLimitedSpectralPlan.cut / nuT).squareRoot()
        let kept = (0..<extended.dimension).map {
            BandLimitedSpectralPlan.keptModes(grid: extended, axis: $0, largestWavenumber: kmax)
        }
        return try FFTPlanCache.shared.withPlan(for: extended, kept: kept) { plan in
            try run(plan: plan, nuT: nuT)
        }
    }

    private func run(plan: BandLimitedSpectralPlan, nuT: Double) throws -> Outcome {
        let beta = setup.beta
        let working = setup.working
        let d = working.dimension
        let reflection = MirrorExtension(grid: working, extended: plan.grid)
        let fMin = setup.lossRange.min
        let count = plan.grid.count
        // v0 = exp(-beta (f - min f)), extended; on a periodic grid straight into the plan's input.
        let samples = setup.samples.values
        let v0 = reflection.isIdentity ? [] : Self.exponentials(samples, scale: -beta, shift: beta * fMin)
        let coefficients = plan.forward { input in
            if reflection.isIdentity {
                Self.exponentials(samples, scale: -beta, shift: beta * fMin, into: input)
            } else {
                reflection.extend(v0, oddAxis: nil).withUnsafeBufferPointer { input.update(from: $0.baseAddress!, count: count) }
            }
        }
        let heat: [[Double]] = (0..<d).map { a in plan.wavenumbers(axis: a).flatMap { k -> [Double] in [exp(-nuT * k * k), 0] } }
        let crop = { (values: [Double]) -> Field in
            let field = Field(grid: working, values: values)
            return setup.padding?.crop(field) ?? field
        }
        // u straight from the transform's output where v is needed for nothing else.
        let keepV = options.gradient || options.averagedLossGradient || !reflection.isIdentity || setup.padding != nil
        var v: [Double] = []
        var (logs, vMin, vMax) = ([Double](), 0.0, 0.0)
        plan.inverse(coefficients, factors: heat) { output in
            let values = UnsafeBufferPointer(start: output, count: count)
            if keepV {
                v = Array(values)
            } else {
                (logs, vMin, vMax) = Self.logarithms(values, offset: fMin, scale: -1 / beta)
            }
        }
        if keepV {
            let window = crop(reflection.restrict(v))
            (logs, vMin, vMax) = window.values.withUnsafeBufferPointer {
                Self.logarithms($0, offset: fMin, scale: -1 / beta)
            }
        }
        let uGrid = setup.padding?.window ?? working
        let absolute = Self.unitError(setup) + plan.droppedBound
        let predicted = vMin > 0 ? absolute / vMin * Self.errorScale(setup, options: options) : .infinity
        let range = vMin > 0 ? log(vMax / vMin) : .infinity
        let u = Field(grid: uGrid, values: vMin > 0 ? logs : [Double](repeating: .nan, count: logs.count))
        var gradient: [Field] = []
        if options.gradient {
            for k in 0..<d {
                var factors = heat
                // i k exp(-nu t k^2) along axis k (0 at an even axis' Nyquist index).
                factors[k] = plan.wavenumbers(axis: k, forDerivative: true).flatMap { w -> [Double] in [0, w * exp(-nuT * w * w)] }
                // -(1/beta) grad v / v on the transform grid, then restricted.
                let slope = plan.inverse(coefficients, factors: factors) {
                    Self.quotients(UnsafeBufferPointer(start: $0, count: count), v, scale: -1 / beta)
                }
                gradient.append(crop(reflection.restrict(slope)))
            }
        }
        var averaged: [Field]?
        if options.averagedLossGradient, let g = setup.lossGradient {
            let v0Working = reflection.isIdentity ? Self.exponentials(samples, scale: -beta, shift: beta * fMin) : v0
            averaged = g.enumerated().map { k, component in
                let numerator = reflection.extend(zip(component.values, v0Working).map { $0 * $1 }, oddAxis: k)
                let transformed = plan.forward { input in
                    numerator.withUnsafeBufferPointer { input.update(from: $0.baseAddress!, count: count) }
                }
                let mean = plan.inverse(transformed, factors: heat) {
                    Self.quotients(UnsafeBufferPointer(start: $0, count: count), v, scale: 1)
                }
                return crop(reflection.restrict(mean))
            }
        }
        return Outcome(setup: setup, u: u, gradient: gradient, averaged: averaged,
                       predictedError: predicted, dynamicRange: range)
    }
}

extension ColeHopfFFT {
    /// `offset + scale * log(v)` for every value, with the least and largest `v`, split over the
    /// cores: per chunk the extrema first, then the logarithms in a loop of their own (which
    /// vectorizes, with `VectorLog` when the chunk's values are positive normal numbers, as `v`
    /// is wherever the path is accurate; with `Foundation.log` otherwise, which gives the NaN or
    /// `-inf` that reports the failure).
    static func logarithms(_ src: UnsafeBufferPointer<Double>, offset: Double, scale: Double) -> ([Double], Double, Double) {
        let count = src.count
        let chunks = max(1, min(Parallel.workers, count / 16384))
        var extrema = [(least: Double, largest: Double)](repeating: (.infinity, -.infinity), count: chunks)
        let out = [Double](unsafeUninitializedCapacity: count) { dst, initialized in
            extrema.withUnsafeMutableBufferPointer { slots in
                let s = src.baseAddress!, o = dst.baseAddress!, slot = slots.baseAddress!
                Parallel.forEachChunk(chunks, minimumPerChunk: 1) { range in
                    for chunk in range {
                        let lo = count * chunk / chunks, hi = count * (chunk + 1) / chunks
                        let (least, largest) = Extrema.of(s + lo, count: hi - lo)
                        slot[chunk] = (least, largest)
                        if least >= Double.leastNormalMagnitude && largest <= Double.greatestFiniteMagnitude {
                            for i in lo..<hi { o[i] = offset + scale * VectorLog.log(s[i]) }
                        } else {
                            for i in lo..<hi { o[i] = offset + scale * log(s[i]) }
                        }
                    }
                }
            }
            initialized = count
        }
        return (out, extrema.map(\.least).min()!, extrema.map(\.largest).max()!)
    }

    /// `scale * a[i] / b[i]`, split over the cores.
    static func quotients(_ a: UnsafeBufferPointer<Double>, _ b: [Double], scale: Double) -> [Double] {
        var out = [Double](unsafeUninitializedCapacity: a.count) { _, initialized in initialized = a.count }
        b.withUnsafeBufferPointer { y in
            out.withUnsafeMutableBufferPointer { dst in
                let p = a.baseAddress!, q = y.baseAddress!, o = dst.baseAddress!
                Parallel.forEachChunk(a.count, minimumPerChunk: 32768) { range in
                    for i in range { o[i] = scale * p[i] / q[i] }
                }
            }
        }
        return out
    }

    /// `exp(scale * x + shift)` for every value, vectorized (`VectorExp`) and split over the cores.
    static func exponentials(_ values: [Double], scale: Double, shift: Double) -> [Double] {
        [Double](unsafeUninitializedCapacity: values.count) { buffer, initialized in
            exponentials(values, scale: scale, shift: shift, into: buffer.baseAddress!)
            initialized = values.count
        }
    }

    /// `out[i] = exp(scale * values[i] + shift)`.
    static func exponentials(_ values: [Double], scale: Double, shift: Double, into out: UnsafeMutablePointer<Double>) {
        values.withUnsafeBufferPointer { src in
            let s = src.baseAddress!
            Parallel.forEachChunk(values.count, minimumPerChunk: 32768) { range in
                for i in range { out[i] = VectorExp.exp(scale * s[i] + shift) }
            }
        }
    }
}

/// The even extension of node values on a grid to the periodic grid of period `2(n-1)` per
/// axis (identity for a periodic grid), optionally odd along one axis, and the restriction back.
struct MirrorExtension {
    let grid: Grid
    let extended: Grid

    var isIdentity: Bool { grid.shape == extended.shape }

    func extend(_ values: [Double], oddAxis: Int?) -> [Double] {
        guard !isIdentity else { return values }
        let d = grid.dimension
        let shape = grid.shape, strides = grid.strides
        var out = [Double](repeating: 0, count: extended.count)
        var index = [Int](repeating: 0, count: d)
        let extShape = extended.shape
        for flat in 0..<extended.count {
            var source = 0
            var sign = 1.0
            for k in 0..<d {
                let j = index[k]
                let reflected = j >= shape[k]
                source += (reflected ? 2 * (shape[k] - 1) - j : j) * strides[k]
                if reflected && oddAxis == k { sign = -1 }
            }
            out[flat] = sign * values[source]
            index.advanceRowMajor(in: extShape)
        }
        return out
    }

    func restrict(_ values: [Double]) -> [Double] {
        guard !isIdentity else { return values }
        let padding = PaddedGrid(grid: extended.with(boundary: .periodic), window: grid,
                                 offsets: [Int](repeating: 0, count: grid.dimension))
        return padding.crop(Field(grid: extended, values: values)).values
    }
}

/// FFT plans kept between Cole–Hopf solves: a solve checks a plan out (it owns it while it
/// runs: plans are not for concurrent use) and returns it; at most four idle plans are kept, the
/// most recently used.
final class FFTPlanCache: @unchecked Sendable {
    static let shared = FFTPlanCache()
    static let capacity = 4

    private let lock = NSLock()
    private var idle: [BandLimitedSpectralPlan] = []

    func withPlan<T>(for grid: Grid, kept: [Int], _ body: (BandLimitedSpectralPlan) throws -> T) throws -> T {
        lock.lock()
        let index = idle.lastIndex { $0.grid == grid && $0.requestedModes == kept }
        let cached = index.map { idle.remove(at: $0) }
        lock.unlock()
        let plan = try cached ?? BandLimitedSpectralPlan(grid: grid, kept: kept)
        defer {
            lock.lock()
            idle.append(plan)
            if idle.count > Self.capacity { idle.removeFirst() }
            lock.unlock()
        }
        return try body(plan)
    }
}
