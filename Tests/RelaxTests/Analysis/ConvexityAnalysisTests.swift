import Foundation
import Testing
@testable import Relax

/// f = sin(3x) + x^2/10 on [-3, 3]: three local minima of different depth,
/// f'' = -9 sin(3x) + 1/5, so t* = 1/max(-f'') = 1/8.8 (eq. 29).
@Suite("Widening of convex regions (Example 16, Remark 17)")
struct ConvexityAnalysisTests {
    static let loss = Loss(name: "sin(3x) + x^2/10", dimension: 1, value: { sin(3 * $0[0]) + 0.1 * $0[0] * $0[0] },
                           gradient: { [3 * cos(3 * $0[0]) + 0.2 * $0[0]] })
    static let tStar = 1 / 8.8

    static func window(_ n: Int = 1201) throws -> Grid { try Grid(domain: [(-3, 3)], counts: [n], boundary: .free) }

    @Test("extrema and convex intervals of a known function (f'' = -9 sin 3x + 1/5 changes sign at the inflections)")
    func knownIntervals() throws {
        let grid = try Self.window()
        let f = try Self.loss.sample(on: grid)
        let minima = try ConvexityAnalysis.extrema(f).filter { $0.kind == .minimum }
        #expect(minima.count == 3)
        let maxima = try ConvexityAnalysis.extrema(f).filter { $0.kind == .maximum }
        #expect(maxima.count == 3)
        // f'' >= 0 where sin(3x) <= 1/45: around the minimum near -0.52 (3x ~ -pi/2) that is
        // 3x in [-pi - asin(1/45), asin(1/45)].
        let intervals = try ConvexityAnalysis.convexIntervals(f)
        let middle = try #require(intervals.first { abs($0.minimum.x + 0.52) < 0.1 })
        let s = asin(1.0 / 45)
        // Linear interpolation of the second difference's zero: error O(h^2).
        let h = grid.spacing[0]
        #expect(abs(middle.lower + (s + Double.pi) / 3) < h * h * 10)
        #expect(abs(middle.upper - s / 3) < h * h * 10)
    }

    @Test("Example 16: for t <= t* the convex interval around each local minimum contains the original")
    func widening() throws {
        let grid = try Self.window()
        let f = try Self.loss.sample(on: grid)
        for t in [0.3 * Self.tStar, 0.9 * Self.tStar] {
            let u = try HopfLax.infConvolution(loss: Self.loss, grid: grid, times: [t]).solutions[0].value
            let pairs = try ConvexityAnalysis.widening(from: f, to: u, slack: grid.spacing[0])
            #expect(pairs.count == 3)
            for p in pairs {
                #expect(p.contains, "t = \(t): \(p.original) not inside \(String(describing: p.evolved))")
                // And strictly wider: the inflections move outward (by ~ t p at the inflection).
                if let e = p.evolved { #expect(e.width > p.original.width + 2 * grid.spacing[0]) }
            }
        }
    }

    @Test("Remark 17: local minima persist in location and value for t < t*; shallow minima vanish for long t")
    func persistenceAndVanishing() throws {
        let grid = try Self.window()
        let h = grid.spacing[0]
        // For t < t*, y -> f(y) + |x*-y|^2/(2t) is strictly convex, so prox(x*) = x* and
        // u(x*) = f(x*): the discrete transform keeps the node values of f's minima exactly.
        let run = try HopfLax.infConvolution(loss: Self.loss, grid: grid, times: [0.9 * Self.tStar], refinement: .none)
        let short = run.solutions[0].value
        let minimaF = try ConvexityAnalysis.extrema(run.f).filter { $0.kind == .minimum }
        #expect(minimaF.count == 3)
        for m in minimaF {
            let partner = try #require(try ConvexityAnalysis.minimum(of: short, near: m.x, within: h))
            #expect(partner.index == m.index)
            #expect(partner.value == m.value)
        }
        // Long times: a basin of depth f_b survives while its vertex f_b lies below the parabola
        // f_deep + |x_b - x_deep|^2/(2t) of the deepest basin (distance ~2.09 here): the basin at
        // -2.61 (0.65 above the deepest) goes at t ~ 3.4, the one at 1.57 (0.22 above) at t ~ 10.
        let deepest = minimaF.min { $0.value < $1.value }!
        let counts = try [5.0, 15.0].map { t in
            let u = try HopfLax.infConvolution(loss: Self.loss, grid: grid, times: [t]).solutions[0].value
            let minimaU = try ConvexityAnalysis.extrema(u).filter { $0.kind == .minimum }
            #expect(minimaU.contains { abs($0.x - deepest.x) < 0.05 })
            return minimaU.count
        }
        #expect(counts == [2, 1])
    }
}
