import Foundation
import Testing
@testable import Relax

@Suite("Hopf–Lax prox refined on the exact cost (HopfLax.Refinement.exactCost)")
struct HopfLaxExactCostTests {
    /// f = sin(3x) + x^2/10, t* = 1/8.8: before t* the exact solution is the characteristic
    /// one, u = f(y) + t p^2/2 with p = f'(x - t p) (eq. 28).
    static let ripple = try! Loss(expression: "sin(3*x) + x^2/10")

    static func characteristic(_ x: Double, _ t: Double, _ loss: Loss) throws -> Double {
        try BurgersCharacteristics.solution(at: x, time: t, value: { loss.value(at: [$0]) },
                                            derivative: { loss.gradient(at: [$0])[0] },
                                            secondDerivative: { loss.secondDerivative1D(at: $0)! }).value
    }

    /// The solution at one time with the given refinement.
    static func solve(_ loss: Loss, _ grid: Grid, _ t: Double, _ refinement: HopfLax.Refinement) throws -> HopfLaxSolution {
        try HopfLax.infConvolution(loss: loss, grid: grid, times: [t], refinement: refinement).solutions[0]
    }

    @Test("before t*: the exact-cost value is the exact solution to round-off (Newton on the exact cost), where the grid model converges at order 3")
    func exactBeforeKinks() throws {
        let t = 0.9 / 8.8
        var errors: [Double] = [], raw: [Double] = []
        for n in [151, 301, 601, 1201] {
            let grid = try Grid(domain: [(-3, 3)], counts: [n], boundary: .free)
            let s = try Self.solve(Self.ripple, grid, t, .gridModel)
            let refined = try Self.solve(Self.ripple, grid, t, .exactCost)
            var e = 0.0, r = 0.0
            for i in 0..<n {
                let exact = try Self.characteristic(grid.axes[0].coordinate(i), t, Self.ripple)
                e = max(e, abs(refined.value.values[i] - exact))
                r = max(r, abs(s.value.values[i] - exact))
            }
            errors.append(e)
            raw.append(r)
        }
        // What is left is the round-off of values of size ~1 (and of the characteristic solve).
        #expect(errors.allSatisfy { $0 < 1e-13 }, "exact-cost errors \(errors)")
        let rawOrders = (1..<raw.count).map { log2(raw[$0 - 1] / raw[$0]) }
        #expect(rawOrders.allSatisfy { abs($0 - 3) < 0.5 }, "grid-model orders \(rawOrders)")
    }

    @Test("after kinks form: candidates from the neighbours' basins remove the grid model's wrong-basin error")
    func kinks() throws {
        // rugged-1d at t = 20: the narrow well at -1 and the wide one near 1.1 meet at a kink
        // near -0.9, where the discrete argmin of one node picks the wrong basin (value error
        // O(h^2) ~ 5e-5 at h = 0.005). Reference: the exact-cost solve on a grid 8x finer.
        let loss = try Loss(preset: "rugged-1d")
        let grid = try Grid(domain: [(-3, 3)], counts: [1201], boundary: .free)
        let fine = try Grid(domain: [(-3, 3)], counts: [9601], boundary: .free)
        let s = try Self.solve(loss, grid, 20, .gridModel)
        let reference = try Self.solve(loss, fine, 20, .exactCost)
        let refined = try Self.solve(loss, grid, 20, .exactCost)
        let before = try Semiconcavity.valueDifference(coarse: s.value, fine: reference.value)
        let after = try Semiconcavity.valueDifference(coarse: refined.value, fine: reference.value)
        #expect(before > 1e-5, "\(before)")
        #expect(after < 1e-13, "\(after)")
        // The value is the exact cost of the returned prox.
        for i in stride(from: 0, to: 1201, by: 50) {
            let x = grid.axes[0].coordinate(i), y = refined.prox[0].values[i]
            #expect(abs(loss.value(at: [y]) + (x - y) * (x - y) / 40 - refined.value.values[i]) < 1e-14)
        }
    }

    @Test("2-D: the exact-cost values agree between a grid and its refinement to 1e-9 on a non-separable landscape with kinks")
    func twoDimensional() throws {
        let loss = try Loss(expression: SemiconcavityFigure.landscape2D)
        for t in [0.3, 2.0] {
            let coarse = try Grid(domain: [(-Double.pi, Double.pi), (-Double.pi, Double.pi)], counts: [64, 64], boundary: .periodic)
            let fine = try Grid(domain: [(-Double.pi, Double.pi), (-Double.pi, Double.pi)], counts: [128, 128], boundary: .periodic)
            let raw = try Semiconcavity.valueDifference(coarse: try Self.solve(loss, coarse, t, .gridModel).value,
                                                        fine: try Self.solve(loss, fine, t, .gridModel).value)
            let refined = try Semiconcavity.valueDifference(coarse: try Self.solve(loss, coarse, t, .exactCost).value,
                                                             fine: try Self.solve(loss, fine, t, .exactCost).value)
            #expect(raw > 1e-4, "t = \(t): grid model \(raw)")
            #expect(refined < 1e-9, "t = \(t): exact cost \(refined)")
        }
    }

    @Test("periodic grids: candidates across the seam use the nearest image")
    func periodicSeam() throws {
        // f = 1 - cos x on [-pi, pi): smooth for t = 0.5 < t* = 1.
        let loss = try Loss(expression: "1 - cos(x)")
        let grid = try Grid(domain: [(-Double.pi, Double.pi)], counts: [128], boundary: .periodic)
        let refined = try Self.solve(loss, grid, 0.5, .exactCost)
        for i in [0, 1, 126, 127] {
            #expect(abs(refined.value.values[i] - (try Self.characteristic(grid.axes[0].coordinate(i), 0.5, loss))) < 1e-13, "node \(i)")
        }
        // f is even: nodes i and 128 - i mirror each other across 0 and across the seam.
        #expect(abs(refined.value.values[1] - refined.value.values[127]) < 1e-14)
    }

    @Test("a sampled loss falls back to the grid model and the report says so; an expression reports its loss evaluations")
    func sampledFallsBackToGridModel() throws {
        let grid = try Grid(domain: [(-3, 3)], counts: [301], boundary: .neumann)
        let f = try Self.ripple.sample(on: grid)
        let sampled = Loss(description: "ripple.npy", dimension: 1, storage: .sampled(
            try SampledLoss(path: "ripple.npy", values: f.values, shape: [301], domain: [(-3, 3)])))
        let t = 0.9 / 8.8
        let fallback = try HopfLax.infConvolution(loss: sampled, grid: grid, times: [t], refinement: .exactCost)
        let model = try HopfLax.infConvolution(loss: sampled, grid: grid, times: [t], refinement: .gridModel)
        #expect(fallback.solutions[0].value.values == model.solutions[0].value.values)
        #expect(fallback.report.notes.contains { $0.contains("known only at its samples") })
        #expect(fallback.report.diagnostics["refinement_loss_gradients_per_node"] == nil)
        let exact = try HopfLax.infConvolution(loss: Self.ripple, grid: grid, times: [t], refinement: .exactCost)
        // One value per start, Newton's gradients at 1 + 2d points per Hessian (at least one per start).
        #expect(exact.report.diagnostics["refinement_loss_values_per_node"]! >= 1)
        #expect(exact.report.diagnostics["refinement_loss_gradients_per_node"]! >= 3)
    }
}
