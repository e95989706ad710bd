import ArgumentParser
import Relax

/// `relax convergence EQUATION`: errors against exact solutions over refinements, with
/// observed orders; exits non-zero when an order leaves its band.
struct Convergence: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convergence",
        abstract: "Print observed convergence orders against exact solutions; fail if one leaves its band.",
        discussion: "Example: relax convergence heat --dim 2",
        subcommands: [HeatConvergenceCommand.self])
}

struct HeatConvergenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heat",
        abstract: "Heat equation: spectral (exact), FTCS and Crank–Nicolson (order 2 ± 0.15), max norm.",
        discussion: "Example: relax convergence heat --dim 2")

    @Option(help: "Dimension: 1, 2 or 3.")
    var dim: Int = 1

    func validate() throws {
        guard (1...3).contains(dim) else { throw ValidationError("--dim must be 1, 2 or 3 (got \(dim))") }
    }

    func run() throws {
        let report = try HeatConvergence.report(dimension: dim)
        print(report.table)
        if !report.passes { throw ExitCode(1) }
    }
}
