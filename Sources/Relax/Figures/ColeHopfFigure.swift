import Foundation

/// `relax figure cole-hopf`: Lemma 1 (the Cole–Hopf identity) seen on a rugged periodic loss,
/// from the grid sequences of `ColeHopfVerification` (1-D and 2-D):
///
/// - `max |u_FD - u_CH|` against `h` (log-log): the direct finite-difference solution of
///   `u_t = -|grad u|^2/2 + Lap u/(2 beta)` (first order) against the Cole–Hopf solution
///   `u = -(1/beta) log(G_{t/beta} * exp(-beta f))` (quadrature-exact); the fitted slope is 1;
/// - `exp(-beta u)` against the heat solution `G_{t/beta} * exp(-beta f)` on one 1-D grid: the
///   FD curve differs by its `O(h)` error, the Cole–Hopf curve agrees to round-off.
///
/// Claims: fitted slopes (least squares of `log e` on `log h`) and every observed order in
/// `1 ± 0.2`; the Cole–Hopf solution satisfies the identity to `1e-12` relative on every grid.
public enum ColeHopfFigure {
    /// The 1-D level whose curves are drawn (the coarsest: its FD error is visible).
    static let curveLevel = 256

    public static let entry = Figures.Entry(
        name: "cole-hopf",
        summary: "Lemma 1: viscous HJ by finite differences against Cole–Hopf (log-log, fitted slope); exp(-beta u) against heat",
        make: { try make(progress: $0) })

    /// The least-squares slope of `log y` on `log x`.
    public static func fittedSlope(_ x: [Double], _ y: [Double]) -> Double {
        LeastSquaresLine.fit(x.map { log($0) }, y.map { log($0) }).slope
    }

