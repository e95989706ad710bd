import Foundation

/// `relax verify cole-hopf`: the paper's Lemma 1 checked numerically on a rugged loss.
///
/// On a periodic grid sequence it solves viscous HJ twice — directly by monotone finite
/// differences (Godunov + central diffusion, first order: explicit in 1-D; IMEX in 2-D, where the
/// explicit diffusive bound would need ~5000 steps at 384^2) and by Cole–Hopf (log-domain path)
/// — and checks three things:
/// 1. `max |u_FD - u_CH|` falls at the FD scheme's order, 1 (band `1 ± 0.2`): both solve the same
///    equation, the FD error is `O(h)` and Cole–Hopf's quadrature error is spectrally small;
/// 2. `v = exp(-beta u_FD)` solves the heat equation `v_t = Lap v/(2 beta)`: compared with the
///    exact spectral heat propagator applied to `exp(-beta f)` (independent of the Cole–Hopf code),
///    the relative max-norm error falls at order 1 (band `1 ± 0.2`);
/// 3. the Cole–Hopf solution and the heat propagator agree to `1e-12` in `v` relative to `max v`
///    on every grid (the propagator's own accuracy is absolute, `~1e-16 max v`): the Cole–Hopf
///    identity at the discrete level.
/// A few seconds in a release build.
public enum ColeHopfVerification {
    public struct Level: Sendable, Codable, Equatable {
        public var n: Int
        public var h: Double
        /// `max |u_FD - u_CH|`.
        public var fdError: Double
        /// `max |exp(-beta u_FD) - v_heat| / max v_heat`.
        public var heatError: Double
        /// `max |exp(-beta u_CH) - v_heat| / max v_heat`.
        public var identityError: Double
        public var fdSteps: Int
        public var fdScheme: String
        public var coleHopfPath: String
    }

    public struct Report: Sendable, Codable, Equatable {
        public var dimension: Int
        public var loss: String
        public var beta: Double
        public var time: Double
        public var levels: [Level]
        public var fdOrders: [Double]
        public var heatOrders: [Double]
        public var orderBand: ClosedRange<Double>
        public var identityTolerance: Double
        public var passes: Bool
        public var failures: [String]

        /// A text table of the levels and the verdict.
        public var table: String {
            var lines = ["Cole–Hopf verification (Lemma 1), d = \(dimension), \(loss), beta = \(beta), t = \(time), periodic",
                         "FD: \(levels.first?.fdScheme ?? "-"); Cole–Hopf: \(levels.first?.coleHopfPath ?? "-")",
                         "    n          h   max|u_FD-u_CH|  order   heat rel.err  order  |v_CH - heat|/max"]
            for (i, level) in levels.enumerated() {
                let fdOrder = i > 0 ? String(format: "%6.2f", fdOrders[i - 1]) : "     -"
                let heatOrder = i > 0 ? String(format: "%6.2f", heatOrders[i - 1]) : "     -"
                lines.append(String(format: "%5d  %9.3e  %14.3e  %@  %13.3e  %@  %17.3e",
                                    level.n, level.h, level.fdError, fdOrder, level.heatError, heatOrder, level.identityError))
            }
            lines.append(String(format: "bands: FD and heat orders in [%.2f, %.2f]; identity error <= %.0e",
                                orderBand.lowerBound, orderBand.upperBound, identityTolerance))
            lines.append(passes ? "PASS" : "FAIL: " + failures.joined(separator: "; "))
            return lines.joined(separator: "\n")
        }
    }

    /// `beta osc f ~ 20` (1-D): rugged enough for several competing basins, viscous enough
    /// (`nu = 0.1`) that the internal layers are resolved and the orders asymptotic on these grids
    /// (at `beta = 20` the same grids still show pre-asymptotic orders ~0.75-0.85).
    static let beta = 5.0
    static let time = 0.25

    /// The rugged test loss on `[0, 2 pi)^d`: several local minima per axis, coupled in 2-D.
    static func loss(dimension d: Int) -> Loss {
        let one: @Sendable (Double) -> Double = { sin($0) + 0.5 * sin(3 * $0 + 1) + 0.25 * cos(7 * $0) }
        let slope: @Sendable (Double) -> Double = { cos($0) + 1.5 * cos(3 * $0 + 1) - 1.75 * sin(7 * $0) }
        if d == 1 {
            return Loss(name: "sin x + sin(3x+1)/2 + cos(7x)/4", dimension: 1, value: { one($0[0]) },
                        gradient: { [slope($0[0])] })
        }
        return Loss(name: "f(x) + f(y) + 0.3 sin(x - y), f(x) = sin x + sin(3x+1)/2 + cos(7x)/4", dimension: 2,
                    value: { one($0[0]) + one($0[1]) + 0.3 * sin($0[0] - $0[1]) },
                    gradient: { [slope($0[0]) + 0.3 * cos($0[0] - $0[1]), slope($0[1]) - 0.3 * cos($0[0] - $0[1])] })
    }

