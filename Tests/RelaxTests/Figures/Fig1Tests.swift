import Foundation
import Testing
@testable import Relax

/// Fig. 1's caption, recomputed from the figure's arrays alone: basins from the local maxima
/// of the sampled `f`, masses by the trapezoid rule, convexity by second differences, and
/// the two smoothed losses checked against brute-force quadrature (not the solvers).
@Suite("Fig. 1: claims (a)-(e) recomputed from the figure's data")
struct Fig1Tests {
    struct Arrays {
        let x, f, uV, uH, uHeat, rho0, sgd, vhj, hj: [Double]
        let h: Double
        let parameters: [String: JSONValue]

        init(_ data: FigureData) throws {
            func get(_ name: String) throws -> [Double] { try #require(data.array(name), "array \(name)").values }
            x = try get("x"); f = try get("f"); uV = try get("u_vhj"); uH = try get("u_hj"); uHeat = try get("u_heat")
            rho0 = try get("rho0"); sgd = try get("rho_sgd"); vhj = try get("rho_vhj"); hj = try get("rho_hj")
            h = x[1] - x[0]
            parameters = data.parameters
        }

        func number(_ key: String) throws -> Double {
            guard case let .number(v)? = parameters[key] else { throw RelaxError.invalidParameter(name: key, value: "missing", expected: "a number in the figure's parameters") }
            return v
        }
    }

    /// Interior nodes where `v` is a strict local minimum / maximum.
    static func localMinima(_ v: [Double]) -> [Int] { (1..<(v.count - 1)).filter { v[$0] < v[$0 - 1] && v[$0] < v[$0 + 1] } }
    static func localMaxima(_ v: [Double]) -> [Int] { (1..<(v.count - 1)).filter { v[$0] > v[$0 - 1] && v[$0] > v[$0 + 1] } }

    /// The node range of the basin of the minimum at node `m`: between the neighbouring
    /// maxima of f (or the ends).
    static func basin(_ m: Int, maxima: [Int], count: Int) -> ClosedRange<Int> {
        (maxima.last { $0 < m } ?? 0)...(maxima.first { $0 > m } ?? count - 1)
    }

    /// Trapezoid rule over the nodes of `range`.
    static func mass(_ rho: [Double], _ range: ClosedRange<Int>, h: Double) -> Double {
        guard range.count > 1 else { return 0 }
        return h * (range.reduce(0) { $0 + rho[$1] } - (rho[range.lowerBound] + rho[range.upperBound]) / 2)
    }

    static func secondDifferences(_ v: [Double], h: Double) -> [Double] {
        (1..<(v.count - 1)).map { (v[$0 + 1] - 2 * v[$0] + v[$0 - 1]) / (h * h) }
    }

    /// Brute-force Cole–Hopf and Hopf–Lax at the nodes `x`: sums / minima over a fine
    /// quadrature grid `y` (spacing 0.002 on [-14, 14], 40 points per width of the narrowest
    /// well; the Gaussian factor makes the trapezoid sum spectrally accurate).
    static func bruteForce(_ loss: Loss, x: [Double], t: Double, beta: Double) -> (viscous: [Double], inviscid: [Double]) {
        let dy = 0.002
        let ys = (0...14000).map { -14 + dy * Double($0) }
        let fy = ys.map { loss.value(at: [$0]) }
        var viscous = [Double](repeating: 0, count: x.count), inviscid = viscous
        let norm = log(dy / sqrt(2 * Double.pi * t / beta))
        for (i, xi) in x.enumerated() {
            var top = -Double.infinity
            var costs = [Double](repeating: 0, count: ys.count)
            for j in ys.indices {
                costs[j] = fy[j] + (xi - ys[j]) * (xi - ys[j]) / (2 * t)
                top = max(top, -beta * costs[j])
            }
            let sum = costs.reduce(0) { $0 + exp(-beta * $1 - top) }
            viscous[i] = -(top + log(sum) + norm) / beta
            inviscid[i] = -top / beta
        }
        return (viscous, inviscid)
    }

