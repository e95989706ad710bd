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
