import Foundation

/// Semiconcavity of smoothed losses (paper, Section 6.2, Lemma 18): for the viscous and the
/// inviscid HJ equation (`beta^{-1} >= 0`),
///
///     sup_x u_{x_k x_k}(x, t) <= 1 / (1/C_k + t),      sup_x Lap u(x, t) <= 1 / (1/C_Lap + t/d),
///
/// with `C_k = sup f_{x_k x_k}`, `C_Lap = sup Lap f` from the initial data. The heat equation
/// has no such bound: `w = v_xx` solves the heat equation itself, so `sup w` only decays at
/// the rate the data allow (`c0 exp(-lambda1 t)` for an eigenfunction, Example 14; not at
/// all for a quadratic).
///
/// Discretization: `u_{x_k x_k}` is measured by the central second difference
/// `(u[i+1] - 2u[i] + u[i-1]) / h^2`, the Laplacian by the sum of them (the 5-point / 7-point
/// stencil), at the nodes where the stencil fits (every node on a periodic axis). The second
/// difference equals `u_xx + h^2/12 u_xxxx + O(h^4)`, and, more usefully, it is exactly the
/// average of `u_xx` against the hat function on `[x - h, x + h]` (of unit mass), also for a
/// semiconcave `u` with kinks. So for the exact solution the discrete supremum can only
/// *underestimate* `sup u_xx` (by at most `h^2/12 sup|u_xxxx|` at a smooth maximum) and never
/// exceeds the bound: checking the bound needs no truncation slack, only the solver's value
/// error `eps` amplified by the stencil, `tolerance(valueError:spacing:)` = `4 eps / h^2`
/// per axis.
public enum Semiconcavity {
    /// Lemma 18's bound `1 / (1/C + t/n)` = `C / (1 + C t / n)` at time `t >= 0`, with `n = 1`
    /// for one axis and `n = d` for the Laplacian.
    ///
    /// - `C = +inf` (no bound on the data, e.g. kinks of a concave corner): `n / t` — every
    ///   solution is semiconcave with constant `1/t` after any positive time (the
    ///   inf-convolution of the parabolas `|x - y|^2/(2t)`).
    /// - `0 < C < inf`: `C / (1 + C t / n)`, equal to `C` at `t = 0`, attained for all `t` by
    ///   Example 13 (`u(., 0) = C|x|^2/2`).
    /// - `C = 0` (convex data... or linear): `0` for every `t`.
    /// - `C < 0`: `C / (1 + C t / n)` is negative and falls to `-inf` at `t = n / |C|`; the
    ///   comparison argument holds up to there. Data with `f_xx <= C < 0` everywhere on the
    ///   whole space are unbounded below (the HJ solution is `-inf` from `t = 1/|C|` on), so
    ///   this arises only for window suprema; the bound returns `-inf` for `t >= n / |C|`.
    public static func bound(initial c: Double, time t: Double, dimension n: Int = 1) -> Double {
        precondition(t >= 0 && n >= 1, "bound needs t >= 0 and n >= 1")
        if c == .infinity { return t > 0 ? Double(n) / t : .infinity }
        if c == 0 { return 0 }
        let denominator = 1 + c * t / Double(n)
        return denominator > 0 ? c / denominator : -.infinity
    }

    /// The value-error tolerance of a discrete supremum of second differences: a value error
    /// `eps` (sup norm) moves a second difference by at most `4 eps / h^2` per axis, the
    /// Laplacian by the sum over its axes (`axes` = the axes the quantity differentiates).
    public static func tolerance(valueError eps: Double, spacing: [Double]) -> Double {
        spacing.reduce(0) { $0 + 4 * eps / ($1 * $1) }
    }

