import Foundation
import Testing
@testable import Relax

/// `relax figure smoothing-2d`: its claims hold, and its data agree with independent
/// computations — brute-force Hopf–Lax and Cole–Hopf sums and a direct heat-kernel sum at
/// sample nodes, minima recounted, Jensen and Lemma 18 re-checked from the arrays.
@Suite("Figure smoothing-2d: claims and data recomputed independently")
struct Smoothing2DFigureTests {
    static let made = Result { try Smoothing2DFigure.make() }
    static let parameters = Smoothing2DFigure.Parameters()

    func figure() throws -> FigureData { try Self.made.get() }

    /// A panel (time index k) of a stacked (times, n, n) array, as a row-major n x n list.
    func panel(_ fig: FigureData, _ name: String, _ k: Int) -> [Double] {
        let a = fig.array(name)!
        let size = a.shape[1] * a.shape[2]
        return Array(a.values[(k * size)..<((k + 1) * size)])
    }

    /// Strict minima over the 8 neighbours, interior nodes: written here again on purpose.
    func minima(_ u: [Double], n: Int) -> [Int] {
        var out: [Int] = []
        for i in 1..<(n - 1) {
            for j in 1..<(n - 1) {
                let c = u[i * n + j]
                var strict = true
                for di in -1...1 { for dj in -1...1 where (di, dj) != (0, 0) { if u[(i + di) * n + j + dj] <= c { strict = false } } }
                if strict { out.append(i * n + j) }
            }
        }
        return out
    }

    @Test("every claim holds (HJ minima nested and kept, min u_HJ = min f, maximum principle, Jensen, Laplace bound, Lemma 18)")
    func claimsHold() throws {
        let fig = try figure()
        #expect(fig.claims.count == 7)
        for c in fig.claims { #expect(c.holds, "\(c.id): \(c.measured)") }
    }

    @Test("local minima recounted from the arrays agree with the figure's minima and counts")
    func minimaRecounted() throws {
        let fig = try figure()
        let n = Self.parameters.nodes
        let f = fig.array("f")!.values
        #expect(minima(f, n: n).count == fig.array("minima_f")!.shape[0])
        for name in ["vhj", "hj", "heat"] {
            let rows = fig.array("minima_\(name)")!.values
            let counts = fig.array("count_\(name)")!.values
            for (k, t) in Self.parameters.panelTimes.enumerated() {
                let found = minima(panel(fig, "u_\(name)", k), n: n).count
                let listed = stride(from: 0, to: rows.count, by: 4).filter { rows[$0] == Double(k) }.count
                #expect(found == listed, "\(name), t = \(t)")
                #expect(Double(found) == counts[Self.parameters.countTimes.firstIndex(of: t)!])
            }
            // Fewer minima at the last panel time than f has, for every equation.
            #expect(minima(panel(fig, "u_\(name)", 2), n: n).count < minima(f, n: n).count)
        }
    }

    @Test("HJ: u equals the brute-force minimum over the lattice of f(y) + |x - y|^2/(2t) at sample nodes, min u = min f")
    func hopfLaxBruteForce() throws {
        let fig = try figure()
        let p = Self.parameters
        let loss = try Loss(preset: p.preset)
        let n = p.nodes
        let h = (p.window.1 - p.window.0) / Double(n - 1)
        let f = fig.array("f")!.values
        let fMin = f.min()!
        for (k, t) in p.panelTimes.enumerated() {
            let u = panel(fig, "u_hj", k)
            #expect(u.min()! == fMin)
            for (i, j) in [(30, 200), (120, 60), (160, 137), (200, 200), (0, 240)] {
                let x = [p.window.0 + Double(i) * h, p.window.0 + Double(j) * h]
                // |x - prox|^2 <= 2 t (f(x) - min f): the search box needs no more.
                let reach = Int(((2 * t * (f[i * n + j] - fMin)).squareRoot() / h).rounded(.up)) + 1
                var best = Double.infinity
                for a in -reach...reach {
                    for b in -reach...reach {
                        let y = [x[0] + Double(a) * h, x[1] + Double(b) * h]
                        best = min(best, loss.value(at: y) + Double(a * a + b * b) * h * h / (2 * t))
                    }
                }
                #expect(abs(u[i * n + j] - best) <= 1e-12, "t = \(t), node (\(i), \(j))")
            }
        }
    }

    @Test("viscous HJ and heat equal direct sums of the Gaussian kernel over the lattice at sample nodes")
    func coleHopfAndHeatSums() throws {
        let fig = try figure()
        let p = Self.parameters
        let loss = try Loss(preset: p.preset)
        let n = p.nodes
        let h = (p.window.1 - p.window.0) / Double(n - 1)
        for (k, t) in p.panelTimes.enumerated() {
            let s = t / p.beta
            let uVHJ = panel(fig, "u_vhj", k), uHeat = panel(fig, "u_heat", k)
            // Sources beyond 12 kernel widths plus the prox reach of this loss (< 3.5 here) weigh < e^-70.
            let reach = Int(((12 * s.squareRoot() + 3.5) / h).rounded(.up))
            for (i, j) in [(30, 200), (120, 60), (160, 137), (200, 200)] {
                let x = [p.window.0 + Double(i) * h, p.window.0 + Double(j) * h]
                var exponents: [Double] = [], heat = 0.0
                for a in -reach...reach {
                    for b in -reach...reach {
                        let r2 = Double(a * a + b * b) * h * h
                        let fy = loss.value(at: [x[0] + Double(a) * h, x[1] + Double(b) * h])
                        let logKernel = -r2 / (2 * s) - log(2 * Double.pi * s) + 2 * log(h)
                        exponents.append(logKernel - p.beta * fy)
                        if r2 <= 144 * s { heat += exp(logKernel) * fy }
                    }
                }
                let top = exponents.max()!
                let u = -(top + log(exponents.reduce(0) { $0 + exp($1 - top) })) / p.beta
                #expect(abs(uVHJ[i * n + j] - u) <= 1e-10, "viscous HJ, t = \(t), node (\(i), \(j))")
                #expect(abs(uHeat[i * n + j] - heat) <= 1e-9, "heat, t = \(t), node (\(i), \(j))")
            }
        }
    }

    @Test("Jensen (u_vHJ <= u_heat) and Lemma 18 (sup Lap u_vHJ <= 1/(1/C_Lap + t/2)) re-checked from the arrays")
    func jensenAndLemma18() throws {
        let fig = try figure()
        let p = Self.parameters
        let n = p.nodes
        let h = (p.window.1 - p.window.0) / Double(n - 1)
        guard case let .number(cLap)? = fig.parameters["C_laplacian"] else { Issue.record("C_laplacian missing"); return }
        for (k, t) in p.panelTimes.enumerated() {
            let v = panel(fig, "u_vhj", k), heat = panel(fig, "u_heat", k)
            #expect(zip(v, heat).allSatisfy { $0 <= $1 + 1e-9 })
            var sup = -Double.infinity
            for i in 1..<(n - 1) {
                for j in 1..<(n - 1) {
                    let c = i * n + j
                    sup = max(sup, (v[c + n] + v[c - n] + v[c + 1] + v[c - 1] - 4 * v[c]) / (h * h))
                }
            }
            // The measured ratio stays below 0.96 (run.json): a 4% margin over the O(h^2) error of the stencil.
            #expect(sup <= 1 / (1 / cLap + t / 2), "t = \(t): sup Lap = \(sup)")
        }
    }
}
