import Foundation

/// An exact solution of `v_t = nu Lap v` on a family of grids, for convergence studies.
public struct HeatExactSolution: Sendable {
    public let name: String
    public let boundary: Boundary
    /// The interval of every axis.
    public let interval: (Double, Double)
    public let initial: @Sendable ([Double]) -> Double
    public let solution: @Sendable (_ x: [Double], _ t: Double, _ nu: Double) -> Double

    /// Wavenumbers and phases of the product modes, per axis (x, y, z).
    static let modes: [Double] = [1, 2, 1]
    static let phases: [Double] = [0.3, -0.7, 1.1]

    /// `prod_k cos(m_k x_k + phi_k)` on the torus `[0, 2 pi)^d`, decaying as `exp(-nu |m|^2 t)`.
    public static let fourierMode = HeatExactSolution(
        name: "Fourier mode", boundary: .periodic, interval: (0, 2 * Double.pi),
        initial: { x in product(x) { k, xk in cos(modes[k] * xk + phases[k]) } },
        solution: { x, t, nu in
            exp(-nu * squaredNorm(modes.prefix(x.count)) * t)
                * product(x) { k, xk in cos(modes[k] * xk + phases[k]) }
        })

    /// `1/2 + prod_k cos(pi m_k x_k)` on `[0, 1]^d` with zero flux.
    public static let cosineMode = HeatExactSolution(
        name: "cosine mode", boundary: .neumann, interval: (0, 1),
        initial: { x in 0.5 + product(x) { k, xk in cos(Double.pi * modes[k] * xk) } },
        solution: { x, t, nu in
            0.5 + exp(-nu * Double.pi * Double.pi * squaredNorm(modes.prefix(x.count)) * t)
                * product(x) { k, xk in cos(Double.pi * modes[k] * xk) }
        })

    /// `1/4 + prod_k sin(pi m_k x_k)` on `[0, 1]^d` with the boundary held at 1/4.
    public static let sineMode = HeatExactSolution(
        name: "sine mode", boundary: .dirichlet(0.25), interval: (0, 1),
        initial: { x in 0.25 + product(x) { k, xk in sin(Double.pi * modes[k] * xk) } },
        solution: { x, t, nu in
            0.25 + exp(-nu * Double.pi * Double.pi * squaredNorm(modes.prefix(x.count)) * t)
                * product(x) { k, xk in sin(Double.pi * modes[k] * xk) }
        })

    /// The whole-space Gaussian of variance `s0 = 1`: `v = (s0/s)^{d/2} exp(-|x|^2 / (2 s))`,
    /// `s = s0 + 2 nu t`, seen on the window `[-2, 2]^d`.
    public static let gaussian = HeatExactSolution(
        name: "Gaussian", boundary: .free, interval: (-2, 2),
        initial: { x in exp(-squaredNorm(x) / 2) },
        solution: { x, t, nu in
            let s = 1 + 2 * nu * t
            return pow(1 / s, Double(x.count) / 2) * exp(-squaredNorm(x) / (2 * s))
        })

    /// The grid with `n` nodes on each of `dimension` axes.
    public func grid(dimension: Int, count n: Int) throws -> Grid {
        try Grid(domain: [(Double, Double)](repeating: interval, count: dimension),
                 counts: [Int](repeating: n, count: dimension), boundary: boundary)
    }

    /// The initial data as a loss in `dimension` variables.
    public func loss(dimension: Int) -> Loss {
        Loss(name: name, dimension: dimension, value: initial)
    }

    /// `max |u - v(., t)|` over the nodes of `u`'s grid.
    public func maxError(of u: Field, time t: Double, diffusivity nu: Double) -> Double {
        var worst = 0.0
        for flat in 0..<u.grid.count {
            worst = max(worst, abs(u.values[flat] - solution(u.grid.point(flat), t, nu)))
        }
        return worst
    }

    private static func product(_ x: [Double], _ factor: (Int, Double) -> Double) -> Double {
        x.indices.reduce(1) { $0 * factor($1, x[$1]) }
    }

    private static func squaredNorm<C: Collection>(_ v: C) -> Double where C.Element == Double {
        v.reduce(0) { $0 + $1 * $1 }
    }
}

/// The convergence study `relax convergence heat [--dim d]` prints: max-norm errors of every
/// heat scheme against exact solutions over >= 3 refinements, with observed orders.
///
/// - spectral (periodic Fourier mode, Neumann cosine mode, free-space Gaussian): exact, so
///   every error must stay at round-off (below 1e-12);
/// - FTCS (periodic Fourier mode, Dirichlet sine mode) at fixed `nu dt sum 1/h^2 = 0.4`:
///   order 2 in space, within ±0.15;
/// - Crank–Nicolson (periodic, Neumann) with `dt ∝ h`: order 2 in time and space, ±0.15.
///
/// All solves go through `HeatEquation.smooth` with `beta = 1` (`nu = 1/2`).
public enum HeatConvergence {
    /// `beta = 1`, so `nu = 1/2`.
    static let beta = 1.0
    static let nu = 0.5
    /// The observed-order band for the finite-difference schemes.
    public static let band = 0.15
    /// Errors of an exact method must stay below this.
    public static let roundOff = 1e-12

