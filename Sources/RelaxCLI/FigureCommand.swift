import ArgumentParser
import Foundation
import Relax

/// `relax figure NAME --out DIR`: the data of one figure (NPY arrays + run.json with the
/// panels, parameters and checked claims). The notebooks in Notebooks/ render it.
struct FigureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figure",
        abstract: "Compute the data of a figure (arrays + run.json with parameters and checked claims).",
        discussion: """
            NAME is one of: \(Figures.all.map(\.name).joined(separator: ", ")).
            run.json lists the panels, every parameter, the solver reports, and each claim with
            "holds": true/false and the numbers that decide it. A claim that fails is reported on
            stderr and makes the exit status 1 (the data are still written, to be inspected).

            Example:
              relax figure fig1 --out output/runs/fig1
            """)

    @Argument(help: "The figure to make.")
    var name: String

    @OptionGroup var output: OutputOptions

    func run() throws {
        let entry = try Figures.entry(named: name)
        let out = try OutputDirectory(output.out)
        let bar = ProgressBar()
        let data: FigureData
        do {
            defer { bar.finish() }
            data = try entry.make(bar.handler)
        }
        for a in data.arrays {
            try out.writeNPY(a.values, shape: a.shape, name: a.name + ".npy", description: a.description)
        }
        var results: [String: JSONValue] = [:]
        results["claims"] = .array(data.claims.map { c in
            .object(["id": .string(c.id), "statement": .string(c.statement), "holds": .bool(c.holds),
                     "measured": .object(c.measured.mapValues(JSONValue.number))])
        })
        results["panels"] = .array(data.panels.map { p in
            .object(["title": .string(p.title), "arrays": .array(p.arrays.map(JSONValue.string))])
        })
        var inputs = data.parameters
        inputs["figure"] = .string(data.name)
        inputs["title"] = .string(data.title)
        let warnings = data.reports.flatMap(\.warnings)
        let manifest = RunManifest(command: "figure", arguments: CommandLine.arguments, inputs: inputs,
                                   reports: data.reports, results: results, notes: data.notes, warnings: warnings)
        try out.commit(manifest: manifest)
        let held = data.claims.filter(\.holds).count
        print("wrote \(out.path): \(data.arrays.count) arrays, claims \(held)/\(data.claims.count) hold")
        for c in data.claims where !c.holds {
            printError("claim \(c.id) does not hold: \(c.statement) \(c.measured)")
        }
        if !data.allClaimsHold { throw ExitCode.failure }
    }
}
