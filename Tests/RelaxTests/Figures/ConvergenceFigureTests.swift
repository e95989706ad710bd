import Foundation
import Testing
@testable import Relax

/// `relax figure convergence`: every series of the four `relax convergence` reports is in the
/// figure, and its observed orders, recomputed from the arrays, lie in the band run.json states.
@Suite("Figure convergence: observed orders recomputed from the arrays")
struct ConvergenceFigureTests {
    static let made = Result { try ConvergenceFigure.make() }

    @Test("one claim per series, all holding; the series of heat 1-3 D, HJ, viscous HJ and Fokker–Planck are all there")
    func claimsHold() throws {
        let fig = try Self.made.get()
        guard case let .array(series)? = fig.parameters["series"] else { Issue.record("no series"); return }
        #expect(series.count == fig.claims.count)
        #expect(fig.claims.count >= 50)
        for c in fig.claims { #expect(c.holds, "\(c.id): \(c.measured)") }
        #expect(fig.panels.count == 6)
        #expect(fig.arrays.count == 2 * series.count)
    }

    @Test("observed orders from the arrays: within expected ± band, or errors at the round-off floor for exact methods")
    func ordersRecomputed() throws {
        let fig = try Self.made.get()
        guard case let .array(series)? = fig.parameters["series"] else { Issue.record("no series"); return }
        for entry in series {
            guard case let .object(s) = entry, case let .string(hName)? = s["h"], case let .string(eName)? = s["error"],
                  case let .number(band)? = s["band"], case let .number(floor)? = s["floor"],
                  case let .string(scheme)? = s["scheme"] else {
                Issue.record("malformed series entry \(entry)"); continue
            }
            let h = fig.array(hName)!.values, e = fig.array(eName)!.values
            #expect(h.count >= 2 && h.count == e.count)
            #expect(zip(h, h.dropFirst()).allSatisfy { $0 > $1 }, "\(scheme): h decreases")
            guard case let .number(expected)? = s["expected_order"], expected.isFinite else {
                // An exact method ("inf" in run.json): every error at round-off.
                #expect(e.allSatisfy { $0 <= floor }, "\(scheme): \(e)")
                continue
            }
            for i in 1..<h.count where e[i - 1] > floor && e[i] > floor {
                let order = log(e[i - 1] / e[i]) / log(h[i - 1] / h[i])
                #expect(abs(order - expected) <= band, "\(scheme): order \(order), expected \(expected) ± \(band)")
            }
        }
    }
}
