import ArgumentParser
import Relax

@main
struct RelaxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "relax", abstract: "Relax")
}
