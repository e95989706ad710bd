import Foundation
import Testing

/// A Python interpreter with numpy for interoperability tests: `$RELAX_PYTHON` (the Makefile
/// points it at `.venv/bin/python`), else `python3` on the PATH. Tests that need it are
/// skipped (and say so) only when neither can import numpy.
enum PythonWithNumPy {
    static let executable: String? = {
        var candidates: [String] = []
        if let configured = ProcessInfo.processInfo.environment["RELAX_PYTHON"], !configured.isEmpty {
            candidates.append(configured)
        }
        candidates.append("python3")
        return candidates.first { (try? run($0, ["-c", "import numpy"]))?.status == 0 }
    }()

    static var available: Bool { executable != nil }

    /// Runs `python` (a path, or a name looked up on the PATH) with `arguments`.
    static func run(_ python: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        if python.contains("/") {
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python] + arguments
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Runs a script with the interpreter found; records a test issue with its output if it fails.
    static func script(_ source: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let python = try #require(executable, sourceLocation: sourceLocation)
        let (status, output) = try run(python, ["-c", source])
        #expect(status == 0, "python failed:\n\(output)", sourceLocation: sourceLocation)
        return output
    }
}

/// A fresh temporary directory, removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init() throws {
        let base = FileManager.default.temporaryDirectory.path
        path = base + "/relax-test-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}