    public static func report(dimension d: Int) throws -> ConvergenceReport {
        guard (1...3).contains(d) else {
            throw RelaxError.invalidParameter(name: "dim", value: "\(d)", expected: "1, 2 or 3")
        }
        return ConvergenceReport(
            title: "heat equation v_t = nu Lap v, d = \(d), nu = 1/2: max-norm errors against exact solutions "
                + "(cn = Crank–Nicolson, axis-split)",
            series: [
                try spectralSeries(.fourierMode, dimension: d),
                try spectralSeries(.cosineMode, dimension: d),
                try spectralSeries(.gaussian, dimension: d),
                try ftcsSeries(.fourierMode, dimension: d),
                try ftcsSeries(.sineMode, dimension: d),
                try crankNicolsonSeries(.fourierMode, dimension: d),
                try crankNicolsonSeries(.cosineMode, dimension: d),
            ])
    }

    /// Node counts of a refinement sweep that halves `h` exactly: `n, 2n, 4n, ...` on
    /// periodic axes, `(n-1) 2^i + 1` on node axes.
    static func counts(_ fixture: HeatExactSolution, coarsest n: Int, levels: Int) -> [Int] {
        (0..<levels).map { i in
            fixture.boundary == .periodic ? n << i : ((n - 1) << i) + 1
        }
    }

    /// The exact spectral propagator at `t = 1/2`; errors must stay at round-off.
    public static func spectralSeries(_ fixture: HeatExactSolution, dimension d: Int) throws -> ConvergenceSeries {
        // The Gaussian (variance 1) is resolved to round-off once h <= 1/4:
        // its aliasing error is about exp(-pi^2 / (2 h^2)) = 4e-35.
        let coarsest: Int
        switch fixture.boundary {
        case .periodic: coarsest = 8
        case .free: coarsest = 17
        default: coarsest = 9
        }
        let levels = fixture.boundary == .free && d == 3 ? [17, 21, 25] : counts(fixture, coarsest: coarsest, levels: 3)
        var series = ConvergenceSeries(scheme: "spectral " + fixture.boundary.shortName, expectedOrder: .infinity,
                                       band: 0, floor: roundOff)
        for n in levels {
            series.points.append(try point(fixture, dimension: d, count: n, time: 0.5, method: .spectral))
        }
        return series
    }

    /// FTCS with `nu dt sum_k 1/h_k^2 = 0.4` on every grid (`dt ∝ h^2`): the time error
    /// `O(dt)` is then `O(h^2)` and the observed order in `h` is 2.
    public static func ftcsSeries(_ fixture: HeatExactSolution, dimension d: Int) throws -> ConvergenceSeries {
        let levels = counts(fixture, coarsest: fixture.boundary == .periodic ? (d == 3 ? 12 : 16) : 9,
                            levels: d == 3 ? 3 : 4)
        let grid0 = try fixture.grid(dimension: d, count: levels[0])
        let h0 = grid0.spacing[0]
        let dt0 = 0.4 * h0 * h0 / (nu * Double(d))
        // About t = 0.25 on the torus and 0.02 on [0, 1] (the sine mode decays fast), as a
        // whole number of coarse steps, so every level takes exactly 4x the steps of the last.
        let target = fixture.boundary == .periodic ? 0.25 : 0.02
        let coarseSteps = max(1, Int((target / dt0).rounded()))
        let time = Double(coarseSteps) * dt0
        var series = ConvergenceSeries(scheme: "ftcs " + fixture.boundary.shortName, expectedOrder: 2, band: band)
        for (i, n) in levels.enumerated() {
            let steps = coarseSteps << (2 * i)
            series.points.append(try point(fixture, dimension: d, count: n, time: time,
                                           method: .ftcs(steps: steps, policy: .refuse)))
        }
        return series
    }

    /// Crank–Nicolson with `dt ∝ h` (4 steps on the coarsest grid, doubling with n): second
    /// order in time and in space, so order 2 in `h`.
    public static func crankNicolsonSeries(_ fixture: HeatExactSolution, dimension d: Int) throws -> ConvergenceSeries {
        let levels = counts(fixture, coarsest: fixture.boundary == .periodic ? 16 : 9, levels: d == 3 ? 3 : 4)
        let time = fixture.boundary == .periodic ? 0.5 : 0.05
        var series = ConvergenceSeries(scheme: "cn " + fixture.boundary.shortName, expectedOrder: 2, band: band)
        for (i, n) in levels.enumerated() {
            series.points.append(try point(fixture, dimension: d, count: n, time: time,
                                           method: .crankNicolson(steps: 4 << i)))
        }
        return series
    }

    static func point(_ fixture: HeatExactSolution, dimension d: Int, count n: Int, time: Double,
                      method: HeatMethod) throws -> ConvergenceSeries.Point {
        let grid = try fixture.grid(dimension: d, count: n)
        let problem = SmoothingProblem(loss: fixture.loss(dimension: d), grid: grid, time: time, beta: beta)
        let result = try HeatEquation.smooth(problem, method: method)
        return .init(n: n, h: grid.spacing[0], error: fixture.maxError(of: result.u, time: time, diffusivity: nu))
    }
}

extension Boundary {
    /// `periodic`, `neumann`, `dirichlet` or `free`, without the Dirichlet value.
    var shortName: String {
        if case .dirichlet = self { return "dirichlet" }
        return description
    }
}