    /// `max |coarse - fine|` over the nodes of `coarse`, where `fine` is the same solution on a
    /// grid refined by an integer factor `r` per axis (`n_fine - 1 = r (n_coarse - 1)`, or
    /// `n_fine = r n_coarse` on periodic axes) over the same domain: an a posteriori estimate
    /// of the coarse solution's value error `eps` (for a method of order `p`, the coarse error
    /// is this difference times `1/(1 - r^-p)`). Throws if the grids are not nested.
    public static func valueDifference(coarse: Field, fine: Field) throws -> Double {
        let c = coarse.grid, f = fine.grid
        guard c.dimension == f.dimension else {
            throw RelaxError.invalidGrid("the fine grid has \(f.dimension) axes, the coarse \(c.dimension)")
        }
        var ratios: [Int] = []
        for (a, b) in zip(c.axes, f.axes) {
            let r = Int((a.spacing / b.spacing).rounded())
            let nested = r >= 1 && abs(a.lower - b.lower) <= 1e-12 * max(1, abs(a.lower))
                && abs(a.spacing - Double(r) * b.spacing) <= 1e-12 * a.spacing && a.periodic == b.periodic
                && (a.periodic ? b.count == r * a.count : b.count == r * (a.count - 1) + 1)
            guard nested else {
                throw RelaxError.invalidGrid("the grids are not nested: coarse axis \(a), fine axis \(b) (need n_fine - 1 = r (n_coarse - 1) on the same interval)")
            }
            ratios.append(r)
        }
        var worst = 0.0
        for flat in 0..<c.count {
            let i = c.multiIndex(flat)
            let j = f.flatIndex(zip(i, ratios).map { $0 * $1 })
            worst = max(worst, abs(coarse.values[flat] - fine.values[j]))
        }
        return worst
    }

    /// The second difference `(u[i+s] - 2u[i] + u[i-s]) / (s h)^2` along `axis` at every node,
    /// `s = step` nodes apart (default 1; `step: 2` estimates the truncation error of `step: 1`,
    /// which is 1/4 of its own at leading order); `.nan` at the `s` end nodes on each side of a
    /// non-periodic axis (the stencil does not fit).
    public static func secondDifferences(_ u: Field, axis: Int, step s: Int = 1) -> Field {
        let grid = u.grid
        let n = grid.axes[axis].count
        let periodic = grid.axes[axis].periodic
        let step = grid.strides[axis]
        let h = Double(s) * grid.spacing[axis]
        let scale = 1 / (h * h)
        var out = [Double](repeating: .nan, count: grid.count)
        u.values.withUnsafeBufferPointer { v in
            for line in 0..<grid.lineCount(along: axis) {
                let start = grid.lineStart(along: axis, line: line)
                for i in 0..<n {
                    if !periodic && (i < s || i >= n - s) { continue }
                    let below = start + ((i + n - s % n) % n) * step, above = start + ((i + s) % n) * step
                    out[start + i * step] = (v[above] - 2 * v[start + i * step] + v[below]) * scale
                }
            }
        }
        return Field(grid: grid, values: out)
    }

    /// The discrete Laplacian, the sum of the second differences (`step` nodes apart) along
    /// every axis; `.nan` where any of them is undefined (near the ends of non-periodic axes).
    public static func laplacian(_ u: Field, step: Int = 1) -> Field {
        var sum = secondDifferences(u, axis: 0, step: step)
        for k in 1..<u.grid.dimension { sum = sum + secondDifferences(u, axis: k, step: step) }
        return sum
    }

    /// `sup` of the defined values of a field (`.nan` entries skipped); `-inf` if none.
    public static func supremum(_ field: Field) -> Double {
        field.values.reduce(-Double.infinity) { $1.isNaN ? $0 : max($0, $1) }
    }

    /// `sup_x` of the second difference along `axis`.
    public static func supSecondDifference(_ u: Field, axis: Int) -> Double {
        supremum(secondDifferences(u, axis: axis))
    }

    /// `sup_x` of the discrete Laplacian.
    public static func supLaplacian(_ u: Field) -> Double { supremum(laplacian(u)) }

