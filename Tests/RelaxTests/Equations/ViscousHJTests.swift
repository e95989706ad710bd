import Foundation
import Testing
@testable import Relax

/// Viscous HJ by finite differences and through `ViscousHJ.smooth`: observed orders against
/// exact solutions (Example 13) and against Cole–Hopf, Lemma 1 verified numerically, CFL
/// handling, the maximum principle, method selection and bad input.
@Suite("Viscous HJ (local entropy): finite differences, Cole–Hopf vs FD, CFL and method choice")
struct ViscousHJTests {
    static func expectPasses(_ s: ConvergenceSeries) {
        #expect(s.passes, "\(s.scheme): errors \(s.points.map(\.error)), orders \(s.observedOrders.compactMap { $0 }) outside \(s.expectedOrder) ± \(s.band)")
    }

    /// Monotone schemes are first order where the solution is smooth (Example 13's `u` is a
    /// quadratic; the error comes from the one-sided slopes and the Euler step, both O(h)).
    /// Band ±0.15: the observed spread over these sizes; a wrong flux or a half-order step would
    /// move the order by >= 0.5.
    @Test("Example 13 by finite differences: Godunov, Lax–Friedrichs and IMEX converge at order 1 (1-D, 2-D)")
    func example13Orders() throws {
        let sizes = [51, 101, 201, 401]
        Self.expectPasses(try ViscousHJConvergence.example13Series(.fd(flux: .godunov), label: "godunov", sizes: sizes,
                                                                   expectedOrder: 1, band: 0.15))
        Self.expectPasses(try ViscousHJConvergence.example13Series(.fd(flux: .laxFriedrichs), label: "lax-friedrichs",
                                                                   sizes: sizes, expectedOrder: 1, band: 0.15))
        Self.expectPasses(try ViscousHJConvergence.example13Series(.fdIMEX(), label: "imex", sizes: sizes,
                                                                   expectedOrder: 1, band: 0.15))
        Self.expectPasses(try ViscousHJConvergence.example13Series(.fd(flux: .godunov), label: "godunov", sizes: [26, 51, 101],
                                                                   dimension: 2, expectedOrder: 1, band: 0.15))
    }

    /// Cole–Hopf is exact on Example 13 (Gaussian integrand resolved by >= 2.5 cells): every
    /// error at round-off, on every grid of the convergence study.
    @Test("Example 13 by Cole–Hopf through ViscousHJ.smooth: round-off on every grid, both paths")
    func example13ColeHopf() throws {
        for path in [ColeHopfPath.fft, .logDomain] {
            for n in [26, 51, 101] {
                #expect(try ViscousHJConvergence.example13Error(.coleHopf(path: path), n: n) <= 1e-12)
            }
        }
    }

    /// WENO5 + RK3 with fourth-order diffusion on a smooth periodic problem, against Cole–Hopf on
    /// the same grid: between third (WENO5 at critical points of u) and fifth order.
    @Test("WENO5 + TVD-RK3 with fourth-order diffusion: order 4 ± 1 on a smooth periodic loss (Cole–Hopf reference)")
    func wenoOrder() throws {
        Self.expectPasses(try ViscousHJConvergence.smoothPeriodicSeries(.weno(), label: "weno5", sizes: [32, 64, 128, 256],
                                                                        expectedOrder: 4, band: 1))
    }

    @Test("Lemma 1 verified: FD and Cole–Hopf agree at order 1 on a rugged loss and exp(-beta u_FD) solves the heat equation (1-D, 2-D)",
          arguments: [1, 2])
    func coleHopfVersusFD(dimension d: Int) throws {
        let report = try ColeHopfVerification.run(dimension: d)
        #expect(report.passes, "\(report.table)")
        #expect(report.levels.allSatisfy { $0.identityError <= 1e-12 })
    }

