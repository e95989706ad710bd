import ArgumentParser
import Relax

/// `relax`: the command-line face of the library. Each subcommand is thin: it parses,
/// calls the library, and writes the result with `OutputDirectory` (all files or none).
public struct RelaxCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "relax",
        abstract: "Grid PDE solvers for local-entropy smoothing: heat, Hopf–Lax / HJ, viscous HJ, Fokker–Planck.",
        discussion: """
            Examples:
              relax smooth --loss rugged-1d --domain -3:3 --n 1201 --t 1 --beta 2 --equation heat --out runs/heat
              relax convergence heat --dim 2
            Conventions (equations, kernel variances, Gibbs densities) are listed in README.md.
            """,
        version: Toolkit.version,
        subcommands: [Smooth.self, FokkerPlanckCommand.self, Verify.self, Convergence.self, FigureCommand.self, Bench.self]
    )

    public init() {}
}