    /// `sup_x u_{x_k x_k}` per axis and `sup_x Lap u`, each axis's second differences taken once
    /// (the Laplacian is their sum, in `laplacian`'s order).
    static func suprema(_ u: Field) -> (perAxis: [Double], laplacian: Double) {
        let differences = (0..<u.grid.dimension).map { secondDifferences(u, axis: $0) }
        let laplacian = differences.dropFirst().reduce(differences[0], +)
        return (differences.map(supremum), supremum(laplacian))
    }

    /// The constants `C_k`, `C_Lap` of Lemma 18 measured on the sampled initial data `f`
    /// (sup over the grid's nodes: the data's sup only if the grid contains where it is
    /// attained; pass your own constants when it is known analytically).
    public static func constants(of f: Field) -> SemiconcavityConstants {
        let (perAxis, laplacian) = suprema(f)
        return SemiconcavityConstants(perAxis: perAxis, laplacian: laplacian)
    }

    /// `sup f''` of a one-variable loss over `window`, from its exact second derivative
    /// (`Loss.secondDerivative1D`): the best of `samples` equally spaced points, refined by a
    /// golden-section search on the two cells around it (error below 1e-12 relative for a
    /// smooth `f''` whose maximum the sampling resolves). Throws for a loss of more variables.
    public static func supSecondDerivative(of loss: Loss, over window: ClosedRange<Double>,
                                           samples: Int = 20001) throws -> Double {
        guard loss.dimension == 1, samples >= 3 else {
            throw RelaxError.invalidParameter(name: "loss", value: loss.description,
                                              expected: "a loss of one variable (and at least 3 samples)")
        }
        let h = (window.upperBound - window.lowerBound) / Double(samples - 1)
        func second(_ x: Double) -> Double { loss.secondDerivative1D(at: x) ?? .nan }
        var best = 0
        var top = -Double.infinity
        for i in 0..<samples {
            let v = second(window.lowerBound + Double(i) * h)
            if v > top { top = v; best = i }
        }
        var (a, b) = (window.lowerBound + Double(max(best - 1, 0)) * h, window.lowerBound + Double(min(best + 1, samples - 1)) * h)
        let ratio = (sqrt(5.0) - 1) / 2
        for _ in 0..<80 where b - a > 1e-14 * max(1, abs(a)) {
            let c = b - ratio * (b - a), d = a + ratio * (b - a)
            if second(c) >= second(d) { b = d } else { a = c }
            top = max(top, second(c), second(d))
        }
        return top
    }

    /// Measures `sup u_{x_k x_k}` and `sup Lap u` of each solution against the Lemma 18
    /// bounds from `constants` (one sample per time, in the given order).
    public static func track(_ solutions: [(time: Double, u: Field)], constants: SemiconcavityConstants) -> SemiconcavityTrack {
        let samples = solutions.map { t, u in
            let d = u.grid.dimension
            let (perAxis, laplacian) = suprema(u)
            return SemiconcavitySample(
                time: t,
                supPerAxis: perAxis,
                supLaplacian: laplacian,
                boundPerAxis: constants.perAxis.map { bound(initial: $0, time: t) },
                boundLaplacian: bound(initial: constants.laplacian, time: t, dimension: d))
        }
        return SemiconcavityTrack(constants: constants, samples: samples)
    }

    /// The harmonic mean `n / sum 1/x_i` (paper, Section 6.3): `0` if some `x_i == 0` (its
    /// limit from above), `.nan` if some `x_i < 0` or the list is empty (not defined).
    public static func harmonicMean(_ values: [Double]) -> Double {
        guard !values.isEmpty, values.allSatisfy({ $0 >= 0 }) else { return .nan }
        if values.contains(0) { return 0 }
        return Double(values.count) / values.reduce(0) { $0 + 1 / $1 }
    }

