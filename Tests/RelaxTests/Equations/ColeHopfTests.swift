import Foundation
import Testing
@testable import Relax

/// The Cole–Hopf solver (paper, Lemma 1, eq. 11): exactness against an independent quadrature
/// oracle and exact solutions, stability for every beta, the two gradient forms, and the
/// inviscid limit.
@Suite("Cole–Hopf (Lemma 1, eq. 11): exact for the sampled loss and stable for every beta")
struct ColeHopfTests {
    static let eps = Double.ulpOfOne

    // A loss the solver was not tuned on, with its exact gradient.
    static func unseen(_ x: Double) -> Double { sin(3 * x) + 0.5 * cos(7 * x + 1) + 0.3 * sin(13 * x + 2) }
    static func unseenSlope(_ x: Double) -> Double { 3 * cos(3 * x) - 3.5 * sin(7 * x + 1) + 3.9 * cos(13 * x + 2) }

    /// The conditioning of the Gibbs means: both computations round the exponents
    /// `-beta (f + |x-y|^2/(2t))` with absolute errors up to `~4 eps beta (max|f| + D^2/(2t))`,
    /// which moves a mean of a quantity spread over `spread` by that much times `spread` (the
    /// relative weights change by the exponent error). `u` itself moves only by the exponent
    /// error over beta, below `1e-12` here.
    static func meanTolerance(beta: Double, maxF: Double, diameter: Double, time t: Double, spread: Double) -> Double {
        1e-12 + 8 * eps * beta * (maxF + diameter * diameter / (2 * t)) * spread
    }

    @Test("log-domain Cole–Hopf equals the brute-force log-sum-exp quadrature in 1-D (periodic, Neumann, free; beta 1..1e5)",
          arguments: [Boundary.periodic, .neumann, .free])
    func bruteForceOracle1D(boundary: Boundary) throws {
        for (n, t) in [(101, 0.5), (301, 2.0)] {
            let grid = try Grid(domain: [(0, 2 * Double.pi)], counts: [n], boundary: boundary)
            let f = Field(grid: grid) { Self.unseen($0[0]) }
            let g = Field(grid: grid) { Self.unseenSlope($0[0]) }
            for beta in [1.0, 10, 100, 1e3, 1e4, 1e5] {
                let options = ColeHopfOptions(path: .logDomain, gradient: true, averagedLossGradient: true)
                let solution = try ColeHopf.solve(f, beta: beta, time: t, lossGradient: [g], options: options)
                let oracle = ColeHopf.bruteForce(f, beta: beta, time: t, lossGradient: [g])
                let diameter = 2 * Double.pi
                #expect(solution.u.distance(to: oracle.u, .max) <= 1e-12, "u, beta = \(beta), n = \(n)")
                let gradTol = Self.meanTolerance(beta: beta, maxF: 1.8, diameter: diameter, time: t, spread: diameter / t)
                #expect(solution.gradient[0].distance(to: oracle.gradient[0], .max) <= gradTol, "grad, beta = \(beta)")
                let avgTol = Self.meanTolerance(beta: beta, maxF: 1.8, diameter: diameter, time: t, spread: 2 * 11.4)
                #expect(solution.averagedLossGradient![0].distance(to: oracle.averagedLossGradient![0], .max) <= avgTol)
            }
        }
    }

