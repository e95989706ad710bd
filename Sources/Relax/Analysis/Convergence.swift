import Foundation

/// Errors of one scheme over a resolution sweep, with observed orders
/// `p_i = log(e_{i-1} / e_i) / log(h_{i-1} / h_i)` and the band the theory promises.
public struct ConvergenceSeries: Sendable, Codable, Equatable {
    public struct Point: Sendable, Codable, Equatable {
        /// Nodes per axis.
        public var n: Int
        /// The resolution parameter the order refers to (grid spacing, or time step).
        public var h: Double
        public var error: Double
        public init(n: Int, h: Double, error: Double) {
            self.n = n
            self.h = h
            self.error = error
        }
    }

    /// A label such as `spectral`, `ftcs`, `crank-nicolson`.
    public var scheme: String
    /// The norm or quantity the errors measure, e.g. `max`, `L1`.
    public var norm: String
    public var expectedOrder: Double
    /// Observed orders must lie in `expectedOrder ± band`.
    public var band: Double
    public var points: [Point]
    /// Errors below this are treated as exact (round-off) and excluded from order checks.
    public var floor: Double

    public init(scheme: String, norm: String = "max", expectedOrder: Double, band: Double,
                points: [Point] = [], floor: Double = 1e-13) {
        self.scheme = scheme
        self.norm = norm
        self.expectedOrder = expectedOrder
        self.band = band
        self.points = points
        self.floor = floor
    }

    /// The observed order between each point and the previous one (nil for the first).
    public var observedOrders: [Double?] {
        points.indices.map { i in
            guard i > 0 else { return nil }
            let a = points[i - 1], b = points[i]
            guard a.error > floor, b.error > floor, a.h != b.h else { return nil }
            return log(a.error / b.error) / log(a.h / b.h)
        }
    }

    /// The least-squares slope of log(error) against log(h) over the points above the floor.
    public var fittedOrder: Double? {
        let pts = points.filter { $0.error > floor }
        guard pts.count >= 2 else { return nil }
        return LeastSquaresLine.fit(pts.map { log($0.h) }, pts.map { log($0.error) }).slope
    }

    /// True when every observed order lies within the band. A series whose errors all sit
    /// at the round-off floor passes only if `expectedOrder` is infinite (an exact method).
    public var passes: Bool {
        let orders = observedOrders.compactMap { $0 }
        if orders.isEmpty {
            return expectedOrder.isInfinite && points.allSatisfy { $0.error <= floor }
        }
        return orders.allSatisfy { abs($0 - expectedOrder) <= band }
    }
}

/// A set of series for one equation, as `relax convergence EQUATION` prints it.
public struct ConvergenceReport: Sendable, Codable, Equatable {
    public var title: String
    public var series: [ConvergenceSeries]
    public init(title: String, series: [ConvergenceSeries]) {
        self.title = title
        self.series = series
    }
    public var passes: Bool { series.allSatisfy(\.passes) }

    /// A fixed-width text table: scheme, N, h, error, observed order, verdict.
    public var table: String {
        var lines = ["\(title)",
                     "scheme".padding(toLength: 22, withPad: " ", startingAt: 0)
                        + "norm  " + "N".leftPad(7) + "h".leftPad(12) + "error".leftPad(12)
                        + "order".leftPad(8) + "  expected"]
        for s in series {
            let orders = s.observedOrders
            for (i, p) in s.points.enumerated() {
                let order = orders[i].map { String(format: "%.2f", $0) } ?? "-"
                let expected = i == 0
                    ? (s.expectedOrder.isInfinite ? "exact" : String(format: "%.1f ± %.2f", s.expectedOrder, s.band))
                    : ""
                lines.append(s.scheme.padding(toLength: 22, withPad: " ", startingAt: 0)
                             + s.norm.padding(toLength: 6, withPad: " ", startingAt: 0)
                             + "\(p.n)".leftPad(7) + String(format: "%.3e", p.h).leftPad(12)
                             + String(format: "%.3e", p.error).leftPad(12) + order.leftPad(8)
                             + "  " + expected)
            }
            lines.append("  -> \(s.passes ? "ok" : "FAILED: observed order outside the band")")
        }
        return lines.joined(separator: "\n")
    }
}

extension String {
    func leftPad(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
