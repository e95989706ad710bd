import Foundation

/// Observed orders of the Fokker–Planck solver against exact Ornstein–Uhlenbeck Gaussians
/// (`relax convergence fokker-planck`).
///
/// Space: the finite-time OU Gaussian in 1-D, and a 2-D anisotropic OU with a non-diagonal
/// diffusion matrix (cross terms on diagonal lattice offsets), max-norm error, order 2.
/// Time: the same problems on a fixed grid against a run with 1/64 of the step (the
/// semi-discrete solution), order 1 for implicit Euler and 2 for TR-BDF2 (Strang-split in
/// 2-D). Each series takes well under a second in a release build.
public enum FokkerPlanckConvergence {
    /// A 1-D OU: drift 1.5 (0.3 - x), diffusion 0.4; from the exact density at t0 = 0.2
    /// (started at x0 = -1) to t0 + 0.5.
    static func ou1D() throws -> OrnsteinUhlenbeck {
        try OrnsteinUhlenbeck(drift: Matrix([[1.5]]), mean: [0.3], diffusion: Matrix([[0.4]]), kappa: 1)
    }

    /// A 2-D OU with non-commuting drift and diffusion and a non-diagonal `D` (Selling adds
    /// the (1, 1) offset): `A = V^-1 diag(4, 1) V` (Kunin et al. Fig. 3), `b = (-0.1, 0.05)`,
    /// `D = [[1, 0.4], [0.4, 0.6]]`, `kappa = 5`.
    static func ou2D() throws -> OrnsteinUhlenbeck {
        try OrnsteinUhlenbeck(drift: Matrix([[2.5, -1.5], [-1.5, 2.5]]), mean: [-0.1, 0.05],
                              diffusion: Matrix([[1, 0.4], [0.4, 0.6]]), kappa: 5)
    }

    static let t0 = 0.2

    /// Solves the OU Fokker–Planck problem from the exact density at `t0` for `duration` and
    /// returns the result with the exact final density.
    static func runOU(_ ou: OrnsteinUhlenbeck, x0: [Double], domain: [(Double, Double)], n: Int,
                      duration: Double, stepping: FokkerPlanckStepping) throws -> (result: FokkerPlanckResult, exact: Field) {
        let grid = try Grid(domain: domain, counts: [Int](repeating: n, count: domain.count), boundary: .neumann)
        let initial = try ou.density(at: t0, from: x0, on: grid)
        let problem = FokkerPlanckProblem(grid: grid, drift: try ou.fokkerPlanckDrift(on: grid),
                                          diffusion: try ou.fokkerPlanckDiffusion, initial: initial,
                                          time: duration, stepping: stepping)
        let result = try FokkerPlanck.solve(problem)
        let exact = try ou.density(at: t0 + duration, from: x0, on: grid)
        // The exact density is normalized on R^d; the domain holds all but ~1e-12 of it.
        return (result, exact)
    }

    static let domain1D = [(-3.0, 3.5)]
    static let domain2D = [(-2.0, 2.0), (-2.0, 2.0)]
    static let x01D = [-1.0]
    static let x02D = [0.6, -0.5]

    /// Space order: 1-D, N = 41 ... 321, TR-BDF2 with dt = 1e-3 (time error < 1e-8).
    public static func space1D() throws -> ConvergenceSeries {
        let ou = try ou1D()
        var series = ConvergenceSeries(scheme: "fitted-fv 1-D (OU)", norm: "max", expectedOrder: 2, band: 0.2)
        for n in [41, 81, 161, 321] {
            let (result, exact) = try runOU(ou, x0: x01D, domain: domain1D, n: n, duration: 0.5,
                                            stepping: .accurate(dt: 1e-3))
            series.points.append(.init(n: n, h: result.rho.grid.spacing[0], error: result.rho.distance(to: exact, .max)))
        }
        return series
    }

    /// Space order: 2-D anisotropic OU with cross diffusion, N = 41 ... 161, TR-BDF2 (Strang).
    public static func space2D() throws -> ConvergenceSeries {
        let ou = try ou2D()
        var series = ConvergenceSeries(scheme: "fitted-fv 2-D (OU, D12 != 0)", norm: "max", expectedOrder: 2, band: 0.25)
        for n in [41, 81, 161] {
            let (result, exact) = try runOU(ou, x0: x02D, domain: domain2D, n: n, duration: 0.15,
                                            stepping: .accurate(dt: 2.5e-3))
            series.points.append(.init(n: n, h: result.rho.grid.spacing[0], error: result.rho.distance(to: exact, .max)))
        }
        return series
    }

    /// Time order on a fixed grid against a run with dt / 64.
    public static func time(method: FokkerPlanckStepping.Method, dimension: Int) throws -> ConvergenceSeries {
        let ou = try dimension == 1 ? ou1D() : ou2D()
        let (domain, x0, n, duration) = dimension == 1
            ? (domain1D, x01D, 161, 0.5) : (domain2D, x02D, 41, 0.15)
        let steps = [4, 8, 16, 32]
        let reference = try runOU(ou, x0: x0, domain: domain, n: n, duration: duration,
                                  stepping: .init(method: .trBDF2, dt: duration / Double(steps.last! * 64))).result.rho
        let order: Double = method == .implicitEuler ? 1 : 2
        var series = ConvergenceSeries(scheme: "\(method.rawValue) \(dimension)-D" + (dimension > 1 ? " (split)" : ""),
                                       norm: "max", expectedOrder: order, band: order == 1 ? 0.15 : 0.2)
        for m in steps {
            let dt = duration / Double(m)
            let rho = try runOU(ou, x0: x0, domain: domain, n: n, duration: duration,
                                stepping: .init(method: method, dt: dt, fallBackOnNegative: false)).result.rho
            series.points.append(.init(n: m, h: dt, error: rho.distance(to: reference, .max)))
        }
        return series
    }

    /// All series: space in 1-D and 2-D, time for both steppers in 1-D and 2-D.
    public static func report() throws -> ConvergenceReport {
        ConvergenceReport(title: "Fokker–Planck (fitted finite volumes) against OU Gaussians", series: [
            try space1D(), try space2D(),
            try time(method: .implicitEuler, dimension: 1), try time(method: .trBDF2, dimension: 1),
            try time(method: .implicitEuler, dimension: 2), try time(method: .trBDF2, dimension: 2),
        ])
    }
}
