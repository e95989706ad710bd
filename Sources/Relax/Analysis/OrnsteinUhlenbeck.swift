import Foundation

/// The Ornstein–Uhlenbeck process `dX = A (b - X) dt + sqrt(2 D / kappa) dW` (Kunin et al.,
/// App. D) and its Fokker–Planck equation `rho_t = div(A (x - b) rho) + (1/kappa) div(D grad rho)`.
///
/// - `B` solves the Lyapunov equation `A B + B A^T = 2 D`; the stationary density is
///   `N(b, B / kappa)`.
/// - `A = (D + Q) U` with `U = B^-1` symmetric positive definite and `Q = A B - D` skew
///   (App. D.2; this closed form holds for any stable `A`, symmetric or not).
/// - The modified loss `Psi(x) = 1/2 (x - b)^T U (x - b)`: `rho_ss ∝ exp(-kappa Psi)`.
/// - The stationary current `J_ss(x) = -Q U (x - b) rho_ss(x)`: divergence-free, orthogonal
///   to `grad Psi`, and non-zero exactly when `Q != 0`, i.e. when `A D != D A^T`.
/// - At finite times, from `X_0 = x0`: mean `e^{-At} x0 + (I - e^{-At}) b`, covariance
///   `(B - e^{-At} B e^{-A^T t}) / kappa`.
public struct OrnsteinUhlenbeck: Sendable {
    public let drift: Matrix
    public let mean: [Double]
    public let diffusion: Matrix
    public let kappa: Double
    /// The Lyapunov solution `B`.
    public let lyapunov: Matrix
    /// `U = B^-1`.
    public let u: Matrix
    /// `Q = A B - D`.
    public let q: Matrix

    /// Throws unless the sizes agree, `D` is SPD, `kappa > 0` and the drift is stable (the
    /// Lyapunov solution `B` is positive definite).
    public init(drift a: Matrix, mean b: [Double], diffusion d: Matrix, kappa: Double) throws {
        let n = a.rows
        guard a.columns == n, b.count == n, (1...3).contains(n) else {
            throw RelaxError.invalidParameter(name: "drift", value: "\(a.rows)x\(a.columns) with mean of length \(b.count)",
                                              expected: "a d x d drift matrix and a mean of length d, d = 1, 2, 3")
        }
        try RelaxError.requirePositiveFinite(kappa, name: "kappa", expected: "a finite kappa > 0")
        let diffusion = try FokkerPlanckDiffusion(matrix: d).matrix
        guard diffusion.rows == n else {
            throw RelaxError.invalidParameter(name: "diffusion", value: "\(d.rows)x\(d.columns)", expected: "\(n)x\(n)")
        }
        let lyapunov = try LinearAlgebra.solveLyapunov(a, 2 * diffusion)
        guard try LinearAlgebra.symmetricEigen(lyapunov).values.allSatisfy({ $0 > 0 }) else {
            throw RelaxError.invalidParameter(name: "drift", value: "\(a)",
                                              expected: "a stable drift matrix (eigenvalues with positive real part)")
        }
        self.drift = a
        self.mean = b
        self.diffusion = diffusion
        self.kappa = kappa
        self.lyapunov = lyapunov
        let inverse = try LinearAlgebra.inverse(lyapunov)
        self.u = 0.5 * (inverse + inverse.transposed)
        self.q = a * lyapunov - diffusion
    }

    public var dimension: Int { mean.count }

    /// `B / kappa`.
    public var stationaryCovariance: Matrix { (1 / kappa) * lyapunov }

