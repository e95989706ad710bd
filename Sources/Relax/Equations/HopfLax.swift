import Foundation

/// The Hopf–Lax solution of the inviscid Hamilton–Jacobi equation at one time `t`:
/// `u(x,t) = min_y f(y) + |x-y|^2/(2t)` (paper, Lemma 2), its minimiser `prox(x)` and
/// `grad u = (x - prox(x))/t` (eq. 15).
public struct HopfLaxSolution: Sendable {
    public let time: Double
    /// `u(., t)` at the grid nodes.
    public var value: Field
    /// The coordinates of `prox(x)`, one field per axis. On a periodic axis the prox is the
    /// nearest image, so it may lie outside `[lower, upper)` (and `x - prox` is the true
    /// displacement).
    public var prox: [Field]
    /// The discrete prox node per axis, `proxNodes[k * count + flat]` (unwrapped on periodic
    /// axes), on the grid the transform ran on. Empty after cropping to a window.
    var proxNodes: [Int32]

    /// `proxNodes` split per axis (for tests and diagnostics).
    var proxIndex: [[Int32]] {
        let count = value.grid.count
        guard proxNodes.count == prox.count * count else { return [] }
        return prox.indices.map { k in Array(proxNodes[(k * count)..<((k + 1) * count)]) }
    }

    /// `grad u = (x - prox(x)) / t`, one field per axis.
    public var gradient: [Field] {
        let grid = value.grid
        return prox.indices.map { k in
            let axis = grid.axes[k]
            let shape = grid.shape
            let inner = shape[(k + 1)...].reduce(1, *)
            var g = prox[k].values
            for flat in g.indices {
                let i = (flat / inner) % shape[k]
                g[flat] = (axis.coordinate(i) - g[flat]) / time
            }
            return Field(grid: grid, values: g)
        }
    }
}

/// Hopf–Lax solutions on a window, with the loss sampled there and what the solver did.
public struct HopfLaxRun: Sendable {
    /// The loss on the window.
    public var f: Field
    /// One solution per requested time, in the order given.
    public var solutions: [HopfLaxSolution]
    public var report: SolverReport
}

/// The Hopf–Lax formula (inf-convolution, Moreau envelope) on grids, d = 1, 2, 3.
///
/// `infConvolution(_:times:refine:)` computes the exact discrete inf-convolution over the
/// grid nodes, `u_i = min_j f_j + |x_i - x_j|^2/(2t)`, in O(N) per axis (lower envelope of
/// parabolas, separable passes split over cores), with the prox point and the gradient.
/// Its value differs from the continuous Hopf–Lax value by O(h^2) (the minimiser is within
/// h/2 of a node). `ProxRefinement` refines it: from node values alone (`refine: true`) by a
/// Newton step on a local quadratic model of `f` (prox O(h^2), value O(h^3) for smooth `f`
/// while the prox is unique); with a loss (`infConvolution(loss:grid:times:)`, the default
/// `.exactCost`) by Newton on the exact cost from the neighbours' refined prox points, which
/// gives values to round-off, also at kinks of `u`.
///
/// Tie rule: among nodes of equal cost the prox is the one with the smallest row-major
/// multi-index (unwrapped, on periodic axes), the rule of `bruteForce`, so both agree exactly.
///
/// Boundaries: on a periodic grid the distance is periodic. On any other grid the minimum
/// runs over the grid's nodes only (the Neumann / window answer). For the whole-space
/// answer, `infConvolution(loss:grid:times:)` with a `.free` grid pads the window by the
/// prox reach and returns only the window.
public enum HopfLax {
    /// The discrete inf-convolution of the node values `f` for each time in `times` (> 0).
    /// With `refine: true` the prox is refined by the grid model (`HopfLax.Refinement.gridModel`).
    public static func infConvolution(_ f: Field, times: [Double], refine: Bool = false) throws -> [HopfLaxSolution] {
        try validate(times: times)
        try f.checkFinite("loss")
        return times.map { solve(f, time: $0, refinement: refine ? .gridModel : .none).solution }
    }

    /// The discrete inf-convolution of the node values `f` at one time `t > 0`.
    public static func infConvolution(_ f: Field, time: Double, refine: Bool = false) throws -> HopfLaxSolution {
        try infConvolution(f, times: [time], refine: refine)[0]
    }

