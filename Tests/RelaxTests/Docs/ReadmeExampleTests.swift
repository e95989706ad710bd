import Foundation
import Testing
import Relax

/// The Swift examples of README.md, verbatim where possible, so the documentation cannot rot.
@Suite("README examples")
struct ReadmeExampleTests {
    @Test("Analysis: Lemma 18 tracked on Hopf–Lax solutions of rugged-1d")
    func semiconcavityExample() throws {
        let f = try Loss(preset: "rugged-1d")
        let grid = try Grid(domain: [(-3, 3)], counts: [1201])                // free boundary
        let C = try Semiconcavity.supSecondDerivative(of: f, over: -12...12)   // sup f'' ≈ 90
        let times = [0.1, 1, 10]
        let hj = try HopfLax.infConvolution(loss: f, grid: grid, times: times, refinement: .none).solutions
        let track = Semiconcavity.track(zip(times, hj.map(\.value)).map { ($0, $1) },
                                        constants: .init(perAxis: [C], laplacian: C))
        // Semiconcavity with constant 1/t holds exactly for the discrete inf-convolution (an
        // infimum of parabolas whose second differences are 1/t), up to the rounding of the three
        // values, amplified by 4/h^2: 4 * 2 eps max|u| / h^2.
        let h = grid.spacing[0]
        for (k, t) in times.enumerated() {
            let rounding = 8 * Double.ulpOfOne * hj[k].value.norm(.max) / (h * h)
            #expect(track.supSecondDifference(axis: 0)[k] <= 1 / t + rounding)
            #expect(track.bound(axis: 0)[k] == Semiconcavity.bound(initial: C, time: t))
        }
        #expect(C > 80 && C < 100)
    }
}
