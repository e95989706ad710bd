import Foundation
import Testing
@testable import Relax
@testable import RelaxCLI

/// `relax smooth` end to end, in-process: files, shapes, values, and refusals that write nothing.
@Suite("CLI: relax smooth")
struct SmoothCommandTests {
    static func scratch(_ name: String) -> String {
        NSTemporaryDirectory() + "relax-cli-\(name)-\(UInt32.random(in: 0...UInt32.max))"
    }

    static func run(_ arguments: [String]) throws {
        var command = try RelaxCommand.parseAsRoot(arguments)
        try command.run()
    }

    @Test("heat, spectral, periodic: u is the exact decay of a Fourier mode; files have the documented shapes")
    func heatSpectralFiles() throws {
        let out = Self.scratch("heat")
        defer { try? FileManager.default.removeItem(atPath: out) }
        // v = exp(-nu k^2 t) cos(k x) with nu = 1/(2 beta) = 0.25, k = 2, t = 0.5.
        try Self.run(["smooth", "--loss", "cos(2*x)", "--domain", "0:\(2 * Double.pi)", "--n", "64",
                      "--beta", "2", "--t", "0.5", "--equation", "heat", "--boundary", "periodic", "--out", out])
        let (u, shape) = try NPY.read(out + "/u.npy")
        let (x, _) = try NPY.read(out + "/x.npy")
        #expect(shape == [64])
        let decay = exp(-0.25 * 4 * 0.5)
        let error = zip(u, x).map { abs($0 - decay * cos(2 * $1)) }.max()!
        #expect(error < 1e-13)
        let (_, gradShape) = try NPY.read(out + "/grad.npy")
        #expect(gradShape == [64])
        let manifest = try RunManifest.decode(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/run.json"))))
        #expect(manifest.inputs["equation"] == .string("heat"))
        #expect(manifest.reports.first?.scheme.contains("spectral") == true)
        #expect(Set(manifest.files.map(\.name)) == ["x.npy", "f.npy", "u.npy", "grad.npy"])
    }

    @Test("hj, 2-D: Example 13 inviscid, u = |x|^2/(2(t + 1/c)); prox.npy and grad.npy have shape (n, m, 2)")
    func hjExample13() throws {
        let out = Self.scratch("hj")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try Self.run(["smooth", "--loss", "(x^2 + y^2)/2", "--domain", "-2:2,-1:1", "--n", "41,21",
                      "--t", "0.5", "--equation", "hj", "--out", out])
        let (u, shape) = try NPY.read(out + "/u.npy")
        let (x, _) = try NPY.read(out + "/x.npy")
        let (y, _) = try NPY.read(out + "/y.npy")
        #expect(shape == [41, 21])
        var worst = 0.0
        for i in 0..<41 { for j in 0..<21 {
            worst = max(worst, abs(u[i * 21 + j] - (x[i] * x[i] + y[j] * y[j]) / (2 * 1.5)))
        } }
        // The refined Hopf–Lax value is exact for quadratic f (the Newton step is exact).
        #expect(worst < 1e-12)
        #expect(try NPY.read(out + "/prox.npy").shape == [41, 21, 2])
        #expect(try NPY.read(out + "/grad.npy").shape == [41, 21, 2])
    }

    @Test("bad input is refused with a message naming the problem, and nothing is written",
          arguments: [
            (["--beta", "-1", "--t", "1", "--equation", "heat"], "beta"),
            (["--beta", "0", "--t", "1", "--equation", "heat"], "beta"),
            (["--beta", "1", "--t", "-1", "--equation", "heat"], "t"),
            (["--t", "1", "--equation", "heat"], "beta"),
            (["--beta", "1", "--t", "1", "--equation", "wave"], "equation"),
            (["--beta", "1", "--t", "1", "--equation", "heat", "--method", "magic"], "method"),
            (["--beta", "1", "--t", "1", "--equation", "hj", "--method", "spectral"], "method"),
            (["--beta", "1", "--t", "1", "--equation", "heat", "--boundary", "sticky"], "boundary"),
          ])
    func badParameters(extra: [String], mentions: String) throws {
        let out = Self.scratch("bad")
        let arguments = ["smooth", "--loss", "x^2", "--domain", "-1:1", "--n", "11", "--out", out] + extra
        #expect { try Self.run(arguments) } throws: { "\($0)".contains(mentions) }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("bad grid, malformed loss and unwritable --out are refused before anything is written",
          arguments: [
            (["--domain", "1:-1", "--n", "11", "--loss", "x"], "reversed"),
            (["--domain", "1:1", "--n", "11", "--loss", "x"], "empty"),
            (["--domain", "-1:1", "--n", "2", "--loss", "x"], "at least 3"),
            (["--domain", "-1:1,0", "--n", "11,11", "--loss", "x"], "domain"),
            (["--domain", "-1:1", "--n", "11", "--loss", "sin(x"], "column 6"),
            (["--domain", "-1:1", "--n", "11", "--loss", "x + w"], "unknown name 'w'"),
          ])
    func badGridOrLoss(extra: [String], mentions: String) throws {
        let out = Self.scratch("bad")
        let arguments = ["smooth", "--beta", "1", "--t", "1", "--equation", "heat", "--out", out] + extra
        #expect { try Self.run(arguments) } throws: { "\($0)".contains(mentions) }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("an unwritable --out fails before solving")
    func unwritableOut() throws {
        let file = Self.scratch("file")
        _ = FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        defer { try? FileManager.default.removeItem(atPath: file) }
        for out in ["/proc/relax-out", file, file + "/sub"] {
            let arguments = ["smooth", "--loss", "x^2", "--domain", "-1:1", "--n", "11", "--beta", "1", "--t", "1",
                             "--equation", "heat", "--out", out]
            #expect(throws: RelaxError.self) { try Self.run(arguments) }
        }
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "x")
    }

    @Test("the real binary: an error goes to stderr with a non-zero exit status")
    func binaryExitStatus() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent("relax").path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "relax binary beside the tests: \(binary)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["smooth", "--loss", "x", "--domain", "-1:1", "--n", "11", "--beta", "-2", "--t", "1",
                             "--equation", "heat", "--out", Self.scratch("binary")]
        let stderr = Pipe(), stdout = Pipe()
        process.standardError = stderr
        process.standardOutput = stdout
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: stderr.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus != 0)
        #expect(message.contains("beta"))
        #expect(stdout.fileHandleForReading.readDataToEndOfFile().isEmpty)
    }
}