    /// The Hopf–Lax solution of `loss` on the window `grid` for each time in `times`.
    ///
    /// `grid.boundary` decides the domain: `.free` is the whole space (the loss is sampled on
    /// the window padded by the prox reach, see `FreeSpaceReach`); `.periodic` uses the
    /// periodic distance (the loss should be periodic on the window); `.neumann` takes the
    /// minimum over the window only and warns when prox points are pinned at its edge (the
    /// window is smaller than the prox reach). `.dirichlet` is refused.
    ///
    /// `refinement` (see `ProxRefinement`): `.exactCost` needs a loss that can be evaluated
    /// anywhere; for a sampled loss it falls back to `.gridModel`, and a note says so. The
    /// report's diagnostics count the loss evaluations per window node of the refinement.
    public static func infConvolution(loss: Loss, grid: Grid, times: [Double],
                                      refinement: Refinement = .exactCost) throws -> HopfLaxRun {
        try validate(times: times)
        if case .dirichlet = grid.boundary {
            throw RelaxError.unsupported(
                "the Hopf–Lax formula has no Dirichlet version here; use --boundary free (whole space), periodic or neumann")
        }
        var method = refinement
        var notes: [String] = []
        if method == .exactCost && !loss.isExtendable {
            method = .gridModel
            notes.append("the loss \(loss.description) is known only at its samples, so the prox is refined by one Newton "
                         + "step on the quadratic model of the grid values (value O(h^3) for smooth f), not on the exact cost")
        }
        let scheme = method == .none ? "hopf-lax (discrete)" : "hopf-lax (\(method.rawValue) prox)"
        var report = SolverReport(equation: "hj", scheme: scheme)
        report.notes = notes
        let ((solutions, f), wall) = try Stopwatch.time { () throws -> ([HopfLaxSolution], Field) in
            let tMax = times.max()!
            var sampled: Field
            var padded: PaddedGrid?
            if grid.boundary == .free {
                let reach = try FreeSpaceReach.estimate(loss: loss, window: grid, time: tMax)
                report.notes += reach.notes
                report.warnings += reach.warnings
                for (k, r) in reach.reach.enumerated() { report.diagnostics["prox_reach_\(Grid.axisNames[k])"] = r }
                let p = grid.padded(reach: reach.reach.map { $0 + 2 * grid.spacing.max()! })
                padded = p
                sampled = try loss.sample(on: p.grid)
                for (k, c) in p.offsets.enumerated() { report.diagnostics["padding_cells_\(Grid.axisNames[k])"] = Double(c) }
            } else {
                sampled = try loss.sample(on: grid)
            }
            report.workingShape = sampled.grid.shape
            var out: [HopfLaxSolution] = []
            var evaluations = (values: 0.0, gradients: 0.0)
            for t in times {
                let (s, discrete, refined) = solve(sampled, time: t, refinement: method,
                                                   loss: method == .exactCost ? loss : nil, padded: padded)
                if grid.boundary == .neumann, let warning = edgeWarning(discrete.index, grid: grid, time: t) {
                    report.warnings.append(warning)
                }
                if let padded, let warning = paddingEdgeWarning(discrete.index, padded: padded, time: t) {
                    report.warnings.append(warning)
                }
                evaluations.values += refined?.valueEvaluations ?? 0
                evaluations.gradients += refined?.gradientEvaluations ?? 0
                out.append(s)
            }
            if method == .exactCost {
                report.diagnostics["refinement_loss_values_per_node"] = evaluations.values / Double(times.count)
                report.diagnostics["refinement_loss_gradients_per_node"] = evaluations.gradients / Double(times.count)
                report.notes.append("prox refined by Newton on the exact cost f(y) + |x-y|^2/(2t) from the best of the "
                                    + "neighbours' grid-model prox points (values to round-off for smooth f)")
            }
            if let padded { sampled = padded.crop(sampled) }
            return (out, sampled)
        }
        report.wallTime = wall
        report.diagnostics["times"] = Double(times.count)
        return HopfLaxRun(f: f, solutions: solutions, report: report)
    }

    /// The O(N^2) oracle: for every node, the minimum over all nodes (nearest periodic image)
    /// in row-major order of the unwrapped multi-index, keeping the first minimum (the tie
    /// rule of `infConvolution`). Costs are summed in the order of the separable passes
    /// (last axis first), so exact ties and values agree bit for bit.
    public static func bruteForce(_ f: Field, time t: Double) -> HopfLaxSolution {
        let grid = f.grid
        let d = grid.dimension
        let shape = grid.shape
        let a = grid.spacing.map { $0 * $0 / (2 * t) }
        var value = [Double](repeating: 0, count: grid.count)
        var index = [[Int32]](repeating: [Int32](repeating: 0, count: grid.count), count: d)
        for flat in 0..<grid.count {
            let i = grid.multiIndex(flat)
            // Candidate unwrapped positions per axis, ascending: one image per residue.
            let first = (0..<d).map { k in grid.axes[k].periodic ? i[k] - shape[k] / 2 : 0 }
            var best = Double.infinity
            var arg = [Int](repeating: 0, count: d)
            for c in 0..<grid.count {
                let off = grid.multiIndex(c)
                var j = [Int](repeating: 0, count: d)
                var src = 0
                for k in 0..<d {
                    j[k] = first[k] + off[k]
                    let n = shape[k]
                    src = src * n + ((j[k] % n) + n) % n
                }
                var cost = f.values[src]
                for k in stride(from: d - 1, through: 0, by: -1) {
                    let dk = Double(i[k] - j[k])
                    cost = cost + a[k] * (dk * dk)
                }
                if cost < best { best = cost; arg = j }
            }
            value[flat] = best
            for k in 0..<d { index[k][flat] = Int32(arg[k]) }
        }
        let prox = (0..<d).map { k in
            Field(grid: grid, values: index[k].map { grid.axes[k].coordinate(Int($0)) })
        }
        return HopfLaxSolution(time: t, value: Field(grid: grid, values: value), prox: prox,
                               proxNodes: index.flatMap { $0 })
    }

