import ArgumentParser
import Foundation
import Relax

/// `relax fokker-planck`: evolve a density by the Fokker–Planck equation.
struct FokkerPlanckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fokker-planck",
        abstract: "Evolve a density: rho_t = div(grad V rho) + 1/(2 beta) Lap rho, or -div(b rho) + div(D grad rho).",
        discussion: """
            Give either --potential V with --beta (gradient drift -grad V, diffusion 1/(2 beta), stationary
            density ∝ exp(-2 beta V)), or --drift b (one expression per axis, separated by ';') with
            --diffusion D (a constant SPD matrix, rows separated by ';').

            Writes DIR/rho.npy (final density), DIR/times.npy, DIR/rho_t.npy (K+1 snapshots, time first),
            DIR/current.npy (final probability current J; shape (n) in 1-D, else (..., d)), the axis
            coordinates x.npy (y.npy, z.npy), and DIR/run.json (mass, minimum, free energy and relative
            entropy per snapshot; the factor rho0 was normalized by).

            Scheme: conservative finite volumes with exponentially fitted (Scharfetter–Gummel) fluxes;
            mass is conserved to round-off, rho >= 0 at every step, and the discrete Gibbs density is
            stationary to round-off. Steppers: tr-bdf2 (2nd order), implicit-euler, explicit-euler.

            Examples:
              relax fokker-planck --potential "(x^2-1)^2" --beta 1 --rho0 "exp(-(x+1)^2/0.08)" \\
                  --domain -2.5:2.5 --n 800 --t 200 --growth 1.2 --method implicit-euler --out runs/fp
              relax fokker-planck --drift "2.5*(-0.1-x)+1.5*(0.05-y);1.5*(-0.1-x)-2.5*(0.05-y)" \\
                  --diffusion "0.08,0;0,0.02" --rho0 "exp(-((x-0.25)^2+(y+0.2)^2)/0.01)" \\
                  --domain -1.2:1.2,-1.2:1.2 --n 128,128 --t 12 --snapshots 6 --out runs/ou
            """)

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Potential V (drift -grad V).", valueName: "EXPR"))
    var potential: String?

    @Option(name: .long, parsing: .unconditional, help: "Inverse temperature beta > 0 (with --potential).")
    var beta: Double?

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Drift b, one expression per axis separated by ';'.", valueName: "EXPR;..."))
    var drift: String?

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Diffusion matrix D (with --drift), e.g. \"0.08,0;0,0.02\" or \"0.5\" in 1-D.",
                               valueName: "D11,D12;D21,D22"))
    var diffusion: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Initial density (normalized by the solver).", valueName: "EXPR"))
    var rho0: String

    @OptionGroup var grid: GridOptions

    @Option(name: .customLong("t"), parsing: .unconditional, help: "Final time T > 0.")
    var time: Double

    @Option(name: .long, help: "no-flux | periodic.")
    var boundary: String = "no-flux"

    @Option(name: .long, help: "Number K of snapshot intervals (K+1 densities are stored).")
    var snapshots: Int = 1

    @Option(name: .long, help: "tr-bdf2 | implicit-euler | explicit-euler.")
    var method: String = FokkerPlanckStepping.Method.trBDF2.rawValue

    @Option(name: .long, parsing: .unconditional, help: "First time step (default T/200).")
    var dt: Double?

    @Option(name: .long, parsing: .unconditional, help: "Step growth factor per step (>= 1; > 1 suits runs to stationarity).")
    var growth: Double = 1

    @OptionGroup var output: OutputOptions

    func run() throws {
        let boundaryKind = try Boundary(parsing: boundary)
        guard boundaryKind == .neumann || boundaryKind == .periodic else {
            throw RelaxError.invalidParameter(name: "boundary", value: boundary, expected: "no-flux or periodic")
        }
        let window = try grid.grid(boundary: boundaryKind)
        try RelaxError.requirePositiveFinite(time, name: "t", expected: "a finite time T > 0")
        guard snapshots >= 1 else {
            throw RelaxError.invalidParameter(name: "snapshots", value: "\(snapshots)", expected: "K >= 1")
        }
        guard let stepMethod = FokkerPlanckStepping.Method(rawValue: method.lowercased()) else {
            throw RelaxError.invalidParameter(name: "method", value: method, expected: "one of "
                + FokkerPlanckStepping.Method.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let (driftField, diffusionMatrix) = try model(on: window)
        let initial = try Loss(expression: rho0).sample(on: window)
        let stepping = FokkerPlanckStepping(method: stepMethod, dt: dt ?? time / 200, growth: growth)
        let out = try OutputDirectory(output.out)
        let bar = ProgressBar()
        let problem = FokkerPlanckProblem(grid: window, drift: driftField, diffusion: diffusionMatrix,
                                          initial: initial, time: time, snapshots: snapshots,
                                          stepping: stepping, progress: bar.handler)
        let result: FokkerPlanckResult
        do {
            defer { bar.finish() }
            result = try FokkerPlanck.solve(problem)
        }
        try out.writeCoordinates(window)
        try out.writeNPY(result.rho, name: "rho.npy", description: "the density at time T")
        try out.writeNPY(result.times, shape: [result.times.count], name: "times.npy", description: "snapshot times")
        let stack = result.stackedSnapshots
        try out.writeNPY(stack.values, shape: stack.shape, name: "rho_t.npy", description: "snapshots, time first")
        let current = result.stackedCurrent
        try out.writeNPY(current.values, shape: current.shape, name: "current.npy",
                         description: "probability current J at time T, component last")
        var inputs: [String: JSONValue] = [
            "rho0": .string(rho0), "domain": .string(grid.domain), "n": JSONValue(window.shape),
            "t": .number(time), "boundary": .string(boundary), "snapshots": .number(Double(snapshots)),
            "method": .string(stepMethod.rawValue), "dt": .number(stepping.dt), "growth": .number(growth),
        ]
        if let potential { inputs["potential"] = .string(potential) }
        if let beta { inputs["beta"] = .number(beta) }
        if let drift { inputs["drift"] = .string(drift) }
        inputs["diffusion"] = .array(diffusionMatrix.matrix.entries.map(JSONValue.number))
        let perSnapshot: [JSONValue] = result.diagnostics.map { d in
            var o: [String: JSONValue] = ["time": .number(d.time), "mass": .number(d.mass),
                                          "minimum": .number(d.minimum), "steps": .number(Double(d.steps))]
            if let f = d.freeEnergy { o["free_energy"] = .number(f) }
            if let h = d.relativeEntropy { o["relative_entropy"] = .number(h) }
            return .object(o)
        }
        let manifest = RunManifest(command: "fokker-planck", arguments: CommandLine.arguments, inputs: inputs,
                                   reports: [result.report], results: ["snapshots": .array(perSnapshot)],
                                   notes: result.report.notes, warnings: result.report.warnings)
        try out.commit(manifest: manifest)
        for warning in result.report.warnings { printError("warning: \(warning)") }
        print("wrote \(out.path): \(result.report.scheme), \(result.report.steps) steps, "
              + String(format: "mass %.15g, min %.3e", result.diagnostics.last?.mass ?? .nan, result.rho.minimum))
    }

    /// The drift and diffusion from either `--potential/--beta` or `--drift/--diffusion`.
    private func model(on window: Grid) throws -> (FokkerPlanckDrift, FokkerPlanckDiffusion) {
        switch (potential, drift) {
        case let (v?, nil):
            guard diffusion == nil else {
                throw RelaxError.invalidParameter(name: "diffusion", value: diffusion!,
                                                  expected: "no --diffusion with --potential (it is 1/(2 beta) I)")
            }
            guard let beta else {
                throw RelaxError.invalidParameter(name: "beta", value: "none", expected: "--beta B > 0 with --potential")
            }
            return (try .potential(try Loss(expression: v), on: window),
                    try FokkerPlanckDiffusion(beta: beta, dimension: window.dimension))
        case let (nil, b?):
            let parts = b.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == window.dimension else {
                throw RelaxError.invalidParameter(name: "drift", value: b,
                    expected: "\(window.dimension) expression(s) separated by ';', one per axis (got \(parts.count))")
            }
            guard let diffusion else {
                throw RelaxError.invalidParameter(name: "diffusion", value: "none",
                                                  expected: "--diffusion D (an SPD matrix) with --drift")
            }
            return (try .components(try parts.map { try Loss(expression: $0) }, on: window),
                    try FokkerPlanckDiffusion(parsing: diffusion, dimension: window.dimension))
        default:
            throw RelaxError.invalidParameter(name: "potential/drift", value: "both or neither",
                                              expected: "either --potential V --beta B, or --drift b --diffusion D")
        }
    }
}