    /// The explicit monotone step obeys `dt (sum alpha_k/h_k + 2 nu sum 1/h_k^2) <= cfl`, so in
    /// particular `dt <= cfl h^2/(2 d nu)`; the report states steps, dt and the CFL number.
    @Test("explicit CFL: the step obeys dt <= cfl h^2/(2 d nu) and h/max|p|; a run beyond the step budget is refused with the bound")
    func cflHandling() throws {
        let grid = try Grid(domain: [(0, 2 * Double.pi), (0, 2 * Double.pi)], counts: [64, 64], boundary: .periodic)
        let loss = Loss(name: "sin x cos y", dimension: 2, value: { sin($0[0]) * cos($0[1]) })
        let beta = 0.5, nu = 1 / (2 * 0.5)
        let result = try ViscousHJ.smooth(SmoothingProblem(loss: loss, grid: grid, time: 0.1, beta: beta), method: .fd())
        let h = grid.spacing[0]
        let dtMax = try #require(result.report.diagnostics["dt_max"])
        #expect(result.report.cfl == 0.9)
        #expect(dtMax <= 0.9 * h * h / (2 * 2 * nu) * (1 + 1e-12))
        #expect(result.report.steps >= Int((0.1 / (h * h / (4 * nu))).rounded(.down)))
        // The same run with a budget of 10 steps is refused, naming the bound and the alternatives.
        let f = try loss.sample(on: grid)
        let tight = ViscousHJFD(beta: beta, scheme: .godunov, maximumSteps: 10)
        do {
            _ = try tight.evolve(f, time: 0.1)
            Issue.record("expected a refusal")
        } catch let RelaxError.invalidParameter(name, _, expected) {
            #expect(name == "dt")
            #expect(expected.contains("h^2/(2 d nu)") && expected.contains("fd-imex"))
        }
        // A CFL number above 1 is refused; IMEX needs no diffusive bound: far fewer steps, same accuracy class.
        #expect(throws: RelaxError.self) { try ViscousHJFD(beta: beta, scheme: .godunov, cfl: 1.5).evolve(f, time: 0.1) }
        let imex = try ViscousHJ.smooth(SmoothingProblem(loss: loss, grid: grid, time: 0.1, beta: beta), method: .fdIMEX())
        #expect(imex.report.steps * 10 < result.report.steps)
    }

    /// `v = exp(-beta u)` solves the heat equation, so `min f <= u <= max f`; monotone schemes keep
    /// it exactly (they are averages of neighbouring values with non-negative weights).
    @Test("maximum principle: monotone explicit and IMEX solutions stay within [min f, max f]")
    func maximumPrinciple() throws {
        let grid = try Grid(domain: [(0, 2 * Double.pi)], counts: [200], boundary: .periodic)
        let loss = ColeHopfVerification.loss(dimension: 1)
        let f = try loss.sample(on: grid)
        for method in [ViscousHJMethod.fd(), .fd(flux: .laxFriedrichs), .fdIMEX()] {
            let u = try ViscousHJ.smooth(SmoothingProblem(loss: loss, grid: grid, time: 0.5, beta: 20), method: method).u
            #expect(u.minimum >= f.minimum - 1e-12 && u.maximum <= f.maximum + 1e-12, "\(method)")
        }
    }

    @Test("ViscousHJ.smooth: auto picks Cole–Hopf and says so; methods parse; bad input is refused")
    func methodChoiceAndBadInput() throws {
        let grid = try Grid(domain: [(-1, 1)], counts: [101], boundary: .free)
        let loss = Loss(name: "x^2/2", dimension: 1, value: { $0[0] * $0[0] / 2 })
        let auto = try ViscousHJ.smooth(SmoothingProblem(loss: loss, grid: grid, time: 0.5, beta: 5))
        #expect(auto.report.notes.first == "auto: cole-hopf")
        #expect(auto.report.scheme.hasPrefix("cole-hopf"))
        #expect(auto.u.grid == grid && auto.f.grid == grid && auto.gradient.count == 1)
        for name in ViscousHJMethod.names { #expect((try? ViscousHJMethod(name: name)) != nil) }
        #expect(throws: RelaxError.self) { try ViscousHJMethod(name: "spectral") }
        for (beta, t) in [(0.0, 1.0), (-2, 1), (1, 0), (1, -1)] {
            #expect(throws: RelaxError.self) { try ViscousHJ.smooth(SmoothingProblem(loss: loss, grid: grid, time: t, beta: beta)) }
        }
        #expect(throws: RelaxError.self) { try ViscousHJ.smooth(SmoothingProblem(loss: loss, grid: grid, time: 1)) }
        let dirichlet = try Grid(domain: [(-1, 1)], counts: [11], boundary: .dirichlet(0))
        for method in [ViscousHJMethod.auto, .fd(), .coleHopf()] {
            #expect(throws: RelaxError.self) {
                try ViscousHJ.smooth(SmoothingProblem(loss: loss, grid: dirichlet, time: 1, beta: 1), method: method)
            }
        }
        // Under-resolved kernel, sqrt(t/beta) = 0.01 on h = 0.1: every method warns with the resolution
        // that would resolve it, h <= sigma/2: n >= 2/0.005 + 1 = 401.
        let coarse = try Grid(domain: [(-1, 1)], counts: [21], boundary: .free)
        for method in [ViscousHJMethod.coleHopf(), .fdIMEX()] {
            let r = try ViscousHJ.smooth(SmoothingProblem(loss: loss, grid: coarse, time: 0.01, beta: 100), method: method)
            #expect(r.report.warnings.contains { $0.contains("n >= 401") }, "\(method): \(r.report.warnings)")
        }
    }
}
