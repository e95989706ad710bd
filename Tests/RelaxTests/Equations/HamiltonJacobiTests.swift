import Foundation
import Testing
@testable import Relax

/// Orders of the HJ solvers against exact solutions (see `HJConvergence` for the problems).
/// Bands: the theoretical order of each scheme, with the pre-asymptotic spread seen over
/// the stated sizes; a wrong flux, slope or time step moves the order by >= 0.5.
@Suite("Inviscid HJ: Hopf–Lax orders, monotone and WENO finite differences, Burgers, Lemma 18")
struct HamiltonJacobiTests {
    static func expectPasses(_ s: ConvergenceSeries) {
        #expect(s.passes, "\(s.scheme) \(s.norm): orders \(s.observedOrders.compactMap { $0 }) outside \(s.expectedOrder) ± \(s.band)")
    }

    @Test("refined Hopf–Lax converges to the continuous value at O(h^3) (>= O(h^2)); discrete at O(h^2)")
    func refinedHopfLaxOrder() throws {
        Self.expectPasses(try HJConvergence.smoothSeries(.hopfLax(refine: true), sizes: [64, 128, 256, 512], expectedOrder: 3, band: 0.3))
        Self.expectPasses(try HJConvergence.smoothSeries(.hopfLax(refine: false), sizes: [64, 128, 256, 512], norm: .l1, expectedOrder: 2, band: 0.2))
        Self.expectPasses(try HJConvergence.smoothSeries(.hopfLax(refine: true), sizes: [64, 128, 256], dimension: 2, expectedOrder: 3, band: 0.3))
    }

    @Test("monotone FD (Godunov, Lax–Friedrichs) converge to Hopf–Lax at order 1, before and after kinks")
    func monotoneOrder() throws {
        let sizes = [128, 256, 512, 1024]
        for scheme in [HamiltonJacobiFD<QuadraticHamiltonian>.Scheme.godunov, .laxFriedrichs] {
            Self.expectPasses(try HJConvergence.smoothSeries(.fd(scheme), sizes: sizes, expectedOrder: 1, band: 0.15))
            Self.expectPasses(try HJConvergence.kinkSeries(.fd(scheme), sizes: sizes, convexKinks: false, norm: .max,
                                                           expectedOrder: 1, band: 0.15))
        }
        Self.expectPasses(try HJConvergence.kinkSeries(.fd(.godunov), sizes: sizes, convexKinks: false, norm: .l1,
                                                       expectedOrder: 1, band: 0.15))
        // Rarefactions from convex kinks of f: only O(h^1/2) is guaranteed (Crandall–Lions).
        Self.expectPasses(try HJConvergence.kinkSeries(.fd(.godunov), sizes: sizes, convexKinks: true, norm: .max,
                                                       expectedOrder: 0.75, band: 0.25))
        Self.expectPasses(try HJConvergence.smoothSeries(.fd(.godunov), sizes: [128, 256, 512], dimension: 2,
                                                         expectedOrder: 1, band: 0.15))
    }

    @Test("WENO5 + TVD-RK3 is high order in the smooth regime (between RK3's 3 and WENO5's 5)")
    func wenoOrder() throws {
        Self.expectPasses(try HJConvergence.smoothSeries(.fd(.weno5), sizes: [64, 128, 256, 512], expectedOrder: 4, band: 1))
    }

    @Test("monotone scheme: comparison principle and CFL report (dt <= h / max|p|)")
    func cflReport() throws {
        let grid = try Grid(domain: [(0, 2 * Double.pi)], counts: [200], boundary: .periodic)
        let f = Field(grid: grid) { 2 * sin($0[0]) }
        let (u, report) = try HamiltonJacobiFD(scheme: .godunov).evolve(f, time: 0.3)
        #expect(report.cfl == 0.9)
        #expect(report.steps >= Int((0.3 / (0.9 * grid.spacing[0] / 2)).rounded(.down)))
        #expect(report.dt! <= 0.9 * grid.spacing[0] / 1.99)
        // u_t = -|u_x|^2/2 <= 0 and the scheme is monotone: u <= f, and min f is kept.
        #expect(zip(u.values, f.values).allSatisfy { $0 <= $1 + 1e-15 })
        #expect(abs(u.minimum - f.minimum) < 1e-12)
    }