    /// Lemma 20's bound `1 / (t + HM(C)^{-1})` on the harmonic mean of the Hessian spectrum
    /// at a local minimum, from the per-axis constants `C_k` of Lemma 18 (`HM(C)^{-1}` is the
    /// mean of `1/C_k`, with `1/inf = 0`). If some `C_k <= 0`, `u_{x_k x_k} <= 0` at the
    /// minimum, so the spectrum has a zero and the bound is `0`.
    public static func harmonicMeanBound(constants c: [Double], time t: Double) -> Double {
        precondition(!c.isEmpty && t >= 0)
        if c.contains(where: { $0 <= 0 }) { return 0 }
        let inverse = c.reduce(0) { $0 + 1 / $1 } / Double(c.count)
        return 1 / (t + inverse)
    }

    /// The finite-difference Hessian at node `flat`: second differences on the diagonal,
    /// `(u[+k+l] - u[+k-l] - u[-k+l] + u[-k-l]) / (4 h_k h_l)` off it; both O(h^2). Throws
    /// `.invalidParameter` for a node on the end of a non-periodic axis.
    public static func hessian(_ u: Field, at flat: Int) throws -> Matrix {
        let grid = u.grid, d = grid.dimension
        let index = grid.multiIndex(flat)
        for k in 0..<d where !grid.axes[k].periodic && (index[k] == 0 || index[k] == grid.axes[k].count - 1) {
            throw RelaxError.invalidParameter(name: "node", value: "\(index)",
                                              expected: "a node off the ends of the non-periodic axes (the Hessian stencil needs both neighbours)")
        }
        // The flat offset of a move by `o` nodes along axis `k` (wrapping on periodic axes).
        let strides = grid.strides
        func move(_ k: Int, _ o: Int) -> Int {
            let n = grid.axes[k].count
            return ((index[k] + o + n) % n - index[k]) * strides[k]
        }
        let v = u.values
        var h = Matrix(rows: d, columns: d, entries: [Double](repeating: 0, count: d * d))
        let centre = v[flat]
        for k in 0..<d {
            let hk = grid.spacing[k]
            let (kp, km) = (flat + move(k, 1), flat + move(k, -1))
            h[k, k] = (v[kp] - 2 * centre + v[km]) / (hk * hk)
            for l in 0..<k {
                let (lp, lm) = (move(l, 1), move(l, -1))
                let cross = (v[kp + lp] - v[kp + lm] - v[km + lp] + v[km + lm])
                    / (4 * hk * grid.spacing[l])
                h[k, l] = cross
                h[l, k] = cross
            }
        }
        return h
    }

    /// `sup_x lambda_max(Hess u)` over the nodes where the Hessian stencil fits (see
    /// `hessian(_:at:)`): the semiconcavity constant `C` of sampled data, `Hess u <= C I`
    /// (for `u(., 0) = f` the constant of Lemma 18's Laplace-type bounds). O(h^2) like the
    /// stencil; `-inf` if no node qualifies. Nodes are split over the cores.
    public static func supLargestHessianEigenvalue(_ u: Field) throws -> Double {
        let grid = u.grid
        // lambda_max per node: -inf where the stencil does not fit, NaN where LAPACK failed.
        var largest = [Double](repeating: -.infinity, count: grid.count)
        largest.withUnsafeMutableBufferPointer { out in
            Parallel.forEachChunk(grid.count, minimumPerChunk: 4096) { range in
                for flat in range {
                    let index = grid.multiIndex(flat)
                    if (0..<grid.dimension).contains(where: { !grid.axes[$0].periodic && (index[$0] == 0 || index[$0] == grid.axes[$0].count - 1) }) {
                        continue
                    }
                    out[flat] = (try? largestEigenvalue(hessian(u, at: flat))) ?? .nan
                }
            }
        }
        if let failed = largest.firstIndex(where: \.isNaN) {
            _ = try largestEigenvalue(hessian(u, at: failed))  // rethrows LAPACK's error for that node
        }
        return largest.max()!
    }

