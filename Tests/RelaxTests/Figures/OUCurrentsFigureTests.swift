import Foundation
import Testing
@testable import Relax

/// `relax figure ou-currents` (Kunin et al., Fig. 3): its claims hold; B is re-solved here from
/// the Lyapunov equation written out for 2 x 2, the density's moments and the current's
/// divergence are recomputed from the arrays, and the path's stationary samples are compared
/// with N(b, B/kappa).
@Suite("Figure ou-currents: Lyapunov covariance, current and path recomputed independently")
struct OUCurrentsFigureTests {
    static let made = Result { try OUCurrentsFigure.make() }

    func values(_ fig: FigureData, _ name: String) -> [Double] { fig.array(name)!.values }

    /// A = V^-1 diag(4, 1) V = [[5/2, -3/2], [-3/2, 5/2]], D = diag(4, 1), kappa = 50:
    /// A B + B A^T = 2 D for symmetric B = [[p, q], [q, r]] is three linear equations
    ///   5p - 3q = 8,  -3p/2 + 5q - 3r/2 = 0,  -3q + 5r = 2.
    static var covariance: (xx: Double, xy: Double, yy: Double) {
        // From the first and third: p = (8 + 3q)/5, r = (2 + 3q)/5; the second gives q.
        let q = (3.0 / 10 * (8 + 2)) / (5 - 9.0 / 5)
        let p = (8 + 3 * q) / 5, r = (2 + 3 * q) / 5
        return (p / 50, q / 50, r / 50)
    }

