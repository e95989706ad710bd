import Foundation

/// Functions of small dense matrices (d <= 3 drift, diffusion and covariance matrices):
/// the exponential, the inverse, and Sylvester / Lyapunov equations.
extension LinearAlgebra {
    /// `e^A` by scaling and squaring with the diagonal [6/6] Padé approximant: `A` is scaled
    /// by `2^-s` until its infinity norm is <= 1/2, where the Padé error is below 1e-16
    /// relative, then squared `s` times. Meant for small matrices (the OU drift).
    public static func matrixExponential(_ a: Matrix) throws -> Matrix {
        precondition(a.rows == a.columns, "matrixExponential needs a square matrix")
        guard a.entries.allSatisfy(\.isFinite) else {
            throw RelaxError.numerical("matrixExponential: the matrix has a non-finite entry")
        }
        let n = a.rows
        let norm = (0..<n).map { i in (0..<n).reduce(0) { $0 + abs(a[i, $1]) } }.max() ?? 0
        let s = norm > 0.5 ? Int(ceil(log2(norm / 0.5))) : 0
        let scaled = pow(2.0, Double(-s)) * a
        // Padé coefficients c_k = c_{k-1} (q - k + 1) / (k (2q - k + 1)), q = 6.
        let q = 6
        var c = [1.0]
        for k in 1...q { c.append(c[k - 1] * Double(q - k + 1) / Double(k * (2 * q - k + 1))) }
        var power = Matrix.identity(n)
        var numerator = Matrix.identity(n)
        var denominator = Matrix.identity(n)
        for k in 1...q {
            power = power * scaled
            numerator = numerator + c[k] * power
            denominator = denominator + ((k % 2 == 0) ? c[k] : -c[k]) * power
        }
        var result = try solve(denominator, numerator)
        for _ in 0..<s { result = result * result }
        return result
    }

    /// The inverse of a square matrix (LU, LAPACK `dgesv` against the identity).
    public static func inverse(_ a: Matrix) throws -> Matrix {
        try solve(a, Matrix.identity(a.rows))
    }

    /// Solves the Sylvester equation `A X + X B = C` through its Kronecker form
    /// `(I ⊗ A + B^T ⊗ I) vec X = vec C` and one dense LU solve of size `n m`. Cost
    /// O((n m)^3): for the small matrices of d <= 3 problems. Throws if the equation is
    /// singular (`A` and `-B` share an eigenvalue).
    public static func solveSylvester(_ a: Matrix, _ b: Matrix, _ c: Matrix) throws -> Matrix {
        precondition(a.rows == a.columns && b.rows == b.columns, "Sylvester needs square A and B")
        precondition(c.rows == a.rows && c.columns == b.rows, "Sylvester: C must be rows(A) x rows(B)")
        let n = a.rows, m = b.rows
        // Unknown X[i, j] at position i * m + j (row-major vec).
        var k = Matrix(rows: n * m, columns: n * m, entries: [Double](repeating: 0, count: n * m * n * m))
        for i in 0..<n {
            for j in 0..<m {
                let row = i * m + j
                for l in 0..<n { k[row, l * m + j] += a[i, l] }      // (A X)_ij = sum_l A_il X_lj
                for l in 0..<m { k[row, i * m + l] += b[l, j] }      // (X B)_ij = sum_l X_il B_lj
            }
        }
        do {
            let x = try solve(k, c.entries)
            return Matrix(rows: n, columns: m, entries: x)
        } catch {
            throw RelaxError.numerical("Sylvester equation A X + X B = C is singular: A and -B share an eigenvalue")
        }
    }

    /// Solves the Lyapunov equation `A X + X A^T = C`. For a stable drift `A` (eigenvalues
    /// with positive real parts) and symmetric positive definite `C` the solution is
    /// symmetric positive definite; the result is symmetrized to remove round-off asymmetry.
    public static func solveLyapunov(_ a: Matrix, _ c: Matrix) throws -> Matrix {
        let x = try solveSylvester(a, a.transposed, c)
        return 0.5 * (x + x.transposed)
    }
}
