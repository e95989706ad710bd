/// The stationary vector of a Markov generator with banded structure, by the
/// Grassmann–Taksar–Heyman (GTH) algorithm.
///
/// The generator is given by its non-negative off-diagonal rates: `rate(i, j)` is the flow
/// coefficient from state `j` into state `i` (`|i - j| <= bandwidth`). The singular
/// M-matrix `M = diag(column sums) - W` is eliminated without pivoting; every pivot is the
/// sum of the magnitudes below it in the current Schur complement (whose column sums stay
/// zero), and fill-in adds magnitudes, so no subtraction occurs: the null vector comes out
/// componentwise accurate to O(bandwidth) ulps per elimination level and exactly
/// non-negative. Cost `N * bandwidth^2` multiply-adds, memory `N * (2 bandwidth + 1)`.
struct MarkovBandStationary {
    let count: Int
    let bandwidth: Int
    /// Magnitudes of the off-diagonal entries, row-major band storage:
    /// entry (i, j) at `i * (2 b + 1) + (j - i + b)`.
    private(set) var band: [Double]

    init(count: Int, bandwidth: Int) {
        self.count = count
        self.bandwidth = bandwidth
        band = [Double](repeating: 0, count: count * (2 * bandwidth + 1))
    }

    /// Adds `rate` to the flow coefficient from `from` into `into`.
    mutating func addRate(into i: Int, from j: Int, _ rate: Double) {
        precondition(i != j && abs(i - j) <= bandwidth)
        band[i * (2 * bandwidth + 1) + (j - i + bandwidth)] += rate
    }

    /// The stationary vector, scaled so its largest entry is about 1 (the caller normalizes).
    /// Throws if the chain is reducible (a zero pivot: a state nothing flows out of).
    consuming func stationary() throws -> [Double] {
        let n = count, b = bandwidth, w = 2 * bandwidth + 1
        var pivots = [Double](repeating: 0, count: n)
        var x = [Double](repeating: 0, count: n)
        try band.withUnsafeMutableBufferPointer { m in
            for k in 0..<(n - 1) {
                let last = min(n - 1, k + b)
                var p = 0.0
                for i in (k + 1)...last { p += m[i * w + (k - i + b)] }
                guard p > 0 else {
                    throw RelaxError.numerical(
                        "the discrete generator is reducible at state \(k) (no outflow): the drift is too "
                        + "strong for this grid (rates underflow); refine the grid or reduce beta")
                }
                pivots[k] = p
                let rowK = k * w + b - k
                for i in (k + 1)...last {
                    let l = m[i * w + (k - i + b)] / p
                    if l == 0 { continue }
                    let rowI = i * w + b - i
                    // Off-diagonal magnitudes add; the diagonal (j == i) follows from the
                    // zero column sums and is never stored.
                    for j in (k + 1)..<i { m[rowI + j] += l * m[rowK + j] }
                    if i < last { for j in (i + 1)...last { m[rowI + j] += l * m[rowK + j] } }
                }
            }
            x[n - 1] = 1
            for k in stride(from: n - 2, through: 0, by: -1) {
                let last = min(n - 1, k + b)
                let rowK = k * w + b - k
                var s = 0.0
                for j in (k + 1)...last { s += m[rowK + j] * x[j] }
                let v = s / pivots[k]
                x[k] = v
                if v > 1e150 {
                    // Rescale what is known so far to keep the recursion in range.
                    for j in k..<n { x[j] *= 1e-150 }
                }
            }
        }
        let top = x.max() ?? 1
        return x.map { $0 / top }
    }
}
