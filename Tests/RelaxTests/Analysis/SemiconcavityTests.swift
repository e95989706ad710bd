import Foundation
import Testing
@testable import Relax

/// Tolerances. A second difference is the average of `u_xx` against a hat function of unit
/// mass, so for the exact solution `sup` of second differences never exceeds `sup u_xx`:
/// the bound needs no truncation slack. What remains is the solver's value error `eps`,
/// which moves a second difference by at most `4 eps / h^2`. `eps` is estimated a posteriori
/// as twice the difference to the same solve on a grid refined by 2 (conservative for any
/// order >= 1), with a floor of 64 ulp of the values for round-off.
@Suite("Semiconcavity (Lemma 18, Examples 13-14, Lemmas 19-20)")
struct SemiconcavityTests {
    /// f = sin(3x) + x^2/10: f'' = 1/5 - 9 sin(3x), so C = sup f'' = 9.2, attained where
    /// sin(3x) = -1 (x = -pi/6 + 2 pi k/3), next to the local minima.
    static let ripple = Loss(name: "sin(3x) + x^2/10", dimension: 1, value: { sin(3 * $0[0]) + 0.1 * $0[0] * $0[0] },
                             gradient: { [3 * cos(3 * $0[0]) + 0.2 * $0[0]] })
    static let rippleC = 9.2

    /// A non-separable 2-D landscape: f_xx = 0.2 + 2.7 cos 3x + 0.8 cos 2(x+y),
    /// f_yy = 0.2 + 0.8 cos 2(x+y), f_xy = 0.8 cos 2(x+y); all three suprema are attained at
    /// the origin: C_x = 3.7, C_y = 1.0, C_Lap = 4.7.
    static func landscape2D() throws -> Loss {
        try Loss(expression: "0.1*(x^2 + y^2) + 0.3*(1 - cos(3*x)) + 0.2*(1 - cos(2*(x + y)))")
    }
    static let landscapeC = SemiconcavityConstants(perAxis: [3.7, 1.0], laplacian: 4.7)

    static func grids(_ domain: [(Double, Double)], _ n: Int, _ boundary: Boundary = .free) throws -> (Grid, Grid) {
        let fine = boundary == .periodic ? 2 * n : 2 * (n - 1) + 1
        return (try Grid(domain: domain, counts: [Int](repeating: n, count: domain.count), boundary: boundary),
                try Grid(domain: domain, counts: [Int](repeating: fine, count: domain.count), boundary: boundary))
    }

    /// The value-error estimate described above.
    static func valueError(_ coarse: Field, _ fine: Field) throws -> Double {
        let scale = coarse.values.reduce(0) { max($0, abs($1)) }
        return max(2 * (try Semiconcavity.valueDifference(coarse: coarse, fine: fine)), 64 * scale.ulp)
    }

    enum Solver { case viscous(beta: Double), inviscid }

    /// `u(., t)` on `grid` for each time, by Cole–Hopf or refined Hopf–Lax.
    static func solve(_ loss: Loss, _ grid: Grid, _ times: [Double], _ solver: Solver) throws -> [Field] {
        switch solver {
        case let .viscous(beta):
            return try times.map { try ColeHopf.solve(SmoothingProblem(loss: loss, grid: grid, time: $0, beta: beta)).u }
        case .inviscid:
            return try HopfLax.infConvolution(loss: loss, grid: grid, times: times).solutions.map(\.value)
        }
    }

