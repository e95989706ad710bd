import Foundation

/// Observed orders of the inviscid HJ solvers (`relax convergence hj`).
///
/// Test problem: `f(x) = sin x + sin(2x + 1)/4` on the circle `[0, 2 pi)`, whose
/// characteristics first cross at `t* = 1/max(-f'') ~ 0.72` (eq. 29).
/// - smooth regime, `t = 0.75 t*`: exact solution from the characteristics (eq. 28, solved to
///   round-off). Discrete Hopf–Lax: order 2 (in L1: its max-norm error `phi'' dist(y*, nodes)^2
///   / 2` samples how close `y*(x)` comes to a cell midpoint, so its max-norm orders wobble
///   between 1.7 and 2.1); refined: order 3; Godunov and Lax–Friedrichs:
///   order 1; WENO5-RK3: between 3 (RK3 with dt ~ h) and 5 (WENO5), observed ~4.
/// - after kinks, `t = 2`: reference = refined Hopf–Lax on a grid 16x finer (nested nodes).
///   The kinks of `u` are concave (u is semiconcave, Lemma 18), the easy case for monotone
///   schemes: order 1 in max and L1 norm. Refined Hopf–Lax: order >= 2 guaranteed (the
///   basin choice at a kink costs O(h^2)), about 3 observed.
/// - convex kinks in the data, `f = |sin x|`, `t = 1/2`: rarefaction fans; monotone schemes
///   are only guaranteed O(h^1/2) (Crandall–Lions) and show ~0.6-0.8 in max norm.
/// - 2-D, `f(x) + f(y)`: Godunov order 1 and refined Hopf–Lax order 3 in the smooth regime.
public enum HJConvergence {
    static let f: @Sendable (Double) -> Double = { sin($0) + 0.25 * sin(2 * $0 + 1) }
    static let f1: @Sendable (Double) -> Double = { cos($0) + 0.5 * cos(2 * $0 + 1) }
    static let f2: @Sendable (Double) -> Double = { -sin($0) - sin(2 * $0 + 1) }
    static let period = 2 * Double.pi

    /// `t*` of the test loss, from `f''` sampled finely.
    static var criticalTime: Double {
        BurgersCharacteristics.criticalTime(secondDerivative: (0..<65536).map { f2(period * Double($0) / 65536) })
    }

    /// The smooth-regime time `0.75 t*`.
    static var smoothTime: Double { 0.75 * criticalTime }

    static func circle(_ n: Int, dimension: Int = 1) throws -> Grid {
        try Grid(domain: [(Double, Double)](repeating: (0, period), count: dimension),
                 counts: [Int](repeating: n, count: dimension), boundary: .periodic)
    }

    static func testLoss(dimension: Int) -> Loss {
        Loss(name: dimension == 1 ? "sin x + sin(2x+1)/4" : "sum_k sin x_k + sin(2x_k+1)/4", dimension: dimension,
             value: { p in p.reduce(0) { $0 + f($1) } }, gradient: { p in p.map { f1($0) } })
    }

    /// The exact solution for `t < t*` from the characteristics, axis by axis (the loss is a
    /// sum over axes, so `u` is too).
    static func exactSmooth(on grid: Grid, time t: Double) throws -> Field {
        let oneD = try grid.axes[0].coordinates.map {
            try BurgersCharacteristics.solution(at: $0, time: t, value: f, derivative: f1, secondDerivative: f2).value
        }
        return Field(grid: grid) { p in
            p.reduce(0) { acc, x in acc + oneD[Int(((x - grid.axes[0].lower) / grid.axes[0].spacing).rounded())] }
        }
    }

    /// A reference on the coarse grid's nodes from refined Hopf–Lax on a grid `factor` times finer.
    static func fineReference(_ data: @escaping @Sendable (Double) -> Double, n: Int, factor: Int, time t: Double) throws -> Field {
        let fine = try circle(n * factor)
        let u = try HopfLax.infConvolution(Field(grid: fine) { data($0[0]) }, time: t, refine: true).value
        return Field(grid: try circle(n), values: (0..<n).map { u.values[$0 * factor] })
    }

    public enum Solver: Sendable {
        case hopfLax(refine: Bool)
        case fd(HamiltonJacobiFD<QuadraticHamiltonian>.Scheme)

        var label: String {
            switch self {
            case let .hopfLax(refine): return refine ? "HL-refined" : "HL-discrete"
            case let .fd(scheme): return scheme == .weno5 ? "weno5-rk3" : scheme == .godunov ? "godunov" : "lax-fried"
            }
        }

