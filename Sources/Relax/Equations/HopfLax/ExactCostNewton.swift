/// Stage 2 of `ProxRefinement`: from the best start among the neighbours' prox points,
/// Newton on the exact cost `phi_x(y) = f(y) + |x - y|^2/(2t)`, for every node of a window.
///
/// Each start runs a safeguarded Newton iteration with the loss's exact gradient and the
/// Hessian `H_f + I/t`, `H_f` by central differences of that gradient (step
/// `1e-4 max(1, |y_l|)`, relative error ~1e-8), symmetrized and shifted by a multiple of
/// `I/t` (1, 2, 4, 8, 16) until positive definite. A step is kept only if it lowers the exact
/// cost; the Hessian is reused while the steps are kept (chord), refreshed at the current
/// point when a step fails, and also when a kept step shrank the gradient less than fourfold
/// (a stale Hessian contracts slowly near a caustic, where `H_f + I/t` is nearly singular); a
/// step from a fresh Hessian is halved up to six times until it lowers the cost. Steps are
/// at most two grid spacings long; the iteration stops when the step falls below
/// `1e-10 max(1, |y|)` or after `maximumSteps` steps. On a Neumann grid (minimum over the
/// window) `y` stays in the window: axes where `y` is at a bound and the gradient points out
/// are held fixed, and steps are clipped to the window.
///
/// The starts of a batch of nodes run in lockstep, so that each round evaluates the loss once
/// over all of their pending points (`Loss.evaluate(points:...)`, vectorized for expressions).
struct ExactCostNewton {
    let loss: Loss
    let grid: Grid
    let time: Double
    /// The longest step: two grid spacings (read once per node and per Newton step).
    let reach: Double

    init(loss: Loss, grid: Grid, time: Double) {
        self.loss = loss
        self.grid = grid
        self.time = time
        reach = 2 * grid.axes.map(\.spacing).max()!
    }

    static let maximumSteps = 10
    static let halvings = 6
    /// Window nodes whose starts run in lockstep.
    static let batch = 256

