import CLAPACK
import Foundation

/// The `s x s` Gaussian block `T_pq = exp(-c (p - q)^2)`, `p, q in 0..<s`, applied to many
/// columns at once (BLAS `dgemm`), dense or low-rank.
///
/// Low rank (for wide kernels, `c (s-1)^2 <= 2`): `T ~ A L` with `A_pk = exp(-c (p - x_k)^2)` at
/// `r = 22` Chebyshev points `x_k` of `[0, s-1]` and `L_kq` the Lagrange basis at `q`
/// (barycentric form): polynomial interpolation of `q -> exp(-c (p - q)^2)`, whose error for
/// `c (s-1)^2 <= 2` is at the rounding floor, `<= 4e-15` per entry (tested). An absolute entry
/// error `e` perturbs a pass's sums by at most `e exp(c (s-1)^2)` relative (the factors of a pair
/// obey `O_p v_q <= 1 / T_pq`), so about `3e-14`. Cost per column `2 s r` instead of `s^2`.
struct GaussianBlockKernel {
    let size: Int
    let coefficient: Double
    /// nil for the dense block.
    let rank: Int?
    /// Dense: `T`, column-major `s x s`. Low rank: `A` (`s x r`) then `L` (`r x s`), column-major.
    private let first: [Double]
    private let second: [Double]

    /// The largest `c (s-1)^2` for the low-rank form, and its rank.
    static let lowRankSpread = 2.0
    static let lowRank = 22

    init(size s: Int, coefficient c: Double, lowRank: Bool) {
        size = s
        coefficient = c
        if lowRank {
            let r = Self.lowRank
            rank = r
            let nodes = (0..<r).map { k in Double(s - 1) / 2 * (1 - cos((2 * Double(k) + 1) * Double.pi / (2 * Double(r)))) }
            let weights = (0..<r).map { k in (k % 2 == 0 ? 1.0 : -1.0) * sin((2 * Double(k) + 1) * Double.pi / (2 * Double(r))) }
            var a = [Double](repeating: 0, count: s * r)
            for k in 0..<r {
                for p in 0..<s {
                    let d = Double(p) - nodes[k]
                    a[k * s + p] = exp(-c * d * d)
                }
            }
            var l = [Double](repeating: 0, count: r * s)
            for q in 0..<s {
                let x = Double(q)
                if let hit = nodes.firstIndex(where: { $0 == x }) {
                    l[q * r + hit] = 1
                    continue
                }
                var denominator = 0.0
                for k in 0..<r { denominator += weights[k] / (x - nodes[k]) }
                for k in 0..<r { l[q * r + k] = weights[k] / (x - nodes[k]) / denominator }
            }
            first = a
            second = l
        } else {
            rank = nil
            first = (0..<(s * s)).map { k in
                let d = Double(k / s - k % s)
                return exp(-c * d * d)
            }
            second = []
        }
    }

    /// The number of scratch values `apply` needs for `columns` columns.
    func scratchCount(columns: Int) -> Int { (rank ?? 0) * columns }

    /// OpenBLAS's own threads spin between calls and then compete with the `Parallel` workers
    /// that call `apply`, each on its own blocks: BLAS runs single-threaded.
    static let singleThreadedBLAS: Bool = {
        openblas_set_num_threads(1)
        return true
    }()

    /// `Y = T X` for `columns` columns of length `s`, column-major, on the calling thread.
    func apply(_ x: UnsafePointer<Double>, columns: Int, into y: UnsafeMutablePointer<Double>,
               scratch: UnsafeMutablePointer<Double>) {
        _ = Self.singleThreadedBLAS
        let s = Int32(size), n = Int32(columns)
        guard let r = rank.map(Int32.init) else {
            first.withUnsafeBufferPointer { t in
                cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, s, n, s, 1, t.baseAddress!, s, x, s, 0, y, s)
            }
            return
        }
        second.withUnsafeBufferPointer { l in
            cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, r, n, s, 1, l.baseAddress!, r, x, s, 0, scratch, r)
        }
        first.withUnsafeBufferPointer { a in
            cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, s, n, r, 1, a.baseAddress!, s, scratch, r, 0, y, s)
        }
    }

    /// The entry `(p, q)` as the kernel applies it (for tests).
    func entry(_ p: Int, _ q: Int) -> Double {
        guard let r = rank else { return first[q * size + p] }
        var total = 0.0
        for k in 0..<r { total += first[k * size + p] * second[q * r + k] }
        return total
    }
}