        func solve(_ f: Field, time t: Double) throws -> Field {
            switch self {
            case let .hopfLax(refine): return try HopfLax.infConvolution(f, time: t, refine: refine).value
            case let .fd(scheme): return try HamiltonJacobiFD(scheme: scheme).evolve(f, time: t).u
            }
        }
    }

    /// Smooth regime, `t = 0.75 t*`, against the characteristics solution.
    public static func smoothSeries(_ solver: Solver, sizes: [Int], dimension: Int = 1, norm: Norm = .max,
                                    expectedOrder: Double, band: Double) throws -> ConvergenceSeries {
        let t = smoothTime
        var series = ConvergenceSeries(scheme: solver.label + (dimension > 1 ? " \(dimension)D" : "") + " t<t*",
                                       norm: norm == .max ? "max" : "L1", expectedOrder: expectedOrder, band: band)
        for n in sizes {
            let grid = try circle(n, dimension: dimension)
            let data: Field = try testLoss(dimension: dimension).sample(on: grid)
            let u: Field = try solver.solve(data, time: t)
            let exact: Field = try exactSmooth(on: grid, time: t)
            let error = u.distance(to: exact, norm)
            series.points.append(.init(n: n, h: grid.spacing[0], error: error))
        }
        return series
    }

    /// A non-smooth regime against refined Hopf–Lax on a 16x finer grid: `kinks` = smooth
    /// data after characteristics cross (t = 2), else the convex kinks of `|sin x|` at t = 1/2.
    public static func kinkSeries(_ solver: Solver, sizes: [Int], convexKinks: Bool, norm: Norm,
                                  expectedOrder: Double, band: Double) throws -> ConvergenceSeries {
        let absSine: @Sendable (Double) -> Double = { abs(sin($0)) }
        let data = convexKinks ? absSine : f
        let t = convexKinks ? 0.5 : 2.0
        let label = solver.label + (convexKinks ? " |sin x|" : " t=2>t*")
        var series = ConvergenceSeries(scheme: label, norm: norm == .max ? "max" : "L1",
                                       expectedOrder: expectedOrder, band: band)
        for n in sizes {
            let reference = try fineReference(data, n: n, factor: 16, time: t)
            let u = try solver.solve(Field(grid: reference.grid) { data($0[0]) }, time: t)
            series.points.append(.init(n: n, h: reference.grid.spacing[0], error: u.distance(to: reference, norm)))
        }
        return series
    }

    /// Every series; a few seconds in a release build.
    public static func report() throws -> ConvergenceReport {
        let fine = [128, 256, 512, 1024]
        let coarse = [64, 128, 256, 512]
        return ConvergenceReport(title: "inviscid HJ u_t = -|grad u|^2/2, f = sin x + sin(2x+1)/4 on [0, 2pi), t* = "
                                 + String(format: "%.4f", criticalTime), series: [
            try smoothSeries(.hopfLax(refine: false), sizes: coarse, norm: .l1, expectedOrder: 2, band: 0.2),
            try smoothSeries(.hopfLax(refine: true), sizes: coarse, expectedOrder: 3, band: 0.3),
            try smoothSeries(.fd(.godunov), sizes: fine, expectedOrder: 1, band: 0.15),
            try smoothSeries(.fd(.laxFriedrichs), sizes: fine, expectedOrder: 1, band: 0.15),
            try smoothSeries(.fd(.weno5), sizes: coarse, expectedOrder: 4, band: 1),
            try smoothSeries(.hopfLax(refine: true), sizes: [64, 128, 256], dimension: 2, expectedOrder: 3, band: 0.3),
            try smoothSeries(.fd(.godunov), sizes: [128, 256, 512], dimension: 2, expectedOrder: 1, band: 0.15),
            try kinkSeries(.hopfLax(refine: true), sizes: fine, convexKinks: false, norm: .max, expectedOrder: 3, band: 1),
            try kinkSeries(.fd(.godunov), sizes: fine, convexKinks: false, norm: .max, expectedOrder: 1, band: 0.15),
            try kinkSeries(.fd(.godunov), sizes: fine, convexKinks: false, norm: .l1, expectedOrder: 1, band: 0.15),
            try kinkSeries(.fd(.laxFriedrichs), sizes: fine, convexKinks: false, norm: .max, expectedOrder: 1, band: 0.15),
            try kinkSeries(.fd(.godunov), sizes: fine, convexKinks: true, norm: .max, expectedOrder: 0.75, band: 0.25),
            try kinkSeries(.fd(.godunov), sizes: fine, convexKinks: true, norm: .l1, expectedOrder: 0.75, band: 0.25),
        ])
    }
}
