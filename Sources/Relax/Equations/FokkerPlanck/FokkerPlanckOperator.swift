import Foundation

/// The finite-volume Fokker–Planck operator `-div(b rho) + div(D grad rho)` on a node grid,
/// stored as families of independent birth–death chains, one family per lattice offset.
///
/// Control volumes: grid nodes are the control-volume centres. On a no-flux axis the end
/// nodes own half cells (the node grid includes both ends), so a node's measure is
/// `h^d prod_k w_k` with `w_k = 1/2` at the ends of axis k and 1 elsewhere; integrals are
/// the trapezoid rule. Periodic axes have full cells.
///
/// Fluxes: `D` is split by `LatticeDecomposition` into `sum_e gamma_e s_e s_e^T` with
/// physical steps `s_e = H e`. Along every edge `x -> x + s_e` the flux is the
/// Scharfetter–Gummel (exponentially fitted) flux
/// `F = gamma_e [ B(-P) rho(x) - B(P) rho(x + s_e) ]`, `B(z) = z / (e^z - 1)`, with Péclet
/// number `P = s_e . D^-1 b` at the edge midpoint, or `P = -(V(x + s_e) - V(x)) / D_kk` for
/// a potential drift `b = -grad V` with diagonal `D`. Then `J ≈ sum_e F_e s_e`. All rates are
/// non-negative, so the semi-discrete operator is a Markov generator for any SPD `D` and any
/// drift; for `b = -grad V`, `D = nu I` every edge flux of `exp(-V / nu)` vanishes: the
/// discrete Gibbs density is an exact stationary state. The edge measure is the product of
/// the half-weights of the axes the edge runs along the boundary (`e_k = 0`); this makes the
/// no-flux closure consistent (`n . J = 0` to leading order) for offsets of one cell.
///
/// Chains: the nodes `x, x + s_e, x + 2 s_e, ...` form a path (no-flux) or a cycle
/// (periodic); the family's part of the operator is block diagonal over its chains, each
/// block tridiagonal (plus corners), solved by `MarkovChainSolve` without subtraction.
struct FokkerPlanckOperator: Sendable {
    struct Family: Sendable {
        var offset: [Int]
        /// `gamma_e` in grid-index units (1/time).
        var conductance: Double
        /// The physical step `s_e = H e`.
        var step: [Double]
        var cyclic: Bool
        /// Chain c occupies `chainStarts[c] ..< chainStarts[c + 1]` of the arrays below.
        var chainStarts: [Int]
        var nodes: [Int]
        var weights: [Double]
        var forward: [Double]
        var backward: [Double]
        /// `max_k (outflow rate of node k) / c_k`: the family's stiffness.
        var maxRate: Double
        var longestChain: Int
        var chainCount: Int { chainStarts.count - 1 }
    }

    let grid: Grid
    var families: [Family]
    /// Node measures in units of the cell volume (products of per-axis half weights).
    let nodeWeights: [Double]

