import Foundation

/// Observed orders of the viscous HJ and HJB solvers (`relax convergence viscous-hj`).
///
/// - Example 13 (DESIGN.md form): `f = c|x|^2/2` gives
///   `u = |x|^2/(2(t + 1/c)) + d/(2 beta) log(1 + c t)`; here `c = 1`, `beta = 10`, `t = 1/4` on
///   the free window `[-1, 1]^d`. Monotone FD (Godunov, Lax–Friedrichs) and IMEX: order 1.
///   Cole–Hopf (both paths): the
///   trapezoid rule on a Gaussian integrand resolved by >= 2.5 cells is exact to round-off
///   (`2 exp(-2 pi^2 (sigma_eff/h)^2)`), so every error must sit below `1e-12`.
/// - A smooth periodic loss `sin x + 0.3 cos(2x + 1)` (`beta = 2`, `t = 1/2`) against the
///   log-domain Cole–Hopf solution on the same grid (exact to round-off there): WENO5-RK3 with
///   fourth-order diffusion, order `4 ± 1` (WENO5's fifth order falls to third at critical points
///   of `u`, the Laplacian is fourth order, RK3 with `dt ~ h^2` sixth); Godunov order 1. (Example
///   13 cannot test WENO: its solution is quadratic in `x`, which WENO5 and the five-point
///   Laplacian differentiate exactly, leaving only RK3's error.)
/// - HJB with an Ornstein–Uhlenbeck drift (`f = a x^2/2`, `V = c x^2/2`): the law of `X_T` is
///   Gaussian, so `u(x, s) = c mu^2/(2(1 + beta c S)) + log(1 + beta c S)/(2 beta)` with
///   `mu = x e^{-a tau}`, `S = (1 - e^{-2 a tau})/(2 a beta)`, `tau = T - s`. Godunov and IMEX HJB,
///   and the implicit upwind Kolmogorov solve for `w = exp(-beta u)`: order 1 (errors on the inner
///   half of a Neumann window, away from the mirror boundary the exact solution does not obey).
public enum ViscousHJConvergence {
    static let c = 1.0, beta = 10.0, time = 0.25

    static func example13Loss(dimension d: Int) -> Loss {
        Loss(name: "x^2/2", dimension: d, value: { p in c * p.reduce(0) { $0 + $1 * $1 } / 2 },
             gradient: { p in p.map { c * $0 } })
    }

    /// Example 13's exact `u(x, t)`.
    public static func example13(_ x: [Double], c: Double, beta: Double, time t: Double) -> Double {
        x.reduce(0) { $0 + $1 * $1 } / (2 * (t + 1 / c)) + Double(x.count) / (2 * beta) * log(1 + c * t)
    }

    /// The exact HJB value for the OU drift `f = a|x|^2/2` and terminal cost `V = c|x|^2/2` at
    /// time to go `tau`.
    public static func ornsteinUhlenbeckValue(_ x: [Double], a: Double, c: Double, beta: Double, timeToGo tau: Double) -> Double {
        let s = (1 - exp(-2 * a * tau)) / (2 * a * beta)
        let decay = exp(-2 * a * tau)
        return x.reduce(0) { $0 + c * $1 * $1 * decay / (2 * (1 + beta * c * s)) }
            + Double(x.count) * log(1 + beta * c * s) / (2 * beta)
    }

    /// Example 13 by `method` on `[-1, 1]^d` with `n` nodes per axis: the max error on the window.
    public static func example13Error(_ method: ViscousHJMethod, n: Int, dimension d: Int = 1) throws -> Double {
        let grid = try Grid(domain: [(Double, Double)](repeating: (-1, 1), count: d), counts: [Int](repeating: n, count: d),
                            boundary: .free)
        let result = try ViscousHJ.smooth(SmoothingProblem(loss: example13Loss(dimension: d), grid: grid, time: time, beta: beta),
                                          method: method)
        let exact = Field(grid: grid) { example13($0, c: c, beta: beta, time: time) }
        return result.u.distance(to: exact, .max)
    }

    public static func example13Series(_ method: ViscousHJMethod, label: String, sizes: [Int], dimension d: Int = 1,
                                       expectedOrder: Double, band: Double, floor: Double = 1e-13) throws -> ConvergenceSeries {
        var series = ConvergenceSeries(scheme: label + (d > 1 ? " \(d)D" : ""), norm: "max", expectedOrder: expectedOrder,
                                       band: band, floor: floor)
        for n in sizes {
            series.points.append(.init(n: n, h: 2 / Double(n - 1), error: try example13Error(method, n: n, dimension: d)))
        }
        return series
    }

