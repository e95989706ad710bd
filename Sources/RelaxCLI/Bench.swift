import ArgumentParser

/// `relax bench TOPIC`: timing kernels for `make bench` (Benchmarks/run.py compares them
/// with numpy/scipy/numba/py-pde/fplanck in the same run).
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark kernels (release build); `make bench` runs them beside the Python references.",
        discussion: """
            Example:
              relax bench hopflax --cases 1:1000000 --json
              relax bench heat --json
            """,
        subcommands: [BenchHeat.self, BenchHopfLax.self, BenchLosses.self, BenchFokkerPlanck.self, BenchColeHopf.self])
}
