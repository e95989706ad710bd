import Foundation
import Testing
@testable import Relax

/// The semiconcavity figure's claims recomputed from its arrays: the bounds from the
/// constants (sup f'' of rugged-1d from its exact second derivative, 1 for 1 - cos x, the
/// analytic 2-D constants), the comparisons with the figure's value-error tolerances, the
/// heat rate by an independent least-squares fit.
@Suite("semiconcavity figure: Lemma 18/20 and Example 14 recomputed from the figure's data")
struct SemiconcavityFigureTests {
    static func get(_ data: FigureData, _ name: String) throws -> [Double] {
        try #require(data.array(name), "array \(name)").values
    }

    @Test("every claim holds, recomputed independently")
    func claims() throws {
        let data = try SemiconcavityFigure.make()
        #expect(data.allClaimsHold, "\(data.claims.filter { !$0.holds })")
        #expect(Set(data.claims.map(\.id)) == ["lemma18-1d", "attained-1d", "heat-1d", "example14", "lemma18-2d", "lemma20"])
        let t = try Self.get(data, "t")

        // Lemma 18 on rugged-1d: C = sup f'' (the narrow well's bottom), max over a dense
        // sampling of the exact f'' (spacing 1e-5 around x = -1, where it is attained).
        let loss = try Loss(preset: "rugged-1d")
        let c = stride(from: -1.05, through: -0.95, by: 1e-5).map { loss.secondDerivative1D(at: $0)! }.max()!
        #expect(abs(c - 89.96) < 0.01, "\(c)")
        let bound = t.map { 1 / (1 / c + $0) }
        let (sv, sh, sq) = (try Self.get(data, "sup_uxx_vhj"), try Self.get(data, "sup_uxx_hj"), try Self.get(data, "sup_uxx_heat"))
        let (tv, th) = (try Self.get(data, "tol_uxx_vhj"), try Self.get(data, "tol_uxx_hj"))
        for i in t.indices {
            // The tolerances are small enough for the checks to mean something.
            #expect(tv[i] < 1e-3 * bound[i] && th[i] < 5e-3 * bound[i], "t = \(t[i]): tolerances \(tv[i]), \(th[i])")
            #expect(sv[i] <= bound[i] + tv[i], "viscous t = \(t[i])")
            #expect(sh[i] <= bound[i] + th[i], "HJ t = \(t[i])")
            // Attained by Hopf–Lax (second differences underestimate sup u_xx by O(h^2)).
            #expect(sh[i] >= 0.99 * bound[i], "HJ attains the bound at t = \(t[i])")
        }
        // Heat: below the bound at first, above it from t ~ 3 on, never below 0.24.
        let crossing = t.indices.first { i in t[i...].indices.allSatisfy { sq[$0] > bound[$0] } }!
        #expect(sq[0] < bound[0])
        #expect((2...4).contains(t[crossing]), "\(t[crossing])")
        #expect(sq.last! > 0.24 && sq.last! > 4 * bound.last!)

        // Example 14 on 1 - cos x: an independent least-squares fit of log sup v_xx.
        let heat = try Self.get(data, "sup_uxx_heat_cos")
        let logs = heat.map { log($0) }
        let mt = t.reduce(0, +) / Double(t.count), ml = logs.reduce(0, +) / Double(t.count)
        let slope = zip(t, logs).reduce(0) { $0 + ($1.0 - mt) * ($1.1 - ml) } / t.reduce(0) { $0 + ($1 - mt) * ($1 - mt) }
        #expect(abs(-slope - 0.25) < 1e-9, "rate \(-slope)")
        let exact = try Self.get(data, "heat_exact_cos")
        #expect(zip(heat, exact).allSatisfy { abs($0 - $1) < 1e-10 * $1 })
        // t_c: exp(-t/4)(1 + t) = 1, by Newton from 10.
        var tc = 10.0
        for _ in 0..<50 { let g = exp(-tc / 4) * (1 + tc) - 1, dg = exp(-tc / 4) * (1 - (1 + tc) / 4); tc -= g / dg }
        let boundCos = t.map { 1 / (1 + $0) }
        let (hv, hh) = (try Self.get(data, "sup_uxx_vhj_cos"), try Self.get(data, "sup_uxx_hj_cos"))
        for i in t.indices {
            if t[i] < tc - 0.5 { #expect(heat[i] > boundCos[i]) }
            if t[i] > tc + 0.5 { #expect(heat[i] < boundCos[i]) }
            // O(h^2) underestimate of the second difference, h = 2 pi/256: h^2/12 ~ 5e-5.
            #expect(abs(hh[i] - boundCos[i]) <= 1e-3 * boundCos[i], "HJ equals 1/(1 + t) at t = \(t[i])")
            #expect(hv[i] < boundCos[i])
        }

        // 2-D Laplacian: C_Lap = 5.3 (analytic).
        let t2 = try Self.get(data, "t2")
        let boundLap = t2.map { 1 / (1 / 5.3 + $0 / 2) }
        let (lv, lh) = (try Self.get(data, "sup_lap_vhj"), try Self.get(data, "sup_lap_hj"))
        let (lvt, lht) = (try Self.get(data, "tol_lap_vhj"), try Self.get(data, "tol_lap_hj"))
        for i in t2.indices {
            #expect(lv[i] <= boundLap[i] + lvt[i] && lh[i] <= boundLap[i] + lht[i], "t = \(t2[i])")
            #expect(lht[i] < 0.02 * boundLap[i])
        }

        // Lemma 20 with HM(C) = HM(4, 1.3); Lemma 19 against the diagonal.
        let (ht, hm, hd, hs) = (try Self.get(data, "hm_t"), try Self.get(data, "hm_value"), try Self.get(data, "hm_diagonal"),
                                try Self.get(data, "hm_tolerance"))
        let inverse = (1 / 4.0 + 1 / 1.3) / 2
        #expect(ht.count >= 2 * t2.count, "at least the global minimum for each solver and time")
        for i in ht.indices {
            #expect(hm[i] > 0 && hm[i] <= 1 / (ht[i] + inverse) + hs[i], "t = \(ht[i]): \(hm[i])")
            #expect(hm[i] <= hd[i] * (1 + 1e-12))
            #expect(hs[i] < 0.01 / (ht[i] + inverse))
        }
    }
}