    /// `Psi(x) = 1/2 (x - b)^T U (x - b)`.
    public func modifiedLoss(_ x: [Double]) -> Double {
        let y = zip(x, mean).map { $0 - $1 }
        return 0.5 * zip(y, u * y).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// The original quadratic `Phi(x) = 1/2 (x - b)^T A (x - b)` (for symmetric `A` the drift is `-grad Phi`).
    public func originalLoss(_ x: [Double]) -> Double {
        let y = zip(x, mean).map { $0 - $1 }
        return 0.5 * zip(y, drift * y).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// The drift `A (b - x)`.
    public func driftVector(_ x: [Double]) -> [Double] {
        drift * zip(mean, x).map { $0 - $1 }
    }

    /// `J_ss(x) = -Q U (x - b) rho_ss(x)`.
    public func stationaryCurrent(_ x: [Double]) -> [Double] {
        let y = zip(x, mean).map { $0 - $1 }
        let density = Self.gaussian(x, mean: mean, covariance: stationaryCovariance)
        return ((-1 * q) * u * y).map { $0 * density }
    }

    /// The mean at time `t` from `x0`.
    public func mean(at t: Double, from x0: [Double]) throws -> [Double] {
        let e = try LinearAlgebra.matrixExponential(-t * drift)
        let ex0 = e * x0
        let eb = e * mean
        return (0..<dimension).map { ex0[$0] + mean[$0] - eb[$0] }
    }

    /// The covariance at time `t` from a point mass: `(B - e^{-At} B e^{-A^T t}) / kappa`.
    public func covariance(at t: Double) throws -> Matrix {
        let e = try LinearAlgebra.matrixExponential(-t * drift)
        let c = (1 / kappa) * (lyapunov - e * lyapunov * e.transposed)
        return 0.5 * (c + c.transposed)
    }

    /// The Gaussian density at time `t > 0` from `x0`, sampled on `grid`.
    public func density(at t: Double, from x0: [Double], on grid: Grid) throws -> Field {
        guard t > 0 else {
            throw RelaxError.invalidParameter(name: "t", value: "\(t)", expected: "t > 0 (at t = 0 the law is a point mass)")
        }
        try checkGrid(grid)
        let m = try mean(at: t, from: x0)
        let c = try covariance(at: t)
        return Field(grid: grid) { Self.gaussian($0, mean: m, covariance: c) }
    }

    /// `N(b, B / kappa)` sampled on `grid`.
    public func stationaryDensity(on grid: Grid) throws -> Field {
        try checkGrid(grid)
        let c = stationaryCovariance
        return Field(grid: grid) { Self.gaussian($0, mean: mean, covariance: c) }
    }

    /// The Fokker–Planck drift `A (b - x)` sampled on `grid`.
    public func fokkerPlanckDrift(on grid: Grid) throws -> FokkerPlanckDrift {
        try checkGrid(grid)
        return .sampled(on: grid) { driftVector($0) }
    }

    /// The Fokker–Planck diffusion `D / kappa`.
    public var fokkerPlanckDiffusion: FokkerPlanckDiffusion {
        get throws { try FokkerPlanckDiffusion(matrix: (1 / kappa) * diffusion) }
    }

    /// The multivariate normal density.
    public static func gaussian(_ x: [Double], mean m: [Double], covariance c: Matrix) -> Double {
        let n = m.count
        let y = zip(x, m).map { $0 - $1 }
        // Cholesky of the small SPD matrix.
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = c[i, j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = i == j ? s.squareRoot() : s / l[j * n + j]
            }
        }
        var z = [Double](repeating: 0, count: n)
        var logDet = 0.0
        for i in 0..<n {
            var s = y[i]
            for k in 0..<i { s -= l[i * n + k] * z[k] }
            z[i] = s / l[i * n + i]
            logDet += 2 * log(l[i * n + i])
        }
        let quad = z.reduce(0) { $0 + $1 * $1 }
        return exp(-0.5 * quad - 0.5 * logDet - 0.5 * Double(n) * log(2 * Double.pi))
    }

    private func checkGrid(_ grid: Grid) throws {
        guard grid.dimension == dimension else {
            throw RelaxError.invalidGrid("the OU process has dimension \(dimension) but the grid has \(grid.dimension) axes")
        }
    }
}
