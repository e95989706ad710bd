import ArgumentParser
import Foundation
import Relax

/// The grid flags every grid-based subcommand shares.
struct GridOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional,
            help: ArgumentHelp("Intervals per axis, A:B[,C:D[,E:F]] (e.g. -3:3 or -2:2,-2:2).", valueName: "A:B,..."))
    var domain: String

    @Option(name: .long, help: ArgumentHelp("Nodes per axis, N[,M[,K]] (one per interval; at least 3).", valueName: "N,..."))
    var n: String

    /// The grid with the given boundary kind.
    func grid(boundary: Boundary) throws -> Grid {
        let intervals = try CLIParsing.domain(domain)
        let counts = try CLIParsing.counts(n)
        return try Grid(domain: intervals, counts: counts, boundary: boundary)
    }
}

/// `--out DIR`, validated before any work is done.
struct OutputOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("Directory for run.json and the NPY arrays (created if needed).", valueName: "DIR"))
    var out: String
}

enum CLIParsing {
    /// Parses `A:B[,C:D[,E:F]]`.
    static func domain(_ text: String) throws -> [(Double, Double)] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count) else {
            throw RelaxError.invalidParameter(name: "domain", value: text,
                                              expected: "1 to 3 intervals A:B[,C:D[,E:F]]")
        }
        return try parts.map { part in
            let ends = part.split(separator: ":", omittingEmptySubsequences: false)
            guard ends.count == 2,
                  let a = Double(ends[0].trimmingCharacters(in: .whitespaces)),
                  let b = Double(ends[1].trimmingCharacters(in: .whitespaces)) else {
                throw RelaxError.invalidParameter(name: "domain", value: text,
                                                  expected: "intervals written A:B with numbers A < B, e.g. -3:3,-2:2 (got '\(part)')")
            }
            return (a, b)
        }
    }

    /// Parses `N[,M[,K]]`.
    static func counts(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        return try parts.map { part in
            guard let v = Int(part.trimmingCharacters(in: .whitespaces)) else {
                throw RelaxError.invalidParameter(name: "n", value: text,
                                                  expected: "whole numbers N[,M[,K]], e.g. 401 or 256,256 (got '\(part)')")
            }
            return v
        }
    }

    /// Parses a comma-separated list of numbers (e.g. several times).
    static func numbers(_ text: String, name: String) throws -> [Double] {
        try text.split(separator: ",").map { part in
            guard let v = Double(part.trimmingCharacters(in: .whitespaces)) else {
                throw RelaxError.invalidParameter(name: name, value: text, expected: "numbers separated by commas")
            }
            return v
        }
    }
}