    /// Asserts Lemma 18 along `times` with the tolerance of the header; returns the largest
    /// per-axis excess over the bound divided by its tolerance (for tests that also check
    /// how close the bound is).
    @discardableResult
    static func expectLemma18(_ loss: Loss, _ domain: [(Double, Double)], n: Int, times: [Double], _ solver: Solver,
                              constants: SemiconcavityConstants) throws -> [SemiconcavitySample] {
        let (grid, fineGrid) = try grids(domain, n)
        let coarse = try solve(loss, grid, times, solver)
        let fine = try solve(loss, fineGrid, times, solver)
        let track = Semiconcavity.track(Array(zip(times, coarse)), constants: constants)
        for (k, sample) in track.samples.enumerated() {
            let tol = Semiconcavity.tolerance(valueError: try valueError(coarse[k], fine[k]), spacing: [grid.spacing[0]])
            for axis in 0..<grid.dimension {
                #expect(sample.supPerAxis[axis] <= sample.boundPerAxis[axis] + tol,
                        "\(solver) t = \(sample.time), axis \(axis): sup \(sample.supPerAxis[axis]) > bound \(sample.boundPerAxis[axis]) + \(tol)")
            }
            #expect(sample.supLaplacian <= sample.boundLaplacian + Double(grid.dimension) * tol,
                    "\(solver) t = \(sample.time): sup Lap \(sample.supLaplacian) > bound \(sample.boundLaplacian)")
        }
        return track.samples
    }

    @Test("Lemma 18's bound 1/(1/C + t/n) for C = +inf, C > 0, C = 0 and C < 0 (finite time blow-down)")
    func boundCases() {
        #expect(Semiconcavity.bound(initial: .infinity, time: 2) == 0.5)
        #expect(Semiconcavity.bound(initial: .infinity, time: 2, dimension: 2) == 1)
        #expect(Semiconcavity.bound(initial: .infinity, time: 0) == .infinity)
        #expect(Semiconcavity.bound(initial: 4, time: 0) == 4)
        #expect(Semiconcavity.bound(initial: 4, time: 0.25) == 2)
        #expect(Semiconcavity.bound(initial: 4, time: 0.5, dimension: 2) == 2)
        #expect(Semiconcavity.bound(initial: 0, time: 3) == 0)
        #expect(Semiconcavity.bound(initial: -2, time: 0.25) == -4)
        #expect(Semiconcavity.bound(initial: -2, time: 0.5) == -.infinity)
        #expect(Semiconcavity.bound(initial: -2, time: 1) == -.infinity)
        // Example 13's remark: c = 1e8 gives C(0.01) ~ 100.
        #expect(abs(Semiconcavity.bound(initial: 1e8, time: 0.01) - 100) < 1e-4)
        #expect(abs(Semiconcavity.tolerance(valueError: 1e-6, spacing: [0.01, 0.02]) - (4e-2 + 1e-2)) < 1e-15)
    }

    @Test("Example 13: for u(., 0) = c|x|^2/2 the bound is attained, sup u_xx = 1/(t + 1/c), viscous and inviscid, d = 1, 2, 3")
    func example13Attained() throws {
        let c = 3.0
        for d in 1...3 {
            let loss = try Loss(expression: "1.5 * (" + ["x", "y", "z"].prefix(d).map { "\($0)^2" }.joined(separator: " + ") + ")")
            // Short times in 3-D: the free-space padding (prox reach t Lip f) grows the working
            // grid like (1 + 2 t Lip f)^3.
            let n = d == 3 ? 21 : 61
            let domain = [(Double, Double)](repeating: (-1, 1), count: d)
            let times = [[0.1, 0.5, 2.0], [0.1, 0.5], [0.1]][d - 1]
            for solver in [Solver.viscous(beta: 4), .inviscid] {
                let samples = try Self.expectLemma18(loss, domain, n: n, times: times, solver,
                                                     constants: .init(perAxis: [Double](repeating: c, count: d), laplacian: Double(d) * c))
                // Second differences of a quadratic are exact: the sup equals the bound up to
                // the value error (u is quadratic for both solvers).
                for s in samples {
                    let exact = 1 / (s.time + 1 / c)
                    for v in s.supPerAxis { #expect(abs(v - exact) < 1e-8 * exact, "d = \(d) \(solver) t = \(s.time): \(v) vs \(exact)") }
                    #expect(abs(s.supLaplacian - Double(d) * exact) < 1e-8 * exact)
                    #expect(abs(s.boundLaplacian - Double(d) * exact) < 1e-12 * exact)
                }
            }
        }
    }

    @Test("Lemma 18 for the viscous HJ equation (Cole–Hopf): sup u_xx <= 1/(1/C + t) and sup Lap u <= 1/(1/C_Lap + t/2)")
    func lemma18Viscous() throws {
        let times = [0.02, 0.1, 0.3, 1, 3]
        for beta in [1.0, 20.0] {
            try Self.expectLemma18(Self.ripple, [(-3, 3)], n: 601, times: times, .viscous(beta: beta),
                                   constants: .init(perAxis: [Self.rippleC], laplacian: Self.rippleC))
            try Self.expectLemma18(try Self.landscape2D(), [(-3, 3), (-3, 3)], n: 121, times: [0.05, 0.3, 1, 3],
                                   .viscous(beta: beta), constants: Self.landscapeC)
        }
    }

    @Test("Lemma 18 for the HJ equation (Hopf–Lax): the bound holds, and is attained where a minimum of f has f'' = C")
    func lemma18Inviscid() throws {
        let times = [0.02, 0.1, 0.3, 1, 3]
        let samples = try Self.expectLemma18(Self.ripple, [(-3, 3)], n: 601, times: times, .inviscid,
                                             constants: .init(perAxis: [Self.rippleC], laplacian: Self.rippleC))
        // The minimum near x = -0.52 (f'' = 9.2 - O(0.1)) is kept (prox(x*) = x*), where
        // u_xx = f''/(1 + t f''): within 2% of the bound at every time.
        for s in samples { #expect(s.supPerAxis[0] > 0.98 * s.boundPerAxis[0], "t = \(s.time): \(s.supPerAxis[0]) vs \(s.boundPerAxis[0])") }
        try Self.expectLemma18(try Self.landscape2D(), [(-3, 3), (-3, 3)], n: 121, times: [0.05, 0.3, 1, 3],
                               .inviscid, constants: Self.landscapeC)
    }

    @Test("Example 14: heat smoothing of an eigenfunction decays only like c0 exp(-lambda1 t), above the Lemma 18 bound for short times")
    func example14Heat() throws {
        // f = 1 - cos x on the periodic window: v = 1 - exp(-t/(2 beta)) cos x, so
        // sup v_xx = exp(-lambda1 t) with lambda1 = nu = 1/(2 beta), while Lemma 18 (C = 1)
        // gives 1/(1 + t) for the HJ equations.
        let beta = 2.0
        let grid = try Grid(domain: [(-Double.pi, Double.pi)], counts: [128], boundary: .periodic)
        let loss = try Loss(expression: "1 - cos(x)")
        let times = [0.5, 1, 2, 4, 8]
        let sups = try times.map { t in
            Semiconcavity.supSecondDifference(try HeatEquation.smooth(SmoothingProblem(loss: loss, grid: grid, time: t, beta: beta)).u, axis: 0)
        }
        // The second difference of cos x is exactly cos x * (2 - 2 cos h)/h^2; the spectral
        // propagator is exact on the mode, so the fitted rate is lambda1 to round-off.
        let fit = try Semiconcavity.exponentialFit(times: times, values: sups)
        #expect(abs(fit.rate - 1 / (2 * beta)) < 1e-10)
        let h = grid.spacing[0]
        #expect(abs(fit.c0 - (2 - 2 * cos(h)) / (h * h)) < 1e-10)
        // exp(-t/4) > 1/(1 + t) until t_c ~ 8.6: the heat comparator lags the bound that both
        // HJ equations obey.
        for (t, s) in zip(times, sups) {
            #expect((s > Semiconcavity.bound(initial: 1, time: t)) == (t < 8.6), "t = \(t): \(s)")
        }
        // A quadratic is not smoothed at all: v = x^2/2 + t/(2 beta), sup v_xx = 1 for every t.
        let quadratic = try Loss(expression: "x^2/2")
        let window = try Grid(domain: [(-2, 2)], counts: [81], boundary: .free)
        for t in [1.0, 10.0] {
            let v = try HeatEquation.smooth(SmoothingProblem(loss: quadratic, grid: window, time: t, beta: beta)).u
            #expect(abs(Semiconcavity.supSecondDifference(v, axis: 0) - 1) < 1e-8)
        }
    }

    @Test("Lemma 19: the harmonic mean of the spectrum of an SPD matrix is at most that of its diagonal")
    func lemma19() throws {
        var state: UInt64 = 0x9E3779B97F4A7C15
        func uniform() -> Double {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        for n in 2...4 {
            for _ in 0..<50 {
                let b = Matrix(rows: n, columns: n, entries: (0..<(n * n)).map { _ in 2 * uniform() - 1 })
                let a = b * b.transposed + 0.01 * Matrix.identity(n)
                let spectrum = try LinearAlgebra.symmetricEigen(a).values
                let diagonal = (0..<n).map { a[$0, $0] }
                #expect(Semiconcavity.harmonicMean(spectrum) <= Semiconcavity.harmonicMean(diagonal) * (1 + 1e-12))
            }
        }
        #expect(Semiconcavity.harmonicMean([1, 0, 2]) == 0)
        #expect(Semiconcavity.harmonicMean([1, -1]).isNaN)
        #expect(Semiconcavity.harmonicMean([]).isNaN)
        #expect(abs(Semiconcavity.harmonicMean([1, 4, 4]) - 2) < 1e-15)
    }

    @Test("Lemma 20: at a minimum of the HJ solution of an anisotropic quadratic, HM(Lambda(t)) = 1/(t + HM(lambda)^-1) <= 1/(t + HM(C)^-1)")
    func lemma20Quadratic() throws {
        // f = x^T A x / 2 with A = [[3, 1], [1, 1]]: u = x^T (A^-1 + t)^-1 x / 2, eigenvalues
        // lambda/(1 + t lambda); C_k = A_kk. Second and cross differences of a quadratic are exact.
        let loss = try Loss(expression: "(3*x^2 + 2*x*y + y^2)/2")
        let grid = try Grid(domain: [(-1, 1), (-1, 1)], counts: [41, 41], boundary: .free)
        let lambda = try LinearAlgebra.symmetricEigen(Matrix([[3, 1], [1, 1]])).values
        for (t, u) in try zip([0.5, 2.0], Self.solve(loss, grid, [0.5, 2.0], .inviscid)) {
            let spectra = try Semiconcavity.spectraAtMinima(u, time: t, constants: [3, 1])
            #expect(spectra.count == 1)
            let s = try #require(spectra.first)
            #expect(s.minimum.point.allSatisfy { abs($0) < 1e-12 })
            let exact = 1 / (t + 1 / Semiconcavity.harmonicMean(lambda))
            #expect(abs(s.harmonicMean - exact) < 1e-9)
            #expect(abs(s.bound - 1 / (t + (1.0 / 3 + 1) / 2)) < 1e-15)
            #expect(s.harmonicMean < s.bound)
        }
    }

    @Test("Lemma 20 at every local minimum of the viscous and inviscid solutions of a rugged 2-D loss")
    func lemma20Landscape() throws {
        let loss = try Self.landscape2D()
        let (grid, fineGrid) = try Self.grids([(-3, 3), (-3, 3)], 121)
        let times = [0.05, 0.3, 1.0]
        for solver in [Solver.viscous(beta: 4), .inviscid] {
            let coarse = try Self.solve(loss, grid, times, solver)
            let fine = try Self.solve(loss, fineGrid, times, solver)
            var minimaSeen = 0
            for (k, t) in times.enumerated() {
                let eps = try Self.valueError(coarse[k], fine[k])
                for s in try Semiconcavity.spectraAtMinima(coarse[k], time: t, constants: Self.landscapeC.perAxis) where !s.isSaddle {
                    minimaSeen += 1
                    // Each Hessian entry is off by at most 4 eps/h^2 (diagonal) or eps/h^2
                    // (cross), so each eigenvalue by at most the Frobenius norm delta of that
                    // error; HM moves by at most delta * HM^2 * mean(1/lambda^2) to first order.
                    let h = grid.spacing[0]
                    let delta = (4 * eps / (h * h)) * sqrt(2.0 + 2.0 / 16)
                    let slope = s.harmonicMean * s.harmonicMean * s.eigenvalues.reduce(0) { $0 + 1 / ($1 * $1) } / 2
                    #expect(s.eigenvalues[0] > 0, "\(solver) t = \(t) at \(s.minimum.point): \(s.eigenvalues)")
                    #expect(s.harmonicMean <= s.bound + delta * slope,
                            "\(solver) t = \(t) at \(s.minimum.point): HM \(s.harmonicMean) > \(s.bound)")
                    // Lemma 19 on the discrete Hessian itself (exact linear algebra).
                    let diagonal = (0..<2).map { s.hessian[$0, $0] }
                    #expect(s.harmonicMean <= Semiconcavity.harmonicMean(diagonal) * (1 + 1e-12))
                }
            }
            #expect(minimaSeen >= 3 * times.count, "\(solver): \(minimaSeen) minima")
        }
    }

    @Test("local extrema in 2-D: the four minima and four maxima of cos 2x + cos 2y on the periodic square, no saddles")
    func extrema2D() throws {
        let grid = try Grid(domain: [(-Double.pi, Double.pi), (-Double.pi, Double.pi)], counts: [64, 64], boundary: .periodic)
        let f = Field(grid: grid) { cos(2 * $0[0]) + cos(2 * $0[1]) }
        let found = try Semiconcavity.extrema(f)
        let minima = found.filter { $0.kind == .minimum }, maxima = found.filter { $0.kind == .maximum }
        #expect(minima.count == 4 && maxima.count == 4)
        #expect(minima.allSatisfy { p in p.point.allSatisfy { abs(abs($0) - Double.pi / 2) < 1e-12 } && p.value == -2 })
        #expect(maxima.allSatisfy { $0.value == 2 })
        // 1-D goes through ConvexityAnalysis.
        let line = try Grid(domain: [(-3, 3)], counts: [601])
        let one = try Semiconcavity.extrema(try Self.ripple.sample(on: line))
        #expect(one.filter { $0.kind == .minimum }.count == 3)
        #expect(try Semiconcavity.hessian(f, at: 0).rows == 2)  // periodic: every node has neighbours
        #expect(throws: RelaxError.self) { try Semiconcavity.hessian(try Self.ripple.sample(on: line), at: 0) }
    }

    @Test("C = sup lambda_max(Hess f) and the stencils of spacing h and 2h are exact on quadratics (d = 1, 2, 3; periodic wrap)")
    func hessianConstantOnQuadratics() throws {
        // f = x.A.x/2: central second and mixed differences are exact on quadratics, so the
        // Hessian is A at every node (to round-off of values ~10 over h^2 ~ 1e-2: ~1e-12).
        let matrices: [[[Double]]] = [[[3]], [[2, 0.8], [0.8, 1]], [[2, 0.5, 0], [0.5, 1, 0.3], [0, 0.3, -1]]]
        for a in matrices {
            let d = a.count
            let grid = try Grid(domain: [(Double, Double)](repeating: (-1, 1.2), count: d),
                                counts: [Int](repeating: [41, 23, 9][d - 1], count: d), boundary: .free)
            let f = Field(grid: grid) { (p: [Double]) -> Double in
                var s = 0.0
                for k in 0..<d { for l in 0..<d { s += p[k] * a[k][l] * p[l] } }
                return s / 2
            }
            let largest = try LinearAlgebra.symmetricEigen(Matrix(rows: d, columns: d, entries: a.flatMap { $0 })).values.max()!
            #expect(abs(try Semiconcavity.supLargestHessianEigenvalue(f) - largest) < 1e-9, "d = \(d)")
            let trace: Double = (0..<d).map { a[$0][$0] }.reduce(0, +)
            for step in [1, 2] {
                let lap = Semiconcavity.laplacian(f, step: step)
                let defined = lap.values.filter { !$0.isNaN }
                // The stencil fits off `step` end nodes on each side of every axis.
                let interior: Int = grid.shape.map { $0 - 2 * step }.reduce(1, *)
                #expect(defined.count == interior)
                #expect(defined.allSatisfy { abs($0 - trace) < 1e-9 }, "d = \(d), step \(step)")
            }
        }
        // Periodic axes wrap: cos x on [-pi, pi) has second differences -cos(x) (2 - 2 cos(sh))/(sh)^2.
        let circle = try Grid(domain: [(-Double.pi, Double.pi)], counts: [64], boundary: .periodic)
        let u = Field(grid: circle) { cos($0[0]) }
        for step in [1, 2] {
            let sh = Double(step) * circle.spacing[0]
            let d2 = Semiconcavity.secondDifferences(u, axis: 0, step: step)
            for i in [0, 1, 62, 63] {
                #expect(abs(d2[i] + cos(circle.axes[0].coordinate(i)) * (2 - 2 * cos(sh)) / (sh * sh)) < 1e-10)
            }
        }
        #expect(try Semiconcavity.supLargestHessianEigenvalue(u) == Semiconcavity.supSecondDifference(u, axis: 0))
    }

    @Test("sup f'' of an expression from its exact second derivative; nested-grid value differences")
    func helpers() throws {
        let c = try Semiconcavity.supSecondDerivative(of: Self.ripple, over: -3...3)
        #expect(abs(c - Self.rippleC) < 1e-6, "\(c)")  // closure loss: f'' by differences of the gradient, ~1e-7
        let exact = try Semiconcavity.supSecondDerivative(of: try Loss(expression: "sin(3*x) + x^2/10"), over: -3...3)
        #expect(abs(exact - Self.rippleC) < 1e-12, "\(exact)")
        let (coarse, fine) = try Self.grids([(-1, 1)], 11)
        let a = Field(grid: coarse) { $0[0] }, b = Field(grid: fine) { $0[0] + 0.5 }
        #expect(try Semiconcavity.valueDifference(coarse: a, fine: b) == 0.5)
        #expect(throws: RelaxError.self) {
            try Semiconcavity.valueDifference(coarse: a, fine: Field(grid: try Grid(domain: [(-1, 1)], counts: [20])) { $0[0] })
        }
    }

    @Test("Example 16 along time: for t < t* every convex interval widens and the convex fraction of the window grows")
    func convexityAlongTime() throws {
        // t* = 1/max(-f'') = 1/8.8 for the ripple loss (see ConvexityAnalysisTests).
        let grid = try Grid(domain: [(-3, 3)], counts: [1201], boundary: .free)
        let times = [0.2, 0.5, 0.9].map { $0 / 8.8 }
        let run = try HopfLax.infConvolution(loss: Self.ripple, grid: grid, times: times)
        let evolution = try ConvexityEvolution(initial: run.f, solutions: zip(times, run.solutions).map { ($0, $1.value) },
                                               slack: grid.spacing[0])
        #expect(evolution.initial.intervals.count == 3)
        var fraction = evolution.initial.convexFraction
        for s in evolution.snapshots {
            #expect(s.widening.count == 3 && s.widening.allSatisfy(\.contains), "t = \(s.time)")
            #expect(s.convexFraction > fraction)
            fraction = s.convexFraction
        }
    }
}
