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

    /// Two exponentials (1e-15 each) and one product per value, against `exp` of the argument
    /// rounded once: the two roundings of the split argument and the reference's own move the
    /// result by at most `3 eps (|start| + |step| i)` relative (exp's conditioning), and no error
    /// grows along the sequence (the tilt rows of the block pass span up to `exp(+-250)`).
    @Test("geometric: exp(start + step i) to 3e-15 plus the arguments' rounding, along 451-term rows up to exp(+-250)")
    func geometric() {
        let count = 451
        var row = [Double](repeating: 0, count: count)
        for (start, step) in [(-250.0, 500.0 / 450), (250.0, -500.0 / 450), (-3.0, 0.013), (0.0, 0.0), (12.5, -1e-9)] {
            row.withUnsafeMutableBufferPointer { VectorExp.geometric(start: start, step: step, into: $0.baseAddress!, count: count) }
            for i in 0..<count {
                let size = abs(start) + abs(step) * Double(i)
                #expect(abs(row[i] / exp(start + step * Double(i)) - 1) <= 3e-15 + 3 * Double.ulpOfOne * size)
            }
        }
    }
}

@Suite("Extrema: least and largest value in one pass")
struct ExtremaTests {
    @Test("equal to min() and max() for every length mod 4, split or not; NaN passed over; empty gives (inf, -inf)")
    func agreesWithMinMax() {
        var generator = SplitMix64(seed: 3)
        for count in [1, 2, 3, 4, 5, 7, 1000, 65_536 + 3] {
            var values = (0..<count).map { _ in 1e3 * (generator.uniform() - 0.5) }
            #expect(Extrema.of(values) == (values.min()!, values.max()!))
            values[count / 2] = .nan
            let finite = values.filter { !$0.isNaN }
            if !finite.isEmpty { #expect(Extrema.of(values) == (finite.min()!, finite.max()!)) }
        }
        #expect(Extrema.of([Double]()) == (Double.infinity, -Double.infinity))
    }

    @Test("finiteRange: the same range, and false for +-inf or NaN at the first, a middle or the last node")
    func finiteRangeFlagsEveryNonFiniteValue() {
        var generator = SplitMix64(seed: 5)
        for count in [1, 3, 4, 5, 1000, 65_536 + 3] {
            var values = (0..<count).map { _ in 1e300 * (generator.uniform() - 0.5) }
            let clean = values.withUnsafeBufferPointer { Extrema.finiteRange($0) }
            #expect(clean.finite && clean.least == values.min()! && clean.largest == values.max()!)
            for at in Set([0, count / 2, count - 1]) {
                for bad in [Double.infinity, -Double.infinity, .nan, -Double.nan] {
                    let kept = values[at]
                    values[at] = bad
                    #expect(!values.withUnsafeBufferPointer { Extrema.finiteRange($0) }.finite)
                    values[at] = kept
                }
            }
            values[count - 1] = .greatestFiniteMagnitude
            #expect(values.withUnsafeBufferPointer { Extrema.finiteRange($0) }.finite)
        }
    }
}
