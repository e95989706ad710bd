/// Crank–Nicolson for `v_t = nu Lap v`, split along the axes:
/// `v^{n+1} = prod_k (I - a_k L_k)^{-1} (I + a_k L_k) v^n`, `a_k = nu dt / 2`, `L_k` the
/// second-order difference along axis k with the axis' ghost rule. In 1-D this is
/// Crank–Nicolson, second order in time and space. In 2-D/3-D the `L_k` act on different
/// axes of a tensor grid with per-axis boundary rules, so they commute: the product has no
/// operator-splitting error, yet it is not the unsplit scheme — per Fourier mode it
/// multiplies the 1-D Crank–Nicolson factors `(1 + a λ_k)/(1 - a λ_k)` instead of taking
/// `(1 + a Σλ_k)/(1 - a Σλ_k)`. Both approximate `exp(nu dt Σλ_k)` to `O(dt^3)` per step,
/// so the scheme is second order in time and space (in 2-D it is Peaceman–Rachford ADI).
/// Every factor has modulus <= 1: unconditionally stable, with no CFL condition. Crank–Nicolson
/// alone damps the stiffest modes weakly (factors near -1 when `a λ >> 1`), so rough data
/// would leave grid-scale oscillations; with `rannacherStart` the first step is taken as two
/// backward-Euler half steps, which reuse the same factored matrices (`I - a_k L_k` is the
/// backward-Euler matrix for `dt/2`), damp those modes by `(1 + a λ)^-2`, and keep the
/// global error second order (their `O(dt^2)` local error is committed once).
///
/// Each axis' tridiagonal matrix `I - a_k L_k` is factored once (cyclic for `wrap`); a sweep
/// solves every line along the axis (`lineStart(along:line:)`, one code path for every
/// axis and dimension), lines split over the cores. Periodic and Neumann sweeps conserve
/// the discrete mass (trapezoidal weights for Neumann); `fixed` ends keep their value.
public struct CrankNicolsonHeat: Sendable {
    public let grid: Grid
    public let rules: [GhostRule]
    public let dt: Double
    private let halfRatios: [Double]
    private let systems: [TridiagonalSystem]

    public init(grid: Grid, diffusivity nu: Double, dt: Double, rules: [GhostRule]? = nil) {
        let rules = rules ?? grid.ghostRules
        self.grid = grid
        self.rules = rules
        self.dt = dt
        let halfRatios = grid.spacing.map { nu * dt / (2 * $0 * $0) }
        self.halfRatios = halfRatios
        self.systems = (0..<grid.dimension).map { k in
            Self.implicitMatrix(count: grid.axes[k].count, ratio: halfRatios[k], rule: rules[k])
        }
    }

    /// `I - a L` along a line of `n` nodes with the ghost rule folded into the end rows.
    static func implicitMatrix(count n: Int, ratio a: Double, rule: GhostRule) -> TridiagonalSystem {
        var lower = [Double](repeating: -a, count: n)
        var diagonal = [Double](repeating: 1 + 2 * a, count: n)
        var upper = [Double](repeating: -a, count: n)
        switch rule {
        case .wrap:
            break   // lower[0] and upper[n-1] are the cyclic corners
        case .mirror:
            lower[0] = 0; upper[n - 1] = 0
            upper[0] = -2 * a           // u[-1] = u[1]
            lower[n - 1] = -2 * a       // u[n] = u[n-2]
        case .fixed:
            lower[0] = 0; upper[n - 1] = 0
            diagonal[0] = 1; upper[0] = 0
            diagonal[n - 1] = 1; lower[n - 1] = 0
        }
        return TridiagonalSystem(lower: lower, diagonal: diagonal, upper: upper, periodic: rule == .wrap)
    }

