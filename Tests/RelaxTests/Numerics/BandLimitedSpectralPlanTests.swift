import Foundation
import Testing
@testable import Relax

@Suite("BandLimitedSpectralPlan: pruned transforms for multipliers that keep a few modes")
struct BandLimitedSpectralPlanTests {
    /// With the heat factor `exp(-a k^2)` cut where it drops below `exp(-50)` on an axis, the
    /// pruned round trip equals the full rank-d `SpectralPlan` propagation of any data to
    /// rounding plus the dropped modes' bound `N exp(-50) max|data|`; with `i k` times the heat
    /// factor along one axis it equals `SpectralPlan.applyDerivative`. A trigonometric polynomial
    /// is propagated and differentiated exactly.
    @Test("heat propagation and derivatives equal the full rank-d transforms (1-D, 2-D, 3-D; odd and even sizes)",
          arguments: [[40], [33], [32, 24], [27, 20, 9]])
    func matchesFullTransforms(counts: [Int]) throws {
        let d = counts.count
        let grid = try Grid(domain: [(Double, Double)](repeating: (0, 2 * Double.pi), count: d), counts: counts,
                            boundary: .periodic)
        let full = try SpectralPlan(grid: grid, kind: .periodic)
        var generator = SplitMix64(seed: 5)
        let data = (0..<grid.count).map { _ in generator.uniform() }
        for a in [0.05, 0.5] {
            let kmax = (BandLimitedSpectralPlan.cut / a).squareRoot()
            let kept = (0..<d).map { BandLimitedSpectralPlan.keptModes(grid: grid, axis: $0, largestWavenumber: kmax) }
            let plan = try BandLimitedSpectralPlan(grid: grid, kept: kept)
            let coefficients = plan.forward { input in
                data.withUnsafeBufferPointer { input.update(from: $0.baseAddress!, count: grid.count) }
            }
            let heat: [[Double]] = (0..<d).map { axis in
                plan.wavenumbers(axis: axis).flatMap { k -> [Double] in [exp(-a * k * k), 0] }
            }
            let pruned = plan.inverse(coefficients, factors: heat) { Array(UnsafeBufferPointer(start: $0, count: grid.count)) }
            var reference = data
            full.apply(multiplier: full.symbol { exp(-a * $0) }, to: &reference)
            let tolerance = 1e-14 + plan.droppedBound
            #expect(zip(pruned, reference).allSatisfy { abs($0 - $1) <= tolerance }, "a = \(a)")
            for axis in 0..<d {
                var factors = heat
                factors[axis] = plan.wavenumbers(axis: axis, forDerivative: true).flatMap { k -> [Double] in
                    [0, k * exp(-a * k * k)]
                }
                let derivative = plan.inverse(coefficients, factors: factors) {
                    Array(UnsafeBufferPointer(start: $0, count: grid.count))
                }
                var exact = data
                full.applyDerivative(multiplier: full.symbol { exp(-a * $0) }, axis: axis, to: &exact)
                // The derivative scales the data's rounding by at most the largest kept wavenumber.
                #expect(zip(derivative, exact).allSatisfy { abs($0 - $1) <= tolerance * max(1, kmax) },
                        "axis \(axis), a = \(a)")
            }
        }
        // sin(3x) (cos(2y)) (sin z): propagated by exp(-a |k|^2) and differentiated exactly.
        let a = 0.05
        let modes = [3.0, 2.0, 1.0]
        let kmax = (BandLimitedSpectralPlan.cut / a).squareRoot()
        let plan = try BandLimitedSpectralPlan(grid: grid, kept: (0..<d).map {
            BandLimitedSpectralPlan.keptModes(grid: grid, axis: $0, largestWavenumber: kmax)
        })
        let wave = Field(grid: grid) { p in (0..<d).reduce(1.0) { $0 * ($1 % 2 == 0 ? sin(modes[$1] * p[$1]) : cos(modes[$1] * p[$1])) } }
        let damp = exp(-a * modes.prefix(d).reduce(0) { $0 + $1 * $1 })
        let coefficients = plan.forward { input in
            wave.values.withUnsafeBufferPointer { input.update(from: $0.baseAddress!, count: grid.count) }
        }
        let heat: [[Double]] = (0..<d).map { axis in plan.wavenumbers(axis: axis).flatMap { k -> [Double] in [exp(-a * k * k), 0] } }
        let propagated = plan.inverse(coefficients, factors: heat) { Array(UnsafeBufferPointer(start: $0, count: grid.count)) }
        #expect(zip(propagated, wave.values).allSatisfy { abs($0 - damp * $1) <= 1e-14 })
        var factors = heat
        factors[0] = plan.wavenumbers(axis: 0, forDerivative: true).flatMap { k -> [Double] in [0, k * exp(-a * k * k)] }
        let dx = plan.inverse(coefficients, factors: factors) { Array(UnsafeBufferPointer(start: $0, count: grid.count)) }
        let exact = Field(grid: grid) { p in
            damp * 3 * cos(3 * p[0]) * (1..<d).reduce(1.0) { $0 * ($1 % 2 == 0 ? sin(modes[$1] * p[$1]) : cos(modes[$1] * p[$1])) }
        }
        #expect(zip(dx, exact.values).allSatisfy { abs($0 - $1) <= 1e-13 })
    }
}
