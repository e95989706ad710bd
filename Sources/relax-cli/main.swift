import ArgumentParser
import Relax

// `main.swift` runs as top-level code once the target has other files, so it cannot carry
// `@main`; the command is started explicitly instead.
struct RelaxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "relax", abstract: "Relax")
}

RelaxCommand.main()