    /// The largest eigenvalue of a small symmetric matrix: closed form for order 1 and 2,
    /// LAPACK `dsyevd` above.
    static func largestEigenvalue(_ m: Matrix) throws -> Double {
        switch m.rows {
        case 1: return m[0, 0]
        case 2:
            let mean = (m[0, 0] + m[1, 1]) / 2, half = (m[0, 0] - m[1, 1]) / 2
            return mean + (half * half + m[0, 1] * m[0, 1]).squareRoot()
        default: return try LinearAlgebra.symmetricEigen(m).values.max()!
        }
    }

    /// Strict local minima and maxima at nodes: in 1-D `ConvexityAnalysis.extrema` (plateaus
    /// count once); in d > 1, nodes strictly below (above) all `3^d - 1` neighbours, at
    /// every node of periodic axes and off the ends of the others (plateaus are not reported).
    public static func extrema(_ u: Field) throws -> [GridExtremum] {
        let grid = u.grid
        if grid.dimension == 1 {
            return try ConvexityAnalysis.extrema(u).map {
                GridExtremum(kind: $0.kind, index: $0.index, point: [$0.x], value: $0.value)
            }
        }
        let d = grid.dimension
        // The 3^d - 1 neighbour offsets.
        var offsets: [[Int]] = [[]]
        for _ in 0..<d { offsets = offsets.flatMap { o in [-1, 0, 1].map { o + [$0] } } }
        offsets.removeAll { $0.allSatisfy { $0 == 0 } }
        var found: [GridExtremum] = []
        let v = u.values
        let strides = grid.strides
        for flat in 0..<grid.count {
            let index = grid.multiIndex(flat)
            if (0..<d).contains(where: { !grid.axes[$0].periodic && (index[$0] == 0 || index[$0] == grid.axes[$0].count - 1) }) {
                continue
            }
            // moves[k][o + 1]: the flat offset of a move by o = -1, 0, 1 along axis k (wrapping).
            let moves = (0..<d).map { k in
                let n = grid.axes[k].count
                return [-1, 0, 1].map { ((index[k] + $0 + n) % n - index[k]) * strides[k] }
            }
            var below = true, above = true
            for o in offsets {
                let j = flat + (0..<d).reduce(0) { $0 + moves[$1][o[$1] + 1] }
                if v[j] <= v[flat] { below = false }
                if v[j] >= v[flat] { above = false }
                if !below && !above { break }
            }
            if below || above {
                found.append(GridExtremum(kind: below ? .minimum : .maximum, index: flat, point: grid.point(flat), value: v[flat]))
            }
        }
        return found
    }

    /// Lemma 20 at every local minimum of `u(., t)`: the finite-difference Hessian, its
    /// eigenvalues (LAPACK `dsyevd`), their harmonic mean, and the bound
    /// `1/(t + HM(C)^{-1})` from the per-axis constants of the initial data. In d > 1 a node
    /// below its `3^d - 1` neighbours can still be a saddle whose descent direction lies
    /// between the lattice directions; its Hessian is then indefinite (`isSaddle`, harmonic
    /// mean `.nan`), and Lemma 20 does not apply to it.
    public static func spectraAtMinima(_ u: Field, time t: Double, constants c: [Double]) throws -> [MinimumSpectrum] {
        let bound = harmonicMeanBound(constants: c, time: t)
        return try extrema(u).filter { $0.kind == .minimum }.map { m in
            let h = try hessian(u, at: m.index)
            let eigenvalues = try LinearAlgebra.symmetricEigen(h).values
            return MinimumSpectrum(minimum: m, hessian: h, eigenvalues: eigenvalues,
                                   harmonicMean: harmonicMean(eigenvalues), bound: bound)
        }
    }

