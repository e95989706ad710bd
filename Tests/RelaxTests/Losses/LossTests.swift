import Foundation
import Testing
@testable import Relax

/// Presets and sampled (file) losses.
@Suite("Presets and sampled losses")
struct LossTests {
    // MARK: - Presets

    @Test("every preset parses, has the dimension of its window, and records its expression")
    func presetsParse() throws {
        #expect(Loss.presets.count == Loss.presetList.count)
        for preset in Loss.presetList {
            let loss = try Loss(preset: preset.name)
            #expect(loss.dimension == preset.window.count, "\(preset.name)")
            #expect(loss.expression == preset.expression)
            #expect(loss.description == preset.name)
            #expect(loss.isExtendable)
            let grid = try Grid(domain: preset.window.map { ($0.lowerBound, $0.upperBound) },
                                counts: [Int](repeating: 9, count: preset.window.count))
            _ = try loss.sampleWithGradient(on: grid)
        }
        for required in ["quadratic", "quadratic-2d", "quadratic-3d", "double-well", "rugged-1d", "rugged-2d"] {
            #expect(Loss.presets[required] != nil)
        }
    }

    @Test("an unknown preset is refused with the list of known ones")
    func unknownPreset() {
        do {
            _ = try Loss(preset: "rugged1d")
            Issue.record("accepted")
        } catch let RelaxError.invalidParameter(name, value, expected) {
            #expect(name == "preset" && value == "rugged1d")
            #expect(expected.contains("quadratic, quadratic-2d") && expected.contains("did you mean 'rugged-1d'?"))
        } catch {
            Issue.record("\(error)")
        }
    }

    /// Local minima of a 1-D loss on a fine grid: sign changes of the exact derivative from
    /// - to +, refined by bisection on f'.
    static func minima(_ loss: Loss, in window: ClosedRange<Double>) -> [Double] {
        let n = 6001
        let xs = (0..<n).map { window.lowerBound + (window.upperBound - window.lowerBound) * Double($0) / Double(n - 1) }
        var found: [Double] = []
        for i in 1..<n {
            let (a, b) = (xs[i - 1], xs[i])
            guard loss.gradient(at: [a])[0] < 0, loss.gradient(at: [b])[0] >= 0 else { continue }
            var (lo, hi) = (a, b)
            for _ in 0..<60 {
                let mid = (lo + hi) / 2
                if loss.gradient(at: [mid])[0] < 0 { lo = mid } else { hi = mid }
            }
            found.append((lo + hi) / 2)
        }
        return found
    }

