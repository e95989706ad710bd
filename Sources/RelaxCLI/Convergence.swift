import ArgumentParser
import Relax

/// `relax convergence EQUATION`: the observed-order table of every scheme for an equation.
struct Convergence: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convergence",
        abstract: "Print observed convergence orders against exact solutions; exit 1 if one leaves its band.",
        discussion: """
            EQUATION is heat, hj, viscous-hj or fokker-planck. Each row is one resolution; the order column is
            log(e_{i-1}/e_i) / log(h_{i-1}/h_i), checked against the band the theory gives.

            Examples:
              relax convergence heat --dim 2
              relax convergence hj
              relax convergence viscous-hj
              relax convergence fokker-planck
            """)

    @Argument(help: "heat | hj | viscous-hj | fokker-planck")
    var equation: String

    @Option(name: .long, help: "Dimension for heat: 1, 2 or 3.")
    var dim: Int = 1

    func run() throws {
        var report: ConvergenceReport
        switch equation.lowercased() {
        case "heat":
            guard (1...3).contains(dim) else {
                throw RelaxError.invalidParameter(name: "dim", value: "\(dim)", expected: "1, 2 or 3")
            }
            report = try HeatConvergence.report(dimension: dim)
        case "hj":
            report = try HJConvergence.report()
        case "viscous-hj":
            report = try ViscousHJConvergence.report()
        case "fokker-planck":
            // The scheme's own orders, then Theorem 12's value identity on the forward–backward system.
            report = try FokkerPlanckConvergence.report()
            report.series += try ForwardBackwardConvergence.series()
        default:
            throw RelaxError.invalidParameter(name: "equation", value: equation, expected: "heat, hj, viscous-hj or fokker-planck")
        }
        print(report.table)
        if !report.passes { throw ExitCode.failure }
    }
}