    /// Least-squares fit of `log s(t) = log c0 - lambda t` to positive samples (Example 14's
    /// decay `c0 exp(-lambda1 t)` of the heat comparator's `sup v_xx`). Returns `(lambda, c0)`.
    public static func exponentialFit(times: [Double], values: [Double]) throws -> (rate: Double, c0: Double) {
        guard times.count == values.count, times.count >= 2, values.allSatisfy({ $0 > 0 }) else {
            throw RelaxError.invalidParameter(name: "values", value: "\(values.count) samples",
                                              expected: "at least two positive samples, one per time")
        }
        guard times.contains(where: { $0 != times[0] }) else {
            throw RelaxError.invalidParameter(name: "times", value: "\(times)", expected: "at least two distinct times")
        }
        let line = LeastSquaresLine.fit(times, values.map { log($0) })
        return (-line.slope, exp(line.intercept))
    }
}

/// `C_k = sup f_{x_k x_k}` per axis and `C_Lap = sup Lap f` (Lemma 18).
public struct SemiconcavityConstants: Sendable, Equatable {
    public var perAxis: [Double]
    public var laplacian: Double

    public init(perAxis: [Double], laplacian: Double) {
        self.perAxis = perAxis
        self.laplacian = laplacian
    }
}

/// One time of a `SemiconcavityTrack`.
public struct SemiconcavitySample: Sendable, Equatable {
    public var time: Double
    /// `sup_x` of the second difference along each axis.
    public var supPerAxis: [Double]
    public var supLaplacian: Double
    /// `1/(1/C_k + t)` per axis.
    public var boundPerAxis: [Double]
    /// `1/(1/C_Lap + t/d)`.
    public var boundLaplacian: Double

    /// The largest `sup - bound` over the axes (positive: the bound is exceeded).
    public var axisExcess: Double { zip(supPerAxis, boundPerAxis).map { $0 - $1 }.max() ?? -.infinity }
    public var laplacianExcess: Double { supLaplacian - boundLaplacian }
}

/// Semiconcavity along a sequence of solutions (any solver: viscous HJ, Hopf–Lax, heat).
public struct SemiconcavityTrack: Sendable, Equatable {
    public var constants: SemiconcavityConstants
    public var samples: [SemiconcavitySample]

    public var times: [Double] { samples.map(\.time) }
    /// `sup_x u_{x_k x_k}` along time.
    public func supSecondDifference(axis k: Int) -> [Double] { samples.map { $0.supPerAxis[k] } }
    public func bound(axis k: Int) -> [Double] { samples.map { $0.boundPerAxis[k] } }
    public var supLaplacian: [Double] { samples.map(\.supLaplacian) }
    public var boundLaplacian: [Double] { samples.map(\.boundLaplacian) }

    /// Whether every sample obeys the per-axis and Laplacian bounds within `tolerance`
    /// (per axis; the Laplacian gets `d` times it).
    public func holds(tolerance: Double) -> Bool {
        samples.allSatisfy { s in
            s.axisExcess <= tolerance && s.laplacianExcess <= Double(s.supPerAxis.count) * tolerance
        }
    }

    /// The largest per-axis excess over all samples.
    public var maximumAxisExcess: Double { samples.map(\.axisExcess).max() ?? -.infinity }
    public var maximumLaplacianExcess: Double { samples.map(\.laplacianExcess).max() ?? -.infinity }
}

/// A strict local minimum or maximum at a grid node, in any dimension.
public struct GridExtremum: Sendable, Equatable {
    public var kind: LocalExtremum.Kind
    /// The flat node index.
    public var index: Int
    public var point: [Double]
    public var value: Double
}

/// The Hessian spectrum at a local minimum and Lemma 20's bound there.
public struct MinimumSpectrum: Sendable, Equatable {
    public var minimum: GridExtremum
    public var hessian: Matrix
    /// Ascending.
    public var eigenvalues: [Double]
    /// `HM(Lambda)`; `.nan` if an eigenvalue is negative (the discrete Hessian is not
    /// positive semidefinite there).
    public var harmonicMean: Double
    /// `1/(t + HM(C)^{-1})`.
    public var bound: Double

    /// The Hessian has a negative eigenvalue: the node is a saddle that the lattice stencil
    /// took for a minimum.
    public var isSaddle: Bool { (eigenvalues.first ?? 0) < 0 }
}
