extension HopfLax {
    /// Polishes a (refined) Hopf–Lax solution with the exact loss: at every node `x`, the
    /// value becomes the least exact cost `f(y) + |x - y|^2/(2t)` over the candidates `y` =
    /// the prox points of the node and of its `3^d - 1` neighbours (nearest periodic image).
    ///
    /// Every candidate is feasible, so the polished value is an upper bound of the exact
    /// `u(x)` (the model value may undercut it), and it is never above the exact cost at the
    /// node's own prox. It removes
    /// the two errors of the refinement's quadratic model (`ProxRefinement`): the model's
    /// value error, O(h^3) with the constant of `f'''` (large in narrow wells), becomes the
    /// exact cost's `(f'' + 1/t) |y - y*|^2/2` with the O(h^2) prox error; and at a kink of
    /// `u`, where the discrete argmin may pick the wrong basin (an O(h^2) value error), a
    /// neighbour across the kink supplies a candidate from the right basin. Semiconcavity
    /// measurements (`Semiconcavity`) need this: second differences amplify value errors
    /// by `4/h^2`. The loss must be defined at the prox points (for a free boundary they lie
    /// in the padded domain: an expression or preset). Cost: one loss evaluation per node.
    public static func polish(_ solution: HopfLaxSolution, loss: Loss) -> HopfLaxSolution {
        let grid = solution.value.grid, d = grid.dimension, t = solution.time
        let count = grid.count
        let proxPoints = (0..<count).map { i in (0..<d).map { solution.prox[$0].values[i] } }
        let fAtProx = proxPoints.map { loss.value(at: $0) }
        var offsets: [[Int]] = [[]]
        for _ in 0..<d { offsets = offsets.flatMap { o in [-1, 0, 1].map { o + [$0] } } }
        var value = [Double](repeating: .infinity, count: count)
        var prox = solution.prox.map(\.values)
        for flat in 0..<count {
            let index = grid.multiIndex(flat)
            let x = grid.point(flat)
            for o in offsets {
                var neighbour = index
                var inside = true
                for k in 0..<d {
                    neighbour[k] += o[k]
                    let n = grid.axes[k].count
                    if grid.axes[k].periodic { neighbour[k] = (neighbour[k] + n) % n } else if neighbour[k] < 0 || neighbour[k] >= n { inside = false }
                }
                guard inside else { continue }
                let j = grid.flatIndex(neighbour)
                var y = proxPoints[j]
                var cost = fAtProx[j]
                for k in 0..<d {
                    if grid.axes[k].periodic {
                        // The image of y nearest x.
                        let length = grid.axes[k].length
                        y[k] -= length * ((y[k] - x[k]) / length).rounded()
                    }
                    cost += (x[k] - y[k]) * (x[k] - y[k]) / (2 * t)
                }
                if cost < value[flat] {
                    value[flat] = cost
                    for k in 0..<d { prox[k][flat] = y[k] }
                }
            }
        }
        return HopfLaxSolution(time: t, value: Field(grid: grid, values: value),
                               prox: prox.map { Field(grid: grid, values: $0) }, proxNodes: [])
    }
}