    @Test("viscous reuse: Godunov + diffusion converges to viscous Example 13 at order 1")
    func viscousExample13() throws {
        // u0 = c x^2/2, nu = 1/(2 beta): u = x^2/(2(t + 1/c)) + nu log(1 + c t) in 1-D.
        let c = 1.0, nu = 0.05, t = 0.25
        var errors: [Double] = []
        var hs: [Double] = []
        for n in [101, 201, 401] {
            let window = try Grid(domain: [(-1, 1)], counts: [n], boundary: .free)
            let padded = window.padded(reach: [2])
            let u0 = Field(grid: padded.grid) { c * $0[0] * $0[0] / 2 }
            let solver = HamiltonJacobiFD(hamiltonian: QuadraticHamiltonian(), scheme: .godunov, diffusion: nu)
            let u = padded.crop(try solver.evolve(u0, time: t).u)
            let exact = Field(grid: window) { $0[0] * $0[0] / (2 * (t + 1 / c)) + nu * log(1 + c * t) }
            errors.append(u.distance(to: exact, .max))
            hs.append(window.spacing[0])
        }
        for i in 1..<errors.count {
            let order = log(errors[i - 1] / errors[i]) / log(hs[i - 1] / hs[i])
            #expect(abs(order - 1) < 0.15, "order \(order)")
        }
    }

    // MARK: Example 15 (Burgers)

