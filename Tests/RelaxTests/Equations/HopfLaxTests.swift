import Foundation
import Testing
@testable import Relax

/// A small deterministic generator (SplitMix64), so random tests repeat exactly.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform() -> Double { Double(next() >> 11) * 0x1p-53 }
    mutating func integer(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}

@Suite("Hopf–Lax (Lemma 2): exact discrete inf-convolution, prox, free space")
struct HopfLaxTests {
    // MARK: discrete transform vs the O(N^2) oracle

    /// The envelope returns `f[j*] + a*d*d` for its chosen j*, computed in the oracle's order,
    /// so values agree to rounding of near-ties; with distinct minima the prox agrees exactly.
    static func expectMatchesOracle(_ f: Field, time t: Double, exactTies: Bool) throws {
        let fast = try HopfLax.infConvolution(f, time: t)
        let slow = HopfLax.bruteForce(f, time: t)
        let scale = max(1, f.norm(.max))
        #expect(fast.value.distance(to: slow.value, .max) <= 1e-14 * scale)
        var differing = 0
        for k in 0..<f.grid.dimension where fast.proxIndex[k] != slow.proxIndex[k] { differing += 1 }
        if exactTies {
            // Dyadic data: every cost is exact, ties are real, and both apply the same rule.
            #expect(differing == 0)
            #expect(fast.value.values == slow.value.values)
        } else {
            // Any disagreement must be a near-tie: the fast prox is a minimiser to rounding.
            for flat in 0..<f.grid.count {
                let i = f.grid.multiIndex(flat)
                let j = (0..<f.grid.dimension).map { Int(fast.proxIndex[$0][flat]) }
                var cost = f.values[f.grid.flatIndex(j.enumerated().map { k, v in
                    let n = f.grid.shape[k]; return ((v % n) + n) % n })]
                for k in 0..<f.grid.dimension {
                    let dk = f.grid.spacing[k] * Double(i[k] - j[k])
                    cost += dk * dk / (2 * t)
                }
                #expect(abs(cost - slow.value[flat]) <= 1e-13 * scale)
            }
        }
        if exactTies {
            for k in 0..<f.grid.dimension { #expect(fast.prox[k].values == slow.prox[k].values) }
        }
    }

    @Test("discrete transform equals the brute-force oracle: random and rugged losses, 1-D and 2-D",
          arguments: [Boundary.neumann, .periodic])
    func oracleRandom(boundary: Boundary) throws {
        var rng = SplitMix64(seed: 7)
        for shape in [[257], [64], [23, 19], [16, 24]] {
            let grid = try Grid(domain: shape.map { _ in (-1.0, 1.0) }, counts: shape, boundary: boundary)
            let random = Field(grid: grid, values: (0..<grid.count).map { _ in 2 * rng.uniform() - 1 })
            let rugged = Field(grid: grid) { p in p.reduce(0) { $0 + sin(37 * $1) + 0.3 * $1 * $1 } }
            for t in [0.002, 0.05, 1.3] {
                try Self.expectMatchesOracle(random, time: t, exactTies: false)
                try Self.expectMatchesOracle(rugged, time: t, exactTies: false)
            }
        }
    }

    @Test("prox ties resolved like the oracle (smallest row-major node), exact dyadic data",
          arguments: [Boundary.neumann, .periodic])
    func oracleTies(boundary: Boundary) throws {
        // h = 1 and t = 1/2 make every cost an integer: many exact ties, all exactly computed.
        var rng = SplitMix64(seed: 11)
        for shape in [[40], [41], [12, 9], [8, 10], [5, 6, 4]] {
            let domain = shape.map { n in (0.0, Double(boundary == .periodic ? n : n - 1)) }
            let grid = try Grid(domain: domain, counts: shape, boundary: boundary)
            let f = Field(grid: grid, values: (0..<grid.count).map { _ in Double(rng.integer(4)) })
            for t in [0.5, 2.0, 8.0] {
                try Self.expectMatchesOracle(f, time: t, exactTies: true)
            }
        }
    }

    /// `LowerEnvelope.transform(parts:)` on one line, against the single envelope (`parts: 1`).
    static func splitAndWhole(_ f: [Double], a: Double, offset: Int, parts: Int)
        -> (split: ([Double], [Int32]), whole: ([Double], [Int32])) {
        let n = f.count
        func run(_ parts: Int) -> ([Double], [Int32]) {
            var out = [Double](repeating: 0, count: n), arg = [Int32](repeating: 0, count: n)
            f.withUnsafeBufferPointer { fb in
                LowerEnvelope.transform(fb.baseAddress!, count: n, offset: offset, a: a, queries: n,
                                        out: &out, argmin: &arg, parts: parts)
            }
            return (out, arg)
        }
        return (run(parts), run(1))
    }

    /// The source sums' envelope (`LogGaussianPass.shifts`): `sign: -1` and the three-point
    /// candidates must change nothing, exact ties included, and the run starts must be exactly
    /// where the prox index changes.
    @Test("upper envelope by sign -1 and three-point candidates: the negated full envelope bit for bit, ties included; run starts where prox changes")
    func upperEnvelopeCandidatesAndRuns() {
        var rng = SplitMix64(seed: 23)
        // Integer data with c = 1/2 (every cost exact, many exact ties), then random data.
        let lines: [([Double], Double)] = [
            ((0..<700).map { _ in Double(rng.integer(30)) }, 0.5),
            ((0..<700).map { _ in Double(rng.integer(3)) }, 0.5),
            ((0..<900).map { _ in 4000 * (rng.uniform() - 0.5) }, 0.094),
            ((0..<900).map { j in 300 * sin(0.37 * Double(j)) + 20 * rng.uniform() }, 2.5),
            // Dips just inside (-0.49: the dip's own query keeps it) and just outside (-0.51) the
            // three-point test a_(j-1) - 2 a_j + a_(j+1) < 2c = 1.
            ((0..<300).map { j in j % 5 == 2 ? -0.49 : j % 5 == 4 ? -0.51 : 0 }, 0.5),
        ]
        for (a, c) in lines {
            let count = a.count
            for (offset, outputs) in [(0, count), (37, count - 74), (0, 1)] {
                // Reference: the lower envelope of -a, negated.
                var reference = [Double](repeating: 0, count: outputs), referenceProx = [Int32](repeating: 0, count: outputs)
                let negated = a.map { -$0 }
                negated.withUnsafeBufferPointer { f in
                    var v = [Int32](repeating: 0, count: count), z = [Double](repeating: 0, count: count + 1)
                    LowerEnvelope.transform(f.baseAddress!, count: count, offset: -offset, a: c, queries: outputs,
                                            out: &reference, argmin: &referenceProx, vertices: &v, crossings: &z)
                }
                reference = reference.map { -$0 }
                var m = [Double](repeating: 0, count: outputs), prox = [Int32](repeating: 0, count: outputs)
                var starts = [Int32](repeating: -1, count: outputs + 1)
                var z = [Double](repeating: 0, count: count + 1)
                var v = [Int32](repeating: 0, count: count), candidates = [Int32](repeating: 0, count: count)
                let runs = a.withUnsafeBufferPointer { ab in
                    LogGaussianPass.shifts(ab.baseAddress!, count: count, offset: offset, coefficient: c, outputs: outputs,
                                           m: &m, prox: &prox, vertices: &v, crossings: &z,
                                           candidates: &candidates, runStarts: &starts)
                }
                #expect(m == reference && prox == referenceProx)
                let changes = [0] + (1..<outputs).filter { prox[$0] != prox[$0 - 1] } + [outputs]
                #expect(runs == changes.count - 1 && Array(starts[0...runs]) == changes.map { Int32($0) })
            }
        }
    }

    /// The smallest minimizer is monotone in the query, so ranges of queries need only the
    /// sources between their boundaries' minimizers: splitting changes nothing, ties included.
    @Test("a long line split over query ranges (1-D on several cores) gives the single envelope's values and prox")
    func splitLine() throws {
        var rng = SplitMix64(seed: 19)
        for parts in [2, 3, 7] {
            // Integer data with a = 1/2: every cost exact, many exact ties.
            let ties = (0..<3001).map { _ in Double(rng.integer(40)) }
            for a in [0.5, 0.03125] {
                let (split, whole) = Self.splitAndWhole(ties, a: a, offset: 0, parts: parts)
                #expect(split.0 == whole.0 && split.1 == whole.1)
            }
            let random = (0..<2999).map { _ in 2 * rng.uniform() - 1 }
            let (split, whole) = Self.splitAndWhole(random, a: 1e-4, offset: -5, parts: parts)
            #expect(split.0 == whole.0 && split.1 == whole.1)
        }
        // Through the public transform on a 1-D grid long enough to be split.
        let grid = try Grid(domain: [(-3, 3)], counts: [LowerEnvelope.splitLength + 1001], boundary: .neumann)
        let f = Field(grid: grid) { p in sin(37 * p[0]) + 0.3 * p[0] * p[0] }
        let t = 0.4, h = grid.spacing[0]
        let fast = try HopfLax.infConvolution(f, time: t)
        let (_, whole) = Self.splitAndWhole(f.values, a: h * h / (2 * t), offset: 0, parts: 2)
        #expect(fast.value.values == whole.0 && fast.proxIndex[0] == whole.1)
        // A periodic line: the split runs on the line extended by its images.
        let periodic = try Grid(domain: [(-3, 3)], counts: [LowerEnvelope.splitLength + 1000], boundary: .periodic)
        let g = Field(grid: periodic) { p in sin(37 * p[0]) + 0.3 * (1 - cos(p[0] * Double.pi / 3)) }
        let periodicFast = try HopfLax.infConvolution(g, time: t)
        let n = periodic.count, hp = periodic.spacing[0]
        for i in stride(from: 5, to: n, by: 1657) {
            // Brute force over every node at its nearest periodic distance.
            var least = Double.infinity
            for j in 0..<n {
                let d = hp * Double(min(abs(i - j), n - abs(i - j)))
                least = min(least, g.values[j] + d * d / (2 * t))
            }
            #expect(abs(periodicFast.value.values[i] - least) <= 1e-14 * max(1, g.norm(.max)), "node \(i)")
        }
    }

    @Test("3-D transform equals the oracle")
    func oracle3D() throws {
        var rng = SplitMix64(seed: 3)
        for boundary in [Boundary.free, .periodic] {
            let grid = try Grid(domain: [(-1, 1), (0, 1), (-2, 0)], counts: [7, 6, 5], boundary: boundary)
            let f = Field(grid: grid, values: (0..<grid.count).map { _ in rng.uniform() })
            try Self.expectMatchesOracle(f, time: 0.07, exactTies: false)
        }
    }

    // MARK: Example 13 (inviscid): c|x|^2/2 -> |x|^2 / (2 (t + 1/c))

    @Test("Example 13, inviscid, d = 1, 2, 3: discrete within its O(h^2) bound, refined exact for quadratics",
          arguments: [1, 2, 3])
    func example13(d: Int) throws {
        let c = 3.0, t = 0.4
        let n = [81, 41, 17][d - 1]
        let grid = try Grid(domain: [(Double, Double)](repeating: (-1, 1.5), count: d),
                            counts: [Int](repeating: n, count: d), boundary: .free)
        let loss = Loss(name: "c|x|^2/2", dimension: d, value: { p in c * p.reduce(0) { $0 + $1 * $1 } / 2 })
        let exact = Field(grid: grid) { p in p.reduce(0) { $0 + $1 * $1 } / (2 * (t + 1 / c)) }
        // Discrete: the nearest node to the minimiser is within h/2 per axis, and the
        // objective's Hessian is (c + 1/t) I, so 0 <= u_h - u <= d (c + 1/t) h^2 / 8.
        let h = grid.spacing[0]
        let discrete = try HopfLax.infConvolution(loss: loss, grid: grid, times: [t], refinement: .none).solutions[0]
        let err = discrete.value - exact
        #expect(err.minimum >= -1e-13)
        #expect(err.maximum <= Double(d) * (c + 1 / t) * h * h / 8 + 1e-13)
        // Refined by the grid model: central differences are exact on quadratics, so one Newton
        // step lands on the minimiser: value and prox = x / (1 + c t) to rounding.
        let refined = try HopfLax.infConvolution(loss: loss, grid: grid, times: [t], refinement: .gridModel).solutions[0]
        #expect(refined.value.distance(to: exact, .max) < 1e-12)
        for k in 0..<d {
            let proxExact = Field(grid: grid) { p in p[k] / (1 + c * t) }
            #expect(refined.prox[k].distance(to: proxExact, .max) < 1e-12)
            let gradExact = Field(grid: grid) { p in p[k] / (t + 1 / c) }
            #expect(refined.gradient[k].distance(to: gradExact, .max) < 1e-10)
        }
    }

    // MARK: whole space, window, periodic

    @Test("free space pads by the prox reach: f(x) = x has u = x - t/2, prox = x - t; Neumann warns")
    func freeSpaceLinear() throws {
        let t = 0.3
        let grid = try Grid(domain: [(0, 1)], counts: [101], boundary: .free)
        let loss = Loss(name: "x", dimension: 1, value: { $0[0] }, gradient: { _ in [1] })
        let run = try HopfLax.infConvolution(loss: loss, grid: grid, times: [t, t / 3])
        #expect(run.report.warnings.isEmpty)
        #expect(run.solutions.count == 2)
        #expect(run.f.grid == grid)
        for s in run.solutions {
            let exact = Field(grid: grid) { $0[0] - s.time / 2 }
            #expect(s.value.grid == grid)
            #expect(s.value.distance(to: exact, .max) < 1e-12)
            #expect(s.prox[0].distance(to: Field(grid: grid) { $0[0] - s.time }, .max) < 1e-12)
        }
        let window = try HopfLax.infConvolution(loss: loss, grid: grid.with(boundary: .neumann), times: [t])
        #expect(window.report.warnings.count == 1)
        #expect(window.report.warnings[0].contains("pinned"))
        // On the window the prox of x < t is the edge node 0: u = x^2 / (2t) there.
        #expect(abs(window.solutions[0].value[10] - 0.01 / (2 * t)) < 1e-14)
    }

    @Test("periodic distance: sin(x) on the circle equals the whole-space value (same period)")
    func periodicMatchesWholeSpace() throws {
        let t = 1.7   // after kinks form (t* = 1): the prox jumps, still one period suffices
        let n = 128
        let periodic = try Grid(domain: [(0, 2 * Double.pi)], counts: [n], boundary: .periodic)
        let h = periodic.spacing[0]
        let free = try Grid(domain: [(0, 2 * Double.pi - h)], counts: [n], boundary: .free)
        let loss = Loss(name: "sin x", dimension: 1, value: { sin($0[0]) }, gradient: { [cos($0[0])] })
        let a = try HopfLax.infConvolution(loss: loss, grid: periodic, times: [t], refinement: .none).solutions[0]
        let b = try HopfLax.infConvolution(loss: loss, grid: free, times: [t], refinement: .none).solutions[0]
        #expect(a.value.values.count == b.value.values.count)
        #expect(zip(a.value.values, b.value.values).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(zip(a.prox[0].values, b.prox[0].values).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test("bad input: t <= 0, non-finite loss (names the point), Dirichlet refused")
    func badInput() throws {
        let grid = try Grid(domain: [(-1, 1)], counts: [11])
        let loss = Loss(name: "1/x", dimension: 1, value: { 1 / $0[0] })
        #expect(throws: RelaxError.invalidParameter(name: "t", value: "0.0", expected: "a finite time t > 0")) {
            try HopfLax.infConvolution(Field(grid: grid), time: 0)
        }
        do {
            _ = try HopfLax.infConvolution(loss: loss, grid: grid.with(boundary: .neumann), times: [1])
            Issue.record("expected a non-finite error")
        } catch let RelaxError.nonFinite(_, index, point, _) {
            #expect(index == [5] && point == [0])
        }
        let dirichlet = try Grid(domain: [(-1, 1)], counts: [11], boundary: .dirichlet(0))
        #expect(throws: RelaxError.self) {
            try HopfLax.infConvolution(loss: Loss(name: "x", dimension: 1, value: { $0[0] }), grid: dirichlet, times: [1])
        }
    }
}