    /// Builds the operator. `peclet(family, a, b)` returns `P` for the edge from flat node
    /// `a` to flat node `b = a + s_e` of that family.
    init(grid: Grid, decomposition: LatticeDecomposition, flux: FokkerPlanckFlux = .scharfetterGummel,
         peclet: (_ family: Int, _ offset: [Int], _ step: [Double], _ a: Int, _ b: Int) -> Double) throws {
        self.grid = grid
        let d = grid.dimension
        let periodic = grid.boundary == .periodic
        let shape = grid.shape
        let h = grid.spacing
        func axisWeight(_ k: Int, _ i: Int) -> Double {
            periodic ? 1 : ((i == 0 || i == shape[k] - 1) ? 0.5 : 1)
        }
        nodeWeights = (0..<grid.count).map { flat in
            let idx = grid.multiIndex(flat)
            return (0..<d).reduce(1.0) { $0 * axisWeight($1, idx[$1]) }
        }
        var families: [Family] = []
        for (fi, term) in decomposition.terms.enumerated() {
            let e = term.offset
            let step = (0..<d).map { Double(e[$0]) * h[$0] }
            let chains = Self.chains(grid: grid, offset: e)
            if chains.contains(where: { $0.count < 3 && periodic }) {
                throw RelaxError.unsupported(
                    "the diffusion matrix needs the grid offset \(e), which wraps onto itself on this "
                    + "periodic grid of shape \(shape); use more nodes per axis or a less anisotropic diffusion")
            }
            var starts = [0]
            var nodes: [Int] = []
            var weights: [Double] = []
            var forward: [Double] = []
            var backward: [Double] = []
            var maxRate = 0.0
            var longest = 0
            for chain in chains where chain.count >= 2 {
                let n = chain.count
                longest = max(longest, n)
                for (k, a) in chain.enumerated() {
                    let idx = grid.multiIndex(a)
                    var w = 1.0
                    for j in 0..<d where e[j] != 0 { w *= axisWeight(j, idx[j]) }
                    nodes.append(a)
                    weights.append(w)
                    let hasEdge = k < n - 1 || periodic
                    if hasEdge {
                        let b = chain[(k + 1) % n]
                        let p = peclet(fi, e, step, a, b)
                        guard p.isFinite else {
                            throw RelaxError.nonFinite(what: "Péclet number of the drift on the edge to \(grid.point(b))",
                                                       index: idx, point: grid.point(a), value: p)
                        }
                        forward.append(term.weight * flux.weight(-p))
                        backward.append(term.weight * flux.weight(p))
                    } else {
                        forward.append(0)
                        backward.append(0)
                    }
                }
                // The stiffness of this chain.
                let base = starts.last!
                for k in 0..<n {
                    let km = k == 0 ? n - 1 : k - 1
                    let out = forward[base + k] + backward[base + km]
                    maxRate = max(maxRate, out / weights[base + k])
                }
                starts.append(nodes.count)
            }
            families.append(Family(offset: e, conductance: term.weight, step: step, cyclic: periodic,
                                   chainStarts: starts, nodes: nodes, weights: weights,
                                   forward: forward, backward: backward, maxRate: maxRate,
                                   longestChain: longest))
        }
        self.families = families
    }

    /// The Bernoulli function `B(z) = z / (e^z - 1)`, accurate near 0 and for large |z|.
    static func bernoulli(_ z: Double) -> Double {
        if abs(z) < 1e-4 { return 1 - z / 2 + z * z / 12 }
        if z > 745 { return 0 }
        return z / expm1(z)
    }

    /// The chains (flat node lists) of offset `e`: maximal runs `x, x + e, ...` inside the
    /// grid, or the cycles of `x -> x + e mod shape` on a periodic grid.
    static func chains(grid: Grid, offset e: [Int]) -> [[Int]] {
        let d = grid.dimension
        let shape = grid.shape
        let periodic = grid.boundary == .periodic
        var result: [[Int]] = []
        if periodic {
            var visited = [Bool](repeating: false, count: grid.count)
            for start in 0..<grid.count where !visited[start] {
                var chain: [Int] = []
                var idx = grid.multiIndex(start)
                var flat = start
                while !visited[flat] {
                    visited[flat] = true
                    chain.append(flat)
                    for k in 0..<d { idx[k] = ((idx[k] + e[k]) % shape[k] + shape[k]) % shape[k] }
                    flat = grid.flatIndex(idx)
                }
                result.append(chain)
            }
        } else {
            func inside(_ idx: [Int]) -> Bool { (0..<d).allSatisfy { idx[$0] >= 0 && idx[$0] < shape[$0] } }
            for start in 0..<grid.count {
                let idx0 = grid.multiIndex(start)
                let previous = (0..<d).map { idx0[$0] - e[$0] }
                if inside(previous) { continue }
                var chain: [Int] = []
                var idx = idx0
                while inside(idx) {
                    chain.append(grid.flatIndex(idx))
                    for k in 0..<d { idx[k] += e[k] }
                }
                result.append(chain)
            }
        }
        return result
    }