    @Test("Example 15: t* = 1/max(-f'') and the Hopf–Lax gradient equals the fixed point p = f'(x - t p)")
    func burgersFixedPoint() throws {
        let f: @Sendable (Double) -> Double = { sin($0) + 0.25 * sin(2 * $0 + 1) }
        let f1: @Sendable (Double) -> Double = { cos($0) + 0.5 * cos(2 * $0 + 1) }
        let f2: @Sendable (Double) -> Double = { -sin($0) - sin(2 * $0 + 1) }
        let fine = try Grid(domain: [(0, 2 * Double.pi)], counts: [4096], boundary: .periodic)
        let tStar = try BurgersCharacteristics.criticalTime(Field(grid: fine) { f($0[0]) })
        // max(-f'') = 1.3889726440 (scipy minimize_scalar); sampling at nodes and second differences are O(h^2) ~ 1e-6.
        #expect(abs(tStar - 1 / 1.3889726440) < 1e-5)
        #expect(BurgersCharacteristics.criticalTime(secondDerivative: [0, 1, 2]) == .infinity)
        let t = 0.9 * tStar
        var errors: [Double] = []
        for n in [128, 256, 512] {
            let grid = try Grid(domain: [(0, 2 * Double.pi)], counts: [n], boundary: .periodic)
            let s = try HopfLax.infConvolution(Field(grid: grid) { f($0[0]) }, time: t, refine: true)
            var e = 0.0
            for (i, x) in grid.axes[0].coordinates.enumerated() {
                let p = try BurgersCharacteristics.slope(at: x, time: t, derivative: f1, secondDerivative: f2)
                #expect(abs(p - f1(x - t * p)) < 1e-12)
                e = max(e, abs(s.gradient[0][i] - p))
            }
            errors.append(e)
        }
        // The refined prox is O(h^2), so is the gradient (x - prox)/t.
        for i in 1..<errors.count { #expect(abs(log2(errors[i - 1] / errors[i]) - 2) < 0.3) }
    }

    // MARK: Lemma 18 (inviscid) and the prox identity (eq. 15)

    @Test("Lemma 18, inviscid: second differences of the discrete Hopf–Lax value are <= 1/t on every axis")
    func semiconcavity() throws {
        // u_i = min_j g_j(x_i) with D^2 g_j = 1/t exactly, and u = g_{j*} at x_i while u <= g_{j*}
        // at x_{i±1}: so D^2 u <= 1/t exactly, for any data, up to the rounding of u / h^2.
        var rng = SplitMix64(seed: 5)
        for shape in [[400], [60, 50], [16, 18, 14]] {
            let grid = try Grid(domain: shape.map { _ in (-1.0, 1.0) }, counts: shape, boundary: .neumann)
            let f = Field(grid: grid, values: (0..<grid.count).map { _ in rng.uniform() })
            for t in [0.01, 0.1, 1] {
                let u = try HopfLax.infConvolution(f, time: t).value
                for k in 0..<grid.dimension {
                    let h = grid.spacing[k], s = grid.strides[k]
                    var worst = -Double.infinity
                    for flat in 0..<grid.count {
                        let i = grid.multiIndex(flat)[k]
                        guard i > 0, i < grid.shape[k] - 1 else { continue }
                        worst = max(worst, (u[flat + s] - 2 * u[flat] + u[flat - s]) / (h * h))
                    }
                    #expect(worst <= 1 / t + 8 * Double.ulpOfOne * 2 / (h * h), "axis \(k): \(worst) > 1/t = \(1 / t)")
                    #expect(worst > 0.5 / t)   // the bound is attained where the prox is constant
                }
            }
        }
    }

    @Test("eq. 15: grad u = (x - prox)/t = grad f(prox) for smooth f, O(h^2) with the grid model, to round-off with the exact cost")
    func proxIdentity() throws {
        let grad: @Sendable ([Double]) -> [Double] = { p in [cos(p[0]) * cos(p[1]) + 0.2 * p[0], -sin(p[0]) * sin(p[1]) + 0.2 * p[1]] }
        let loss = Loss(name: "sin x cos y + 0.1|x|^2", dimension: 2,
                        value: { p in sin(p[0]) * cos(p[1]) + 0.1 * (p[0] * p[0] + p[1] * p[1]) }, gradient: grad)
        func identityError(_ n: Int, _ refinement: HopfLax.Refinement) throws -> Double {
            let grid = try Grid(domain: [(-1, 1), (-1, 1)], counts: [n, n], boundary: .free)
            let s = try HopfLax.infConvolution(loss: loss, grid: grid, times: [0.3], refinement: refinement).solutions[0]
            let g = s.gradient
            var e = 0.0
            for flat in 0..<grid.count {
                let gf = grad([s.prox[0][flat], s.prox[1][flat]])
                e = max(e, abs(g[0][flat] - gf[0]), abs(g[1][flat] - gf[1]))
            }
            return e
        }
        // Grid model: prox O(h^2) (one Newton step on the quadratic model from within h/2).
        let errors = try [41, 81, 161].map { try identityError($0, .gridModel) }
        for i in 1..<errors.count { #expect(abs(log2(errors[i - 1] / errors[i]) - 2) < 0.3, "\(errors)") }
        // Exact cost: Newton keeps a step only if the computed cost phi decreases, so it
        // resolves grad phi only down to where a step's decrease g^2/(2A) (A = |H_f + I/t| <=
        // 1.2 + 1/0.3 < 5) is lost in the rounding of two costs of size <= 1.5 (a few ulps
        // each, ~1.5e-15): g <= sqrt(2 * 5 * 2 * 1.5e-15) ~ 1.7e-7, whatever h is.
        let exact = try identityError(41, .exactCost)
        #expect(exact < 2e-7, "\(exact)")
        #expect(exact < 1e-4 * errors[0], "exact cost \(exact), grid model \(errors[0])")
    }

    @Test("refinement is exact on a rotated quadratic: u = x.(A^-1 + t I)^-1.x / 2 (mixed Hessian terms)")
    func rotatedQuadratic() throws {
        // A = [[2, 0.8], [0.8, 1]]: the Moreau envelope of x.A.x/2 is x.B.x/2, B = (A^-1 + t I)^-1.
        let t = 0.5
        let loss = Loss(name: "x.A.x/2", dimension: 2, value: { p in
            0.5 * (2 * p[0] * p[0] + 1.6 * p[0] * p[1] + p[1] * p[1]) })
        let grid = try Grid(domain: [(-1, 1), (-1, 1)], counts: [41, 41], boundary: .free)
        // B = (A^-1 + tI)^-1 computed in closed form for 2x2.
        let det = 2 * 1 - 0.64
        let inv = [[1 / det + t, -0.8 / det], [-0.8 / det, 2 / det + t]]
        let det2 = inv[0][0] * inv[1][1] - inv[0][1] * inv[1][0]
        let b = [[inv[1][1] / det2, -inv[0][1] / det2], [-inv[1][0] / det2, inv[0][0] / det2]]
        let exact = Field(grid: grid) { p in
            0.5 * (b[0][0] * p[0] * p[0] + 2 * b[0][1] * p[0] * p[1] + b[1][1] * p[1] * p[1]) }
        // The grid model's stencil carries the mixed term; Newton on the exact cost needs none.
        for refinement in [HopfLax.Refinement.gridModel, .exactCost] {
            let s = try HopfLax.infConvolution(loss: loss, grid: grid, times: [t], refinement: refinement).solutions[0]
            #expect(s.value.distance(to: exact, .max) < 1e-12, "\(refinement)")
        }
    }
}
