import Foundation

/// One seeded Euler–Maruyama path of an Ornstein–Uhlenbeck process, with the time averages of
/// its stationary part and their batch-means standard errors.
///
/// Scheme: `X_{n+1} = X_n + A (b - X_n) dt + sqrt(2 dt / kappa) L xi_n`, `L L^T = D`,
/// `xi_n ~ N(0, I)` from `SeededRandom` (weak order 1). The chain is itself a Gaussian
/// autoregression, stable for `dt < 2 / max Re lambda(A)`; its stationary law is
/// `N(b, S_dt)` with `A S + S A^T - dt A S A^T = 2 D / kappa` (`eulerMaruyamaCovariance`), which
/// differs from the SDE's `B / kappa` by `O(dt)`.
///
/// Standard errors: the samples after burn-in are cut into `batches` consecutive batches; the
/// standard error of a time average is the standard deviation of its batch values over
/// `sqrt(batches)` (batch means: valid when a batch spans many correlation times `1/lambda_min(A)`).
public struct OrnsteinUhlenbeckPath: Sendable {
    public var dt: Double
    public var steps: Int
    public var seed: UInt64
    /// The recorded points `(count, d)` row-major: `X_0` and every `recordEvery`-th step up to
    /// `recordSteps`.
    public var recorded: [Double]
    public var recordEvery: Int
    /// Points after burn-in, every `thinEvery`-th step (a picture of the stationary cloud), `(count, d)`.
    public var thinned: [Double]
    public var thinEvery: Int
    /// Steps excluded from the averages.
    public var burnIn: Int
    /// The time average of `X` after burn-in.
    public var mean: [Double]
    /// The time average of `(X - mean)(X - mean)^T` after burn-in.
    public var covariance: Matrix
    public var meanStandardError: [Double]
    public var covarianceStandardError: Matrix
    public var batches: Int

    /// Number of recorded points.
    public var recordedCount: Int { recorded.count / mean.count }
}

extension OrnsteinUhlenbeck {
    /// Simulates `steps` Euler–Maruyama steps from `x0` with the generator seeded by `seed`,
    /// recording every `recordEvery`-th point of the first `recordSteps` steps and every
    /// `thinEvery`-th point after `burnIn` (none if nil), and averaging the moments over the steps
    /// after `burnIn`, in `batches` batches.
    public func eulerMaruyama(from x0: [Double], dt: Double, steps: Int, seed: UInt64, burnIn: Int,
                              recordSteps: Int, recordEvery: Int = 1, thinEvery: Int? = nil,
                              batches: Int = 50) throws -> OrnsteinUhlenbeckPath {
        let d = dimension
        guard x0.count == d else {
            throw RelaxError.invalidParameter(name: "x0", value: "\(x0)", expected: "a start point of length \(d)")
        }
        let rate = try LinearAlgebra.symmetricEigen(0.5 * (drift + drift.transposed)).values.max()!
        guard dt > 0, dt * rate < 1 else {
            throw RelaxError.invalidParameter(name: "dt", value: "\(dt)",
                                              expected: "0 < dt < 1/\(rate) (the largest drift rate) for a stable, accurate chain")
        }
        guard burnIn >= 0, batches >= 2, steps - burnIn >= 10 * batches, recordEvery >= 1, recordSteps >= 0,
              (thinEvery ?? 1) >= 1 else {
            throw RelaxError.invalidParameter(name: "steps", value: "\(steps) (burn-in \(burnIn), \(batches) batches)",
                                              expected: "at least 10 steps per batch after burn-in, >= 2 batches")
        }
        let l = try Self.cholesky(diffusion)
        let noise = (2 * dt / kappa).squareRoot()
        var rng = SeededRandom(seed: seed)
        var x = x0
        var xi = [Double](repeating: 0, count: d)
        var recorded = x0
        recorded.reserveCapacity(d * (recordSteps / recordEvery + 1))
        var thinned: [Double] = []
        if let thinEvery { thinned.reserveCapacity(d * ((steps - burnIn) / thinEvery + 1)) }
        let perBatch = (steps - burnIn) / batches
        var batchMeans: [[Double]] = [], batchSecond: [[Double]] = []
        var sum = [Double](repeating: 0, count: d), second = [Double](repeating: 0, count: d * d)
        var inBatch = 0
        for n in 1...steps {
            for k in 0..<d { xi[k] = rng.nextGaussian() }
            var next = x
            for i in 0..<d {
                var driftI = 0.0, noiseI = 0.0
                for j in 0..<d {
                    driftI += drift[i, j] * (mean[j] - x[j])
                    noiseI += l[i * d + j] * xi[j]
                }
                next[i] = x[i] + driftI * dt + noise * noiseI
            }
            x = next
            if n <= recordSteps && n % recordEvery == 0 { recorded += x }
            guard n > burnIn else { continue }
            if let thinEvery, (n - burnIn) % thinEvery == 0 { thinned += x }
            guard batchMeans.count < batches else { continue }
            for i in 0..<d {
                sum[i] += x[i]
                for j in 0..<d { second[i * d + j] += x[i] * x[j] }
            }
            inBatch += 1
            if inBatch == perBatch {
                batchMeans.append(sum.map { $0 / Double(perBatch) })
                batchSecond.append(second.map { $0 / Double(perBatch) })
                sum = [Double](repeating: 0, count: d)
                second = [Double](repeating: 0, count: d * d)
                inBatch = 0
            }
        }
        guard x.allSatisfy(\.isFinite) else {
            throw RelaxError.nonFinite(what: "Euler–Maruyama path", index: [steps], point: x, value: x.first { !$0.isFinite } ?? .nan)
        }
        let m = Double(batches)
        let overallMean = (0..<d).map { k in batchMeans.reduce(0) { $0 + $1[k] } / m }
        // Per-batch covariances about the overall mean (about a batch's own mean they would be low by
        // the variance of the batch mean, ~ 2 Cov / (lambda_min T_batch)); the estimate is their average.
        let batchCov: [[Double]] = batchSecond.map { s in
            (0..<(d * d)).map { s[$0] - overallMean[$0 / d] * overallMean[$0 % d] }
        }
        let covEntries = (0..<(d * d)).map { e in batchCov.reduce(0) { $0 + $1[e] } / m }
        func standardError(_ values: [Double]) -> Double {
            let avg = values.reduce(0, +) / m
            let variance = values.reduce(0) { $0 + ($1 - avg) * ($1 - avg) } / (m - 1)
            return (variance / m).squareRoot()
        }
        let meanSE = (0..<d).map { k in standardError(batchMeans.map { $0[k] }) }
        let covSE = (0..<(d * d)).map { e in standardError(batchCov.map { $0[e] }) }
        return OrnsteinUhlenbeckPath(dt: dt, steps: steps, seed: seed, recorded: recorded, recordEvery: recordEvery,
                                     thinned: thinned, thinEvery: thinEvery ?? 0, burnIn: burnIn, mean: overallMean,
                                     covariance: Matrix(rows: d, columns: d, entries: covEntries),
                                     meanStandardError: meanSE,
                                     covarianceStandardError: Matrix(rows: d, columns: d, entries: covSE),
                                     batches: batches)
    }