    @Test("log-domain Cole–Hopf equals the brute-force quadrature in 2-D (small grids, beta 1..1e5)",
          arguments: [Boundary.periodic, .neumann, .free])
    func bruteForceOracle2D(boundary: Boundary) throws {
        let grid = try Grid(domain: [(0, 2 * Double.pi), (-1, 2)], counts: [21, 17], boundary: boundary)
        let value: ([Double]) -> Double = { p in Self.unseen(p[0]) + 0.7 * cos(2 * p[1] - p[0]) + 0.2 * p[1] * p[1] }
        let f = Field(grid: grid, value)
        let g = [Field(grid: grid) { Self.unseenSlope($0[0]) + 0.7 * sin(2 * $0[1] - $0[0]) },
                 Field(grid: grid) { -1.4 * sin(2 * $0[1] - $0[0]) + 0.4 * $0[1] }]
        let t = 0.7
        for beta in [1.0, 100, 1e4, 1e5] {
            let options = ColeHopfOptions(path: .logDomain, gradient: true, averagedLossGradient: true)
            let solution = try ColeHopf.solve(f, beta: beta, time: t, lossGradient: g, options: options)
            let oracle = ColeHopf.bruteForce(f, beta: beta, time: t, lossGradient: g)
            let diameter = (4 * Double.pi * Double.pi + 9).squareRoot()
            #expect(solution.u.distance(to: oracle.u, .max) <= 1e-12, "u, beta = \(beta)")
            let tol = Self.meanTolerance(beta: beta, maxF: 3.8, diameter: diameter, time: t, spread: diameter / t)
            for k in 0..<2 {
                #expect(solution.gradient[k].distance(to: oracle.gradient[k], .max) <= tol, "grad \(k), beta = \(beta)")
                #expect(solution.averagedLossGradient![k].distance(to: oracle.averagedLossGradient![k], .max)
                        <= Self.meanTolerance(beta: beta, maxF: 3.8, diameter: diameter, time: t, spread: 2 * 12.5))
            }
        }
    }

    /// Example 13 (DESIGN.md form). The integrand `exp(-beta f(y) - beta |x-y|^2/(2t))` is a
    /// Gaussian of width `sigma_eff = sqrt(t/(beta (1 + c t)))`; with `sigma_eff >= 2.5 h` the
    /// trapezoid rule's error `2 exp(-2 pi^2 (sigma_eff/h)^2)` is `< 1e-50`, so only rounding
    /// (`~1e-15`) remains: `1e-10` is the brief's target, met with margin.
    @Test("Example 13: u = |x|^2/(2(t + 1/c)) + d/(2 beta) log(1 + c t) and grad u = x/(t + 1/c), d = 1, 2, 3, both paths",
          arguments: [1, 2, 3])
    func example13(dimension d: Int) throws {
        let c = 1.0, t = 0.25, beta = 20.0
        let n = d == 3 ? 26 : 51
        let grid = try Grid(domain: [(Double, Double)](repeating: (-0.5, 0.5), count: d),
                            counts: [Int](repeating: n, count: d), boundary: .free)
        #expect((t / (beta * (1 + c * t))).squareRoot() >= 2.5 * grid.spacing[0])
        let loss = Loss(name: "c|x|^2/2", dimension: d, value: { p in c * p.reduce(0) { $0 + $1 * $1 } / 2 },
                        gradient: { p in p.map { c * $0 } })
        let exact = Field(grid: grid) { ViscousHJConvergence.example13($0, c: c, beta: beta, time: t) }
        for path in [ColeHopfPath.fft, .logDomain] {
            let solution = try ColeHopf.solve(SmoothingProblem(loss: loss, grid: grid, time: t, beta: beta),
                                              options: ColeHopfOptions(path: path))
            #expect(solution.path == path)
            #expect(solution.u.distance(to: exact, .max) <= 1e-10, "\(path)")
            for k in 0..<d {
                let slope = Field(grid: grid) { $0[k] / (t + 1 / c) }
                #expect(solution.gradient[k].distance(to: slope, .max) <= 1e-10, "\(path) grad \(k)")
            }
        }
    }

    /// Where both are valid (kernel `>= 3h`, dynamic range inside the FFT budget), the paths
    /// differ by at most the FFT path's own predicted error (which gates it) plus rounding.
    @Test("FFT and log-domain paths agree where both are valid (periodic, Neumann, free; 1-D and 2-D)")
    func fftAgreesWithLogDomain() throws {
        let loss1 = Loss(name: "unseen", dimension: 1, value: { Self.unseen($0[0]) }, gradient: { [Self.unseenSlope($0[0])] })
        let loss2 = Loss(name: "unseen 2-D", dimension: 2, value: { Self.unseen($0[0]) + 0.5 * cos($0[1] + 2 * $0[0]) })
        let cases: [(Loss, Grid, Double)] = [
            (loss1, try Grid(domain: [(0, 2 * Double.pi)], counts: [256], boundary: .periodic), 1),
            (loss1, try Grid(domain: [(0, 2 * Double.pi)], counts: [257], boundary: .neumann), 3),
            (loss1, try Grid(domain: [(-1, 1)], counts: [101], boundary: .free), 2),
            (loss2, try Grid(domain: [(0, 2 * Double.pi), (0, 2 * Double.pi)], counts: [64, 64], boundary: .periodic), 1),
            (loss2, try Grid(domain: [(-1, 1), (-1, 1)], counts: [41, 41], boundary: .free), 2),
        ]
        for (loss, grid, beta) in cases {
            let problem = SmoothingProblem(loss: loss, grid: grid, time: 0.5, beta: beta)
            let averaged = grid.dimension == 1
            let fft = try ColeHopf.solve(problem, options: ColeHopfOptions(path: .fft, averagedLossGradient: averaged))
            let logDomain = try ColeHopf.solve(problem, options: ColeHopfOptions(path: .logDomain, averagedLossGradient: averaged))
            let predicted = try #require(fft.report.diagnostics["fft_predicted_error"])
            #expect(predicted <= ColeHopf.fftTolerance, "\(grid.boundary) d=\(grid.dimension)")
            #expect(fft.u.distance(to: logDomain.u, .max) <= predicted + 1e-13, "\(grid.boundary) d=\(grid.dimension)")
            for k in 0..<grid.dimension {
                #expect(fft.gradient[k].distance(to: logDomain.gradient[k], .max) <= predicted + 1e-12)
            }
            if averaged {
                // The averaged loss gradient on both paths (on the Neumann grid with the odd reflection of
                // grad f), and the two forms of Lemma 1. On the Neumann grid the even extension of f has a
                // kink where f' does not vanish at the ends, so there the forms agree only to the O(h^2)
                // trapezoid error of that kink; elsewhere to quadrature (spectral) accuracy.
                let a = fft.averagedLossGradient![0], b = logDomain.averagedLossGradient![0]
                #expect(a.distance(to: b, .max) <= predicted + 1e-12, "\(grid.boundary)")
                if grid.boundary != .neumann {
                    #expect(b.distance(to: logDomain.gradient[0], .max) <= 1e-9, "forms, \(grid.boundary)")
                }
            }
        }
    }

    /// Lemma 1: `grad u = (x - <y>)/t = <grad f>` (integration by parts of the Gibbs integral;
    /// on a periodic grid the trapezoid rule keeps it to spectral accuracy), and both are the
    /// derivative of `u`: fourth-order central differences of `u` with steps `4h, 2h, h` converge
    /// to them at order 4.
    @Test("Lemma 1: the two gradient forms agree and match a finite difference of u")
    func gradientForms() throws {
        let n = 512
        let grid = try Grid(domain: [(0, 2 * Double.pi)], counts: [n], boundary: .periodic)
        let loss = Loss(name: "smooth", dimension: 1, value: { sin($0[0]) + 0.4 * cos(3 * $0[0] + 1) },
                        gradient: { [cos($0[0]) - 1.2 * sin(3 * $0[0] + 1)] })
        let options = ColeHopfOptions(path: .logDomain, gradient: true, averagedLossGradient: true)
        let s = try ColeHopf.solve(SmoothingProblem(loss: loss, grid: grid, time: 0.5, beta: 4), options: options)
        let form1 = s.gradient[0], form2 = s.averagedLossGradient![0]
        #expect(form1.distance(to: form2, .max) <= 1e-11)
        let h = grid.spacing[0]
        var errors: [Double] = []
        for k in [4, 2, 1] {
            var worst = 0.0
            for i in 0..<n {
                let u = { (j: Int) in s.u.values[((i + j * k) % n + n) % n] }
                let derivative = (u(-2) - 8 * u(-1) + 8 * u(1) - u(2)) / (12 * Double(k) * h)
                worst = max(worst, abs(derivative - form1.values[i]))
            }
            errors.append(worst)
        }
        for i in 1..<errors.count {
            let order = log2(errors[i - 1] / errors[i])
            #expect(abs(order - 4) <= 0.3, "FD-of-u order \(order), errors \(errors)")
        }
        // Rugged and resolved: the forms still agree to quadrature accuracy.
        let rugged = Loss(name: "unseen", dimension: 1, value: { Self.unseen($0[0]) }, gradient: { [Self.unseenSlope($0[0])] })
        let r = try ColeHopf.solve(SmoothingProblem(loss: rugged, grid: try Grid(domain: [(0, 2 * Double.pi)], counts: [2048],
                                                                                 boundary: .periodic), time: 0.5, beta: 20),
                                   options: options)
        #expect(r.gradient[0].distance(to: r.averagedLossGradient![0], .max) <= 1e-9)
    }

    /// Laplace's method: `G * exp(-beta f) = det(I + t Hess f(y*))^(-1/2) exp(-beta u_HL) (1 + O(1/beta))`,
    /// so `beta (u_beta - u_HL) -> log det(I + t Hess f(prox))/2` with an `O(1/beta)` remainder;
    /// `u_HL` is the continuous Hopf–Lax value (Newton on `grad f(y) + (y - x)/t = 0`; `t` below
    /// `1/max(-f'')`, so the prox is unique). Grids resolve the kernel (`h = sqrt(t/beta)/3`).
    @Test("Cole–Hopf -> Hopf–Lax as beta -> infinity at rate O(1/beta), constant log(1 + t f''(prox))/(2 beta) in 1-D")
    func laplaceLimit1D() throws {
        let f: @Sendable (Double) -> Double = { 0.5 * sin(2 * $0) + 0.2 * $0 * $0 }
        let f1: @Sendable (Double) -> Double = { cos(2 * $0) + 0.4 * $0 }
        let f2: @Sendable (Double) -> Double = { -2 * sin(2 * $0) + 0.4 }
        let t = 0.2
        let loss = Loss(name: "smooth", dimension: 1, value: { f($0[0]) }, gradient: { [f1($0[0])] })
        var gaps: [Double] = [], remainders: [Double] = []
        let betas = [1e2, 1e3, 1e4]
        for beta in betas {
            let h = (t / beta).squareRoot() / 3
            let grid = try Grid(domain: [(-1, 1)], counts: [Int(2 / h) + 1], boundary: .free)
            let s = try ColeHopf.solve(SmoothingProblem(loss: loss, grid: grid, time: t, beta: beta))
            var gap = 0.0, remainder = 0.0
            for (i, x) in grid.axes[0].coordinates.enumerated() {
                var y = x
                for _ in 0..<60 { y -= (f1(y) + (y - x) / t) / (f2(y) + 1 / t) }
                let hopfLax = f(y) + (x - y) * (x - y) / (2 * t)
                gap = max(gap, abs(s.u.values[i] - hopfLax))
                remainder = max(remainder, abs(beta * (s.u.values[i] - hopfLax) - 0.5 * log(1 + t * f2(y))))
            }
            gaps.append(gap)
            remainders.append(remainder)
        }
        for i in 1..<betas.count {
            #expect(abs(log10(gaps[i - 1] / gaps[i]) - 1) <= 0.1, "gap \(gaps)")
            #expect(abs(log10(remainders[i - 1] / remainders[i]) - 1) <= 0.1, "remainder \(remainders)")
        }
    }

    @Test("Cole–Hopf -> Hopf–Lax in 2-D with constant log det(I + t Hess f(prox))/(2 beta)")
    func laplaceLimit2D() throws {
        // f = a(x) + a(y) + 0.1 sin(x + y): Hessian [[a''(x) - s, -s], [-s, a''(y) - s]], s = 0.1 sin(x + y).
        let a: @Sendable (Double) -> Double = { 0.5 * sin(2 * $0) + 0.2 * $0 * $0 }
        let a1: @Sendable (Double) -> Double = { cos(2 * $0) + 0.4 * $0 }
        let a2: @Sendable (Double) -> Double = { -2 * sin(2 * $0) + 0.4 }
        let t = 0.2
        let loss = Loss(name: "smooth 2-D", dimension: 2, value: { a($0[0]) + a($0[1]) + 0.1 * sin($0[0] + $0[1]) })
        var remainders: [Double] = []
        let betas = [1e2, 1e3, 1e4]
        for beta in betas {
            let h = (t / beta).squareRoot() / 3
            let n = Int(1 / h) + 1
            let grid = try Grid(domain: [(-0.5, 0.5), (-0.5, 0.5)], counts: [n, n], boundary: .free)
            let s = try ColeHopf.solve(SmoothingProblem(loss: loss, grid: grid, time: t, beta: beta),
                                       options: ColeHopfOptions(gradient: false))
            var remainder = 0.0
            for flat in stride(from: 0, to: grid.count, by: max(1, grid.count / 400)) {
                let x = grid.point(flat)
                var y = x
                var hess = [0.0, 0.0, 0.0]
                for _ in 0..<60 {
                    let sc = 0.1 * cos(y[0] + y[1]), ss = 0.1 * sin(y[0] + y[1])
                    let g = [a1(y[0]) + sc + (y[0] - x[0]) / t, a1(y[1]) + sc + (y[1] - x[1]) / t]
                    hess = [a2(y[0]) - ss, -ss, a2(y[1]) - ss]
                    let m = [hess[0] + 1 / t, hess[1], hess[2] + 1 / t]
                    let det = m[0] * m[2] - m[1] * m[1]
                    y[0] -= (m[2] * g[0] - m[1] * g[1]) / det
                    y[1] -= (m[0] * g[1] - m[1] * g[0]) / det
                }
                let hopfLax = a(y[0]) + a(y[1]) + 0.1 * sin(y[0] + y[1])
                    + ((x[0] - y[0]) * (x[0] - y[0]) + (x[1] - y[1]) * (x[1] - y[1])) / (2 * t)
                let logDet = log((1 + t * hess[0]) * (1 + t * hess[2]) - t * t * hess[1] * hess[1])
                remainder = max(remainder, abs(beta * (s.u.values[flat] - hopfLax) - 0.5 * logDet))
            }
            remainders.append(remainder)
        }
        for i in 1..<betas.count {
            #expect(abs(log10(remainders[i - 1] / remainders[i]) - 1) <= 0.15, "remainder \(remainders)")
        }
    }

    /// The discrete sum `v = prod_k h_k (beta/(2 pi t))^(1/2) exp(-beta phi*) S` with
    /// `phi*` the discrete Hopf–Lax value and `1 <= S <= N`, so
    /// `phi* + c - log(N)/beta <= u <= phi* + c`, `c = sum_k log(2 pi t/(beta h_k^2))/(2 beta)`:
    /// an `O(log N / beta)` gap, whatever the kernel's resolution.
    @Test("beta = 1e6 and 1e8 on a rugged loss: finite, within the O(1/beta) discrete Laplace bounds of Hopf–Lax (1-D, 2-D)")
    func ruggedLargeBeta() throws {
        let grids = [try Grid(domain: [(-2, 2)], counts: [2001], boundary: .free),
                     try Grid(domain: [(-2, 2), (-1, 1)], counts: [161, 81], boundary: .free)]
        for grid in grids {
            let d = grid.dimension
            let loss = Loss(name: "rugged", dimension: d, value: { p in
                p.enumerated().reduce(0) { $0 + 0.2 * $1.1 * $1.1 + 0.4 * sin(9 * $1.1 + Double($1.0)) + 0.15 * cos(31 * $1.1) }
            })
            let f = try loss.sample(on: grid)
            for beta in [1e6, 1e8] {
                let t = 0.5
                let s = try ColeHopf.solve(f, beta: beta, time: t, options: ColeHopfOptions(path: .auto))
                try s.u.checkFinite("u")
                for g in s.gradient { try g.checkFinite("grad u") }
                #expect(s.path == .logDomain)
                let hopfLax = try HopfLax.infConvolution(f, time: t).value
                let shift = grid.spacing.reduce(0) { $0 + log(2 * Double.pi * t / (beta * $1 * $1)) } / (2 * beta)
                let slack = 1e-12  // rounding of the exponents, ~eps beta max|f| / beta
                for i in 0..<grid.count {
                    let upper = hopfLax.values[i] + shift
                    #expect(s.u.values[i] <= upper + slack)
                    #expect(s.u.values[i] >= upper - log(Double(grid.count)) / beta - slack)
                }
            }
        }
    }

    @Test("no underflow, overflow or NaN for beta osc f from 1e-3 to 1e8; auto agrees with the log domain")
    func stableOverDynamicRange() throws {
        let grid = try Grid(domain: [(0, 2 * Double.pi)], counts: [128], boundary: .periodic)
        let f = Field(grid: grid) { Self.unseen($0[0]) }
        let osc = f.oscillation
        for exponent in -3...8 {
            let beta = pow(10, Double(exponent)) / osc
            let auto = try ColeHopf.solve(f, beta: beta, time: 0.5)
            let logDomain = try ColeHopf.solve(f, beta: beta, time: 0.5, options: ColeHopfOptions(path: .logDomain))
            try auto.u.checkFinite("u at beta osc f = 1e\(exponent)")
            try auto.gradient[0].checkFinite("grad u at beta osc f = 1e\(exponent)")
            let tolerance = auto.path == .fft ? ColeHopf.fftTolerance : 1e-14
            #expect(auto.u.distance(to: logDomain.u, .max) <= tolerance, "beta osc f = 1e\(exponent), path \(auto.path)")
            // Maximum principle of the discrete sum: its kernel mass M = sum_m exp(-2 pi^2 m^2 sigma^2/h^2)
            // (Poisson) lies in [1, 1 + h/(sqrt(2 pi) sigma)], so min f - log(M)/beta <= u <= max f.
            let sigma = (0.5 / beta).squareRoot(), h = grid.spacing[0]
            let mass = 1 + h / ((2 * Double.pi).squareRoot() * sigma)
            #expect(auto.u.minimum >= f.minimum - log(mass) / beta - 1e-12 && auto.u.maximum <= f.maximum + 1e-12)
        }
    }

    @Test("auto path: FFT for a small dynamic range, log domain for a large one; the report says which")
    func autoPath() throws {
        let grid = try Grid(domain: [(0, 2 * Double.pi)], counts: [256], boundary: .periodic)
        let f = Field(grid: grid) { sin($0[0]) }
        let small = try ColeHopf.solve(f, beta: 1, time: 0.5)
        #expect(small.path == .fft)
        #expect(small.report.notes.contains { $0.hasPrefix("path: fft") })
        #expect(small.report.scheme == "cole-hopf (fft)")
        let large = try ColeHopf.solve(f, beta: 100, time: 0.5)
        #expect(large.path == .logDomain)
        #expect(large.report.notes.contains { $0.hasPrefix("path: log-domain") })
        // The explicit FFT path refuses to underflow silently.
        #expect(throws: RelaxError.self) { try ColeHopf.solve(f, beta: 2000, time: 0.01, options: ColeHopfOptions(path: .fft)) }
    }

    @Test("bad input: beta <= 0, t <= 0, Dirichlet refused; an under-resolved kernel warns with the resolution that fixes it")
    func badInput() throws {
        let grid = try Grid(domain: [(0, 2 * Double.pi)], counts: [64], boundary: .periodic)
        let f = Field(grid: grid) { sin($0[0]) }
        for (beta, t) in [(0.0, 1.0), (-1, 1), (1, 0), (1, -2), (.nan, 1), (1, .infinity)] {
            #expect(throws: RelaxError.self) { try ColeHopf.solve(f, beta: beta, time: t) }
        }
        let loss = Loss(name: "sin", dimension: 1, value: { sin($0[0]) })
        #expect(throws: RelaxError.self) { try ColeHopf.solve(SmoothingProblem(loss: loss, grid: grid, time: 1, beta: nil)) }
        let dirichlet = try Grid(domain: [(0, 1)], counts: [11], boundary: .dirichlet(0))
        #expect(throws: RelaxError.self) { try ColeHopf.solve(Field(grid: dirichlet), beta: 1, time: 1) }
        // sqrt(t/beta) = 1e-3 on h = 2 pi/64: n >= 2 pi/(sigma/2) = 12567 resolves it.
        let s = try ColeHopf.solve(f, beta: 1e4, time: 0.01)
        #expect(s.report.warnings.contains { $0.contains("n >= 12567") })
        let resolved = try ColeHopf.solve(f, beta: 1, time: 0.5)
        #expect(resolved.report.warnings.isEmpty)
    }

    @Test("low-rank Gaussian block: interpolation at 22 Chebyshev points reproduces exp(-c (p-q)^2) to 4e-15 for c (s-1)^2 = 2",
          arguments: [256, 1000, 4096])
    func lowRankKernel(size s: Int) {
        let c = GaussianBlockKernel.lowRankSpread / Double((s - 1) * (s - 1))
        let kernel = GaussianBlockKernel(size: s, coefficient: c, lowRank: true)
        var worst = 0.0
        for p in stride(from: 0, to: s, by: max(1, s / 64)) {
            for q in 0..<s {
                let d = Double(p - q)
                worst = max(worst, abs(kernel.entry(p, q) - exp(-c * d * d)))
            }
        }
        #expect(worst <= 4e-15)
    }
}
