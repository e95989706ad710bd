import Foundation

/// The FFT evaluation of the Cole–Hopf integral: `v = G_{t/beta} * v0` with
/// `v0 = exp(-beta (f - min f))` by the exact heat propagator (`HeatPropagator`, diffusivity
/// `1/(2 beta)`, time `t`: real DFT on periodic grids, DCT-I on Neumann and padded free grids),
/// `u = min f - log(v)/beta`; the Gibbs means are ratios of propagated payloads,
/// `<y_k> = xbar_k + G*((y_k - xbar_k) v0) / v` and `<grad f> = G*(grad f v0) / v`.
///
/// Error: the transforms are accurate to about `1e-16 log2(N) max v0` in absolute terms, so at a
/// point the relative error of `v` is `r = 2e-16 log2(N) / v(x)` (`max v0 = 1`), i.e. it grows
/// like `exp(beta (u(x) - min u))`. The predicted errors are `r/beta` for `u`, `r |y - xbar|/t`
/// for the gradient and `r max|grad f|` for the averaged loss gradient; `ColeHopf` uses the
/// path only while they stay below its tolerance (about `beta (u - min u) <= 14`).
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
            return ColeHopfSolution(f: setup.windowSamples, u: u, gradient: gradient, averagedLossGradient: averaged, path: .fft, report: report)
        }
    }

    /// The grid the propagator runs on: the working grid, with a padded free grid treated as
    /// Neumann (its edge lies beyond the reach of every significant source).
    static func propagatorGrid(_ setup: ColeHopf.Setup) -> Grid {
        setup.working.boundary == .free ? setup.working.with(boundary: .neumann) : setup.working
    }

    /// `log2 N`-scaled unit error of the transforms on this grid.
    static func unitError(_ setup: ColeHopf.Setup) -> Double {
        ColeHopf.fftUnitError * max(1, log2(Double(setup.working.count)))
    }

    /// The largest scale the relative error of `v` is multiplied by: `1/beta` for `u`,
    /// `max |y - xbar| / t` for the gradient, `max |grad f|` for the averaged loss gradient.
    static func errorScale(_ setup: ColeHopf.Setup, options: ColeHopfOptions) -> Double {
        var scale = 1 / setup.beta
        if options.gradient {
            let reach = setup.working.axes.map { 0.5 * $0.length }.max()!
            scale = max(scale, reach / setup.time)
        }
        if options.averagedLossGradient, let g = setup.lossGradient {
            scale = max(scale, g.map { $0.norm(.max) }.max() ?? 0)
        }
        return scale
    }

    /// The dynamic range `beta (u(x) - min u)` the FFT path tolerates with default options.
    static func dynamicRangeBudget(_ setup: ColeHopf.Setup, options: ColeHopfOptions = ColeHopfOptions()) -> Double {
        log(ColeHopf.fftTolerance / (unitError(setup) * errorScale(setup, options: options)))
    }

    /// `beta (max_window u_HL - min u_HL)` from the discrete Hopf–Lax value on the working grid,
    /// plus 1 for the viscous correction: an estimate of the FFT path's dynamic range.
    static func hopfLaxDynamicRange(_ setup: ColeHopf.Setup) -> Double {
        let hl = SeparableInfConvolution(grid: setup.working, time: setup.time).run(setup.samples.values).value
        let lowest = hl.min() ?? 0
        let highest: Double
        if let padding = setup.padding {
            highest = padding.crop(Field(grid: setup.working, values: hl)).maximum
        } else {
            highest = hl.max() ?? 0
        }
        return setup.beta * (highest - lowest) + 1
    }

    func run() throws -> Outcome {
        let beta = setup.beta, t = setup.time
        let grid = Self.propagatorGrid(setup)
        let propagator = try HeatPropagator(window: grid, diffusivity: 1 / (2 * beta), maximumTime: t)
        let f = setup.samples.values
        let fMin = setup.samples.minimum
        let v0 = f.map { exp(-beta * ($0 - fMin)) }
        var v = v0
        try propagator.propagate(&v, time: t)
        let crop = { (values: [Double]) -> Field in
            let field = Field(grid: setup.working, values: values)
            return setup.padding?.crop(field) ?? field
        }
        let vWindow = crop(v)
        let vMin = vWindow.minimum
        let r = Self.unitError(setup) / max(vMin, .leastNormalMagnitude)
        let predicted = vMin > 0 ? r * Self.errorScale(setup, options: options) : .infinity
        let range = vMin > 0 ? log((v.max() ?? 1) / vMin) : .infinity
        let u = vMin > 0 ? vWindow.map { fMin - log($0) / beta } : vWindow.map { _ in .nan }
        var gradient: [Field] = []
        if options.gradient {
            for k in 0..<grid.dimension {
                let axis = grid.axes[k]
                let centre = 0.5 * (axis.lower + axis.upper)
                let shape = grid.shape
                let inner = shape[(k + 1)...].reduce(1, *)
                let offsets = (0..<grid.count).map { axis.coordinate(($0 / inner) % shape[k]) - centre }
                var numerator = zip(offsets, v0).map { $0 * $1 }
                try propagator.propagate(&numerator, time: t)
                let values = (0..<grid.count).map { (offsets[$0] - numerator[$0] / v[$0]) / t }
                gradient.append(crop(values))
            }
        }
        var averaged: [Field]?
        if options.averagedLossGradient, let g = setup.lossGradient {
            averaged = try g.map { component in
                var numerator = zip(component.values, v0).map { $0 * $1 }
                try propagator.propagate(&numerator, time: t)
                return crop((0..<grid.count).map { numerator[$0] / v[$0] })
            }
        }
        return Outcome(setup: setup, u: u, gradient: gradient, averaged: averaged,
                       predictedError: predicted, dynamicRange: range)
    }
}
