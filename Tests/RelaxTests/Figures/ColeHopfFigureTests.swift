import Foundation
import Testing
@testable import Relax

/// `relax figure cole-hopf`: its claims hold; the slopes are refitted from the arrays, the
/// curves checked against exp(-beta u), and the heat curve against a direct sum of the periodic
/// heat kernel (no FFT).
@Suite("Figure cole-hopf: Lemma 1 slopes and curves recomputed independently")
struct ColeHopfFigureTests {
    static let made = Result { try ColeHopfFigure.make() }

    func figure() throws -> FigureData { try Self.made.get() }
    func values(_ fig: FigureData, _ name: String) -> [Double] { fig.array(name)!.values }

    @Test("every claim holds: FD and heat-equation slopes in 1 ± 0.2 (1-D and 2-D), identity at round-off")
    func claimsHold() throws {
        let fig = try figure()
        #expect(fig.claims.map(\.id) == ["fd-slope-1d", "heat-slope-1d", "fd-slope-2d", "heat-slope-2d", "identity"])
        for c in fig.claims { #expect(c.holds, "\(c.id): \(c.measured)") }
    }

    @Test("least-squares slopes of log error on log h, refitted here, lie in [0.8, 1.2]; identity errors <= 1e-12")
    func slopesRefitted() throws {
        let fig = try figure()
        for d in [1, 2] {
            let h = values(fig, "h_\(d)d")
            #expect(h.count == (d == 1 ? 4 : 3))
            for name in ["fd_error", "heat_error"] {
                // Normal equations for y = a + p x, written out.
                let x = h.map { log($0) }, y = values(fig, "\(name)_\(d)d").map { log($0) }
                let m = Double(x.count)
                let sx = x.reduce(0, +), sy = y.reduce(0, +)
                let sxx = x.reduce(0) { $0 + $1 * $1 }, sxy = zip(x, y).reduce(0) { $0 + $1.0 * $1.1 }
                let slope = (m * sxy - sx * sy) / (m * sxx - sx * sx)
                #expect((0.8...1.2).contains(slope), "\(name), d = \(d): slope \(slope)")
                #expect(abs(slope - ColeHopfFigure.fittedSlope(h, values(fig, "\(name)_\(d)d"))) <= 1e-12)
            }
            #expect(values(fig, "identity_error_\(d)d").allSatisfy { $0 <= 1e-12 })
        }
    }

    @Test("curves: v = exp(-beta (u - min f)), relative errors recomputed; the heat curve equals a direct periodic kernel sum")
    func curves() throws {
        let fig = try figure()
        guard case let .number(beta)? = fig.parameters["beta"], case let .number(t)? = fig.parameters["t"] else {
            Issue.record("beta or t missing"); return
        }
        let x = values(fig, "x"), f = values(fig, "f"), vHeat = values(fig, "v_heat")
        let fMin = f.min()!
        let n = x.count
        let scale = vHeat.max()!
        for (u, v, e) in [("u_fd", "v_fd", "rel_error_fd"), ("u_ch", "v_ch", "rel_error_ch")] {
            let uu = values(fig, u), vv = values(fig, v), ee = values(fig, e)
            for i in 0..<n {
                #expect(abs(vv[i] - exp(-beta * (uu[i] - fMin))) <= 1e-15 * max(1, vv[i]))
                #expect(abs(ee[i] - abs(vv[i] - vHeat[i]) / scale) <= 1e-15)
            }
        }
        // FD is visibly off (first order, ~1e-3), Cole–Hopf at round-off.
        #expect(values(fig, "rel_error_fd").max()! > 1e-4)
        #expect(values(fig, "rel_error_ch").max()! <= 1e-13)
        // v_heat(x_i) = sum_j h G_{t/beta}(x_i - y_j) exp(-beta (f_j - min f)), G periodized over 2 pi
        // (images up to 3 periods: the kernel width sqrt(t/beta) = 0.22 makes farther ones < e^-700).
        let h = 2 * Double.pi / Double(n), s = t / beta
        for i in stride(from: 0, to: n, by: 17) {
            var v = 0.0
            for j in 0..<n {
                for image in -3...3 {
                    let z = x[i] - x[j] + Double(image) * 2 * Double.pi
                    v += h * exp(-z * z / (2 * s)) / (2 * Double.pi * s).squareRoot() * exp(-beta * (f[j] - fMin))
                }
            }
            #expect(abs(v - vHeat[i]) <= 1e-13 * scale, "node \(i)")
        }
    }
}