    @Test("rugged-1d is Fig. 1's landscape: a wide global minimum, a narrow near-optimal one, narrow ripples")
    func rugged1dLandscape() throws {
        let loss = try Loss(preset: "rugged-1d")
        let minima = Self.minima(loss, in: -3...3)
        let values = minima.map { loss.value(at: [$0]) }
        let curvatures = try minima.map { try #require(loss.secondDerivative1D(at: $0)) }
        let grid = try Grid(domain: [(-3, 3)], counts: [6001])
        let osc = try loss.sample(on: grid).oscillation
        #expect(minima.count == 6, "\(minima)")
        #expect((1.4...1.8).contains(osc))
        let global = try #require(values.indices.min { values[$0] < values[$1] })
        #expect(abs(minima[global] - 1.1) < 0.05)
        // The global minimum is the widest: the smallest curvature of all minima.
        #expect(curvatures[global] == curvatures.min())
        #expect(curvatures[global] < 4)
        // A narrow minimum at -1 within 10% of osc f of the global value.
        let narrow = try #require(minima.firstIndex { abs($0 + 1) < 0.05 })
        #expect(curvatures[narrow] > 50)
        #expect((values[narrow] - values[global]) / osc < 0.1)
        #expect(curvatures.allSatisfy { $0 > 0 })
    }

    /// The regime the preset's documentation promises for `t = 1.5, beta = 2`, checked with
    /// brute-force quadrature (independent of the solvers): Cole–Hopf
    /// `u = -1/beta log sum_j exp(-beta (f(y_j) + (x - y_j)^2 / (2t)))` and Hopf–Lax
    /// `min_j f(y_j) + (x - y_j)^2 / (2t)` over `y_j` on [-12, 12] with spacing 0.004
    /// (20 points per width of the narrowest well; the Gaussian factor makes the sum
    /// spectrally accurate). The convexity margin (min u'' ~ 0.05) is far above the O(h^2)
    /// error of the second differences on the x-grid (h = 0.02, error ~ 1e-4).
    @Test("rugged-1d at t = 1.5, beta = 2: viscous HJ convex with its minimizer in the wide basin; Hopf–Lax keeps the narrow minimum")
    func rugged1dSmoothingRegime() throws {
        let loss = try Loss(preset: "rugged-1d")
        let (t, beta) = (1.5, 2.0)
        let ys = (0...6000).map { -12 + 0.004 * Double($0) }
        let fy = ys.map { loss.value(at: [$0]) }
        let xs = (0...300).map { -3 + 0.02 * Double($0) }
        var viscous: [Double] = []
        var inviscid: [Double] = []
        for x in xs {
            let exponents = zip(ys, fy).map { y, f in -beta * (f + (x - y) * (x - y) / (2 * t)) }
            let top = exponents.max()!
            viscous.append(-(top + log(exponents.reduce(0) { $0 + exp($1 - top) })) / beta)
            inviscid.append(-top / beta)
        }
        let h = 0.02
        let curvature = (1..<300).map { (viscous[$0 - 1] - 2 * viscous[$0] + viscous[$0 + 1]) / (h * h) }
        #expect(curvature.min()! > 0.02, "viscous-HJ solution convex on the window")
        let argmin = xs[viscous.indices.min { viscous[$0] < viscous[$1] }!]
        #expect((0.3...2.9).contains(argmin), "minimizer \(argmin) in the global minimum's basin")
        let atNarrow = xs.firstIndex { abs($0 + 1) < 1e-9 }!
        #expect(abs(inviscid[atNarrow] - loss.value(at: [-1])) < 1e-12, "Hopf–Lax keeps the narrow minimum's value")
        let inviscidCurvature = (1..<300).map { (inviscid[$0 - 1] - 2 * inviscid[$0] + inviscid[$0 + 1]) / (h * h) }
        #expect(inviscidCurvature.min()! < -1, "Hopf–Lax solution is not convex")
    }

    @Test("rugged-2d: many local minima on a broad basin, the global one near (0.93, 0.46)")
    func rugged2dLandscape() throws {
        let loss = try Loss(preset: "rugged-2d")
        let grid = try Grid(domain: [(-3, 3), (-3, 3)], counts: [301, 301])
        let f = try loss.sample(on: grid)
        var minima: [Int] = []
        for i in 1..<300 {
            for j in 1..<300 {
                let v = f[i, j]
                if [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)]
                    .allSatisfy({ v < f[i + $0.0, j + $0.1] }) { minima.append(grid.flatIndex([i, j])) }
            }
        }
        #expect(minima.count >= 15, "\(minima.count) local minima")
        let global = f.values.indices.min { f.values[$0] < f.values[$1] }!
        let p = grid.point(global)
        #expect(abs(p[0] - 0.93) < 0.05 && abs(p[1] - 0.46) < 0.05, "\(p)")
        #expect((2...4).contains(f.oscillation))
    }

    // MARK: - Sampled losses

    static func writeNPY(_ dir: TemporaryDirectory, _ name: String, grid: Grid, _ f: ([Double]) -> Double) throws -> String {
        let path = dir.file(name)
        try NPY.write(Field(grid: grid, f), to: path)
        return path
    }

