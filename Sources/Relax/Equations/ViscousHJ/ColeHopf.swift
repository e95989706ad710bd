import Foundation

/// Which evaluation of the Cole–Hopf integral runs.
public enum ColeHopfPath: String, Sendable, CaseIterable, Codable {
    /// The FFT path where its dynamic range allows it, else the log-domain path.
    case auto
    /// The heat propagator (FFT/DCT) applied to `exp(-beta (f - min f))`: fast, but its error
    /// is absolute, `~1e-16 max v`, so relative `~1e-16 exp(beta (u(x) - min u))`.
    case fft
    /// Separable log-sum-exp passes shifted by the Hopf–Lax value: relative accuracy for every
    /// beta (`LogGaussianPass`).
    case logDomain = "log-domain"
}

/// What a Cole–Hopf solve computes besides `u`.
public struct ColeHopfOptions: Sendable, Equatable {
    public var path: ColeHopfPath
    /// `grad u = (x - <y>)/t`, `<y>` the mean of `rho1(y) ∝ exp(-beta f(y) - beta |x-y|^2/(2t))`.
    public var gradient: Bool
    /// The second form of Lemma 1, `∫ grad f(x - y) rho2(dy) = <grad f(y)>` under `rho1`.
    public var averagedLossGradient: Bool

    public init(path: ColeHopfPath = .auto, gradient: Bool = true, averagedLossGradient: Bool = false) {
        self.path = path
        self.gradient = gradient
        self.averagedLossGradient = averagedLossGradient
    }
}

/// A Cole–Hopf solution on a grid.
public struct ColeHopfSolution: Sendable {
    /// The loss sampled on the window.
    public var f: Field
    /// `u(., t)`.
    public var u: Field
    /// `grad u = (x - <y>)/t`, one field per axis (empty unless asked for).
    public var gradient: [Field]
    /// `<grad f>` under `rho1`, one field per axis (nil unless asked for).
    public var averagedLossGradient: [Field]?
    /// The path that ran (`fft` or `log-domain`).
    public var path: ColeHopfPath
    public var report: SolverReport
}

/// The Cole–Hopf solution of the viscous Hamilton–Jacobi equation (paper, Lemma 1, eq. 11),
///
///     u_t = -1/2 |grad u|^2 + 1/(2 beta) Lap u,   u(., 0) = f:
///     u(x, t) = -(1/beta) log( G_{t/beta} * exp(-beta f) )(x),   G_s the heat kernel of variance s,
///
/// with `grad u = (x - <y>)/t` (eq. 12 with the sign of eq. 15) and `<grad f>` under
/// `rho1(y) ∝ exp(-beta f(y) - beta |x - y|^2/(2t))`. The integral is the trapezoid rule over
/// the grid nodes: exact for the sampled loss up to quadrature error, spectrally small while
/// `sqrt(t/beta)` spans a few grid spacings.
///
/// Two evaluations (`ColeHopfPath`): the FFT path (the heat propagator on
/// `exp(-beta (f - min f))`, valid while `beta (u(x) - min u)` stays below ~12-14 and
/// `sqrt(t/beta) >= 3h`) and the log-domain path (`LogGaussianPass`, separable, shifted by the
/// Hopf–Lax value, relative accuracy for every beta: no underflow, overflow or NaN from
/// `beta osc f = 1e-3` to `1e8` and beyond). As `beta -> infinity`, `u -> ` Hopf–Lax:
/// by Laplace's method `u_beta - u_HL = log det(I + t Hess f(prox))/(2 beta) + O(1/beta^2)` for
/// smooth `f` with a unique prox (tested in 1-D and 2-D); on the grid, for any kernel width,
/// `0 <= u_HL,h + sum_k log(2 pi t/(beta h_k^2))/(2 beta) - u <= log(N)/beta`.
///
/// Boundaries: periodic (images of the periodic kernel), Neumann (even images about the end
/// nodes, the DCT-I operator; the averaged loss gradient uses the gradient of the even extension
/// of `f`, odd across the mirror, and agrees with `(x - <y>)/t` only to the `O(h^2)` trapezoid
/// error of the extension's kink where `f` has a nonzero normal derivative), free
/// (`solve(_:options:)` pads the window by the reach of the significant sources and samples the
/// loss there; `solve(_:beta:time:...)` with a `.free` grid sums over the given nodes only).
/// Dirichlet is refused.
public enum ColeHopf {
    /// Significant sources of an output lie within `sqrt(2 * truncation * t / beta)` of the
    /// Gibbs mean's support; the free-space padding adds this kernel reach to the prox reach.
    static var truncation: Double { LogGaussianPass.truncation }
    /// The FFT path needs `sqrt(t/beta) >= 3h`: its band limit then differs from the trapezoid
    /// sum by `exp(-pi^2 sigma^2/(2 h^2)) < 1e-19`.
    static let fftMinimumKernelCells = 3.0
    /// The FFT path's predicted errors (of `u`, the gradient and the averaged loss gradient) must
    /// stay below this for `auto` to keep it.
    static let fftTolerance = 1e-9
    /// The FFT round-trip error per unit of `max v0`, times `log2 N` (calibrated, conservative).
    static let fftUnitError = 2e-16