    /// `steps` time steps in place. With `rannacherStart` the first of them is two
    /// backward-Euler half steps (pass false when continuing an earlier `advance`).
    /// `axisOrder` is the order of the sweeps (the factors commute, so any order gives the
    /// same result up to round-off; tests check that).
    public func advance(_ values: inout [Double], steps: Int, rannacherStart: Bool = true,
                        axisOrder: [Int]? = nil) {
        precondition(values.count == grid.count)
        let order = axisOrder ?? Array(0..<grid.dimension)
        precondition(order.sorted() == Array(0..<grid.dimension), "axisOrder must list every axis once")
        for s in 0..<steps {
            let backwardEuler = rannacherStart && s == 0
            for axis in order {
                if backwardEuler {
                    sweep(&values, axis: axis, explicitHalf: false)
                    sweep(&values, axis: axis, explicitHalf: false)
                } else {
                    sweep(&values, axis: axis, explicitHalf: true)
                }
            }
            // Sweeps along other axes carry a fixed face's value through a solve (exact up to
            // rounding); reset it so Dirichlet nodes hold their value exactly.
            values.withUnsafeMutableBufferPointer { GhostRule.fixEnds($0.baseAddress!, grid: grid, rules: rules) }
        }
    }

    /// `v <- (I - a L_k)^{-1} (I + a L_k) v` on every line along `axis`, or
    /// `v <- (I - a L_k)^{-1} v` (a backward-Euler half step) without `explicitHalf`.
    private func sweep(_ values: inout [Double], axis: Int, explicitHalf: Bool) {
        let n = grid.axes[axis].count
        let step = grid.strides[axis]
        let a = halfRatios[axis]
        let rule = rules[axis]
        let system = systems[axis]
        let lines = grid.lineCount(along: axis)
        let grid = self.grid
        values.withUnsafeMutableBufferPointer { buffer in
            let v = buffer.baseAddress!
            Parallel.forEachChunk(lines, minimumPerChunk: max(1, 8192 / n)) { range in
                var line = [Double](repeating: 0, count: n)
                var rhs = [Double](repeating: 0, count: n)
                line.withUnsafeMutableBufferPointer { u in
                    rhs.withUnsafeMutableBufferPointer { b in
                        for l in range {
                            let start = grid.lineStart(along: axis, line: l)
                            for i in 0..<n { u[i] = v[start + i * step] }
                            if explicitHalf {
                                Self.explicitHalf(u, into: b, ratio: a, rule: rule)
                            } else {
                                Self.fixEnds(u, into: b, rule: rule)
                            }
                            system.solve(b.baseAddress!, start: 0, stride: 1)
                            for i in 0..<n { v[start + i * step] = b[i] }
                        }
                    }
                }
            }
        }
    }

    /// `b = u`, with `fixed` ends at their value.
    @inline(__always)
    static func fixEnds(_ u: UnsafeMutableBufferPointer<Double>, into b: UnsafeMutableBufferPointer<Double>,
                        rule: GhostRule) {
        for i in 0..<u.count { b[i] = u[i] }
        if case let .fixed(value) = rule {
            b[0] = value
            b[u.count - 1] = value
        }
    }

    /// `b = (I + a L) u` along one contiguous line; `fixed` ends keep their value.
    @inline(__always)
    static func explicitHalf(_ u: UnsafeMutableBufferPointer<Double>, into b: UnsafeMutableBufferPointer<Double>,
                             ratio a: Double, rule: GhostRule) {
        let n = u.count
        for i in 1..<(n - 1) { b[i] = u[i] + a * (u[i - 1] - 2 * u[i] + u[i + 1]) }
        switch rule {
        case .wrap:
            b[0] = u[0] + a * (u[n - 1] - 2 * u[0] + u[1])
            b[n - 1] = u[n - 1] + a * (u[n - 2] - 2 * u[n - 1] + u[0])
        case .mirror:
            b[0] = u[0] + 2 * a * (u[1] - u[0])
            b[n - 1] = u[n - 1] + 2 * a * (u[n - 2] - u[n - 1])
        case let .fixed(value):
            b[0] = value
            b[n - 1] = value
        }
    }
}
