extension HopfLax {
    /// Polishes a Hopf–Lax solution with the exact loss, for measurements that amplify value
    /// errors (second differences multiply them by `4/h^2`, see `Semiconcavity`).
    ///
    /// At every node `x`: the candidate `y` of least exact cost `phi(y) = f(y) + |x - y|^2/(2t)`
    /// among the prox points of the node and of its neighbours within `radius` nodes per axis
    /// (nearest periodic image), and the best candidate from another basin if there is one
    /// (farther than three grid spacings); from each, up to `newtonSteps` Newton steps on
    /// `phi` with the loss's exact gradient and the Hessian `H_f + I/t` from central
    /// differences of that gradient (step `1e-4 max(1, |y|)`, relative error ~1e-8), each
    /// kept only if it lowers the exact cost (see `newton`); the lower result wins.
    ///
    /// Every value is the exact cost of some `y`, hence an upper bound of `u(x)`; it is never
    /// above the exact cost at the node's own prox. This removes the errors of the
    /// refinement's quadratic grid model (`ProxRefinement`): its O(h^3) value error (with the
    /// constant of `f'''`, large in narrow wells), the discrete O(h^2) answer where the model
    /// step was rejected, and the wrong basin at a kink of `u` (a neighbour across the kink
    /// supplies a candidate from the right basin). From a start within O(h) of a
    /// non-degenerate prox the chord iteration contracts by O(h) per step, so three steps
    /// leave a prox error O(h^4) and a value error O(h^8). The loss must be defined at the
    /// prox points (outside the window for a free boundary: an expression or a preset).
    /// Cost: about `2d + 4` loss evaluations per node, split over cores.
    public static func polish(_ solution: HopfLaxSolution, loss: Loss, newtonSteps: Int = 10, radius: Int = 1) -> HopfLaxSolution {
        let grid = solution.value.grid, d = grid.dimension, t = solution.time, count = grid.count
        let reach = 2 * grid.spacing.max()!
        let proxPoints = (0..<count).map { i in (0..<d).map { solution.prox[$0].values[i] } }
        var fAtProx = [Double](repeating: 0, count: count)
        fAtProx.withUnsafeMutableBufferPointer { out in
            Parallel.forEachChunk(count, minimumPerChunk: 1024) { range in
                for i in range { out[i] = loss.value(at: proxPoints[i]) }
            }
        }
        var offsets: [[Int]] = [[]]
        for _ in 0..<d { offsets = offsets.flatMap { o in (-radius...radius).map { o + [$0] } } }
        var value = [Double](repeating: .infinity, count: count)
        var prox = [Double](repeating: 0, count: d * count)
        value.withUnsafeMutableBufferPointer { vb in
            prox.withUnsafeMutableBufferPointer { pb in
                Parallel.forEachChunk(count, minimumPerChunk: 256) { range in
                    for flat in range {
                        let x = grid.point(flat)
                        let starts = candidates(flat, x: x, grid: grid, offsets: offsets, time: t,
                                                proxPoints: proxPoints, fAtProx: fAtProx, separation: 1.5 * reach)
                        var (best, y) = starts[0]
                        for (c, start) in starts where newtonSteps > 0 {
                            let (value, point) = newton(from: start, cost: c, x: x, loss: loss, time: t, steps: newtonSteps, reach: reach)
                            if value < best { (best, y) = (value, point) }
                        }
                        vb[flat] = best
                        for k in 0..<d { pb[k * count + flat] = y[k] }
                    }
                }
            }
        }
        return HopfLaxSolution(time: t, value: Field(grid: grid, values: value),
                               prox: (0..<d).map { k in Field(grid: grid, values: Array(prox[(k * count)..<((k + 1) * count)])) },
                               proxNodes: [])
    }

    /// The neighbour prox point (nearest image of x on periodic axes) of least exact cost,
    /// and, if some candidate lies farther than `separation` from it (another basin, near a
    /// kink of u), the best of those too: Newton runs from both.
    private static func candidates(_ flat: Int, x: [Double], grid: Grid, offsets: [[Int]], time t: Double,
                                   proxPoints: [[Double]], fAtProx: [Double], separation: Double) -> [(Double, [Double])] {
        let d = grid.dimension
        let index = grid.multiIndex(flat)
        var all: [(Double, [Double])] = []
        for o in offsets {
            var neighbour = index
            var inside = true
            for k in 0..<d {
                neighbour[k] += o[k]
                let n = grid.axes[k].count
                if grid.axes[k].periodic {
                    neighbour[k] = (neighbour[k] + n) % n
                } else if neighbour[k] < 0 || neighbour[k] >= n {
                    inside = false
                }
            }
            guard inside else { continue }
            let j = grid.flatIndex(neighbour)
            var y = proxPoints[j]
            var cost = fAtProx[j]
            for k in 0..<d {
                if grid.axes[k].periodic {
                    let length = grid.axes[k].length
                    y[k] -= length * ((y[k] - x[k]) / length).rounded()
                }
                cost += (x[k] - y[k]) * (x[k] - y[k]) / (2 * t)
            }
            all.append((cost, y))
        }
        let first = all.min { $0.0 < $1.0 }!
        let far = all.filter { c in zip(c.1, first.1).contains { abs($0 - $1) > separation } }.min { $0.0 < $1.0 }
        return far.map { [first, $0] } ?? [first]
    }