    /// Solves on the nodes of `f.grid` with its boundary. `lossGradient` (one field per axis)
    /// is needed for `options.averagedLossGradient`; a `.free` grid sums over its own nodes.
    public static func solve(_ f: Field, beta: Double, time t: Double, lossGradient: [Field]? = nil,
                             options: ColeHopfOptions = ColeHopfOptions()) throws -> ColeHopfSolution {
        try validate(beta: beta, time: t, grid: f.grid)
        // The loss range and the finiteness check in one pass; the check names the first bad node.
        let range = f.values.withUnsafeBufferPointer { Extrema.finiteRange($0) }
        if !range.finite { try f.checkFinite("loss") }
        if options.averagedLossGradient {
            guard let g = lossGradient, g.count == f.grid.dimension, g.allSatisfy({ $0.grid == f.grid }) else {
                throw RelaxError.invalidParameter(name: "lossGradient", value: "missing or on another grid",
                                                  expected: "one field per axis on the loss's grid for the averaged-gradient form")
            }
        }
        let setup = Setup(samples: f, lossGradient: lossGradient, padding: nil, beta: beta, time: t,
                          lossRange: (range.least, range.largest))
        let (solution, wall) = try Stopwatch.time { try run(setup, options: options) }
        var result = solution
        result.report.wallTime = wall
        return result
    }

    /// Solves a smoothing problem: the loss is sampled on the window (periodic, Neumann) or on
    /// the window padded by the reach of the significant sources (free), and the result is
    /// returned on the window.
    public static func solve(_ problem: SmoothingProblem, options: ColeHopfOptions = ColeHopfOptions()) throws -> ColeHopfSolution {
        try problem.validate(requiresBeta: true)
        let beta = problem.beta!, t = problem.time, window = problem.grid
        try validate(beta: beta, time: t, grid: window)
        let (solution, wall) = try Stopwatch.time { () throws -> ColeHopfSolution in
            if window.boundary == .free && !problem.loss.isExtendable {
                throw RelaxError.unsupported(
                    "a free boundary needs the loss beyond the window, but \(problem.loss.description) is known only "
                    + "on its own grid; use --boundary neumann or periodic, or --method fd (extrapolating boundary)")
            }
            let (samples, padding, notes, warnings) = try SignificanceReach.sample(problem)
            var lossGradient: [Field]?
            if options.averagedLossGradient {
                lossGradient = try problem.loss.sampleWithGradient(on: samples.grid).gradient
            }
            let setup = Setup(samples: samples, lossGradient: lossGradient, padding: padding, beta: beta, time: t)
            var result = try run(setup, options: options)
            result.report.notes = notes + result.report.notes
            result.report.warnings = warnings + result.report.warnings
            return result
        }
        var result = solution
        result.report.wallTime = wall
        return result
    }

    static func validate(beta: Double, time t: Double, grid: Grid) throws {
        try RelaxError.requirePositiveFinite(beta, name: "beta", expected: "a finite beta > 0")
        try RelaxError.requirePositiveFinite(t, name: "t", expected: "a finite time t > 0")
        if case .dirichlet = grid.boundary {
            throw RelaxError.unsupported(
                "Cole–Hopf with a Dirichlet boundary: use --boundary free (whole space), periodic or neumann")
        }
    }

    /// The sampled data of a solve: the loss on the working grid (the padded grid for a free
    /// problem), and the window it is cropped to.
    struct Setup {
        var samples: Field
        var lossGradient: [Field]?
        var padding: PaddedGrid?
        var beta: Double
        var time: Double

        /// `(min f, max f)` on the working grid.
        var lossRange: (min: Double, max: Double)

        /// `lossRange` when the caller has it, else one pass over the samples.
        init(samples: Field, lossGradient: [Field]?, padding: PaddedGrid?, beta: Double, time: Double,
             lossRange: (min: Double, max: Double)? = nil) {
            self.samples = samples
            self.lossGradient = lossGradient
            self.padding = padding
            self.beta = beta
            self.time = time
            if let lossRange {
                self.lossRange = lossRange
            } else {
                let (least, largest) = Extrema.of(samples.values)
                self.lossRange = (least, largest)
            }
        }

        var working: Grid { samples.grid }
        var window: Grid { padding?.window ?? samples.grid }
        /// The loss on the window.
        var windowSamples: Field { padding?.crop(samples) ?? samples }
        /// The kernel width `sqrt(t/beta)` in cells of each axis.
        var kernelCells: [Double] { working.spacing.map { (time / beta).squareRoot() / $0 } }
    }