    @Test("where the grid's nodes coincide with the file's, the file's values are taken exactly")
    func coincidingNodes() throws {
        let dir = try TemporaryDirectory()
        let fileGrid = try Grid(domain: [(0, 2), (-1, 1)], counts: [41, 21])
        let path = try Self.writeNPY(dir, "f.npy", grid: fileGrid) { sin(3 * $0[0]) * cos($0[1]) }
        let loss = try Loss(contentsOf: path, domain: [(0, 2), (-1, 1)])
        #expect(!loss.isExtendable && loss.dimension == 2)
        let file = try NPY.readField(path, grid: fileGrid)
        #expect(try loss.sample(on: fileGrid).values == file.values)
        // A sub-window on the same lattice: x = 0.5 ... 1.5 (nodes 10 ... 30), y = -0.5 ... 0.5.
        let window = try Grid(domain: [(0.5, 1.5), (-0.5, 0.5)], counts: [21, 11])
        let sampled = try loss.sample(on: window)
        for i in 0..<21 { for j in 0..<11 { #expect(sampled[i, j] == file[i + 10, j + 5]) } }
    }

    @Test("off the nodes, a sampled loss is Field.interpolate(order: 4) of the file (to round-off)")
    func agreesWithFieldInterpolation() throws {
        let dir = try TemporaryDirectory()
        let fileGrid = try Grid(domain: [(0, 2), (-1, 1)], counts: [17, 13])
        let path = try Self.writeNPY(dir, "f.npy", grid: fileGrid) { exp($0[0]) * sin(2 * $0[1]) }
        let loss = try Loss(contentsOf: path, domain: [(0, 2), (-1, 1)])
        let file = try NPY.readField(path, grid: fileGrid)
        let target = try Grid(domain: [(0.01, 1.97), (-0.93, 1)], counts: [23, 19])
        let sampled = try loss.sample(on: target)
        for flat in 0..<target.count {
            let p = target.point(flat)
            // Both sum 16 weighted values O(7) in different orders: a few ulps of 7 * 16.
            #expect(abs(sampled[flat] - file.interpolate(at: p, order: 4)) < 1e-13)
            #expect(abs(loss.value(at: p) - sampled[flat]) < 1e-13)
        }
    }

    @Test("tensor-product cubic interpolation and the difference stencils are exact on cubics (3-D file)")
    func polynomialExactness() throws {
        let dir = try TemporaryDirectory()
        let fileGrid = try Grid(domain: [(-1, 1), (0, 2), (-1, 0.5)], counts: [9, 7, 8])
        // Degree <= 3 per variable: reproduced by 4-point Lagrange interpolation. Degree <= 2
        // per variable: also differentiated exactly by every stencil (the one-sided ones too).
        let cubic: @Sendable ([Double]) -> Double = { p in p[0] * p[0] * p[0] - 2 * p[0] * p[1] * p[1] + p[2] * p[2] * p[2] + p[1] * p[2] }
        let quadratic: @Sendable ([Double]) -> Double = { p in p[0] * p[0] - 3 * p[0] * p[1] + p[2] * p[2] * p[1] }
        let quadraticGradient: @Sendable ([Double]) -> [Double] = { p in [2 * p[0] - 3 * p[1], -3 * p[0] + p[2] * p[2], 2 * p[2] * p[1]] }
        let target = try Grid(domain: [(-0.93, 0.97), (0.11, 1.9), (-0.99, 0.41)], counts: [6, 5, 7])
        let cubicLoss = try Loss(contentsOf: try Self.writeNPY(dir, "c.npy", grid: fileGrid, cubic),
                                 domain: [(-1, 1), (0, 2), (-1, 0.5)])
        let v = try cubicLoss.sample(on: target)
        for flat in 0..<target.count {
            // Round-off: the Lagrange weights sum 64 products of values O(10).
            #expect(abs(v[flat] - cubic(target.point(flat))) < 1e-13)
        }
        let quadraticLoss = try Loss(contentsOf: try Self.writeNPY(dir, "q.npy", grid: fileGrid, quadratic),
                                     domain: [(-1, 1), (0, 2), (-1, 0.5)])
        let (_, gradient) = try quadraticLoss.sampleWithGradient(on: target)
        for flat in 0..<target.count {
            let exact = quadraticGradient(target.point(flat))
            for k in 0..<3 { #expect(abs(gradient[k][flat] - exact[k]) < 1e-12) }
        }
        #expect(abs(quadraticLoss.value(at: [0.3, 0.7, -0.2]) - quadratic([0.3, 0.7, -0.2])) < 1e-13)
        #expect(quadraticLoss.value(at: [1.2, 0.7, -0.2]).isNaN)
        #expect(quadraticLoss.secondDerivative1D(at: 0) == nil)
    }

    /// Observed orders `log2(e(h) / e(h/2))` over three refinements.
    static func orders(_ errors: [Double]) -> [Double] {
        (1..<errors.count).map { log2(errors[$0 - 1] / errors[$0]) }
    }

    @Test("off-node sampling converges at O(h^4); nodal derivatives at O(h^4) inside and O(h^2) at the edges")
    func sampledConvergenceOrders() throws {
        let dir = try TemporaryDirectory()
        let f: @Sendable ([Double]) -> Double = { sin(2 * $0[0]) + 0.5 * cos(3 * $0[0]) }
        let fp: (Double) -> Double = { 2 * cos(2 * $0) - 1.5 * sin(3 * $0) }
        let fpp: (Double) -> Double = { -4 * sin(2 * $0) - 4.5 * cos(3 * $0) }
        var valueErrors: [Double] = [], interiorGradient: [Double] = [], gradient: [Double] = []
        var interiorSecond: [Double] = [], second: [Double] = []
        for n in [41, 81, 161, 321] {
            let fileGrid = try Grid(domain: [(0, 2)], counts: [n])
            let loss = try Loss(contentsOf: try Self.writeNPY(dir, "s\(n).npy", grid: fileGrid, f), domain: [(0, 2)])
            // The midpoints of the file's intervals: the same relative position at every level.
            let h = fileGrid.spacing[0]
            let target = try Grid(domain: [(h / 2, 2 - h / 2)], counts: [n - 1])
            let sampled = try loss.sample(on: target)
            valueErrors.append((0..<target.count).map { abs(sampled[$0] - f(target.point($0))) }.max()!)
            let (_, g) = try loss.sampleWithGradient(on: fileGrid)
            let xs = fileGrid.axes[0].coordinates
            let gErrors = xs.indices.map { abs(g[0][$0] - fp(xs[$0])) }
            let sErrors = xs.indices.map { abs(loss.secondDerivative1D(at: xs[$0])! - fpp(xs[$0])) }
            gradient.append(gErrors.max()!)
            interiorGradient.append(gErrors[2..<(n - 2)].max()!)
            second.append(sErrors.max()!)
            interiorSecond.append(sErrors[2..<(n - 2)].max()!)
        }
        // Bands: the theory gives 4 and 2 asymptotically; +-0.3 covers the pre-asymptotic
        // drift of the coarsest level (41 nodes, h = 0.05), where the next error term of the
        // one-sided edge stencil (h^3 f''''/4 against h^2 f'''/3, |f''''| up to 48) still shows.
        for (name, errors, order) in [("values off the nodes", valueErrors, 4.0), ("gradient inside", interiorGradient, 4.0),
                                      ("gradient with edges", gradient, 2.0), ("f'' inside", interiorSecond, 4.0),
                                      ("f'' with edges", second, 2.0)] {
            for p in Self.orders(errors) {
                #expect(abs(p - order) < 0.3, "\(name): orders \(Self.orders(errors)) errors \(errors)")
            }
        }
    }

    @Test("a sampled loss refuses points outside its domain and says what to do instead")
    func outsideDomain() throws {
        let dir = try TemporaryDirectory()
        let fileGrid = try Grid(domain: [(-1, 1)], counts: [21])
        let loss = try Loss(contentsOf: try Self.writeNPY(dir, "f.npy", grid: fileGrid) { $0[0] * $0[0] }, domain: [(-1, 1)])
        let padded = fileGrid.padded(cells: [3]).grid
        do {
            _ = try loss.sample(on: padded)
            Issue.record("sampled outside the domain")
        } catch let RelaxError.unsupported(message) {
            #expect(message.contains("known only on its domain -1.0:1.0"), "\(message)")
            #expect(message.contains("smaller window") && message.contains("non-free boundary"))
        }
        // The same window with another lattice is interpolated; a 2-D grid ignores y.
        let plane = try Grid(domain: [(-1, 1), (0, 5)], counts: [7, 3])
        let (v, g) = try loss.sampleWithGradient(on: plane)
        #expect(abs(v[6, 2] - 1) < 1e-15 && abs(g[0][6, 2] - 2) < 1e-12 && g[1].values.allSatisfy { $0 == 0 })
    }

    @Test("CSV files: x,f columns with a header or a 2-D table of values")
    func csvFiles() throws {
        let dir = try TemporaryDirectory()
        let xs = (0..<9).map { -2 + 0.5 * Double($0) }
        let text = "# written by hand\nx,f\n" + xs.map { "\($0), \($0 * $0 / 2)" }.joined(separator: "\r\n") + "\n\n"
        try AtomicFile.write(Array(text.utf8), to: dir.file("q.csv"))
        let loss = try Loss(contentsOf: dir.file("q.csv"))
        #expect(loss.dimension == 1)
        let grid = try Grid(domain: [(-2, 2)], counts: [9])
        #expect(try loss.sample(on: grid).values == xs.map { $0 * $0 / 2 })
        _ = try Loss(contentsOf: dir.file("q.csv"), domain: [(-2, 2)])
        #expect(throws: RelaxError.self) { try Loss(contentsOf: dir.file("q.csv"), domain: [(-3, 2)]) }

        // A table F[i, j] = f(x_i, y_j) as np.savetxt writes it (space separated).
        let table = (0..<5).map { i in (0..<6).map { j in String(Double(i) - 0.1 * Double(j)) }.joined(separator: " ") }
        try AtomicFile.write(Array(table.joined(separator: "\n").utf8), to: dir.file("t.csv"))
        let surface = try Loss(contentsOf: dir.file("t.csv"), domain: [(0, 4), (0, 0.5)])
        #expect(surface.dimension == 2)
        #expect(surface.value(at: [3, 0.2]) == 3 - 0.2)
        #expect(throws: RelaxError.self) { try Loss(contentsOf: dir.file("t.csv")) }
    }

    @Test("malformed sampled files name the line and column, or what is missing")
    func malformedFiles() throws {
        let dir = try TemporaryDirectory()
        let good = (0..<6).map { "\(Double($0) * 0.25),\(Double($0))" }
        let cases: [(String, String)] = [
            ("x,f\n" + good[0...2].joined(separator: "\n") + "\n0.75,abc\n" + good[4...5].joined(separator: "\n"), "line 5, column 2: 'abc' is not a number"),
            (good[0...1].joined(separator: "\n") + "\n0.5,2,7\n" + good[3...5].joined(separator: "\n"), "line 3 has 3 columns but line 1 has 2"),
            (good[0...2].joined(separator: "\n") + "\n0.8,3\n" + good[4...5].joined(separator: "\n"), "line 4, column 1: x = 0.8 breaks the uniform spacing"),
            (good[0...3].joined(separator: "\n"), "4 rows; a 1-D sampled loss needs at least 5"),
            ("1\n2\n3\n4\n5\n", "expected two columns x,f"),
            (good[0...2].joined(separator: "\n") + "\n0.75,nan\n" + good[4...5].joined(separator: "\n"), "line 4, column 2: nan is not finite"),
            ("# nothing\n", "no rows of numbers"),
        ]
        for (text, fragment) in cases {
            try AtomicFile.write(Array(text.utf8), to: dir.file("bad.csv"))
            do {
                _ = try Loss(contentsOf: dir.file("bad.csv"))
                Issue.record("accepted: \(fragment)")
            } catch let RelaxError.format(_, message) {
                #expect(message.contains(fragment), "\(message)")
            }
        }
        let grid = try Grid(domain: [(0, 1), (0, 1)], counts: [5, 5])
        let path = try Self.writeNPY(dir, "g.npy", grid: grid) { $0[0] }
        #expect(throws: RelaxError.self) { try Loss(contentsOf: path) }                       // no domain
        #expect(throws: RelaxError.self) { try Loss(contentsOf: path, domain: [(0, 1)]) }     // one interval for 2 axes
        #expect(throws: RelaxError.self) { try Loss(contentsOf: dir.file("f.txt"), domain: [(0, 1)]) }
        #expect(throws: RelaxError.self) { try Loss(contentsOf: dir.file("missing.npy"), domain: [(0, 1)]) }
        let small = try Self.writeNPY(dir, "small.npy", grid: try Grid(domain: [(0, 1)], counts: [4])) { $0[0] }
        #expect(throws: RelaxError.self) { try Loss(contentsOf: small, domain: [(0, 1)]) }
    }
}