    /// Refines the window's nodes from the stage-1 prox points `starts` (point-major) of
    /// `region`, which holds the window and its neighbours.
    func refine(starts: [Double], region: GridBox, window: GridBox) -> ProxRefinement.Result {
        let d = grid.dimension
        let bounds = Bounds(grid)
        var points = starts
        if let bounds {
            for r in 0..<region.count { bounds.clamp(&points, at: r * d, dimension: d) }
        }
        // f at every start: the cost of each candidate is then arithmetic.
        var fStart = [Double](repeating: 0, count: region.count)
        points.withUnsafeBufferPointer { pb in
            fStart.withUnsafeMutableBufferPointer { fb in
                Parallel.forEachChunk(region.count, minimumPerChunk: 4096) { range in
                    loss.evaluate(points: pb.baseAddress! + range.lowerBound * d, stride: d, count: range.count,
                                  values: fb.baseAddress! + range.lowerBound, gradients: nil)
                }
            }
        }
        let count = window.count
        var value = [Double](repeating: 0, count: count)
        var prox = [Double](repeating: 0, count: d * count)
        let batches = (count + Self.batch - 1) / Self.batch
        var evaluations = [Int](repeating: 0, count: batches)
        points.withUnsafeBufferPointer { pb in
            fStart.withUnsafeBufferPointer { fb in
                value.withUnsafeMutableBufferPointer { vb in
                    prox.withUnsafeMutableBufferPointer { xb in
                        evaluations.withUnsafeMutableBufferPointer { eb in
                            Parallel.forEachChunk(batches, minimumPerChunk: 1) { range in
                                var tracks: [Track] = []
                                var scratch = Scratch(capacity: 2 * Self.batch * 2 * d)
                                defer { scratch.deallocate() }
                                for b in range {
                                    let nodes = (b * Self.batch)..<min(count, (b + 1) * Self.batch)
                                    tracks.removeAll(keepingCapacity: true)
                                    for w in nodes {
                                        tracks += startTracks(w, window: window, region: region,
                                                              points: pb.baseAddress!, fStart: fb.baseAddress!)
                                    }
                                    eb[b] = iterate(&tracks, bounds: bounds, scratch: &scratch)
                                    // The first start's result, unless another basin's is lower.
                                    for track in tracks where track.first || track.cost < vb[track.node] {
                                        vb[track.node] = track.cost
                                        for k in 0..<d { xb[k * count + track.node] = track.y[k] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return ProxRefinement.Result(value: value, prox: prox, valueEvaluations: Double(region.count) / Double(count),
                                     gradientEvaluations: Double(evaluations.reduce(0, +)) / Double(count))
    }

    // MARK: - Starts

    /// One Newton start: the node `x`, the current point `y` and its exact cost, and where its
    /// iteration stands.
    struct Track {
        var node: Int
        /// Whether this is the node's best start (else the best from another basin).
        var first: Bool
        var x: SIMD4<Double>
        var y: SIMD4<Double>
        var cost: Double
        /// `grad phi_x(y)` and its max norm.
        var gradient = SIMD4<Double>()
        var gradientNorm = 0.0
        /// `H_f + shift I/t` from the last Hessian (entry `(k, l)` at `k * 4 + l`).
        var matrix = SIMD16<Double>()
        /// Whether `matrix` was computed at `y`.
        var fresh = false
        var state = State.start
        var delta = SIMD4<Double>()
        var scale = 1.0
        var tries = 0
        var steps = 0

        enum State: Equatable { case start, hessian(Refresh), ready, trial, done }
        /// Why the Hessian is (re)computed, which decides what a failure means.
        enum Refresh { case initial, afterKeptStep, afterFailedStep }
    }

    /// The starts of window node `w`: the candidate of least exact cost among the region's
    /// prox points of the node and its neighbours (nearest periodic image), and the best from
    /// another basin if one lies farther than three grid spacings from it.
    func startTracks(_ w: Int, window: GridBox, region: GridBox, points: UnsafePointer<Double>,
                     fStart: UnsafePointer<Double>) -> [Track] {
        let d = grid.dimension, t = time
        let node = window.multiIndex(w)
        var x = SIMD4<Double>()
        for k in 0..<d { x[k] = grid.axes[k].coordinate(node[k]) }
        var first: (cost: Double, y: SIMD4<Double>)?
        var candidates: [(cost: Double, y: SIMD4<Double>)] = []
        candidates.reserveCapacity(27)
        var offset = SIMD4<Int>(repeating: -1)
        for k in d..<4 { offset[k] = 0 }
        while true {
            var neighbour = node &+ offset
            var inside = true
            for k in 0..<d {
                let n = grid.axes[k].count
                if grid.axes[k].periodic {
                    neighbour[k] = (neighbour[k] + n) % n
                } else if neighbour[k] < 0 || neighbour[k] >= n {
                    inside = false
                }
            }
            if inside, let j = region.index(of: neighbour) {
                var y = SIMD4<Double>()
                var cost = fStart[j]
                for k in 0..<d {
                    y[k] = points[j * d + k]
                    if grid.axes[k].periodic {
                        let length = grid.axes[k].length
                        y[k] -= length * ((y[k] - x[k]) / length).rounded()
                    }
                    cost += (x[k] - y[k]) * (x[k] - y[k]) / (2 * t)
                }
                candidates.append((cost, y))
                if first == nil || cost < first!.cost { first = (cost, y) }
            }
            // Next offset in {-1, 0, 1}^d, last axis fastest.
            var k = d - 1
            while k >= 0 && offset[k] == 1 { offset[k] = -1; k -= 1 }
            if k < 0 { break }
            offset[k] += 1
        }
        let best = first!
        let separation = 1.5 * reach
        let far = candidates.filter { c in (0..<d).contains { abs(c.y[$0] - best.y[$0]) > separation } }
            .min { $0.cost < $1.cost }
        var tracks = [Track(node: w, first: true, x: x, y: best.y, cost: best.cost)]
        if let far { tracks.append(Track(node: w, first: false, x: x, y: far.y, cost: far.cost)) }
        return tracks
    }


    // MARK: - Newton in lockstep

    /// Runs every track to `.done`; returns the number of points the loss's gradient was
    /// evaluated at.
    func iterate(_ tracks: inout [Track], bounds: Bounds?, scratch: inout Scratch) -> Int {
        let d = grid.dimension, t = time
        var evaluations = 0
        func gradientOfCost(_ track: Track, _ g: UnsafePointer<Double>) -> SIMD4<Double> {
            var out = SIMD4<Double>()
            for k in 0..<d { out[k] = g[k] + (track.y[k] - track.x[k]) / t }
            return out
        }
        func norm(_ v: SIMD4<Double>) -> Double { (0..<d).reduce(0) { max($0, abs(v[$1])) } }
        while tracks.contains(where: { $0.state != .done }) {
            // Gradients at the starts.
            evaluations += scratch.evaluate(loss, &tracks, where: { $0.state == .start }, pointsPerTrack: 1, dimension: d,
                                            point: { track, _ in track.y }) { track, _, g in
                track.gradient = gradientOfCost(track, g)
                track.gradientNorm = norm(track.gradient)
                track.state = .hessian(.initial)
            }
            // Hessians by central differences of the gradient: points y +- s e_l.
            evaluations += scratch.evaluate(loss, &tracks, where: { if case .hessian = $0.state { return true }; return false },
                                            pointsPerTrack: 2 * d, dimension: d,
                                            point: { track, p in
                let l = p / 2
                var y = track.y
                y[l] += (p % 2 == 0 ? 1 : -1) * Self.differenceStep(y[l])
                return y
            }) { track, _, g in
                updateHessian(&track, gradients: g)
            }
            for i in tracks.indices where tracks[i].state == .ready { prepareStep(&tracks[i], bounds: bounds) }
            // Trial points.
            evaluations += scratch.evaluate(loss, &tracks, where: { $0.state == .trial }, pointsPerTrack: 1, dimension: d,
                                            point: { track, _ in trialPoint(track, bounds: bounds) }) { track, v, g in
                let y = trialPoint(track, bounds: bounds)
                var cost = v[0]
                for k in 0..<d { cost += (track.x[k] - y[k]) * (track.x[k] - y[k]) / (2 * t) }
                if cost < track.cost {
                    track.y = y
                    track.cost = cost
                    track.steps += 1
                    let next = gradientOfCost(track, g)
                    let nextNorm = norm(next)
                    if track.steps >= Self.maximumSteps {
                        track.state = .done
                    } else if nextNorm > 0.25 * track.gradientNorm {
                        track.state = .hessian(.afterKeptStep)
                    } else {
                        track.fresh = false
                        track.state = .ready
                    }
                    (track.gradient, track.gradientNorm) = (next, nextNorm)
                } else if track.fresh {
                    track.tries += 1
                    if track.tries <= Self.halvings { track.scale /= 2 } else { track.state = .done }
                } else {
                    track.steps += 1
                    track.state = track.steps >= Self.maximumSteps ? .done : .hessian(.afterFailedStep)
                }
            }
        }
        return evaluations
    }

    /// `1e-4 max(1, |y|)`: the central difference of the exact gradient then errs by ~1e-8
    /// relative (truncation ~s^2, rounding ~1e-16/s).
    static func differenceStep(_ y: Double) -> Double { 1e-4 * max(1, abs(y)) }

    /// The Hessian `H_f` from the gradients at `y + s e_l` (`g[2l * d ...]`) and `y - s e_l`,
    /// symmetrized and shifted until `H_f + shift I/t` is positive definite.
    func updateHessian(_ track: inout Track, gradients g: UnsafePointer<Double>) {
        let d = grid.dimension
        var hessian = SIMD16<Double>()
        for l in 0..<d {
            let s = Self.differenceStep(track.y[l])
            for k in 0..<d { hessian[k * 4 + l] = (g[2 * l * d + k] - g[(2 * l + 1) * d + k]) / (2 * s) }
        }
        for k in 0..<d {
            for l in 0..<k {
                let m = (hessian[k * 4 + l] + hessian[l * 4 + k]) / 2
                hessian[k * 4 + l] = m
                hessian[l * 4 + k] = m
            }
        }
        guard case let .hessian(refresh) = track.state else { return }
        for shift in [1.0, 2, 4, 8, 16] {
            var shifted = hessian
            for k in 0..<d { shifted[k * 4 + k] += shift / time }
            if SmallSPD.solve(shifted, SIMD4(), dimension: d) != nil {
                (track.matrix, track.fresh, track.state) = (shifted, true, .ready)
                return
            }
        }
        switch refresh {
        case .initial, .afterFailedStep: track.state = .done
        case .afterKeptStep: (track.fresh, track.state) = (false, .ready)  // keep the old Hessian
        }
    }

    /// The Newton step for a `.ready` track (axes held at a bound left out), or `.done` when
    /// it is below `1e-10 max(1, |y|)`.
    func prepareStep(_ track: inout Track, bounds: Bounds?) {
        let d = grid.dimension
        var a = track.matrix, g = track.gradient
        if let bounds {
            for k in 0..<d where bounds.holds(track.y, g, axis: k) {
                for l in 0..<d { a[k * 4 + l] = 0; a[l * 4 + k] = 0 }
                a[k * 4 + k] = 1
                g[k] = 0
            }
        }
        guard let delta = SmallSPD.solve(a, g, dimension: d) else { track.state = .done; return }
        let size = (0..<d).reduce(0) { max($0, abs(delta[$1])) }
        let yNorm = (0..<d).reduce(0) { max($0, abs(track.y[$1])) }
        if size <= 1e-10 * max(1, yNorm) { track.state = .done; return }
        (track.delta, track.scale, track.tries, track.state) = (delta, min(1, reach / size), 0, .trial)
    }

    func trialPoint(_ track: Track, bounds: Bounds?) -> SIMD4<Double> {
        var y = track.y - track.scale * track.delta
        if let bounds { y = bounds.clamp(y, dimension: grid.dimension) }
        return y
    }

    /// The window of a Neumann grid, where the minimum is taken (nil: unbounded).
    struct Bounds {
        let lower: SIMD4<Double>
        let upper: SIMD4<Double>

        init?(_ grid: Grid) {
            guard grid.boundary == .neumann else { return nil }
            var lower = SIMD4<Double>(), upper = SIMD4<Double>()
            for (k, axis) in grid.axes.enumerated() { (lower[k], upper[k]) = (axis.lower, axis.upper) }
            (self.lower, self.upper) = (lower, upper)
        }

        func clamp(_ y: SIMD4<Double>, dimension d: Int) -> SIMD4<Double> {
            var out = y
            for k in 0..<d { out[k] = min(max(y[k], lower[k]), upper[k]) }
            return out
        }

        func clamp(_ points: inout [Double], at offset: Int, dimension d: Int) {
            for k in 0..<d { points[offset + k] = min(max(points[offset + k], lower[k]), upper[k]) }
        }

        /// Whether axis `k` is held: `y` at a bound with the descent direction `-g` pointing out.
        func holds(_ y: SIMD4<Double>, _ g: SIMD4<Double>, axis k: Int) -> Bool {
            (y[k] <= lower[k] && g[k] > 0) || (y[k] >= upper[k] && g[k] < 0)
        }
    }

    /// Buffers for the points of one round and the loss's values and gradients there.
    struct Scratch {
        let points: UnsafeMutablePointer<Double>
        let values: UnsafeMutablePointer<Double>
        let gradients: UnsafeMutablePointer<Double>
        /// Points (two starts per node, 2d Hessian points per start).
        let capacity: Int
        var owners: [Int] = []

        init(capacity: Int) {
            self.capacity = capacity
            points = .allocate(capacity: 3 * capacity)
            values = .allocate(capacity: capacity)
            gradients = .allocate(capacity: 3 * capacity)
        }

        func deallocate() {
            points.deallocate()
            values.deallocate()
            gradients.deallocate()
        }

        /// Evaluates `f` and `grad f` at `pointsPerTrack` points of every track that passes
        /// `filter` and hands each track its values and gradients (`d` per point, in order).
        /// Returns the number of points evaluated.
        mutating func evaluate(_ loss: Loss, _ tracks: inout [Track], where filter: (Track) -> Bool,
                               pointsPerTrack m: Int, dimension d: Int,
                               point: (Track, Int) -> SIMD4<Double>,
                               update: (inout Track, UnsafePointer<Double>, UnsafePointer<Double>) -> Void) -> Int {
            owners.removeAll(keepingCapacity: true)
            for i in tracks.indices where filter(tracks[i]) { owners.append(i) }
            let n = owners.count * m
            guard n > 0 else { return 0 }
            precondition(n <= capacity, "scratch for \(capacity) points, \(n) asked")
            for (o, i) in owners.enumerated() {
                for p in 0..<m {
                    let y = point(tracks[i], p)
                    for k in 0..<d { points[(o * m + p) * d + k] = y[k] }
                }
            }
            loss.evaluate(points: points, stride: d, count: n, values: values, gradients: gradients)
            for (o, i) in owners.enumerated() {
                update(&tracks[i], values + o * m, gradients + o * m * d)
            }
            return n
        }
    }
}