    static func run(_ setup: Setup, options: ColeHopfOptions) throws -> ColeHopfSolution {
        var report = SolverReport(equation: "viscous-hj", scheme: "cole-hopf", workingShape: setup.working.shape)
        report.diagnostics["beta"] = setup.beta
        report.diagnostics["kernel_width"] = (setup.time / setup.beta).squareRoot()
        report.diagnostics["beta_osc_f"] = setup.beta * (setup.lossRange.max - setup.lossRange.min)
        if let warning = resolutionWarning(setup) { report.warnings.append(warning) }
        var path = options.path
        if path == .auto {
            let choice = chooseAutomatically(setup, options: options)
            path = choice.path
            report.notes.append(choice.note)
        } else if path == .fft, let reason = fftUnavailable(setup) {
            throw RelaxError.unsupported("the FFT path of Cole–Hopf: \(reason); use --path log-domain or auto")
        }
        var solution: ColeHopfSolution
        if path == .fft {
            let fft = try ColeHopfFFT(setup: setup, options: options).run()
            if options.path == .fft, !fft.predictedError.isFinite {
                throw RelaxError.numerical(
                    "the FFT path of Cole–Hopf underflowed: G * exp(-beta (f - min f)) is 0 somewhere on the window "
                    + "(beta osc f = \(setup.beta * (setup.lossRange.max - setup.lossRange.min))); use --path log-domain or auto")
            }
            if options.path == .auto, fft.predictedError > fftTolerance {
                report.notes.append(String(format: "FFT path rejected after the fact: predicted error %.2g > %.0e "
                                           + "(dynamic range beta (u - min u) = %.1f); recomputed in the log domain",
                                           fft.predictedError, fftTolerance, fft.dynamicRange))
                solution = try ColeHopfLogDomain(setup: setup, options: options).run(report: report)
            } else {
                report.diagnostics["fft_predicted_error"] = fft.predictedError
                report.diagnostics["dynamic_range"] = fft.dynamicRange
                if fft.predictedError > fftTolerance {
                    report.warnings.append(String(format: "the FFT path's predicted error is %.2g (dynamic range beta (u - min u) "
                                                  + "= %.1f): use --path log-domain or auto for full accuracy",
                                                  fft.predictedError, fft.dynamicRange))
                }
                solution = fft.solution(report: report)
            }
        } else {
            solution = try ColeHopfLogDomain(setup: setup, options: options).run(report: report)
        }
        try solution.u.checkFinite("Cole–Hopf u")
        for g in solution.gradient { try g.checkFinite("Cole–Hopf grad u") }
        return solution
    }

    /// Warns when `sqrt(t/beta)` is below two grid spacings, naming the resolution that would
    /// resolve the kernel.
    static func resolutionWarning(_ setup: Setup) -> String? {
        let sigma = (setup.time / setup.beta).squareRoot()
        let window = setup.window
        var needed: [Int] = []
        var short = false
        for axis in window.axes {
            let h = axis.spacing
            let target = sigma / 2
            let n = axis.periodic ? Int((axis.length / target).rounded(.up)) : Int((axis.length / target).rounded(.up)) + 1
            needed.append(max(n, axis.count))
            if h > target * (1 + 1e-12) { short = true }
        }
        guard short else { return nil }
        return "the Cole–Hopf kernel width sqrt(t/beta) = \(String(format: "%.3g", sigma)) is below 2 grid spacings "
            + "(h = \(window.spacing.map { String(format: "%.3g", $0) }.joined(separator: ","))): the result is the exact "
            + "discrete (trapezoid) sum over the nodes but under-resolves the Gaussian; n >= "
            + needed.map(String.init).joined(separator: ",") + " would resolve it"
    }

    /// Why the FFT path cannot run on this setup, or nil.
    static func fftUnavailable(_ setup: Setup) -> String? {
        if setup.working.boundary == .free && setup.padding == nil {
            return "a .free grid without padding sums over its own nodes only, which the propagator (even extension) cannot do"
        }
        return nil
    }

    /// The auto rule: FFT when it is available, the kernel spans `>= 3h`, and the predicted
    /// dynamic range (`beta osc f`, else the Hopf–Lax estimate) keeps its error below the
    /// tolerance; otherwise the log domain.
    static func chooseAutomatically(_ setup: Setup, options: ColeHopfOptions) -> (path: ColeHopfPath, note: String) {
        if let reason = fftUnavailable(setup) {
            return (.logDomain, "path: log-domain (\(reason))")
        }
        let cells = setup.kernelCells.min()!
        if cells < fftMinimumKernelCells {
            return (.logDomain, String(format: "path: log-domain (kernel width %.2f cells < %.0f: the FFT band limit "
                                       + "would differ from the trapezoid sum)", cells, fftMinimumKernelCells))
        }
        let budget = ColeHopfFFT.dynamicRangeBudget(setup, options: options)
        // min f <= u <= max f, so beta osc f bounds the dynamic range beta (u - min u).
        let crude = setup.beta * (setup.lossRange.max - setup.lossRange.min)
        if crude <= budget {
            return (.fft, String(format: "path: fft (beta osc f = %.3g <= dynamic-range budget %.1f)", crude, budget))
        }
        let estimate = ColeHopfFFT.hopfLaxDynamicRange(setup)
        if estimate <= budget {
            return (.fft, String(format: "path: fft (Hopf–Lax estimate of beta (u - min u) = %.3g <= budget %.1f)",
                                 estimate, budget))
        }
        return (.logDomain, String(format: "path: log-domain (Hopf–Lax estimate of beta (u - min u) = %.3g > FFT budget %.1f)",
                                   estimate, budget))
    }
}
