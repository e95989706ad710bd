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
/// into ranges over the cores, and each range walks rows of the last axis with one fused
/// contiguous loop per row (centre, last-axis neighbours, neighbour rows of the other axes).
/// It is memory-bound: `relax bench heat` compares it with the copy bandwidth.
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

    /// The update for flat indices `range`, row by row along the last axis. Each row is one
    /// fused contiguous loop over the centre, its last-axis neighbours and the neighbour rows
    /// of up to two outer axes; in fewer than 3 dimensions the missing pairs point at the row
    /// itself with weight 0, so d = 1, 2, 3 share the loop (the extra reads hit L1).
    @inline(__always)
    private func stepKernel(_ src: UnsafePointer<Double>, _ dst: UnsafeMutablePointer<Double>,
                            range: Range<Int>, shape n: [Int]) {
        let d = n.count
        let m = n[d - 1]
        let rLast = ratios[d - 1]
        let center = 1 - 2 * ratios.reduce(0, +)
        let wrapLast = rules[d - 1] == .wrap
        let r0 = d >= 2 ? ratios[0] : 0, r1 = d >= 3 ? ratios[1] : 0
        var flat = range.lowerBound
        while flat < range.upperBound {
            let row = flat / m
            let j0 = flat - row * m
            let j1 = min(m, j0 + (range.upperBound - flat))
            let c = src + row * m
            let o = dst + row * m
            // Neighbour rows along the outer axes (rows per step: n[1] along axis 0 in 3-D, else 1).
            var a0 = c, b0 = c, a1 = c, b1 = c
            if d >= 2 {
                let s0 = d == 3 ? n[1] : 1
                let (minus, plus) = neighbourRows(row: row, index: (row / s0) % n[0], count: n[0], rowStride: s0, rule: rules[0])
                a0 = src + minus * m; b0 = src + plus * m
            }
            if d == 3 {
                let (minus, plus) = neighbourRows(row: row, index: row % n[1], count: n[1], rowStride: 1, rule: rules[1])
                a1 = src + minus * m; b1 = src + plus * m
            }
            @inline(__always) func update(_ j: Int, _ left: Double, _ right: Double) {
                o[j] = center * c[j] + rLast * (left + right) + r0 * (a0[j] + b0[j]) + r1 * (a1[j] + b1[j])
            }
            let lo = max(j0, 1), hi = min(j1, m - 1)
            if lo < hi {
                // Shifted base pointers instead of j - 1, j + 1: overflow checks on the index
                // arithmetic would keep the loop from vectorizing.
                let left = c - 1, right = c + 1
                for j in lo..<hi {
                    o[j] = center * c[j] + rLast * (left[j] + right[j]) + r0 * (a0[j] + b0[j]) + r1 * (a1[j] + b1[j])
                }
            }
            if j0 == 0 { update(0, wrapLast ? c[m - 1] : c[1], c[1]) }
            if j1 == m { update(m - 1, c[m - 2], wrapLast ? c[0] : c[m - 2]) }
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
