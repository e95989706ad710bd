/// What an explicit scheme does when the requested time step breaks its stability bound.
public enum CFLPolicy: String, Sendable, Codable, CaseIterable {
    /// Throw `RelaxError.invalidParameter` stating the bound.
    case refuse
    /// Take the smallest number of equal steps that meets the bound, and say so in the report.
    case subStep = "sub-step"
}

/// The explicit FTCS scheme for `v_t = nu Lap v`:
/// `v^{n+1} = v^n + sum_k r_k (v_{i-e_k} - 2 v_i + v_{i+e_k})`, `r_k = nu dt / h_k^2`.
/// First order in time and second order in space, so `O(h^2)` when `dt ∝ h^2`. Stable, and
/// monotone (a discrete maximum principle holds: every new value is a convex combination of
/// old ones), exactly when `nu dt sum_k 1/h_k^2 <= 1/2`; `cflNumber` is that sum divided by
/// 1/2. Ghost values follow each axis' `GhostRule`; `fixed` ends keep their value.
///
/// The step is one kernel for d = 1, 2, 3 over the contiguous storage: the points are split
/// into ranges over the cores, each range walks rows of the last axis (contiguous, its
/// neighbours read in the same pass), then adds the neighbour rows along the other axes.
public struct ExplicitHeatStep: Sendable {
    public let grid: Grid
    public let rules: [GhostRule]
    /// `r_k = nu dt / h_k^2` per axis.
    public let ratios: [Double]

    /// The largest `nu dt sum_k 1/h_k^2` for which FTCS is stable and monotone.
    public static let stabilityBound = 0.5

    public init(grid: Grid, diffusivity nu: Double, dt: Double, rules: [GhostRule]? = nil) {
        self.grid = grid
        self.rules = rules ?? grid.ghostRules
        self.ratios = grid.spacing.map { nu * dt / ($0 * $0) }
    }

    /// `nu dt sum_k 1/h_k^2 / (1/2)`: at most 1 for a stable step.
    public var cflNumber: Double { ratios.reduce(0, +) / Self.stabilityBound }

    /// One step from `source` into `target` (disjoint buffers of `grid.count` values).
    public func apply(from source: UnsafePointer<Double>, to target: UnsafeMutablePointer<Double>) {
        let n = grid.shape
        let count = grid.count
        Parallel.forEachChunk(count, minimumPerChunk: 1 << 14) { range in
            stepKernel(source, target, range: range, shape: n)
        }
        GhostRule.fixEnds(target, grid: grid, rules: rules)
    }

    /// `steps` steps in place, alternating between `values` and one scratch buffer.
    public func advance(_ values: inout [Double], steps: Int) {
        precondition(values.count == grid.count)
        guard steps > 0 else { return }
        var scratch = [Double](repeating: 0, count: values.count)
        values.withUnsafeMutableBufferPointer { a in
            scratch.withUnsafeMutableBufferPointer { b in
                for s in 0..<steps {
                    if s % 2 == 0 {
                        apply(from: a.baseAddress!, to: b.baseAddress!)
                    } else {
                        apply(from: b.baseAddress!, to: a.baseAddress!)
                    }
                }
            }
        }
        if steps % 2 == 1 { swap(&values, &scratch) }
    }