    /// The smooth periodic problem by `method` against log-domain Cole–Hopf on the same grid.
    public static func smoothPeriodicSeries(_ method: ViscousHJMethod, label: String, sizes: [Int], expectedOrder: Double,
                                            band: Double) throws -> ConvergenceSeries {
        let loss = Loss(name: "sin x + 0.3 cos(2x + 1)", dimension: 1, value: { sin($0[0]) + 0.3 * cos(2 * $0[0] + 1) })
        var series = ConvergenceSeries(scheme: label + " periodic", norm: "max", expectedOrder: expectedOrder, band: band)
        for n in sizes {
            let grid = try Grid(domain: [(0, 2 * Double.pi)], counts: [n], boundary: .periodic)
            let problem = SmoothingProblem(loss: loss, grid: grid, time: 0.5, beta: 2)
            let u = try ViscousHJ.smooth(problem, method: method).u
            let reference = try ColeHopf.solve(problem, options: ColeHopfOptions(path: .logDomain, gradient: false)).u
            series.points.append(.init(n: n, h: grid.spacing[0], error: u.distance(to: reference, .max)))
        }
        return series
    }

    public enum HJBSolver: String, Sendable {
        case godunov, imex, kolmogorov
    }

    /// The OU HJB problem (`a = 1`, `c = 2`, `beta = 5`, `T = 1/2` on Neumann `[-2, 2]`) at
    /// `s = 0` with `n` nodes: the max error on `[-1, 1]`.
    public static func ornsteinUhlenbeckError(_ solver: HJBSolver, n: Int) throws -> Double {
        let a = 1.0, c = 2.0, beta = 5.0, horizon = 0.5
        let grid = try Grid(domain: [(-2, 2)], counts: [n], boundary: .neumann)
        let drift = [Field(grid: grid) { a * $0[0] }]
        let terminal = Field(grid: grid) { c * $0[0] * $0[0] / 2 }
        let u0: Field
        switch solver {
        case .godunov, .imex:
            u0 = try BackwardHJB.solve(drift: drift, terminal: terminal, beta: beta, horizon: horizon, levels: 1,
                                       scheme: solver == .imex ? .imex : .godunov).values[0]
        case .kolmogorov:
            let w = try BackwardKolmogorov.solve(drift: drift, terminal: terminal.map { exp(-beta * $0) }, beta: beta,
                                                 horizon: horizon, steps: n)
            u0 = w[0].map { -log($0) / beta }
        }
        var error = 0.0
        for (i, x) in grid.axes[0].coordinates.enumerated() where abs(x) <= 1 + 1e-12 {
            error = max(error, abs(u0.values[i] - ornsteinUhlenbeckValue([x], a: a, c: c, beta: beta, timeToGo: horizon)))
        }
        return error
    }

    public static func ornsteinUhlenbeckSeries(_ solver: HJBSolver, sizes: [Int], expectedOrder: Double = 1,
                                               band: Double = 0.15) throws -> ConvergenceSeries {
        var series = ConvergenceSeries(scheme: "HJB-OU " + solver.rawValue, norm: "max", expectedOrder: expectedOrder, band: band)
        for n in sizes {
            series.points.append(.init(n: n, h: 4 / Double(n - 1), error: try ornsteinUhlenbeckError(solver, n: n)))
        }
        return series
    }

    /// Every series; a few seconds in a release build.
    public static func report() throws -> ConvergenceReport {
        let sizes = [51, 101, 201, 401]
        return ConvergenceReport(
            title: "viscous HJ u_t = -|grad u|^2/2 + Lap u/(2 beta): Example 13 (c = 1, beta = 10, t = 1/4, free [-1,1]^d); "
                + "HJB with OU drift (a = 1, V = x^2, beta = 5, T = 1/2)",
            series: [
                try example13Series(.coleHopf(path: .logDomain), label: "cole-hopf log", sizes: [26, 51, 101],
                                    expectedOrder: .infinity, band: 0, floor: 1e-12),
                try example13Series(.coleHopf(path: .fft), label: "cole-hopf fft", sizes: [26, 51, 101],
                                    expectedOrder: .infinity, band: 0, floor: 1e-12),
                try example13Series(.coleHopf(path: .logDomain), label: "cole-hopf log", sizes: [26, 51], dimension: 2,
                                    expectedOrder: .infinity, band: 0, floor: 1e-12),
                try example13Series(.fd(flux: .godunov), label: "godunov", sizes: sizes, expectedOrder: 1, band: 0.15),
                try example13Series(.fd(flux: .laxFriedrichs), label: "lax-friedrichs", sizes: sizes, expectedOrder: 1, band: 0.15),
                try example13Series(.fdIMEX(), label: "imex", sizes: sizes, expectedOrder: 1, band: 0.15),
                try smoothPeriodicSeries(.weno(), label: "weno5-rk3", sizes: [32, 64, 128, 256], expectedOrder: 4, band: 1),
                try smoothPeriodicSeries(.fd(flux: .godunov), label: "godunov", sizes: [64, 128, 256, 512],
                                         expectedOrder: 1, band: 0.15),
                try example13Series(.fd(flux: .godunov), label: "godunov", sizes: [26, 51, 101], dimension: 2,
                                    expectedOrder: 1, band: 0.15),
                try ornsteinUhlenbeckSeries(.godunov, sizes: [101, 201, 401]),
                try ornsteinUhlenbeckSeries(.imex, sizes: [101, 201, 401]),
                try ornsteinUhlenbeckSeries(.kolmogorov, sizes: [101, 201, 401]),
            ])
    }
}
