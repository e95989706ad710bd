import Foundation
import Testing
@testable import Relax

@Suite("Separable spectral plans: blocked 1-D transforms along each axis")
struct SeparableSpectralPlanTests {
    /// Reproducible data in [0, 1).
    static func noise(_ grid: Grid, seed: UInt64) -> [Double] {
        var state = seed
        return (0..<grid.count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Double(state >> 11) / Double(1 << 53)
        }
    }

    // The separable plan must equal the rank-d transform-multiply-inverse (SpectralPlan) for a
    // product symbol: both are exact linear maps, so they agree to round-off, ~eps log N. The
    // shapes exercise remainder blocks (3000 rows in blocks of 64, 300 columns in blocks of 64),
    // odd row lengths (blocks starting at odd offsets, the second FFTW alignment), and 3-D.
    @Test("separable plan equals the rank-d plan for a product symbol",
          arguments: [[40], [3000, 3], [6, 300], [7, 9, 130], [16, 17, 18]])
    func agreesWithRankDPlan(shape: [Int]) throws {
        for kind in [SpectralPlan.Kind.periodic, .cosine] {
            let grid = try Grid(domain: shape.map { _ in (0, 1.5) }, counts: shape,
                                boundary: kind == .periodic ? .periodic : .neumann)
            let separable = try SeparableSpectralPlan(grid: grid, kind: kind)
            let full = try SpectralPlan(grid: grid, kind: kind)
            let nu = 3e-3
            var a = Self.noise(grid, seed: 7)
            var b = a
            separable.apply(separable: (0..<grid.dimension).map { axis in
                separable.wavenumbers(axis: axis).map { exp(-nu * $0 * $0) }
            }, to: &a)
            full.apply(multiplier: full.symbol { exp(-nu * $0) }, to: &b)
            let worst = zip(a, b).map { abs($0 - $1) }.max()!
            #expect(worst < 1e-13, "\(kind) \(shape): \(worst)")
        }
    }
}