    /// The update for flat indices `range`, row by row along the last axis.
    @inline(__always)
    private func stepKernel(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>,
                            range: Range<Int>, shape n: [Int]) {
        let d = n.count
        let m = n[d - 1]
        let rLast = ratios[d - 1]
        let center = 1 - 2 * ratios.reduce(0, +)
        let lastRule = rules[d - 1]
        // rowStride[k]: distance in rows between neighbours along outer axis k.
        var rowStride = [Int](repeating: 1, count: max(d - 1, 0))
        if d >= 3 { rowStride[0] = n[1] }
        var flat = range.lowerBound
        while flat < range.upperBound {
            let row = flat / m
            let j0 = flat - row * m
            let j1 = min(m, j0 + (range.upperBound - flat))
            let c = src + row * m
            let o = dst + row * m
            // Centre and the last axis, interior columns contiguous.
            let lo = max(j0, 1), hi = min(j1, m - 1)
            if lo < hi {
                for j in lo..<hi { o[j] = center * c[j] + rLast * (c[j - 1] + c[j + 1]) }
            }
            if j0 == 0 {
                let ghost = lastRule == .wrap ? c[m - 1] : c[1]
                o[0] = center * c[0] + rLast * (ghost + c[1])
            }
            if j1 == m {
                let ghost = lastRule == .wrap ? c[0] : c[m - 2]
                o[m - 1] = center * c[m - 1] + rLast * (c[m - 2] + ghost)
            }
            // Neighbour rows along the outer axes.
            for k in 0..<(d - 1) {
                let i = (row / rowStride[k]) % n[k]
                let (minus, plus) = neighbourRows(row: row, index: i, count: n[k], rowStride: rowStride[k], rule: rules[k])
                let a = src + minus * m, b = src + plus * m
                let r = ratios[k]
                for j in j0..<j1 { o[j] += r * (a[j] + b[j]) }
            }
            flat += j1 - j0
        }
    }

    /// The rows before and after `row` along an outer axis, with the ghost rule at the ends.
    @inline(__always)
    private func neighbourRows(row: Int, index i: Int, count n: Int, rowStride s: Int,
                               rule: GhostRule) -> (Int, Int) {
        let wrap = rule == .wrap
        let minus = i > 0 ? row - s : (wrap ? row + (n - 1) * s : row + s)
        let plus = i < n - 1 ? row + s : (wrap ? row - (n - 1) * s : row - s)
        return (minus, plus)
    }
}

/// The number of FTCS steps and the step size for a solve to time `t`.
public struct ExplicitHeatSchedule: Sendable, Equatable {
    public let steps: Int
    public let dt: Double
    /// `nu dt sum_k 1/h_k^2 / (1/2)` of the steps taken.
    public let cfl: Double
    /// What the policy did, for the solver report.
    public let note: String

    /// Chooses the steps: `requestedSteps` if they meet the bound; otherwise refuse (throw
    /// with the bound) or sub-step (the fewest equal steps that meet it), by `policy`.
    /// Without `requestedSteps`, the fewest stable steps.
    public init(diffusivity nu: Double, time t: Double, spacing: [Double],
                requestedSteps: Int?, policy: CFLPolicy) throws {
        let stiffness = nu * spacing.reduce(0) { $0 + 1 / ($1 * $1) }   // nu sum 1/h^2
        let bound = ExplicitHeatStep.stabilityBound
        let fewest = max(1, Int((t * stiffness / bound * (1 - 1e-12)).rounded(.up)))
        if let requested = requestedSteps {
            guard requested >= 1 else {
                throw RelaxError.invalidParameter(name: "steps", value: "\(requested)", expected: "at least 1 time step")
            }
            let dt = t / Double(requested)
            if dt * stiffness <= bound * (1 + 1e-12) {
                steps = requested
                note = "ftcs: \(requested) steps as requested"
            } else {
                let message = "a time step dt <= \(bound / stiffness) (FTCS stability: nu dt sum_k 1/h_k^2 <= 1/2, "
                    + "here nu dt sum 1/h^2 = \(dt * stiffness)); use at least \(fewest) steps, "
                    + "the sub-step policy, or Crank–Nicolson (--method fd)"
                switch policy {
                case .refuse:
                    throw RelaxError.invalidParameter(name: "dt", value: "\(dt) (\(requested) steps)", expected: message)
                case .subStep:
                    steps = fewest
                    note = "ftcs: \(requested) requested steps break the CFL bound (nu dt sum 1/h^2 = "
                        + "\(dt * stiffness) > 1/2); sub-stepped to \(fewest) steps"
                }
            }
        } else {
            steps = fewest
            note = "ftcs: \(fewest) steps, the fewest meeting nu dt sum 1/h^2 <= 1/2"
        }
        dt = t / Double(steps)
        cfl = dt * stiffness / bound
    }
}