    /// The node counts per axis of the grid sequence: `256 ... 2048` in 1-D, `96 ... 384` in 2-D.
    public static func sizes(dimension d: Int) -> [Int] {
        d == 1 ? [256, 512, 1024, 2048] : [96, 192, 384]
    }

    /// One level of the check with its fields, for figures: the loss, both viscous-HJ solutions
    /// and the heat solution `v = G_{t/beta} * exp(-beta (f - min f))`.
    public struct LevelSolution: Sendable {
        public var level: Level
        public var f: Field
        public var uFD: Field
        public var uColeHopf: Field
        /// The heat solution from `exp(-beta (f - min f))`; compare with `exp(-beta (u - min f))`.
        public var heat: Field
    }

    /// Solves one level (`n` nodes per axis); `method` defaults to `.fd()` in 1-D and `.fdIMEX()` in 2-D.
    public static func solveLevel(n: Int, dimension d: Int = 1, method: ViscousHJMethod? = nil) throws -> LevelSolution {
        guard d == 1 || d == 2 else {
            throw RelaxError.invalidParameter(name: "dim", value: "\(d)", expected: "1 or 2")
        }
        let grid = try Grid(domain: [(Double, Double)](repeating: (0, 2 * Double.pi), count: d),
                            counts: [Int](repeating: n, count: d), boundary: .periodic)
        let problem = SmoothingProblem(loss: loss(dimension: d), grid: grid, time: time, beta: beta)
        let fd = try ViscousHJ.smooth(problem, method: method ?? (d == 1 ? .fd() : .fdIMEX()))
        let ch = try ColeHopf.solve(problem, options: ColeHopfOptions(path: .logDomain, gradient: false))
        let f = fd.f
        let fMin = f.minimum
        let propagator = try HeatPropagator(window: grid, diffusivity: 1 / (2 * beta), maximumTime: time)
        let heat = try propagator.propagate(f.map { exp(-beta * ($0 - fMin)) }, time: time)
        let scale = heat.norm(.max)
        var heatError = 0.0, identity = 0.0
        for i in 0..<grid.count {
            let vHeat: Double = heat.values[i]
            let vFD: Double = exp(-beta * (fd.u.values[i] - fMin))
            let vCH: Double = exp(-beta * (ch.u.values[i] - fMin))
            heatError = max(heatError, abs(vFD - vHeat) / scale)
            identity = max(identity, abs(vCH - vHeat) / scale)
        }
        let fdError: Double = fd.u.distance(to: ch.u, .max)
        let level = Level(n: n, h: grid.spacing[0], fdError: fdError, heatError: heatError,
                          identityError: identity, fdSteps: fd.report.steps, fdScheme: fd.report.scheme,
                          coleHopfPath: ch.path.rawValue)
        return LevelSolution(level: level, f: f, uFD: fd.u, uColeHopf: ch.u, heat: heat)
    }

    /// Runs the check on `sizes(dimension:)`; `method` defaults to `.fd()` in 1-D and `.fdIMEX()` in 2-D.
    public static func run(dimension d: Int = 1, method: ViscousHJMethod? = nil) throws -> Report {
        guard d == 1 || d == 2 else {
            throw RelaxError.invalidParameter(name: "dim", value: "\(d)", expected: "1 or 2")
        }
        let levels = try sizes(dimension: d).map { try solveLevel(n: $0, dimension: d, method: method).level }
        return report(dimension: d, levels: levels)
    }

    /// Orders and verdict for a sequence of solved levels (coarse to fine).
    public static func report(dimension d: Int, levels: [Level]) -> Report {
        let loss = loss(dimension: d)
        let spacings: [Double] = levels.map(\.h)
        func orders(_ e: [Double]) -> [Double] {
            var out: [Double] = []
            for i in 1..<e.count {
                let ratio: Double = e[i - 1] / e[i]
                let refinement: Double = spacings[i - 1] / spacings[i]
                out.append(log(ratio) / log(refinement))
            }
            return out
        }
        let fdOrders = orders(levels.map(\.fdError))
        let heatOrders = orders(levels.map(\.heatError))
        let band = 0.8...1.2
        let tolerance = 1e-12
        var failures: [String] = []
        if let bad = fdOrders.first(where: { !band.contains($0) }) {
            failures.append(String(format: "FD-vs-Cole–Hopf order %.2f outside [0.8, 1.2]", bad))
        }
        if let bad = heatOrders.first(where: { !band.contains($0) }) {
            failures.append(String(format: "heat-equation order %.2f outside [0.8, 1.2]", bad))
        }
        if let bad = levels.first(where: { $0.identityError > tolerance }) {
            failures.append(String(format: "Cole–Hopf vs heat propagator %.2e > %.0e at n = %d", bad.identityError, tolerance, bad.n))
        }
        return Report(dimension: d, loss: loss.description, beta: beta, time: time, levels: levels, fdOrders: fdOrders,
                      heatOrders: heatOrders, orderBand: band, identityTolerance: tolerance,
                      passes: failures.isEmpty, failures: failures)
    }
}
