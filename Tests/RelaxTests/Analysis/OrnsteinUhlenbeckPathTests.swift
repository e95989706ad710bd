import Foundation
import Testing
@testable import Relax

/// The seeded Euler–Maruyama path of an OU process: the chain's own stationary covariance in
/// closed form, time averages within their batch-means errors, and those errors against the
/// OU autocorrelation.
@Suite("Ornstein–Uhlenbeck path (Euler–Maruyama): stationary moments and their standard errors")
struct OrnsteinUhlenbeckPathTests {
    /// 1-D: dX = a (m - X) dt + sqrt(2 D / kappa) dW, stationary variance D / (kappa a).
    static func ou1D() throws -> OrnsteinUhlenbeck {
        try OrnsteinUhlenbeck(drift: Matrix([[2]]), mean: [0.5], diffusion: Matrix([[0.3]]), kappa: 1.5)
    }

    @Test("the Euler–Maruyama chain's stationary variance: 2 D dt / kappa / (1 - (1 - a dt)^2) in 1-D; -> B/kappa as dt -> 0")
    func chainCovariance() throws {
        let ou = try Self.ou1D()
        let (a, d, kappa) = (2.0, 0.3, 1.5)
        for dt in [0.1, 0.01, 1e-3] {
            let exact = 2 * d * dt / kappa / (1 - (1 - a * dt) * (1 - a * dt))
            #expect(abs(try ou.eulerMaruyamaCovariance(dt: dt)[0, 0] - exact) <= 1e-14)
        }
        // 2-D: S solves S = M S M^T + (2 dt / kappa) D with M = I - A dt; the gap to B/kappa is O(dt).
        let kunin = try OUCurrentsFigure.process(.init())
        let dt = 1e-3
        let s = try kunin.eulerMaruyamaCovariance(dt: dt)
        let m = Matrix.identity(2) - dt * kunin.drift
        let residual = s - m * s * m.transposed - (2 * dt / kunin.kappa) * kunin.diffusion
        #expect(residual.maxAbs <= 1e-15)
        let gap = (s - kunin.stationaryCovariance).maxAbs
        let gapHalf = (try kunin.eulerMaruyamaCovariance(dt: dt / 2) - kunin.stationaryCovariance).maxAbs
        #expect(abs(gap / gapHalf - 2) <= 0.01, "first-order gap: \(gap), \(gapHalf)")
    }

    @Test("1-D time averages match N(m, D/(kappa a)) within 4 batch-means errors; the errors match the OU autocorrelation")
    func timeAverages() throws {
        let ou = try Self.ou1D()
        let dt = 1e-3, steps = 2_000_000, burnIn = 5000, batches = 100
        let path = try ou.eulerMaruyama(from: [3], dt: dt, steps: steps, seed: 99, burnIn: burnIn, recordSteps: 100,
                                        recordEvery: 10, thinEvery: 1000, batches: batches)
        let variance = 0.3 / (1.5 * 2)
        let chain = try ou.eulerMaruyamaCovariance(dt: dt)[0, 0]
        #expect(abs(path.mean[0] - 0.5) <= 4 * path.meanStandardError[0])
        #expect(abs(path.covariance[0, 0] - chain) <= 4 * path.covarianceStandardError[0, 0])
        // The time average over T of a stationary OU has variance 2 var / (a T) (its correlation
        // time is 1/a); batch means estimate it with relative error ~ 1/sqrt(2 (batches - 1)) = 7%.
        let time = Double(steps - burnIn) * dt
        let theory = (2 * variance / (2 * time)).squareRoot()
        #expect(abs(path.meanStandardError[0] / theory - 1) <= 0.3, "se \(path.meanStandardError[0]) vs \(theory)")
        // Recorded points: X_0 and every 10th of the first 100 steps; thinned after burn-in.
        #expect(path.recordedCount == 11 && path.recorded[0] == 3)
        #expect(path.thinned.count == (steps - burnIn) / 1000)
    }

    @Test("the same seed reproduces the path bit for bit; a bad step size is refused")
    func reproducibleAndValidated() throws {
        let ou = try Self.ou1D()
        let run = { (seed: UInt64) in
            try ou.eulerMaruyama(from: [0], dt: 1e-2, steps: 20_000, seed: seed, burnIn: 0, recordSteps: 1000, batches: 10)
        }
        #expect(try run(1).recorded == run(1).recorded)
        #expect(try run(1).recorded != run(2).recorded)
        #expect(throws: RelaxError.self) { try ou.eulerMaruyama(from: [0], dt: 0.6, steps: 1000, seed: 1, burnIn: 0, recordSteps: 0) }
        #expect(throws: RelaxError.self) { try ou.eulerMaruyama(from: [0, 1], dt: 0.01, steps: 1000, seed: 1, burnIn: 0, recordSteps: 0) }
    }
}
