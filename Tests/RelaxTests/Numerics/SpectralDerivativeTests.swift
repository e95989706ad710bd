import Foundation
import Testing
@testable import Relax

@Suite("SpectralPlan.applyDerivative: spectral differentiation of the filtered interpolant")
struct SpectralDerivativeTests {
    /// A trigonometric polynomial below the Nyquist frequency is differentiated exactly (to
    /// rounding, `~1e-14 * k n`); with the heat symbol the result is the derivative of the
    /// propagated data, `d/dx exp(-nu t k^2) sin(kx) = k exp(-nu t k^2) cos(kx)`.
    @Test("derivative of sin(3x) cos(2y) along each axis, plain and heat-filtered, on a periodic grid")
    func trigonometric() throws {
        let grid = try Grid(domain: [(0, 2 * Double.pi), (0, 2 * Double.pi)], counts: [32, 24], boundary: .periodic)
        let plan = try SpectralPlan(grid: grid, kind: .periodic)
        let f = Field(grid: grid) { sin(3 * $0[0]) * cos(2 * $0[1]) }
        for a in [0.0, 0.05] {
            let symbol = plan.symbol { exp(-a * $0) }
            let damp = exp(-a * 13)
            var dx = f.values, dy = f.values
            plan.applyDerivative(multiplier: symbol, axis: 0, to: &dx)
            plan.applyDerivative(multiplier: symbol, axis: 1, to: &dy)
            let ex = Field(grid: grid) { 3 * damp * cos(3 * $0[0]) * cos(2 * $0[1]) }
            let ey = Field(grid: grid) { -2 * damp * sin(3 * $0[0]) * sin(2 * $0[1]) }
            #expect(Field(grid: grid, values: dx).distance(to: ex, .max) <= 1e-13)
            #expect(Field(grid: grid, values: dy).distance(to: ey, .max) <= 1e-13)
        }
        // The Nyquist mode cos(16 x) has no real derivative on the grid: it is dropped.
        var nyquist = Field(grid: grid) { cos(16 * $0[0]) }.values
        plan.applyDerivative(multiplier: [Double](repeating: 1, count: plan.spectralCount), axis: 0, to: &nyquist)
        #expect(nyquist.allSatisfy { abs($0) <= 1e-12 })
    }
}

@Suite("VectorExp: the branch-free exp of the Cole–Hopf kernels")
struct VectorExpTests {
    /// Relative error against `Foundation.exp` a few ulps over the normal range (the polynomial's
    /// truncation is below 5e-18; reduction and polynomial rounding add a few ulps), exact 0 below
    /// -745.2, infinity above 709.79, and correct subnormal results.
    @Test("matches Foundation.exp to 1e-15 relative over [-708, 709], subnormals, underflow and overflow")
    func accuracy() {
        var generator = SystemRandomNumberGenerator()
        var worst = 0.0
        for _ in 0..<200_000 {
            let x = Double.random(in: -708...709.7, using: &generator)
            worst = max(worst, abs(VectorExp.exp(x) / exp(x) - 1))
        }
        for x in stride(from: -50.0, through: 50.0, by: 0.001) { worst = max(worst, abs(VectorExp.exp(x) / exp(x) - 1)) }
        #expect(worst <= 1e-15)
        for x in [-709.5, -720.0, -740.0, -745.0] {
            #expect(abs(VectorExp.exp(x) - exp(x)) <= 4 * Double.leastNonzeroMagnitude + 1e-15 * exp(x))
        }
        #expect(VectorExp.exp(-746) == 0 && VectorExp.exp(-1e300) == 0 && VectorExp.exp(-.infinity) == 0)
        #expect(VectorExp.exp(710) == .infinity && VectorExp.exp(0) == 1)
    }
}