    @Test("every claim holds: FP covariance and Gibbs density of Psi, current matches J_ss and is divergence-free, path moments")
    func claimsHold() throws {
        let fig = try Self.made.get()
        #expect(fig.claims.map(\.id) == ["fp-covariance", "fp-gibbs-psi", "current-matches", "current-divergence-free", "path-moments"])
        for c in fig.claims { #expect(c.holds, "\(c.id): \(c.measured)") }
    }

    @Test("the drift matrix is V^-1 diag(4, 1) V and the stationary covariance is the hand-solved Lyapunov B / kappa")
    func lyapunovByHand() throws {
        let fig = try Self.made.get()
        guard case let .array(a)? = fig.parameters["drift_A"] else { Issue.record("drift missing"); return }
        #expect(a == [2.5, -1.5, -1.5, 2.5].map(JSONValue.number) || zip(a, [2.5, -1.5, -1.5, 2.5]).allSatisfy {
            if case let .number(v) = $0 { return abs(v - $1) <= 1e-14 } else { return false }
        })
        let c = Self.covariance
        let exact = values(fig, "covariance_exact")
        #expect(abs(exact[0] - c.xx) <= 1e-15 && abs(exact[1] - c.xy) <= 1e-15 && abs(exact[3] - c.yy) <= 1e-15)
    }

    @Test("moments of the FP density by the trapezoid rule: mean b, covariance B/kappa to the second-order error")
    func densityMoments() throws {
        let fig = try Self.made.get()
        let x = values(fig, "x"), y = values(fig, "y"), rho = values(fig, "rho")
        let n = x.count, m = y.count
        let hx = x[1] - x[0], hy = y[1] - y[0]
        var mass = 0.0, mx = 0.0, my = 0.0
        func w(_ i: Int, _ count: Int) -> Double { i == 0 || i == count - 1 ? 0.5 : 1 }
        for i in 0..<n { for j in 0..<m { let r = w(i, n) * w(j, m) * rho[i * m + j] * hx * hy; mass += r; mx += r * x[i]; my += r * y[j] } }
        #expect(abs(mass - 1) <= 1e-12)
        mx /= mass; my /= mass
        var cxx = 0.0, cxy = 0.0, cyy = 0.0
        for i in 0..<n {
            for j in 0..<m {
                let r = w(i, n) * w(j, m) * rho[i * m + j] * hx * hy / mass
                cxx += r * (x[i] - mx) * (x[i] - mx); cxy += r * (x[i] - mx) * (y[j] - my); cyy += r * (y[j] - my) * (y[j] - my)
            }
        }
        #expect(abs(mx + 0.1) <= 1e-12 && abs(my - 0.05) <= 1e-12)
        // Second order, h = 0.018: the claim's Richardson estimate is 2.4e-5 (run.json); allow h^2/4 = 8e-5.
        let c = Self.covariance
        let tolerance = hx * hx / 4
        #expect(abs(cxx - c.xx) <= tolerance && abs(cxy - c.xy) <= tolerance && abs(cyy - c.yy) <= tolerance,
                "\(cxx) \(cxy) \(cyy) vs \(c)")
    }

    @Test("the current: close to J_ss, non-zero, circulating (J . grad Psi = 0), with a small central-difference divergence")
    func currentRecomputed() throws {
        let fig = try Self.made.get()
        let x = values(fig, "x"), y = values(fig, "y")
        let jx = values(fig, "jx"), jy = values(fig, "jy"), ex = values(fig, "jx_exact"), ey = values(fig, "jy_exact")
        let psi = values(fig, "psi")
        let n = x.count, m = y.count, h = x[1] - x[0]
        let scale = zip(ex, ey).map { hypot($0, $1) }.max()!
        let error = (0..<(n * m)).map { max(abs(jx[$0] - ex[$0]), abs(jy[$0] - ey[$0])) }.max()!
        #expect(scale > 0.5 && error <= 0.01 * scale, "error \(error), max |J_ss| \(scale)")
        var divergence = 0.0, alignment = 0.0
        for i in 1..<(n - 1) {
            for j in 1..<(m - 1) {
                let c = i * m + j
                divergence = max(divergence, abs((jx[c + m] - jx[c - m]) / (2 * h) + (jy[c + 1] - jy[c - 1]) / (2 * h)))
                let gx = (psi[c + m] - psi[c - m]) / (2 * h), gy = (psi[c + 1] - psi[c - 1]) / (2 * h)
                alignment = max(alignment, abs(jx[c] * gx + jy[c] * gy) / max(hypot(jx[c], jy[c]) * hypot(gx, gy), 1e-300)
                                * min(1, hypot(jx[c], jy[c]) / (0.05 * scale)))
            }
        }
        // |div J| against |J|/sigma (sigma = 0.14): a truncation residual of a few percent at most.
        #expect(divergence <= 0.05 * scale / 0.1387, "max |div J| \(divergence)")
        // Where the current is not negligible it flows along the level sets of Psi (cosine of the angle to grad Psi).
        #expect(alignment <= 0.05, "largest |cos(J, grad Psi)| \(alignment)")
    }

    @Test("the path starts at its start point and its stationary samples have covariance B/kappa (5000 nearly independent samples)")
    func pathSamples() throws {
        let fig = try Self.made.get()
        let path = values(fig, "trajectory"), cloud = fig.array("cloud")!
        #expect(path[0] == 0.7 && path[1] == -0.6)
        let k = cloud.shape[0]
        #expect(k == 4995)
        var mx = 0.0, my = 0.0
        for i in 0..<k { mx += cloud.values[2 * i]; my += cloud.values[2 * i + 1] }
        mx /= Double(k); my /= Double(k)
        var cxx = 0.0, cyy = 0.0
        for i in 0..<k {
            cxx += (cloud.values[2 * i] - mx) * (cloud.values[2 * i] - mx)
            cyy += (cloud.values[2 * i + 1] - my) * (cloud.values[2 * i + 1] - my)
        }
        cxx /= Double(k - 1); cyy /= Double(k - 1)
        // Samples 2 time units apart: correlation e^{-2} along the slow direction at most, so the
        // effective sample size is >= k (1 - e^-2)/(1 + e^-2) = 0.76 k; variance standard error
        // sqrt(2 / k_eff) relative, mean standard error sqrt(var / k_eff). Five standard errors.
        let c = Self.covariance
        let kEff = Double(k) * (1 - exp(-2.0)) / (1 + exp(-2.0))
        #expect(abs(mx + 0.1) <= 5 * (c.xx / kEff).squareRoot() && abs(my - 0.05) <= 5 * (c.yy / kEff).squareRoot())
        #expect(abs(cxx / c.xx - 1) <= 5 * (2 / kEff).squareRoot(), "var x \(cxx) vs \(c.xx)")
        #expect(abs(cyy / c.yy - 1) <= 5 * (2 / kEff).squareRoot(), "var y \(cyy) vs \(c.yy)")
    }
}
