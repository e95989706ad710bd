import Foundation
import Testing
@testable import Relax

/// The heat equation `v_t = nu Lap v` (`nu = 1/(2 beta)`): exactness of the spectral
/// propagator, orders of the finite-difference schemes, and the invariants they keep.
@Suite("Heat equation: spectral propagator, FTCS, Crank–Nicolson")
struct HeatTests {
    // MARK: Exact spectral propagator

    // The spectral propagator evolves the trigonometric / cosine interpolant exactly, so on a
    // resolved mode the only error is FFT round-off, O(eps log N) ~ 1e-15 for these grids.
    // 1e-12 leaves three orders of margin and still fails for any O(h^p) scheme.

    @Test("spectral heat is exact on periodic Fourier modes", arguments: [1, 2, 3])
    func spectralFourierModes(dimension d: Int) throws {
        let series = try HeatConvergence.spectralSeries(.fourierMode, dimension: d)
        #expect(series.points.count >= 3)
        for p in series.points { #expect(p.error < 1e-12, "n = \(p.n): error \(p.error)") }
    }

    @Test("spectral heat is exact on Neumann cosine modes", arguments: [1, 2, 3])
    func spectralCosineModes(dimension d: Int) throws {
        let series = try HeatConvergence.spectralSeries(.cosineMode, dimension: d)
        for p in series.points { #expect(p.error < 1e-12, "n = \(p.n): error \(p.error)") }
    }

    // Free space: a Gaussian of variance s0 = 1 becomes the Gaussian of variance s0 + 2 nu t
    // (amplitude (s0/s)^{d/2}). Errors: data aliasing exp(-pi^2 s0/(2h^2)) < 1e-35 for h <= 1/4,
    // Gaussian tail beyond the 8.5-sigma padding ~2e-17, and round-off; so 1e-12 again.
    @Test("free-space padding reproduces the whole-space Gaussian solution", arguments: [1, 2, 3])
    func freeSpaceGaussian(dimension d: Int) throws {
        let series = try HeatConvergence.spectralSeries(.gaussian, dimension: d)
        for p in series.points { #expect(p.error < 1e-12, "n = \(p.n): error \(p.error)") }
    }

    // A quadratic does not decay: G_{2 nu t} * |x|^2 = |x|^2 + 2 d nu t exactly. The padded data
    // reach |x| ~ 2 + 8.5 sigma, where f ~ 40, so the padding (not the data) must keep the edge
    // away; round-off relative to max f ~ 40 eps log N, so 1e-12 * max f.
    @Test("free-space padding reproduces G * |x|^2 = |x|^2 + 2 d nu t", arguments: [1, 2])
    func freeSpaceQuadratic(dimension d: Int) throws {
        let grid = try Grid(domain: [(Double, Double)](repeating: (-2, 2), count: d),
                            counts: [Int](repeating: 41, count: d), boundary: .free)
        let loss = Loss(name: "|x|^2", dimension: d) { x in x.reduce(0) { $0 + $1 * $1 } }
        let beta = 2.0, t = 0.3, nu = 1 / (2 * beta)
        let result = try HeatEquation.smooth(SmoothingProblem(loss: loss, grid: grid, time: t, beta: beta))
        let exact = Field(grid: grid) { x in x.reduce(0) { $0 + $1 * $1 } + 2 * Double(d) * nu * t }
        let fmax = Double(d) * pow(2 + HeatPropagator.reach(diffusivity: nu, time: t), 2)
        #expect(result.u.distance(to: exact, .max) < 1e-12 * fmax)
        #expect(result.report.notes.contains { $0.contains("free boundary: padded by") })
        #expect(result.report.warnings.isEmpty)
    }

    // The propagator is planned once and applied many times: P(t1) P(t2) = P(t1 + t2) on any data.
    @Test("one propagator serves many times: the semigroup property P(s)P(t) = P(s+t)")
    func semigroup() throws {
        let grid = try Grid(domain: [(0, 1), (0, 2)], counts: [24, 30], boundary: .periodic)
        let propagator = try HeatPropagator(window: grid, diffusivity: 0.7, maximumTime: 1)
        var state: UInt64 = 12345
        let data = Field(grid: grid) { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let twoSteps = try propagator.propagate(try propagator.propagate(data, time: 0.01), time: 0.02)
        let oneStep = try propagator.propagate(data, time: 0.03)
        #expect(twoSteps.distance(to: oneStep, .max) < 1e-14)
        #expect(throws: RelaxError.self) { try propagator.propagate(data, time: 2) }
    }

    @Test("a free-space propagator wants data on its padded working grid")
    func freeSpaceWantsPaddedData() throws {
        let window = try Grid(domain: [(-1, 1)], counts: [21], boundary: .free)
        let propagator = try HeatPropagator(window: window, diffusivity: 0.5, maximumTime: 0.1)
        #expect(propagator.workingGrid.count > window.count)
        do {
            _ = try propagator.propagate(Field(grid: window), time: 0.1)
            Issue.record("window-shaped data accepted")
        } catch {
            #expect("\(error)".contains("workingGrid"))
        }
    }

    // The fourth-order central difference has truncation error (h^4/30) |u^(5)|; on
    // cos(m y + phi) decayed by exp(-nu |m|^2 t) that is (h^4/30) m^5 exp(-nu |m|^2 t).
    @Test("spectral gradients are fourth-order central differences, within their truncation bound")
    func spectralGradient() throws {
        let fixture = HeatExactSolution.fourierMode
        let grid = try fixture.grid(dimension: 2, count: 32)
        let t = 0.2, nu = 0.5
        let result = try HeatEquation.smooth(SmoothingProblem(loss: fixture.loss(dimension: 2), grid: grid,
                                                              time: t, beta: 1))
        let h = grid.spacing[0]
        let decay = exp(-nu * 5 * t)
        let m: [Double] = [1, 2], phi: [Double] = [0.3, -0.7]
        for k in 0..<2 {
            let exact = Field(grid: grid) { x in
                let other = 1 - k
                return -m[k] * sin(m[k] * x[k] + phi[k]) * cos(m[other] * x[other] + phi[other]) * decay
            }
            let bound = pow(h, 4) / 30 * pow(m[k], 5) * decay
            #expect(result.gradient[k].distance(to: exact, .max) < 1.05 * bound, "axis \(k)")
        }
    }

    @Test("the spectral propagator refuses a Dirichlet boundary and names what works")
    func spectralDirichletUnsupported() throws {
        let grid = try Grid(domain: [(0, 1)], counts: [11], boundary: .dirichlet(0))
        let problem = SmoothingProblem(loss: HeatExactSolution.sineMode.loss(dimension: 1), grid: grid, time: 0.1, beta: 1)
        do {
            _ = try HeatEquation.smooth(problem, method: .spectral)
            Issue.record("dirichlet accepted by the spectral method")
        } catch let RelaxError.unsupported(message) {
            #expect(message.contains("--method fd"))
        }
    }

    // MARK: Finite-difference orders

    @Test("FTCS is second order in space at fixed nu dt / h^2 (periodic and Dirichlet)", arguments: [1, 2])
    func ftcsOrder(dimension d: Int) throws {
        for fixture in [HeatExactSolution.fourierMode, .sineMode] {
            let series = try HeatConvergence.ftcsSeries(fixture, dimension: d)
            #expect(series.points.count >= 3)
            #expect(series.observedOrders.compactMap { $0 }.count == series.points.count - 1)
            #expect(series.passes, "\(series.scheme): orders \(series.observedOrders)")
        }
    }

    @Test("Crank–Nicolson is second order in time and space with dt ∝ h (periodic and Neumann)",
          arguments: [1, 2])
    func crankNicolsonOrder(dimension d: Int) throws {
        for fixture in [HeatExactSolution.fourierMode, .cosineMode] {
            let series = try HeatConvergence.crankNicolsonSeries(fixture, dimension: d)
            #expect(series.points.count >= 3)
            #expect(series.observedOrders.compactMap { $0 }.count == series.points.count - 1)
            #expect(series.passes, "\(series.scheme): orders \(series.observedOrders)")
        }
    }

    @Test("the convergence report passes in 1, 2 and 3 dimensions", arguments: [1, 2, 3])
    func convergenceReport(dimension d: Int) throws {
        let report = try HeatConvergence.report(dimension: d)
        #expect(report.passes, "\(report.table)")
    }

    // The 1-D Crank–Nicolson factors act on different axes of a tensor grid, so they commute:
    // sweeping x then y or y then x gives the same result up to round-off (a few eps per sweep).
    @Test("the axis-split Crank–Nicolson factors commute (any sweep order, same result)")
    func crankNicolsonFactorsCommute() throws {
        for boundary in [Boundary.periodic, .neumann, .dirichlet(0.3)] {
            let grid = try Grid(domain: [(0, 1), (0, 1.5), (0, 2)], counts: [9, 11, 13], boundary: boundary)
            let f = Field(grid: grid) { x in exp(sin(3 * x[0]) + x[1] * x[2]) }
            let cn = CrankNicolsonHeat(grid: grid, diffusivity: 0.5, dt: 0.05)
            var forward = f.values, backward = f.values
            cn.advance(&forward, steps: 5, axisOrder: [0, 1, 2])
            cn.advance(&backward, steps: 5, axisOrder: [2, 1, 0])
            let scale = f.values.map(abs).max()!
            #expect(zip(forward, backward).allSatisfy { abs($0 - $1) < 1e-13 * scale }, "\(boundary)")
        }
    }

    // MARK: CFL policy

    @Test("FTCS refuses a time step above the CFL bound and states the bound")
    func cflRefuse() throws {
        let grid = try Grid(domain: [(0, 1)], counts: [101], boundary: .neumann)
        // nu = 1/2, h = 0.01: the bound is dt <= h^2 = 1e-4; 100 steps to t = 0.1 give dt = 1e-3.
        let problem = SmoothingProblem(loss: HeatExactSolution.cosineMode.loss(dimension: 1), grid: grid,
                                       time: 0.1, beta: 1)
        do {
            _ = try HeatEquation.smooth(problem, method: .ftcs(steps: 100, policy: .refuse))
            Issue.record("CFL violation accepted")
        } catch let RelaxError.invalidParameter(name, _, expected) {
            #expect(name == "dt")
            #expect(expected.contains("nu dt sum_k 1/h_k^2 <= 1/2"))
            #expect(expected.contains("1000 steps"))
        }
    }

    @Test("FTCS sub-steps to meet the CFL bound and the report says so")
    func cflSubStep() throws {
        let grid = try Grid(domain: [(0, 1)], counts: [101], boundary: .neumann)
        let problem = SmoothingProblem(loss: HeatExactSolution.cosineMode.loss(dimension: 1), grid: grid,
                                       time: 0.1, beta: 1)
        let result = try HeatEquation.smooth(problem, method: .ftcs(steps: 100, policy: .subStep))
        #expect(result.report.steps == 1000)
        #expect(abs(result.report.dt! - 1e-4) < 1e-16)
        #expect(result.report.cfl! <= 1)
        #expect(result.report.notes.contains { $0.contains("sub-stepped to 1000 steps") })
        // A request within the bound is taken as is.
        let kept = try HeatEquation.smooth(problem, method: .ftcs(steps: 2000, policy: .refuse))
        #expect(kept.report.steps == 2000)
        #expect(abs(kept.report.cfl! - 0.5) < 1e-12)
    }

    // MARK: Invariants

    // Periodic and mirror (Neumann) Laplacians sum to zero against the conserved weights
    // (1, trapezoidal), so FTCS and Crank–Nicolson keep the mass up to round-off: each step
    // commits ~eps per node, so 1e-12 relative over these few hundred steps.
    @Test("FTCS and Crank–Nicolson conserve mass on periodic and Neumann grids", arguments: [1, 2])
    func massConservation(dimension d: Int) throws {
        for boundary in [Boundary.periodic, .neumann] {
            let grid = try Grid(domain: [(Double, Double)](repeating: (0, 3), count: d),
                                counts: [Int](repeating: 33, count: d), boundary: boundary)
            let loss = Loss(name: "skewed", dimension: d) { x in exp(sin(2 * x[0]) + 0.3 * x[0]) + x.last! }
            for method in [HeatMethod.ftcs(), .crankNicolson()] {
                let result = try HeatEquation.smooth(SmoothingProblem(loss: loss, grid: grid, time: 0.5, beta: 1),
                                                     method: method)
                let before = result.report.diagnostics["massInitial"]!
                let after = result.report.diagnostics["massFinal"]!
                #expect(abs(after - before) < 1e-12 * abs(before), "\(boundary) \(method.schemeName)")
                #expect(abs(HeatEquation.conservedMass(result.u) - after) < 1e-14 * abs(after))
            }
        }
    }

    // Under nu dt sum 1/h^2 <= 1/2 every FTCS value is a convex combination of old values, so
    // min f <= u <= max f (up to one rounding per step); above the bound this fails.
    @Test("FTCS obeys the maximum principle under the CFL bound, and breaks it above")
    func maximumPrinciple() throws {
        let grid = try Grid(domain: [(0, 1), (0, 1)], counts: [40, 40], boundary: .periodic)
        var state: UInt64 = 99
        let f = Field(grid: grid) { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
        let h = grid.spacing[0], nu = 0.5
        let atBound = 0.5 / (nu * 2 / (h * h))
        var u = f.values
        ExplicitHeatStep(grid: grid, diffusivity: nu, dt: atBound).advance(&u, steps: 50)
        #expect(u.min()! >= f.minimum - 1e-14 && u.max()! <= f.maximum + 1e-14)
        var v = f.values
        let above = ExplicitHeatStep(grid: grid, diffusivity: nu, dt: 1.2 * atBound)
        #expect(above.cflNumber > 1)
        above.advance(&v, steps: 50)
        #expect(v.max()! > f.maximum || v.min()! < f.minimum)
    }

    @Test("Dirichlet ends keep their value in FTCS and Crank–Nicolson")
    func dirichletEnds() throws {
        let grid = try Grid(domain: [(0, 1), (0, 1)], counts: [17, 17], boundary: .dirichlet(0.25))
        let problem = SmoothingProblem(loss: HeatExactSolution.sineMode.loss(dimension: 2), grid: grid,
                                       time: 0.05, beta: 1)
        for method in [HeatMethod.ftcs(), .crankNicolson()] {
            let u = try HeatEquation.smooth(problem, method: method).u
            for i in 0..<17 {
                for value in [u[0, i], u[16, i], u[i, 0], u[i, 16]] { #expect(value == 0.25) }
            }
        }
    }

    // MARK: Entry point

    @Test("bad input is refused with a typed error: beta <= 0, t <= 0, non-finite loss")
    func validation() throws {
        let grid = try Grid(domain: [(-1, 1)], counts: [11], boundary: .periodic)
        let loss = HeatExactSolution.fourierMode.loss(dimension: 1)
        #expect(throws: RelaxError.self) { try HeatEquation.smooth(SmoothingProblem(loss: loss, grid: grid, time: 1, beta: 0)) }
        #expect(throws: RelaxError.self) { try HeatEquation.smooth(SmoothingProblem(loss: loss, grid: grid, time: 1)) }
        #expect(throws: RelaxError.self) { try HeatEquation.smooth(SmoothingProblem(loss: loss, grid: grid, time: 0, beta: 1)) }
        let bad = Loss(name: "log x", dimension: 1) { x in log(x[0]) }
        do {
            _ = try HeatEquation.smooth(SmoothingProblem(loss: bad, grid: grid, time: 1, beta: 1))
            Issue.record("non-finite loss accepted")
        } catch let RelaxError.nonFinite(_, index, _, _) {
            #expect(index == [0])
        }
        #expect(throws: RelaxError.self) { try HeatMethod(name: "leapfrog") }
        #expect(try HeatMethod(name: "fd") == .crankNicolson())
        #expect(try HeatMethod(name: "ftcs") == .ftcs())
        #expect(try HeatMethod(name: "crank-nicolson") == .crankNicolson())
        #expect(try HeatMethod(name: "spectral") == .spectral)
    }

    @Test("the report says what ran: scheme, working shape, steps, dt, CFL")
    func report() throws {
        let grid = try Grid(domain: [(-1, 1), (-1, 1)], counts: [21, 31], boundary: .free)
        let loss = Loss(name: "bowl", dimension: 2) { x in x[0] * x[0] + 0.5 * x[1] * x[1] }
        let problem = SmoothingProblem(loss: loss, grid: grid, time: 0.2, beta: 1)
        let spectral = try HeatEquation.smooth(problem)
        #expect(spectral.report.equation == "heat" && spectral.report.scheme == "spectral")
        #expect(spectral.report.steps == 0 && spectral.report.dt == nil)
        #expect(spectral.report.warnings.isEmpty)
        let pad = spectral.report.workingShape[0] - 21
        #expect(pad > 0 && pad % 2 == 0)
        #expect(spectral.u.grid == grid && spectral.f.grid == grid && spectral.gradient.count == 2)
        let cn = try HeatEquation.smooth(problem, method: .crankNicolson())
        #expect(cn.report.scheme == "crank-nicolson" && cn.report.steps >= 2 && cn.report.dt != nil)
        // Exact: x^2 + y^2/2 + 2 nu t (1 + 1/2) with nu = 1/2. The spectral solve is exact up
        // to round-off (data ~ 25 at the padded edge). Crank–Nicolson is exact on quadratics too
        // (second differences are exact, u_t is constant); only the mirror defect at the padded
        // edge reaches the window, through implicit solves whose Green's function decays only
        // exponentially, rho^|n| with rho = 0.52 along y (a = nu dt / (2 h^2) = 2.25). Defect per
        // step a 2h |f'| ~ 1.4; six solves (Rannacher start + 4) over 57 cells of padding carry
        // about C(62, 5) rho^57 (1 - rho)^6 ~ 4e-12 of it: ~1e-11, so 1e-10.
        let exact = Field(grid: grid) { x in x[0] * x[0] + 0.5 * x[1] * x[1] + 0.3 }
        #expect(spectral.u.distance(to: exact, .max) < 1e-12)
        #expect(cn.u.distance(to: exact, .max) < 1e-10)
    }

    // A kernel narrower than ~2.4 grid spacings cannot keep the padded edge at round-off; the
    // solver must say so, with an estimate of the right size (calibrated within a factor 2).
    @Test("a free-space kernel narrower than the grid resolves is reported with an edge-leak estimate")
    func narrowKernelWarning() throws {
        let grid = try Grid(domain: [(-1, 1)], counts: [21], boundary: .free)
        let loss = Loss(name: "x^2", dimension: 1) { x in x[0] * x[0] }
        let t = 0.01, nu = 0.5     // sigma = sqrt(2 nu t) = 0.1 = h
        let result = try HeatEquation.smooth(SmoothingProblem(loss: loss, grid: grid, time: t, beta: 1))
        #expect(result.report.warnings.count == 1)
        let propagator = try HeatPropagator(window: grid, diffusivity: nu, maximumTime: t)
        let estimate = propagator.edgeLeakEstimate(try loss.sample(on: propagator.workingGrid), time: t)
        let exact = Field(grid: grid) { x in x[0] * x[0] + 2 * nu * t }
        let error = result.u.distance(to: exact, .max)
        #expect(error > estimate / 4 && error < estimate * 4, "error \(error), estimate \(estimate)")
    }
}