    /// Newton steps on `phi(y) = f(y) + |x - y|^2/(2t)` from `y` (see `polish`): the Hessian
    /// `H_f + I/t` from central differences of the exact gradient is reused while the steps
    /// lower the cost (chord), refreshed at the current point when a step fails, shifted by
    /// a multiple of `I/t` until positive definite, and also refreshed when a step shrinks the
    /// gradient less than fourfold; a step from a fresh Hessian is halved up to six times
    /// until it lowers the cost. Stops when the step is below `1e-10 max(1, |y|)`.
    static func newton(from start: [Double], cost startCost: Double, x: [Double], loss: Loss, time t: Double,
                       steps: Int, reach: Double) -> (Double, [Double]) {
        let d = start.count
        func cost(at y: [Double]) -> Double {
            var c = loss.value(at: y)
            for k in 0..<d { c += (x[k] - y[k]) * (x[k] - y[k]) / (2 * t) }
            return c
        }
        func gradient(at y: [Double]) -> [Double] {
            let g = loss.gradient(at: y)
            return (0..<d).map { g[$0] + (y[$0] - x[$0]) / t }
        }
        func factor(at y: [Double]) -> Cholesky? {
            var hessian = Matrix(rows: d, columns: d, entries: [Double](repeating: 0, count: d * d))
            for l in 0..<d {
                let s = 1e-4 * max(1, abs(y[l]))
                var plus = y, minus = y
                plus[l] += s
                minus[l] -= s
                let (gp, gm) = (loss.gradient(at: plus), loss.gradient(at: minus))
                for k in 0..<d { hessian[k, l] = (gp[k] - gm[k]) / (2 * s) }
            }
            for k in 0..<d {
                for l in 0..<k {
                    let m = (hessian[k, l] + hessian[l, k]) / 2
                    hessian[k, l] = m
                    hessian[l, k] = m
                }
            }
            for shift in [1.0, 2, 4, 8, 16] {
                var shifted = hessian
                for k in 0..<d { shifted[k, k] += shift / t }
                if let c = Cholesky(shifted) { return c }
            }
            return nil
        }
        var best = startCost, y = start
        guard var chord = factor(at: y) else { return (best, y) }
        var fresh = true
        var g = gradient(at: y)
        var gNorm = g.reduce(0) { max($0, abs($1)) }
        for _ in 0..<steps {
            let delta = chord.solve(g)
            let size = delta.reduce(0) { max($0, abs($1)) }
            if size <= 1e-10 * max(1, y.reduce(0) { max($0, abs($1)) }) { break }
            var accepted = false
            var scale = min(1, reach / size)
            for _ in 0..<(fresh ? 7 : 1) {
                let next = (0..<d).map { y[$0] - scale * delta[$0] }
                let c = cost(at: next)
                if c < best {
                    (best, y, accepted) = (c, next, true)
                    break
                }
                scale /= 2
            }
            if accepted {
                let next = gradient(at: y)
                let nextNorm = next.reduce(0) { max($0, abs($1)) }
                // A stale Hessian contracts slowly (near a caustic, H_f + I/t nearly singular):
                // refresh it when the gradient did not shrink fourfold.
                if nextNorm > 0.25 * gNorm, let refreshed = factor(at: y) {
                    (chord, fresh) = (refreshed, true)
                } else {
                    fresh = false
                }
                (g, gNorm) = (next, nextNorm)
            } else if fresh {
                break
            } else {
                guard let refreshed = factor(at: y) else { break }
                (chord, fresh) = (refreshed, true)
            }
        }
        return (best, y)
    }

    /// A Cholesky factor of a small symmetric positive definite matrix (nil if not SPD).
    private struct Cholesky {
        let l: [Double], n: Int
        init?(_ a: Matrix) {
            n = a.rows
            var l = [Double](repeating: 0, count: n * n)
            for i in 0..<n {
                for j in 0...i {
                    var s = a[i, j]
                    for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                    if i == j {
                        guard s > 0 else { return nil }
                        l[i * n + i] = s.squareRoot()
                    } else {
                        l[i * n + j] = s / l[j * n + j]
                    }
                }
            }
            self.l = l
        }
        func solve(_ b: [Double]) -> [Double] {
            var z = b
            for i in 0..<n {
                for k in 0..<i { z[i] -= l[i * n + k] * z[k] }
                z[i] /= l[i * n + i]
            }
            for i in stride(from: n - 1, through: 0, by: -1) {
                for k in (i + 1)..<n { z[i] -= l[k * n + i] * z[k] }
                z[i] /= l[i * n + i]
            }
            return z
        }
    }
}