    @Test("claims (a)-(e) hold, recomputed independently, and every claim the figure records holds")
    func claims() throws {
        let data = try Fig1.make()
        #expect(data.allClaimsHold, "\(data.claims.filter { !$0.holds })")
        #expect(Set(data.claims.map(\.id)) == ["a", "b", "c", "d", "e"])
        let a = try Arrays(data)
        let n = a.x.count
        let (t, beta) = (try a.number("gamma"), try a.number("beta"))

        // The arrays against brute force: value errors eps of the smoothed losses.
        let loss = try Loss(preset: "rugged-1d")
        let brute = Self.bruteForce(loss, x: a.x, t: t, beta: beta)
        let epsV = zip(a.uV, brute.viscous).map { abs($0 - $1) }.max()!
        // Brute-force Hopf–Lax over a grid of spacing dy errs by at most (sup f'' + 1/t) dy^2/8.
        let epsH = zip(a.uH, brute.inviscid).map { abs($0 - $1) }.max()! + (100 + 1 / t) * 0.002 * 0.002 / 8
        #expect(epsV < 1e-9, "Cole–Hopf vs brute force: \(epsV)")
        #expect(epsH < 1e-4, "Hopf–Lax vs brute force: \(epsH)")
        // Densities have unit mass (trapezoid).
        for rho in [a.rho0, a.sgd, a.vhj, a.hj] { #expect(abs(Self.mass(rho, 0...(n - 1), h: a.h) - 1) < 1e-12) }

        let minima = Self.localMinima(a.f), maxima = Self.localMaxima(a.f)
        let global = minima.min { a.f[$0] < a.f[$1] }!
        let globalBasin = Self.basin(global, maxima: maxima, count: n)
        let osc = a.f.max()! - a.f.min()!

        // (a) u_vHJ convex: min second difference above the truncation term (estimated from
        // the fourth differences: h^2/12 max|u''''|, plus h max|u'''| between nodes) and the
        // value error's reach 4 eps/h^2; minimizer in the global basin.
        let d2V = Self.secondDifferences(a.uV, h: a.h)
        var d3 = 0.0, d4 = 0.0
        for i in 2..<(n - 2) {
            let (m2, m1, c, p1, p2) = (a.uV[i - 2], a.uV[i - 1], a.uV[i], a.uV[i + 1], a.uV[i + 2])
            let third: Double = (p2 - 2 * p1 + 2 * m1 - m2) / (2 * a.h * a.h * a.h)
            let fourth: Double = (p2 - 4 * p1 + 6 * c - 4 * m1 + m2) / (a.h * a.h * a.h * a.h)
            d3 = max(d3, abs(third))
            d4 = max(d4, abs(fourth))
        }
        let tolA = a.h * d3 + a.h * a.h / 12 * d4 + 4 * epsV / (a.h * a.h)
        #expect(d2V.min()! > tolA, "min u_vhj'' \(d2V.min()!) vs \(tolA)")
        let argminV = a.uV.indices.min { a.uV[$0] < a.uV[$1] }!
        #expect(globalBasin.contains(argminV))
        #expect(d2V.min()! > 0.05, "the convexity margin the notebook quotes")

        // (b) SGD keeps >= half its mass in the (non-global) start basin.
        let startX = try a.number("start")
        let start = minima.min { abs(a.x[$0] - startX) < abs(a.x[$1] - startX) }!
        #expect(start != global)
        let startBasin = Self.basin(start, maxima: maxima, count: n)
        #expect(Self.mass(a.rho0, startBasin, h: a.h) > 0.99, "rho0 starts in the start basin")
        #expect(Self.mass(a.sgd, startBasin, h: a.h) >= 0.5)

        // (c) viscous HJ: >= 80% in the global basin.
        #expect(Self.mass(a.vhj, globalBasin, h: a.h) >= 0.8)

        // (d) u_HJ not convex (a convex function has every second difference >= 0, up to the
        // value error's 4 eps/h^2); >= half the HJ density in one non-global basin within 10%
        // of osc f of the global minimum.
        let d2H = Self.secondDifferences(a.uH, h: a.h)
        #expect(d2H.min()! < -4 * epsH / (a.h * a.h), "min u_hj'' \(d2H.min()!)")
        let hjMasses = minima.map { Self.mass(a.hj, Self.basin($0, maxima: maxima, count: n), h: a.h) }
        let target = minima[hjMasses.indices.max { hjMasses[$0] < hjMasses[$1] }!]
        #expect(hjMasses.max()! >= 0.5)
        #expect(target != global)
        #expect((a.f[target] - a.f[global]) / osc <= 0.1)
        #expect(abs(a.x[target] + 1) < 0.01, "the narrow well at -1")

        // (e) HJ keeps the narrow minimum (value and node; u <= f, and u(x*) >= f(x*) - f'' h^2/8
        // at the node nearest the true minimum), its convex interval widens, maxima drop.
        let minimaH = Self.localMinima(a.uH)
        #expect(minimaH.contains { abs($0 - target) <= 1 })
        #expect(abs(a.uH[target] - a.f[target]) <= 100 * a.h * a.h / 8 + epsH)
        #expect(zip(a.uH, a.f).allSatisfy { $0 <= $1 + epsH }, "Hopf–Lax lies below f")
        func convexInterval(_ v: [Double], around m: Int) -> ClosedRange<Int> {
            let d2 = Self.secondDifferences(v, h: a.h)  // d2[i - 1] is at node i
            var lo = m, hi = m
            while lo > 1 && d2[lo - 2] >= 0 { lo -= 1 }
            while hi < n - 2 && d2[hi] >= 0 { hi += 1 }
            return lo...hi
        }
        let before = convexInterval(a.f, around: target), after = convexInterval(a.uH, around: target)
        #expect(after.lowerBound <= before.lowerBound && after.upperBound >= before.upperBound)
        #expect(after.count > 3 * before.count, "\(before) -> \(after)")
        for m in maxima { #expect(a.uH[m] < a.f[m] - 0.1, "maximum at \(a.x[m]): \(a.f[m]) -> \(a.uH[m])") }
    }

    /// The claims follow from mechanisms (metastability, local entropy's Gaussian averaging,
    /// Hopf–Lax keeping deep narrow wells), not from tuning: each holds when any one
    /// parameter moves by 25% either way (margins then: SGD mass >= 0.84, viscous-HJ mass
    /// >= 0.89, HJ basin mass >= 0.86, min u_vhj'' >= 0.05).
    @Test("Fig. 1's claims hold when each of gamma, beta, beta_FP, the horizon and the start width moves by 25%")
    func robustness() throws {
        let changes: [(String, WritableKeyPath<Fig1.Parameters, Double>)] = [
            ("gamma", \.gamma), ("beta", \.beta), ("beta_fp", \.betaFP), ("horizon", \.horizon), ("start_width", \.startWidth)]
        for (name, key) in changes {
            for scale in [0.75, 1.25] {
                var p = Fig1.Parameters()
                p[keyPath: key] *= scale
                let data = try Fig1.make(p)
                #expect(data.allClaimsHold, "\(name) x \(scale): \(data.claims.filter { !$0.holds }.map(\.id))")
            }
        }
    }

    @Test("the figure records its parameters, panels and arrays")
    func recordsParameters() throws {
        let data = try Fig1.make()
        for key in ["loss", "gamma", "beta", "beta_fp", "horizon", "start", "start_width", "nodes"] {
            #expect(data.parameters[key] != nil, "parameter \(key)")
        }
        #expect(data.panels.count == 2)
        for name in ["x", "f", "u_vhj", "u_hj", "u_heat", "rho0", "rho_sgd", "rho_vhj", "rho_hj"] {
            #expect(data.array(name)?.shape == [1201], "\(name)")
        }
        #expect(try Figures.entry(named: "fig1").name == "fig1")
    }
}