    /// `max_i sum_e (outflow rate of node i in family e) / c_{e,i}`: the diagonal of the
    /// whole generator. Explicit Euler is positive iff `dt` is at most its inverse.
    var totalMaxRate: Double {
        var total = [Double](repeating: 0, count: grid.count)
        for family in families {
            for chain in 0..<family.chainCount {
                let s = family.chainStarts[chain]
                let n = family.chainStarts[chain + 1] - s
                for k in 0..<n {
                    let km = k == 0 ? n - 1 : k - 1
                    total[family.nodes[s + k]] += (family.forward[s + k] + family.backward[s + km]) / family.weights[s + k]
                }
            }
        }
        return total.max() ?? 0
    }

    // MARK: - Steps

    /// A family's implicit-step matrices `C + tau G` factored once (see
    /// `MarkovChainSolve.factor`), for repeated steps of one size.
    struct Factors: Sendable {
        var tau: Double
        var rp: [Double], ln: [Double], ll: [Double], up: [Double], fp: [Double]
        /// `1 / (last pivot)` per chain.
        var inverseLastPivot: [Double]
    }

    func factor(_ f: Int, tau: Double) -> Factors {
        let family = families[f]
        let count = family.nodes.count
        var rp = [Double](repeating: 0, count: count), ln = rp, ll = rp, up = rp, fp = rp
        var last = [Double](repeating: 0, count: family.chainCount)
        for chain in 0..<family.chainCount {
            let s = family.chainStarts[chain], n = family.chainStarts[chain + 1] - s
            family.weights.withUnsafeBufferPointer { c in
                family.forward.withUnsafeBufferPointer { u in
                    family.backward.withUnsafeBufferPointer { v in
                        rp.withUnsafeMutableBufferPointer { rp in
                            ln.withUnsafeMutableBufferPointer { ln in
                                ll.withUnsafeMutableBufferPointer { ll in
                                    up.withUnsafeMutableBufferPointer { up in
                                        fp.withUnsafeMutableBufferPointer { fp in
                                            last[chain] = MarkovChainSolve.factor(
                                                n: n, tau: tau, weights: c.baseAddress! + s, forward: u.baseAddress! + s,
                                                backward: v.baseAddress! + s, rp: rp.baseAddress! + s, ln: ln.baseAddress! + s,
                                                ll: ll.baseAddress! + s, up: up.baseAddress! + s, fp: fp.baseAddress! + s)
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return Factors(tau: tau, rp: rp, ln: ln, ll: ll, up: up, fp: fp, inverseLastPivot: last)
    }

    /// Solves `(C + tau G) x = y` on one chain (offset `s` into the family arrays), with
    /// `factors` when given (they must be for this `tau`), else by the direct elimination.
    @inline(__always)
    private static func chainSolve(n: Int, s: Int, chain: Int, tau: Double, factors: Factors?,
                                   c: UnsafePointer<Double>, u: UnsafePointer<Double>, v: UnsafePointer<Double>,
                                   _ y: UnsafeMutablePointer<Double>, scratch: UnsafeMutablePointer<Double>) {
        if let factors {
            factors.rp.withUnsafeBufferPointer { rp in
                factors.ln.withUnsafeBufferPointer { ln in
                    factors.ll.withUnsafeBufferPointer { ll in
                        factors.up.withUnsafeBufferPointer { up in
                            factors.fp.withUnsafeBufferPointer { fp in
                                MarkovChainSolve.solveFactored(
                                    n: n, rp: rp.baseAddress! + s, ln: ln.baseAddress! + s, ll: ll.baseAddress! + s,
                                    up: up.baseAddress! + s, fp: fp.baseAddress! + s,
                                    inverseLastPivot: factors.inverseLastPivot[chain], y)
                            }
                        }
                    }
                }
            }
        } else {
            MarkovChainSolve.solve(n: n, tau: tau, weights: c, forward: u, backward: v, y,
                                   pivots: scratch, fill: scratch + n)
        }
    }

    /// One implicit Euler step of length `tau` of family `f`'s part of the operator, in place.
    func implicitStep(_ f: Int, tau: Double, _ rho: inout [Double], factors: Factors? = nil) {
        let family = families[f]
        forEachChain(family, &rho) { chain, s, n, c, u, v, y, scratch in
            for k in 0..<n { y[k] *= c[k] }
            Self.chainSolve(n: n, s: s, chain: chain, tau: tau, factors: factors, c: c, u: u, v: v, y, scratch: scratch)
        }
    }

    /// The two implicit stage lengths of a TR-BDF2 step of length `tau`.
    static func trBDF2Stages(_ tau: Double) -> (trapezoid: Double, bdf2: Double) {
        (TRBDF2.gamma * tau / 2, TRBDF2.c * tau)
    }

    /// One TR-BDF2 step (gamma = 2 - sqrt 2) of family `f`'s part, in place: a trapezoidal
    /// stage to `gamma tau`, then BDF2 on `(t, t + gamma tau, t + tau)`. `factors` (optional)
    /// hold the factorizations for the two stage lengths of `trBDF2Stages(tau)`.
    func trBDF2Step(_ f: Int, tau: Double, _ rho: inout [Double], factors: (Factors, Factors)? = nil) {
        let family = families[f]
        let (theta, bdfTau) = Self.trBDF2Stages(tau)
        let a = TRBDF2.a, b = TRBDF2.b
        forEachChain(family, &rho) { chain, s, n, c, u, v, y, scratch in
            let start = scratch + 2 * n
            let stage = scratch + 3 * n
            for k in 0..<n { start[k] = y[k] }
            MarkovChainSolve.applyExplicit(n: n, theta: theta, weights: c, forward: u, backward: v,
                                           UnsafePointer(start), into: stage)
            Self.chainSolve(n: n, s: s, chain: chain, tau: theta, factors: factors?.0, c: c, u: u, v: v, stage, scratch: scratch)
            for k in 0..<n { y[k] = c[k] * (a * stage[k] - b * start[k]) }
            Self.chainSolve(n: n, s: s, chain: chain, tau: bdfTau, factors: factors?.1, c: c, u: u, v: v, y, scratch: scratch)
        }
    }

    /// `rate += L rho` for family `f` (the semi-discrete right-hand side).
    func addGenerator(_ f: Int, _ rho: [Double], into rate: inout [Double]) {
        let family = families[f]
        let n0 = family.longestChain
        rho.withUnsafeBufferPointer { r in
            rate.withUnsafeMutableBufferPointer { out in
                family.weights.withUnsafeBufferPointer { c in
                    family.forward.withUnsafeBufferPointer { u in
                        family.backward.withUnsafeBufferPointer { v in
                            family.nodes.withUnsafeBufferPointer { nodes in
                                withUnsafeTemporaryAllocation(of: Double.self, capacity: 2 * max(n0, 1)) { buf in
                                    let y = buf.baseAddress!, acc = y + n0
                                    for chain in 0..<family.chainCount {
                                        let s = family.chainStarts[chain]
                                        let n = family.chainStarts[chain + 1] - s
                                        for k in 0..<n { y[k] = r[nodes[s + k]]; acc[k] = 0 }
                                        MarkovChainSolve.applyGenerator(n: n, weights: c.baseAddress! + s,
                                                                        forward: u.baseAddress! + s,
                                                                        backward: v.baseAddress! + s,
                                                                        UnsafePointer(y), adding: acc)
                                        for k in 0..<n { out[nodes[s + k]] += acc[k] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Runs `body(chain, s, n, c, u, v, y, scratch)` on every chain of a family (`s` its
    /// offset in the family arrays) with `y` holding the chain's values of `rho` (gathered,
    /// written back afterwards) and `scratch` 4 n doubles. Chains are independent; large
    /// families are split over cores.
    private func forEachChain(
        _ family: Family, _ rho: inout [Double],
        _ body: (Int, Int, Int, UnsafePointer<Double>, UnsafePointer<Double>, UnsafePointer<Double>,
                 UnsafeMutablePointer<Double>, UnsafeMutablePointer<Double>) -> Void
    ) {
        let longest = max(family.longestChain, 1)
        let perChunk = max(1, 8192 / longest)
        rho.withUnsafeMutableBufferPointer { r in
            family.weights.withUnsafeBufferPointer { c in
                family.forward.withUnsafeBufferPointer { u in
                    family.backward.withUnsafeBufferPointer { v in
                        family.nodes.withUnsafeBufferPointer { nodes in
                            Parallel.forEachChunk(family.chainCount, minimumPerChunk: perChunk) { range in
                                withUnsafeTemporaryAllocation(of: Double.self, capacity: 5 * longest) { buf in
                                    let y = buf.baseAddress!, scratch = y + longest
                                    for chain in range {
                                        let s = family.chainStarts[chain]
                                        let n = family.chainStarts[chain + 1] - s
                                        for k in 0..<n { y[k] = r[nodes[s + k]] }
                                        body(chain, s, n, c.baseAddress! + s, u.baseAddress! + s, v.baseAddress! + s, y, scratch)
                                        for k in 0..<n { r[nodes[s + k]] = y[k] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: - Current

    /// The probability current `J` at the nodes, one field per axis. Each edge flux `F`
    /// (mass per unit time through the edge's face, in index units) contributes `F s_e`;
    /// a node takes the mean of its two edges along each chain (one-sided at chain ends),
    /// which is second-order accurate inside the domain. On a no-flux boundary the normal
    /// component is set to its exact value 0.
    func current(_ rho: [Double]) -> [Field] {
        let d = grid.dimension
        var j = [[Double]](repeating: [Double](repeating: 0, count: grid.count), count: d)
        for family in families {
            for chain in 0..<family.chainCount {
                let s = family.chainStarts[chain]
                let n = family.chainStarts[chain + 1] - s
                let edges = family.cyclic ? n : n - 1
                let flux: [Double] = (0..<edges).map { k in
                    let a = family.nodes[s + k], b = family.nodes[s + (k + 1) % n]
                    return family.forward[s + k] * rho[a] - family.backward[s + k] * rho[b]
                }
                for k in 0..<n {
                    let left: Double? = k > 0 ? flux[k - 1] : (family.cyclic ? flux[n - 1] : nil)
                    let right: Double? = k < edges ? flux[k] : nil
                    let value: Double
                    switch (left, right) {
                    case let (l?, r?): value = 0.5 * (l + r)
                    case let (l?, nil): value = l
                    case let (nil, r?): value = r
                    default: value = 0
                    }
                    let node = family.nodes[s + k]
                    for a in 0..<d { j[a][node] += value * family.step[a] }
                }
            }
        }
        if grid.boundary != .periodic {
            let shape = grid.shape
            for flat in 0..<grid.count {
                let idx = grid.multiIndex(flat)
                for a in 0..<d where idx[a] == 0 || idx[a] == shape[a] - 1 { j[a][flat] = 0 }
            }
        }
        return j.map { Field(grid: grid, values: $0) }
    }
}

/// TR-BDF2 constants (Bank et al. 1985): `gamma = 2 - sqrt 2`; the BDF2 stage solves
/// `(C + c tau G) y1 = C (a y_gamma - b y0)` with `c = (1 - gamma)/(2 - gamma)`,
/// `a = 1/(gamma (2 - gamma))`, `b = (1 - gamma)^2/(gamma (2 - gamma))`, `a - b = 1`.
/// L-stable and second order. Positivity: with `r` the largest outflow rate per unit
/// measure, `tau r <= 1 + sqrt 2` suffices (the trapezoidal stage's explicit half is then
/// non-negative and `a y_gamma >= b y0` componentwise); beyond it no guarantee exists
/// (Bolley–Crouzeix: no second-order linear method is unconditionally positive).
enum TRBDF2 {
    static let gamma = 2 - 2.0.squareRoot()
    static let c = (1 - gamma) / (2 - gamma)
    static let a = 1 / (gamma * (2 - gamma))
    static let b = (1 - gamma) * (1 - gamma) / (gamma * (2 - gamma))
    /// `tau * maxRate <= positivityBound` guarantees a non-negative step.
    static let positivityBound = 1 + 2.0.squareRoot()
}
