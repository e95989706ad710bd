import Foundation
import Testing
@testable import Relax
@testable import RelaxCLI

@Suite("CLI: relax fokker-planck and relax convergence")
struct FokkerPlanckCommandTests {
    @Test("double well to stationarity: rho is the discrete Gibbs density exp(-2 beta V)/Z; files and shapes as documented")
    func doubleWellGibbs() throws {
        let out = SmoothCommandTests.scratch("fp")
        defer { try? FileManager.default.removeItem(atPath: out) }
        try SmoothCommandTests.run(["fokker-planck", "--potential", "(x^2-1)^2", "--beta", "1",
                                    "--rho0", "exp(-(x+1)^2/0.08)", "--domain", "-2.5:2.5", "--n", "201",
                                    "--t", "200", "--method", "tr-bdf2", "--dt", "0.05",
                                    "--snapshots", "4", "--out", out])
        let (rho, shape) = try NPY.read(out + "/rho.npy")
        let (x, _) = try NPY.read(out + "/x.npy")
        #expect(shape == [201])
        // The fitted scheme's stationary state is the discrete Gibbs density (trapezoid-normalized,
        // end nodes own half cells). The slowest transient decays like exp(-lambda t) with
        // lambda ~ 2 * Kramers rate ~ 2 * (sqrt(8 * 4) / (2 pi)) exp(-2 beta dV) ~ 0.24 for the
        // barrier dV = 1 at beta = 1, i.e. by exp(-48) at t = 200; TR-BDF2 with dt = 0.05
        // (lambda dt ~ 0.01) reproduces that decay, so only round-off remains: 1e-10 of max rho.
        let g = x.map { exp(-2 * ($0 * $0 - 1) * ($0 * $0 - 1)) }
        let h = x[1] - x[0]
        let z = h * (g.reduce(0, +) - 0.5 * (g.first! + g.last!))
        let error = zip(rho, g).map { abs($0 - $1 / z) }.max()!
        #expect(error < 1e-10 * rho.max()!)
        #expect(try NPY.read(out + "/rho_t.npy").shape == [5, 201])
        #expect(try NPY.read(out + "/times.npy").values == [0, 50, 100, 150, 200])
        #expect(try NPY.read(out + "/current.npy").shape == [201])
        let manifest = try RunManifest.decode(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/run.json"))))
        guard case let .array(snaps)? = manifest.results["snapshots"] else {
            Issue.record("run.json has no per-snapshot diagnostics")
            return
        }
        #expect(snaps.count == 5)
    }

    @Test("bad input writes nothing: negative rho0, zero mass, wrong drift arity, indefinite D, both models",
          arguments: [
            ["--drift", "x", "--diffusion", "1", "--rho0", "-1", "--domain", "-1:1", "--n", "11"],
            ["--potential", "x", "--beta", "1", "--rho0", "0", "--domain", "-1:1", "--n", "11"],
            ["--drift", "x;y", "--diffusion", "1", "--rho0", "1", "--domain", "-1:1", "--n", "11"],
            ["--drift", "x;y", "--diffusion", "1,2;2,1", "--rho0", "1", "--domain", "-1:1,-1:1", "--n", "11,11"],
            ["--drift", "x", "--potential", "x", "--beta", "1", "--diffusion", "1", "--rho0", "1",
             "--domain", "-1:1", "--n", "11"],
            ["--potential", "x", "--rho0", "1", "--domain", "-1:1", "--n", "11"],
            ["--potential", "x", "--beta", "1", "--rho0", "1", "--domain", "-1:1", "--n", "11", "--boundary", "free"],
          ])
    func refusals(arguments: [String]) throws {
        let out = SmoothCommandTests.scratch("fpbad")
        #expect(throws: (any Error).self) {
            try SmoothCommandTests.run(["fokker-planck", "--t", "1", "--out", out] + arguments)
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test("relax convergence heat --dim 1 passes its bands; an unknown equation is refused")
    func convergenceCommand() throws {
        try SmoothCommandTests.run(["convergence", "heat", "--dim", "1"])
        #expect(throws: (any Error).self) { try SmoothCommandTests.run(["convergence", "wave"]) }
    }
}