    /// The stationary covariance of the Euler–Maruyama chain with step `dt`: the solution of
    /// `S = M S M^T + (2 dt / kappa) D`, `M = I - A dt`, i.e. `A S + S A^T - dt A S A^T = 2 D / kappa`
    /// (solved as a `d^2` linear system). Tends to `B / kappa` as `dt -> 0`, with an `O(dt)` gap.
    public func eulerMaruyamaCovariance(dt: Double) throws -> Matrix {
        let d = dimension
        let n = d * d
        // vec(A S) = (I ⊗ A) vec S, vec(S A^T) = (A ⊗ I) vec S, vec(A S A^T) = (A ⊗ A) vec S (row-major vec).
        var system = Matrix(rows: n, columns: n, entries: [Double](repeating: 0, count: n * n))
        for i in 0..<d {
            for j in 0..<d {
                let row = i * d + j
                for k in 0..<d {
                    for l in 0..<d {
                        let col = k * d + l
                        var entry = 0.0
                        if l == j { entry += drift[i, k] }
                        if k == i { entry += drift[j, l] }
                        entry -= dt * drift[i, k] * drift[j, l]
                        system[row, col] = entry
                    }
                }
            }
        }
        let rhs = diffusion.entries.map { 2 * $0 / kappa }
        let s = try LinearAlgebra.solve(system, rhs)
        let matrix = Matrix(rows: d, columns: d, entries: s)
        return 0.5 * (matrix + matrix.transposed)
    }

    /// The lower Cholesky factor of a small SPD matrix, row-major.
    static func cholesky(_ c: Matrix) throws -> [Double] {
        let n = c.rows
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = c[i, j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    guard s > 0 else {
                        throw RelaxError.numerical("Cholesky: the matrix \(c) is not positive definite")
                    }
                    l[i * n + i] = s.squareRoot()
                } else {
                    l[i * n + j] = s / l[j * n + j]
                }
            }
        }
        return l
    }
}