    // MARK: - Internals

    static func validate(times: [Double]) throws {
        guard !times.isEmpty else {
            throw RelaxError.invalidParameter(name: "t", value: "none", expected: "at least one time t > 0")
        }
        for t in times { try RelaxError.requirePositiveFinite(t, name: "t", expected: "a finite time t > 0") }
    }

    /// The transform at one time on `f.grid`, refined by `refinement` (with `loss` for
    /// `.exactCost`) and cropped to `padded`'s window if given; also the discrete transform on
    /// `f.grid` and what the refinement reported.
    static func solve(_ f: Field, time t: Double, refinement: Refinement, loss: Loss? = nil, padded: PaddedGrid? = nil)
        -> (solution: HopfLaxSolution, discrete: SeparableInfConvolution.Output, refined: ProxRefinement.Result?) {
        let grid = f.grid
        let d = grid.dimension
        let out = SeparableInfConvolution(grid: grid, time: t).run(f.values)
        guard refinement != .none else {
            let count = grid.count
            var s = HopfLaxSolution(time: t, value: Field(grid: grid, values: out.value),
                                    prox: (0..<d).map { k in
                                        Field(grid: grid, values: proxCoordinates(axis: grid.axes[k], nodes: out.index,
                                                                                  offset: k * count, count: count))
                                    }, proxNodes: out.index)
            if let padded { s = HopfLaxSolution(time: t, value: padded.crop(s.value), prox: s.prox.map(padded.crop), proxNodes: []) }
            return (s, out, nil)
        }
        let window = padded.map { GridBox(offsets: $0.offsets, shape: $0.window.shape, in: grid) } ?? GridBox(grid)
        let refined = ProxRefinement(grid: grid, f: f.values, time: t, window: window).refine(out, exactCost: loss)
        let target = padded?.window ?? grid
        let count = target.count
        let s = HopfLaxSolution(time: t, value: Field(grid: target, values: refined.value),
                                prox: (0..<d).map { k in Field(grid: target, values: Array(refined.prox[(k * count)..<((k + 1) * count)])) },
                                proxNodes: padded == nil ? out.index : [])
        return (s, out, refined)
    }

    /// `axis.coordinate(nodes[offset + i])` for `i in 0..<count`, split over the cores.
    static func proxCoordinates(axis: Axis, nodes: [Int32], offset: Int, count: Int) -> [Double] {
        var out = [Double](unsafeUninitializedCapacity: count) { _, n in n = count }
        let lower = axis.lower, h = axis.spacing
        nodes.withUnsafeBufferPointer { nb in
            out.withUnsafeMutableBufferPointer { ob in
                let src = nb.baseAddress! + offset, dst = ob.baseAddress!
                Parallel.forEachChunk(count, minimumPerChunk: 1 << 16) { range in
                    for i in range { dst[i] = lower + Double(src[i]) * h }
                }
            }
        }
        return out
    }

    /// Points of the window (nodes `offsets[k] ..< offsets[k] + window[k]`, default the whole
    /// grid) whose discrete prox node (`index`, as `SeparableInfConvolution.Output`) is an edge
    /// node of a non-periodic grid, away from the point itself: their minimum was cut off by
    /// the edge.
    static func pinnedAtEdge(_ index: [Int32], grid: Grid, offsets: [Int]? = nil, window: [Int]? = nil) -> Int {
        let shape = grid.shape
        let lo = offsets ?? [Int](repeating: 0, count: grid.dimension)
        let extent = window ?? shape
        var pinned = 0
        for flat in 0..<grid.count {
            let i = grid.multiIndex(flat)
            if (0..<grid.dimension).contains(where: { i[$0] < lo[$0] || i[$0] >= lo[$0] + extent[$0] }) { continue }
            for k in 0..<grid.dimension where !grid.axes[k].periodic {
                let j = Int(index[k * grid.count + flat])
                if (j == 0 || j == shape[k] - 1) && j != i[k] { pinned += 1; break }
            }
        }
        return pinned
    }

    static func edgeWarning(_ index: [Int32], grid: Grid, time t: Double) -> String? {
        let pinned = pinnedAtEdge(index, grid: grid)
        guard pinned > 0 else { return nil }
        return "t = \(t): the prox of \(pinned) of \(grid.count) points is pinned at the window's edge: "
            + "the window is smaller than the prox reach t*Lip(f), so with --boundary neumann the minimum runs "
            + "over the window only; use --boundary free for the whole-space answer or widen the domain"
    }

    static func paddingEdgeWarning(_ index: [Int32], padded: PaddedGrid, time t: Double) -> String? {
        let pinned = pinnedAtEdge(index, grid: padded.grid, offsets: padded.offsets, window: padded.window.shape)
        guard pinned > 0 else { return nil }
        return "t = \(t): \(pinned) prox points reached the edge of the padded grid "
            + "(shape \(padded.grid.shape)); the loss may decrease too fast at infinity for the whole-space "
            + "Hopf–Lax value to be resolved: widen --domain or shorten t"
    }
}
