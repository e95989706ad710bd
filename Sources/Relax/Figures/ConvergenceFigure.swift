import Foundation

/// `relax figure convergence`: the observed orders of every solver and scheme, as pictures —
/// the content of `relax convergence heat|hj|viscous-hj|fokker-planck` (heat in 1-D, 2-D and 3-D),
/// reused as is (same problems, sizes and bands, so the figure and the command cannot disagree).
///
/// Arrays: `<report>_s<k>_h` and `<report>_s<k>_error` per series (h is the grid spacing, or the
/// time step for the Fokker–Planck time series). `run.json` lists every series under the
/// parameter `series` (report, scheme, norm, expected order, band, round-off floor, observed and
/// fitted orders, array names). Claims: one per series — every observed order within its band,
/// or, for an exact method (expected order infinite), every error at round-off.
public enum ConvergenceFigure {
    public static let entry = Figures.Entry(
        name: "convergence",
        summary: "observed convergence orders of every solver and scheme (heat 1-3 D, HJ, viscous HJ, Fokker–Planck)",
        make: { try make(progress: $0) })

    /// The reports, in panel order: key, title, and how to make it.
    static let sources: [(key: String, title: String, make: @Sendable () throws -> ConvergenceReport)] = [
        ("heat1d", "heat, 1-D", { try HeatConvergence.report(dimension: 1) }),
        ("heat2d", "heat, 2-D", { try HeatConvergence.report(dimension: 2) }),
        ("heat3d", "heat, 3-D", { try HeatConvergence.report(dimension: 3) }),
        ("hj", "inviscid HJ", { try HJConvergence.report() }),
        ("vhj", "viscous HJ and HJB", { try ViscousHJConvergence.report() }),
        ("fp", "Fokker–Planck", { try FokkerPlanckConvergence.report() }),
    ]

    public static func make(progress: ProgressHandler? = nil) throws -> FigureData {
        var fig = FigureData(name: "convergence", title: "Observed convergence orders of every scheme against exact solutions")
        var series: [JSONValue] = []
        var seconds: [String: JSONValue] = [:]
        for (i, source) in sources.enumerated() {
            progress?(Double(i) / Double(sources.count), source.title)
            let (report, wall) = try Stopwatch.time { try source.make() }
            seconds[source.key] = .number(wall)
            var names: [String] = []
            for (k, s) in report.series.enumerated() {
                let prefix = String(format: "%@_s%02d", source.key, k)
                fig.add(prefix + "_h", s.points.map(\.h), "\(source.title): \(s.scheme) (\(s.norm)), resolution h")
                fig.add(prefix + "_error", s.points.map(\.error), "\(source.title): \(s.scheme) (\(s.norm)), error")
                names += [prefix + "_h", prefix + "_error"]
                series.append(describe(s, key: source.key, prefix: prefix))
                claim(&fig, s, key: source.key)
            }
            fig.panels.append(FigurePanel("\(source.title): \(report.title)", arrays: names))
        }
        progress?(1, "done")
        fig.parameters = ["series": .array(series), "report_seconds": .object(seconds),
                          "reports": .array(sources.map { .string($0.key) })]
        fig.notes = ["The same series as `relax convergence heat --dim 1|2|3`, `hj`, `viscous-hj`, `fokker-planck`."]
        return fig
    }

    static func describe(_ s: ConvergenceSeries, key: String, prefix: String) -> JSONValue {
        var entry: [String: JSONValue] = [
            "report": .string(key), "scheme": .string(s.scheme), "norm": .string(s.norm),
            "expected_order": .number(s.expectedOrder), "band": .number(s.band), "floor": .number(s.floor),
            "observed_orders": .array(s.observedOrders.map { $0.map(JSONValue.number) ?? .null }),
            "passes": .bool(s.passes), "h": .string(prefix + "_h"), "error": .string(prefix + "_error"),
            "nodes": JSONValue(s.points.map(\.n)),
        ]
        entry["fitted_order"] = s.expectedOrder.isInfinite ? .null : s.fittedOrder.map(JSONValue.number) ?? .null
        return .object(entry)
    }

    static func claim(_ fig: inout FigureData, _ s: ConvergenceSeries, key: String) {
        var measured: [String: Double] = [:]
        for (i, o) in s.observedOrders.enumerated() { if let o { measured["order_\(i)"] = o } }
        if s.expectedOrder.isInfinite {
            measured["largest_error"] = s.points.map(\.error).max() ?? .nan
            fig.claim("\(key): \(s.scheme) (\(s.norm))",
                      "\(s.scheme): an exact method, every error at round-off (<= \(s.floor))",
                      holds: s.passes, measured)
        } else {
            if let fitted = s.fittedOrder { measured["fitted"] = fitted }
            fig.claim("\(key): \(s.scheme) (\(s.norm))",
                      String(format: "%@ (%@ norm): every observed order within %.2f ± %.2f", s.scheme, s.norm,
                             s.expectedOrder, s.band),
                      holds: s.passes, measured)
        }
    }
}