    public static func make(progress: ProgressHandler? = nil) throws -> FigureData {
        var fig = FigureData(name: "cole-hopf", title: "Lemma 1: the Cole–Hopf identity, checked against finite differences and the heat equation")
        let jobs = [1, 2].flatMap { d in ColeHopfVerification.sizes(dimension: d).map { (d, $0) } }
        var levels: [Int: [ColeHopfVerification.Level]] = [1: [], 2: []]
        var curves: ColeHopfVerification.LevelSolution?
        for (i, (d, n)) in jobs.enumerated() {
            progress?(Double(i) / Double(jobs.count), "d = \(d), n = \(n)")
            let solution = try ColeHopfVerification.solveLevel(n: n, dimension: d)
            levels[d]!.append(solution.level)
            if d == 1 && n == curveLevel { curves = solution }
        }
        progress?(1, "claims")
        let reports = [1, 2].map { ColeHopfVerification.report(dimension: $0, levels: levels[$0]!) }
        fig.parameters = [
            "loss_1d": .string(reports[0].loss), "loss_2d": .string(reports[1].loss),
            "domain": "[0, 2 pi)^d, periodic", "beta": .number(reports[0].beta), "t": .number(reports[0].time),
            "nodes_1d": JSONValue(ColeHopfVerification.sizes(dimension: 1)),
            "nodes_2d": JSONValue(ColeHopfVerification.sizes(dimension: 2)),
            "fd_scheme_1d": .string(levels[1]!.first!.fdScheme), "fd_scheme_2d": .string(levels[2]!.first!.fdScheme),
            "cole_hopf_path": .string(levels[1]!.first!.coleHopfPath),
            "curve_nodes": .number(Double(curveLevel)),
            "order_band": JSONValue([0.8, 1.2]), "identity_tolerance": .number(reports[0].identityTolerance),
        ]
        for (k, d) in [1, 2].enumerated() {
            let report = reports[k], ls = levels[d]!
            let h = ls.map(\.h)
            fig.add("h_\(d)d", h, "grid spacing of the \(d)-D levels")
            fig.add("fd_error_\(d)d", ls.map(\.fdError), "max |u_FD - u_CH| on the \(d)-D levels")
            fig.add("heat_error_\(d)d", ls.map(\.heatError), "max |exp(-beta u_FD) - v_heat| / max v_heat, \(d)-D")
            fig.add("identity_error_\(d)d", ls.map(\.identityError), "max |exp(-beta u_CH) - v_heat| / max v_heat, \(d)-D")
            let band = report.orderBand
            let fdSlope = fittedSlope(h, ls.map(\.fdError))
            let heatSlope = fittedSlope(h, ls.map(\.heatError))
            var measured: [String: Double] = ["fitted_slope": fdSlope]
            for (i, o) in report.fdOrders.enumerated() { measured["order_\(i + 1)"] = o }
            fig.claim("fd-slope-\(d)d",
                      "\(d)-D: max |u_FD - u_CH| falls at the FD scheme's order 1: fitted slope and every observed "
                      + "order in [\(band.lowerBound), \(band.upperBound)]",
                      holds: band.contains(fdSlope) && report.fdOrders.allSatisfy(band.contains), measured)
            measured = ["fitted_slope": heatSlope]
            for (i, o) in report.heatOrders.enumerated() { measured["order_\(i + 1)"] = o }
            fig.claim("heat-slope-\(d)d",
                      "\(d)-D: exp(-beta u_FD) solves the heat equation v_t = Lap v/(2 beta) to first order: fitted slope "
                      + "and every observed order in [\(band.lowerBound), \(band.upperBound)]",
                      holds: band.contains(heatSlope) && report.heatOrders.allSatisfy(band.contains), measured)
            fig.parameters["fd_slope_\(d)d"] = .number(fdSlope)
            fig.parameters["heat_slope_\(d)d"] = .number(heatSlope)
        }
        let identity = [1, 2].flatMap { levels[$0]!.map(\.identityError) }
        fig.claim("identity",
                  "Cole–Hopf: exp(-beta u_CH) equals the heat propagator applied to exp(-beta f) to round-off "
                  + "(<= 1e-12 relative to max v) on every 1-D and 2-D grid",
                  holds: identity.allSatisfy { $0 <= reports[0].identityTolerance },
                  ["largest": identity.max()!, "tolerance": reports[0].identityTolerance])

        guard let c = curves else { throw RelaxError.numerical("cole-hopf figure: the curve level \(curveLevel) was not solved") }
        let beta = reports[0].beta
        let fMin = c.f.minimum
        let scale = c.heat.norm(.max)
        let vFD = c.uFD.map { exp(-beta * ($0 - fMin)) }, vCH = c.uColeHopf.map { exp(-beta * ($0 - fMin)) }
        fig.add("x", c.f.grid.axes[0].coordinates, "nodes of the 1-D curve level")
        fig.add("f", c.f, "the loss")
        fig.add("u_fd", c.uFD, "viscous HJ by finite differences")
        fig.add("u_ch", c.uColeHopf, "viscous HJ by Cole–Hopf")
        fig.add("v_heat", c.heat, "heat solution G_{t/beta} * exp(-beta (f - min f))")
        fig.add("v_fd", vFD, "exp(-beta (u_FD - min f))")
        fig.add("v_ch", vCH, "exp(-beta (u_CH - min f))")
        fig.add("rel_error_fd", zip(vFD.values, c.heat.values).map { abs($0 - $1) / scale }, "|v_FD - v_heat| / max v_heat")
        fig.add("rel_error_ch", zip(vCH.values, c.heat.values).map { abs($0 - $1) / scale }, "|v_CH - v_heat| / max v_heat")
        fig.panels = [
            FigurePanel("max |u_FD - u_CH| and the heat-equation error against h, 1-D and 2-D, with fitted slopes",
                        arrays: ["h_1d", "fd_error_1d", "heat_error_1d", "identity_error_1d",
                                 "h_2d", "fd_error_2d", "heat_error_2d", "identity_error_2d"]),
            FigurePanel("f and u at t (1-D, n = \(curveLevel))", arrays: ["x", "f", "u_fd", "u_ch"]),
            FigurePanel("exp(-beta u) against the heat solution", arrays: ["x", "v_heat", "v_fd", "v_ch"]),
            FigurePanel("relative error of exp(-beta u) against the heat solution", arrays: ["x", "rel_error_fd", "rel_error_ch"]),
        ]
        fig.notes = reports.map(\.table)
        return fig
    }
}
