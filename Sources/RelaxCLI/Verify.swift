import ArgumentParser
import Relax

/// `relax verify cole-hopf`: Lemma 1 checked numerically.
struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Numerical checks of the paper's identities.",
        subcommands: [VerifyColeHopf.self])
}

struct VerifyColeHopf: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cole-hopf",
        abstract: "Lemma 1: viscous HJ by finite differences vs Cole–Hopf on a grid sequence; exit 1 on failure.",
        discussion: """
            Solves u_t = -|grad u|^2/2 + Lap u/(2 beta) for a rugged periodic loss directly (finite
            differences) and by Cole–Hopf, u = -(1/beta) log(G_{t/beta} * exp(-beta f)), on a sequence of
            grids. Prints max |u_FD - u_CH|, its observed order, and how far exp(-beta u_FD) is from the
            heat solution G_{t/beta} * exp(-beta f) (the Cole–Hopf identity), with the bands they must meet.

            Examples:
              relax verify cole-hopf
              relax verify cole-hopf --dim 2
            """)

    @Option(name: .long, help: "Dimension: 1 or 2.")
    var dim: Int = 1

    func run() throws {
        guard dim == 1 || dim == 2 else {
            throw RelaxError.invalidParameter(name: "dim", value: "\(dim)", expected: "1 or 2")
        }
        let bar = ProgressBar()
        bar.update(0, "verifying")
        let report = try ColeHopfVerification.run(dimension: dim)
        bar.finish()
        print(report.table)
        if !report.passes { throw ExitCode.failure }
    }
}
