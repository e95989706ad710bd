import Foundation
import Testing
@testable import Relax

@Suite("Hopf–Lax polished with the exact loss")
struct HopfLaxPolishTests {
    /// f = sin(3x) + x^2/10, t* = 1/8.8: before t* the exact solution is the characteristic
    /// one, u = f(y) + t p^2/2 with p = f'(x - t p) (eq. 28).
    static let ripple = try! Loss(expression: "sin(3*x) + x^2/10")

    @Test("before t*: the polished value converges at order 4 (exact cost at an O(h^2) prox), against the refined model's 3")
    func order() throws {
        let t = 0.9 / 8.8
        var errors: [Double] = [], raw: [Double] = []
        for n in [151, 301, 601, 1201] {
            let grid = try Grid(domain: [(-3, 3)], counts: [n], boundary: .free)
            let s = try HopfLax.infConvolution(loss: Self.ripple, grid: grid, times: [t]).solutions[0]
            let polished = HopfLax.polish(s, loss: Self.ripple)
            var e = 0.0, r = 0.0
            for i in 0..<n {
                let x = grid.axes[0].coordinate(i)
                let exact = try BurgersCharacteristics.solution(
                    at: x, time: t, value: { Self.ripple.value(at: [$0]) }, derivative: { Self.ripple.gradient(at: [$0])[0] },
                    secondDerivative: { Self.ripple.secondDerivative1D(at: $0)! }).value
                e = max(e, abs(polished.value.values[i] - exact))
                r = max(r, abs(s.value.values[i] - exact))
                // An upper bound: every candidate cost is attained by some y.
                #expect(polished.value.values[i] >= exact - 1e-13)
            }
            errors.append(e)
            raw.append(r)
        }
        let orders = (1..<errors.count).map { log2(errors[$0 - 1] / errors[$0]) }
        let rawOrders = (1..<raw.count).map { log2(raw[$0 - 1] / raw[$0]) }
        #expect(orders.allSatisfy { abs($0 - 4) < 0.5 }, "polished orders \(orders), errors \(errors)")
        #expect(rawOrders.allSatisfy { abs($0 - 3) < 0.5 }, "refined orders \(rawOrders)")
    }

    @Test("after kinks form: a neighbour's candidate from the right basin removes the refinement's wrong-basin error")
    func kinks() throws {
        // rugged-1d at t = 20: the narrow well at -1 and the wide one near 1.1 meet at a kink
        // near -0.9, where the discrete argmin of one node picks the wrong basin (value error
        // O(h^2) ~ 5e-5 at h = 0.005). Reference: the polished solve on a grid 8x finer.
        let loss = try Loss(preset: "rugged-1d")
        let grid = try Grid(domain: [(-3, 3)], counts: [1201], boundary: .free)
        let fine = try Grid(domain: [(-3, 3)], counts: [9601], boundary: .free)
        let s = try HopfLax.infConvolution(loss: loss, grid: grid, times: [20]).solutions[0]
        let reference = HopfLax.polish(try HopfLax.infConvolution(loss: loss, grid: fine, times: [20]).solutions[0], loss: loss)
        let polished = HopfLax.polish(s, loss: loss)
        let before = try Semiconcavity.valueDifference(coarse: s.value, fine: reference.value)
        let after = try Semiconcavity.valueDifference(coarse: polished.value, fine: reference.value)
        #expect(before > 1e-5, "\(before)")
        #expect(after < 1e-8, "\(after)")
        // The prox of the polished solution is consistent with its value.
        for i in stride(from: 0, to: 1201, by: 50) {
            let x = grid.axes[0].coordinate(i), y = polished.prox[0].values[i]
            #expect(abs(loss.value(at: [y]) + (x - y) * (x - y) / 40 - polished.value.values[i]) < 1e-14)
        }
    }

    @Test("periodic grids: candidates across the seam use the nearest image")
    func periodicSeam() throws {
        // f = 1 - cos x on [-pi, pi): u is smooth (t = 0.5 < t* = 1), and the polished values at
        // the seam nodes agree with the interior formula u = f(y) + (x - y)^2/(2t).
        let loss = try Loss(expression: "1 - cos(x)")
        let grid = try Grid(domain: [(-Double.pi, Double.pi)], counts: [128], boundary: .periodic)
        let s = try HopfLax.infConvolution(loss: loss, grid: grid, times: [0.5]).solutions[0]
        let polished = HopfLax.polish(s, loss: loss)
        for i in [0, 1, 126, 127] {
            let x = grid.axes[0].coordinate(i)
            let exact = try BurgersCharacteristics.solution(at: x, time: 0.5, value: { 1 - cos($0) }, derivative: { sin($0) },
                                                            secondDerivative: { cos($0) }).value
            // The polished error (f'' + 1/t)|dy|^2/2 with the model's prox error
            // dy <= (h^2/6 max|f'''|)/(f'' + 1/t): below 1e-7 here.
            #expect(abs(polished.value.values[i] - exact) < 1e-7, "node \(i)")
        }
        // f is even: nodes i and 128 - i mirror each other across 0 and across the seam.
        #expect(abs(polished.value.values[1] - polished.value.values[127]) < 1e-13)
    }
}
