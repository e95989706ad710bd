import Foundation
import Testing
@testable import Relax

struct SimulatedFailure: Error {}

/// Atomic files, output directories that appear complete or not at all, and `run.json`.
@Suite("Run outputs")
struct OutputTests {
    static func contents(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) }
    }

    static func entries(_ path: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }

    @Test("an atomic write that fails midway leaves the old file and no temporary file")
    func atomicWriteFailure() throws {
        let dir = try TemporaryDirectory()
        let path = dir.file("u.npy")
        try AtomicFile.write(Array("old".utf8), to: path)
        #expect(throws: SimulatedFailure.self) {
            try AtomicFile.write(to: path) { writer in
                try writer.write("half of the new cont")
                throw SimulatedFailure()
            }
        }
        #expect(Self.contents(path) == "old")
        #expect(Self.entries(dir.path) == ["u.npy"])
        try AtomicFile.write(Array("new".utf8), to: path)
        #expect(Self.contents(path) == "new")
        #expect(throws: RelaxError.self) { try AtomicFile.write([1], to: dir.file("missing/u.npy")) }
    }

    @Test("a run that fails before commit leaves nothing at the destination (discard or deinit)")
    func failedRunWritesNothing() throws {
        let dir = try TemporaryDirectory()
        let destination = dir.file("out")
        func failingRun(discard: Bool) throws {
            let out = try OutputDirectory(destination)
            try out.writeNPY([1, 2, 3], shape: [3], name: "x.npy")
            #expect(Self.entries(dir.path).count == 1, "only the hidden staging directory exists meanwhile")
            if discard { out.discard() }
            throw SimulatedFailure()
        }
        for discard in [true, false] {
            #expect(throws: SimulatedFailure.self) { try failingRun(discard: discard) }
            #expect(!FileManager.default.fileExists(atPath: destination))
            #expect(Self.entries(dir.path).isEmpty, "staging directory removed")
        }
    }

    @Test("commit moves every staged file into place and run.json lists them with shapes")
    func commitWithManifest() throws {
        let dir = try TemporaryDirectory()
        let destination = dir.file("runs/a/out")
        let grid = try Grid(domain: [(0, 1), (0, 2)], counts: [3, 4])
        let u = Field(grid: grid) { $0[0] + $0[1] }
        let out = try OutputDirectory(destination)
        try out.writeCoordinates(grid)
        try out.writeNPY(u, name: "u.npy", description: "the solution")
        try out.writeNPY([u, u], name: "grad.npy")
        var report = SolverReport(equation: "heat", scheme: "spectral", workingShape: [3, 4], dt: .infinity,
                                  diagnostics: ["mass": 1.5, "ratio": .nan])
        report.warnings = ["a warning"]
        let manifest = RunManifest(command: "smooth", arguments: ["relax", "smooth", "--loss", "x^2"],
                                   inputs: ["loss": "x^2", "n": JSONValue([3, 4]), "beta": 2.5, "boundary": "free",
                                            "extra": ["nested": [1, true, nil]]],
                                   reports: [report], notes: ["a note"])
        #expect(!FileManager.default.fileExists(atPath: destination))
        try out.commit(manifest: manifest)
        #expect(Self.entries(destination) == ["grad.npy", "run.json", "u.npy", "x.npy", "y.npy"])
        #expect(Self.entries(dir.file("runs/a")) == ["out"], "no staging left behind")
        #expect(try NPY.read(destination + "/u.npy").values == u.values)
        #expect(try NPY.read(destination + "/grad.npy").shape == [3, 4, 2])

        let bytes = try #require(FileManager.default.contents(atPath: destination + "/run.json"))
        let decoded = try RunManifest.decode(Array(bytes))
        #expect(decoded.files.map(\.name) == ["x.npy", "y.npy", "u.npy", "grad.npy"])
        #expect(decoded.files.map(\.shape) == [[3], [4], [3, 4], [3, 4, 2]])
        #expect(decoded.version == Toolkit.version && decoded.toolkit == "Relax")
        #expect(decoded.inputs["n"] == JSONValue([3, 4]))
        #expect(decoded.inputs["extra"] == ["nested": [1, true, nil]])
        #expect(decoded.reports[0].dt == .infinity)
        #expect(decoded.reports[0].diagnostics["ratio"]!.isNaN)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"ratio\" : \"nan\"") && text.contains("\"dt\" : \"inf\""), "\(text)")
        // Sorted keys: the top-level keys appear in alphabetical order.
        let keys = ["arguments", "command", "created", "files", "inputs", "notes", "reports", "results", "toolkit", "version", "warnings"]
        let positions = keys.map { text.range(of: "\n  \"\($0)\"")!.lowerBound }
        #expect(positions == positions.sorted())
        #expect(decoded.created.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/) != nil)
        #expect(throws: RelaxError.self) { try out.writeNPY([1], shape: [1], name: "late.npy") }
    }

    @Test("committing into an existing directory replaces the run's files and keeps the others")
    func commitIntoExisting() throws {
        let dir = try TemporaryDirectory()
        let destination = dir.file("out")
        try FileManager.default.createDirectory(atPath: destination, withIntermediateDirectories: false)
        try AtomicFile.write(Array("old".utf8), to: destination + "/u.npy")
        try AtomicFile.write(Array("keep".utf8), to: destination + "/notes.txt")
        let out = try OutputDirectory(destination)
        try out.writeNPY([4, 5], shape: [2], name: "u.npy")
        #expect(Self.contents(destination + "/u.npy") == "old", "untouched until commit")
        try out.commit()
        #expect(try NPY.read(destination + "/u.npy").values == [4, 5])
        #expect(Self.contents(destination + "/notes.txt") == "keep")
        #expect(Self.entries(dir.path) == ["out"])
    }

    @Test("unwritable destinations fail when the directory is opened, before any work, and create nothing")
    func unwritableDestinations() throws {
        let dir = try TemporaryDirectory()
        try AtomicFile.write(Array("a file".utf8), to: dir.file("plain"))
        let cases: [(String, String)] = [
            ("/proc/relax-out", "cannot write in '/proc'"),
            (dir.file("plain/out"), "is a file, not a directory"),
            (dir.file("plain/deeper/out"), "is a file, not a directory"),
            (dir.file("plain"), "exists and is not a directory"),
        ]
        for (path, fragment) in cases {
            do {
                _ = try OutputDirectory(path)
                Issue.record("\(path) accepted")
            } catch let RelaxError.io(errorPath, message) {
                #expect(errorPath == path)
                #expect(message.contains(fragment), "\(message)")
            }
        }
        #expect(Self.entries(dir.path) == ["plain"])
        #expect(!FileManager.default.fileExists(atPath: "/proc/relax-out"))
    }

    /// Root may write into any directory whatever its mode bits, so this case can only be
    /// checked for other users.
    @Test("a read-only directory is refused", .enabled(if: geteuid() != 0, "running as root: permissions do not apply"))
    func readOnlyDirectory() throws {
        let dir = try TemporaryDirectory()
        let locked = dir.file("locked")
        try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
        chmod(locked, 0o555)
        defer { chmod(locked, 0o755) }
        #expect(throws: RelaxError.self) { try OutputDirectory(locked + "/out") }
        #expect(Self.entries(locked).isEmpty)
    }

    @Test("file names must be plain names")
    func badNames() throws {
        let dir = try TemporaryDirectory()
        let out = try OutputDirectory(dir.file("out"))
        for name in ["", "a/b.npy", "..", ".hidden"] {
            #expect(throws: RelaxError.self) { try out.writeNPY([1], shape: [1], name: name) }
        }
    }

    @Test("1-D CSV tables read back through the sampled-loss reader")
    func csvWriter() throws {
        let dir = try TemporaryDirectory()
        let x = (0..<11).map { -1 + 0.2 * Double($0) }
        let f = x.map { $0 * $0 }
        let out = try OutputDirectory(dir.file("out"))
        try out.writeCSV([("x", x), ("f", f)], name: "f.csv")
        try out.commit()
        let loss = try Loss(contentsOf: dir.file("out/f.csv"))
        let grid = try Grid(domain: [(-1, 1)], counts: [11])
        #expect(try loss.sample(on: grid).values == f)
        #expect(try CSVWriter.text([("x", [1, .nan]), ("u", [-.infinity, 0.1])]) == "x,u\n1.0,-inf\nnan,0.1\n")
        #expect(throws: RelaxError.self) { try CSVWriter.text([("x", [1]), ("u", [1, 2])]) }
    }
}