@Suite("CLI: relax smooth --equation viscous-hj, relax verify cole-hopf")
struct ViscousCommandTests {
    @Test("viscous-hj by Cole–Hopf: Example 13 in 1-D, u = x^2/(2(t+1/c)) + 1/(2 beta) log(1+ct)")
    func example13() throws {
        let out = SmoothCommandTests.scratch("vhj")
        defer { try? FileManager.default.removeItem(atPath: out) }
        // c = 1, beta = 4, t = 0.5: kernel width sqrt(t/beta) = 0.35 spans ~17 cells of h = 0.02,
        // so the trapezoid quadrature of the Gaussian integral is exact to round-off.
        try SmoothCommandTests.run(["smooth", "--loss", "x^2/2", "--domain", "-2:2", "--n", "201", "--beta", "4",
                                    "--t", "0.5", "--equation", "viscous-hj", "--method", "cole-hopf", "--out", out])
        let (u, _) = try NPY.read(out + "/u.npy")
        let (x, _) = try NPY.read(out + "/x.npy")
        let exact = x.map { $0 * $0 / (2 * 1.5) + log(1.5) / 8 }
        #expect(zip(u, exact).map { abs($0 - $1) }.max()! < 1e-10)
    }

    @Test("relax verify cole-hopf passes in 1-D")
    func verify() throws {
        try SmoothCommandTests.run(["verify", "cole-hopf"])
        #expect(throws: (any Error).self) { try SmoothCommandTests.run(["verify", "cole-hopf", "--dim", "4"]) }
    }
}
