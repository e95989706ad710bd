import ArgumentParser
import Foundation
import Relax

/// `relax smooth`: one loss, one equation, one time; writes run.json and NPY arrays.
struct Smooth: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smooth",
        abstract: "Smooth a loss by the heat, inviscid HJ (Hopf–Lax) or viscous HJ (local entropy) equation.",
        discussion: """
            Writes DIR/run.json, DIR/x.npy (y.npy, z.npy), DIR/f.npy, DIR/u.npy with shape (n), (n,m) or
            (n,m,k) where u[i,j] = u(x_i, y_j), DIR/grad.npy (shape (n) in 1-D, else (..., d)), and for
            --equation hj also DIR/prox.npy. Nothing is written if the run fails.

            --loss takes an expression in x, y, z (e.g. "sin(3*x) + x^2/10"), a preset name
            (quadratic, double-well, rugged-1d, rugged-2d, ...), or a sampled .npy/.csv file.

            Equations and methods (the first is the default):
              heat        spectral | fd (Crank–Nicolson) | ftcs | crank-nicolson     v = G_{t/beta} * f
              hj          hopf-lax | hopf-lax-discrete | fd | lax-friedrichs | weno    u_t = -|grad u|^2/2
              viscous-hj  auto | cole-hopf | fd | fd-imex | weno     u_t = -|grad u|^2/2 + Lap u/(2 beta)

            Examples:
              relax smooth --loss rugged-1d --domain -3:3 --n 1201 --beta 2 --t 1.5 --equation heat --out runs/heat
              relax smooth --loss "x^2/2 + y^2" --domain -2:2,-2:2 --n 257,257 --t 0.5 --equation hj --out runs/hj
              relax smooth --loss rugged-2d --domain -3:3,-3:3 --n 301,301 --beta 20 --t 1 --equation viscous-hj --out runs/vhj
            """)

    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Loss: an expression in x, y, z, a preset name, or a .npy/.csv file.", valueName: "EXPR"))
    var loss: String

    @OptionGroup var grid: GridOptions

    @Option(name: .long, parsing: .unconditional,
            help: "Inverse temperature beta > 0 (heat, viscous-hj: diffusion 1/(2 beta); not used by hj).")
    var beta: Double?

    @Option(name: .customLong("t"), parsing: .unconditional, help: "Smoothing time t > 0 (the paper's gamma).")
    var time: Double

    @Option(name: .long, help: "heat | hj | viscous-hj.")
    var equation: String

    @Option(name: .long, help: "Solver method (see the list above); default: the first for the equation.")
    var method: String?

    @Option(name: .long, help: "free | periodic | neumann (alias no-flux) | dirichlet[:VALUE].")
    var boundary: String = "free"

    @OptionGroup var output: OutputOptions

    func run() throws {
        let kind = try SmoothingEquation(parsing: equation)
        let solver = try kind.solver(method: method)
        let boundaryKind = try Boundary(parsing: boundary)
        let window = try grid.grid(boundary: boundaryKind)
        let theLoss = try LossArgument.load(loss, domain: try CLIParsing.domain(grid.domain))
        let bar = ProgressBar()
        let problem = SmoothingProblem(loss: theLoss, grid: window, time: time, beta: beta, progress: bar.handler)
        try problem.validate(requiresBeta: kind.requiresBeta)
        let out = try OutputDirectory(output.out)

        let result: SmoothingResult
        defer { bar.finish() }
        result = try solver(problem)
        try result.u.checkFinite("u (the solution)")

        try out.writeCoordinates(window)
        try out.writeNPY(result.f, name: "f.npy", description: "the loss on the grid")
        try out.writeNPY(result.u, name: "u.npy", description: "u(., t)")
        try out.writeNPY(result.gradient, name: "grad.npy", description: "grad u(., t), component last")
        if let prox = result.prox {
            try out.writeNPY(prox, name: "prox.npy", description: "prox(x), component last")
        }
        var inputs: [String: JSONValue] = [
            "loss": .string(loss),
            "loss_description": .string(theLoss.description),
            "domain": .string(grid.domain),
            "n": JSONValue(window.shape),
            "t": .number(time),
            "equation": .string(kind.rawValue),
            "method": .string(method ?? kind.defaultMethod),
            "scheme": .string(result.report.scheme),
            "boundary": .string(boundaryKind.description),
        ]
        if let expression = theLoss.expression { inputs["loss_expression"] = .string(expression) }
        if let beta { inputs["beta"] = .number(beta) }
        let manifest = RunManifest(command: "smooth", arguments: CommandLine.arguments, inputs: inputs,
                                   reports: [result.report], notes: result.report.notes,
                                   warnings: result.report.warnings)
        try out.commit(manifest: manifest)
        for warning in result.report.warnings { printError("warning: \(warning)") }
        print("wrote \(out.path): \(kind.rawValue) by \(result.report.scheme) in \(String(format: "%.3f", result.report.wallTime)) s")
    }
}

/// The equations `relax smooth` knows, each with its methods.
enum SmoothingEquation: String, CaseIterable {
    case heat
    case hj
    case viscousHJ = "viscous-hj"

    init(parsing text: String) throws {
        guard let value = Self(rawValue: text.lowercased()) else {
            throw RelaxError.invalidParameter(name: "equation", value: text,
                                              expected: "one of " + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = value
    }

    var requiresBeta: Bool { self != .hj }

    var defaultMethod: String {
        switch self {
        case .heat: return "spectral"
        case .hj: return HJMethod.hopfLax.rawValue
        case .viscousHJ: return "auto"
        }
    }

    /// The solver for `method` (nil: the equation's default).
    func solver(method: String?) throws -> (SmoothingProblem) throws -> SmoothingResult {
        switch self {
        case .heat:
            let m = try method.map { try HeatMethod(name: $0) } ?? .spectral
            return { try HeatEquation.smooth($0, method: m) }
        case .hj:
            let m = try method.map { name in
                guard let m = HJMethod(rawValue: name.lowercased()) else {
                    throw RelaxError.invalidParameter(name: "method", value: name, expected: "for hj one of "
                        + HJMethod.allCases.map(\.rawValue).joined(separator: ", "))
                }
                return m
            } ?? .hopfLax
            return { try HopfLax.smooth($0, method: m) }
        case .viscousHJ:
            let m = try method.map { try ViscousHJMethod(name: $0) } ?? .auto
            return { try ViscousHJ.smooth($0, method: m) }
        }
    }
}

/// `--loss`: a preset name, a sampled file, or an expression, in that order of precedence.
enum LossArgument {
    static func load(_ text: String, domain: [(Double, Double)]) throws -> Loss {
        if Loss.presets[text.lowercased()] != nil { return try Loss(preset: text.lowercased()) }
        let lower = text.lowercased()
        if lower.hasSuffix(".npy") || lower.hasSuffix(".csv") {
            return try Loss(contentsOf: text, domain: domain)
        }
        return try Loss(expression: text)
    }
}
