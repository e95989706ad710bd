import CLAPACK

/// A dense row-major matrix, small enough that copying it is cheap (d x d Hessians,
/// covariance and drift matrices, test systems).
public struct Matrix: Sendable, Equatable, CustomStringConvertible {
    public let rows: Int
    public let columns: Int
    /// Entries in row-major order.
    public var entries: [Double]

    public init(rows: Int, columns: Int, entries: [Double]) {
        precondition(entries.count == rows * columns, "a \(rows)x\(columns) matrix needs \(rows * columns) entries")
        self.rows = rows
        self.columns = columns
        self.entries = entries
    }

    /// A matrix from its rows, e.g. `Matrix([[1, 2], [3, 4]])`.
    public init(_ rows: [[Double]]) {
        let c = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == c }, "rows of different lengths")
        self.init(rows: rows.count, columns: c, entries: rows.flatMap { $0 })
    }

    public static func identity(_ n: Int) -> Matrix {
        var m = Matrix(rows: n, columns: n, entries: [Double](repeating: 0, count: n * n))
        for i in 0..<n { m[i, i] = 1 }
        return m
    }

    public static func diagonal(_ d: [Double]) -> Matrix {
        var m = Matrix(rows: d.count, columns: d.count, entries: [Double](repeating: 0, count: d.count * d.count))
        for i in 0..<d.count { m[i, i] = d[i] }
        return m
    }

    public subscript(i: Int, j: Int) -> Double {
        get { entries[i * columns + j] }
        set { entries[i * columns + j] = newValue }
    }

    public var transposed: Matrix {
        var t = Matrix(rows: columns, columns: rows, entries: entries)
        for i in 0..<rows { for j in 0..<columns { t[j, i] = self[i, j] } }
        return t
    }

    public static func * (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.columns == b.rows, "matrix product of \(a.rows)x\(a.columns) and \(b.rows)x\(b.columns)")
        var c = Matrix(rows: a.rows, columns: b.columns, entries: [Double](repeating: 0, count: a.rows * b.columns))
        for i in 0..<a.rows {
            for k in 0..<a.columns {
                let aik = a[i, k]
                for j in 0..<b.columns { c[i, j] += aik * b[k, j] }
            }
        }
        return c
    }

    public static func * (a: Matrix, v: [Double]) -> [Double] {
        precondition(a.columns == v.count)
        return (0..<a.rows).map { i in (0..<a.columns).reduce(0) { $0 + a[i, $1] * v[$1] } }
    }

    public static func + (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.columns == b.columns)
        return Matrix(rows: a.rows, columns: a.columns, entries: zip(a.entries, b.entries).map { $0 + $1 })
    }

    public static func - (a: Matrix, b: Matrix) -> Matrix {
        precondition(a.rows == b.rows && a.columns == b.columns)
        return Matrix(rows: a.rows, columns: a.columns, entries: zip(a.entries, b.entries).map { $0 - $1 })
    }

    public static func * (s: Double, a: Matrix) -> Matrix {
        Matrix(rows: a.rows, columns: a.columns, entries: a.entries.map { s * $0 })
    }

    /// The largest absolute entry.
    public var maxAbs: Double { entries.reduce(0) { max($0, abs($1)) } }

    public var description: String {
        (0..<rows).map { i in (0..<columns).map { String(self[i, $0]) }.joined(separator: " ") }
            .joined(separator: "\n")
    }
}

/// LAPACK, through LAPACKE's row-major interface.
public enum LinearAlgebra {
    /// The eigenvalues (ascending) and orthonormal eigenvectors (the columns of `vectors`)
    /// of a symmetric matrix, by LAPACK `dsyevd`. Only the upper triangle is read.
    public static func symmetricEigen(_ a: Matrix) throws -> (values: [Double], vectors: Matrix) {
        precondition(a.rows == a.columns, "symmetricEigen needs a square matrix")
        let n = a.rows
        var w = [Double](repeating: 0, count: n)
        var v = a.entries
        let info = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")),
                                  Int32(n), &v, Int32(n), &w)
        guard info == 0 else {
            throw RelaxError.numerical("dsyevd failed (info \(info)) on a \(n)x\(n) symmetric matrix")
        }
        return (w, Matrix(rows: n, columns: n, entries: v))
    }

    /// Solves `A X = B` for square `A` by LU with partial pivoting (LAPACK `dgesv`).
    /// Throws for a singular matrix, naming the zero pivot.
    public static func solve(_ a: Matrix, _ b: Matrix) throws -> Matrix {
        precondition(a.rows == a.columns && b.rows == a.rows, "solve needs square A and B with matching rows")
        let n = a.rows
        var lu = a.entries
        var x = b.entries
        var pivots = [Int32](repeating: 0, count: n)
        let info = LAPACKE_dgesv(LAPACK_ROW_MAJOR, Int32(n), Int32(b.columns), &lu, Int32(n),
                                 &pivots, &x, Int32(b.columns))
        guard info == 0 else {
            if info > 0 {
                throw RelaxError.numerical("dgesv: the \(n)x\(n) matrix is singular (zero pivot \(info))")
            }
            throw RelaxError.numerical("dgesv failed (info \(info))")
        }
        return Matrix(rows: n, columns: b.columns, entries: x)
    }

    /// Solves `A x = b` for one right-hand side.
    public static func solve(_ a: Matrix, _ b: [Double]) throws -> [Double] {
        try solve(a, Matrix(rows: b.count, columns: 1, entries: b)).entries
    }

    /// Solves the general tridiagonal system with sub-diagonal `lower` (n-1), diagonal
    /// `diagonal` (n) and super-diagonal `upper` (n-1) by LAPACK `dgtsv` (LU with partial
    /// pivoting). For repeated solves with one matrix use `TridiagonalSystem`.
    public static func solveTridiagonal(lower: [Double], diagonal: [Double], upper: [Double],
                                        _ rhs: [Double]) throws -> [Double] {
        let n = diagonal.count
        precondition(lower.count == n - 1 && upper.count == n - 1 && rhs.count == n)
        var dl = lower, d = diagonal, du = upper, b = rhs
        let info = LAPACKE_dgtsv(LAPACK_ROW_MAJOR, Int32(n), 1, &dl, &d, &du, &b, 1)
        guard info == 0 else {
            throw RelaxError.numerical("dgtsv: tridiagonal matrix is singular (info \(info))")
        }
        return b
    }
}

/// A tridiagonal matrix factored once (Thomas algorithm, no pivoting: for diagonally
/// dominant matrices such as `I - a L` with a discrete Laplacian `L`) and then solved
/// in place along many strided lines of a field. `periodic` adds the corner entries
/// `A[0, n-1] = lower` and `A[n-1, 0] = upper` and solves the cyclic system by
/// Sherman–Morrison. The cost per line is O(n).
public struct TridiagonalSystem: Sendable {
    public let count: Int
    public let periodic: Bool
    // Forward-elimination factors of the (possibly modified) non-cyclic matrix.
    private let lower: [Double]
    private let inverseDiagonal: [Double]
    private let modifiedUpper: [Double]
    // Sherman–Morrison data for the cyclic case: z solves T z = u, with u = (gamma, 0..., c_last).
    private let correction: [Double]
    private let vFirst: Double
    private let vLast: Double
    private let denominator: Double

    /// Factors the matrix with constant-free entries `lower[i] = A[i, i-1]` (i >= 1;
    /// `lower[0]` is the cyclic corner), `diagonal[i] = A[i, i]`, `upper[i] = A[i, i+1]`
    /// (`upper[n-1]` is the cyclic corner).
    public init(lower: [Double], diagonal: [Double], upper: [Double], periodic: Bool = false) {
        let n = diagonal.count
        precondition(n >= 3 && lower.count == n && upper.count == n)
        count = n
        self.periodic = periodic
        var b = diagonal
        var gamma = 0.0
        if periodic {
            gamma = -diagonal[0]
            b[0] -= gamma
            b[n - 1] -= lower[0] * upper[n - 1] / gamma
        }
        var invDiag = [Double](repeating: 0, count: n)
        var cPrime = [Double](repeating: 0, count: n)
        invDiag[0] = 1 / b[0]
        cPrime[0] = upper[0] * invDiag[0]
        for i in 1..<n {
            let denom = b[i] - lower[i] * cPrime[i - 1]
            invDiag[i] = 1 / denom
            cPrime[i] = i < n - 1 ? upper[i] * invDiag[i] : 0
        }
        self.lower = lower
        self.inverseDiagonal = invDiag
        self.modifiedUpper = cPrime
        if periodic {
            var u = [Double](repeating: 0, count: n)
            u[0] = gamma
            u[n - 1] = upper[n - 1]
            Self.thomas(&u, lower: lower, inverseDiagonal: invDiag, cPrime: cPrime)
            correction = u
            vFirst = 1
            vLast = lower[0] / gamma
            denominator = 1 + u[0] * vFirst + u[n - 1] * vLast
        } else {
            correction = []
            vFirst = 0
            vLast = 0
            denominator = 1
        }
    }

    private static func thomas(_ x: inout [Double], lower: [Double], inverseDiagonal: [Double], cPrime: [Double]) {
        x.withUnsafeMutableBufferPointer { p in
            lower.withUnsafeBufferPointer { l in
                inverseDiagonal.withUnsafeBufferPointer { inv in
                    cPrime.withUnsafeBufferPointer { c in
                        thomasKernel(p.baseAddress!, stride: 1, n: p.count, lower: l, inverse: inv, cPrime: c)
                    }
                }
            }
        }
    }

    @inline(__always)
    private static func thomasKernel(_ x: UnsafeMutablePointer<Double>, stride s: Int, n: Int,
                                     lower l: UnsafeBufferPointer<Double>, inverse inv: UnsafeBufferPointer<Double>,
                                     cPrime c: UnsafeBufferPointer<Double>) {
        x[0] *= inv[0]
        var prev = x[0]
        for i in 1..<n {
            let v = (x[i * s] - l[i] * prev) * inv[i]
            x[i * s] = v
            prev = v
        }
        var next = x[(n - 1) * s]
        for i in stride(from: n - 2, through: 0, by: -1) {
            let v = x[i * s] - c[i] * next
            x[i * s] = v
            next = v
        }
    }

    /// Solves in place for the line `x[start + i * stride]`, `i in 0..<count`.
    public func solve(_ x: UnsafeMutablePointer<Double>, start: Int, stride: Int) {
        lower.withUnsafeBufferPointer { l in
            inverseDiagonal.withUnsafeBufferPointer { inv in
                modifiedUpper.withUnsafeBufferPointer { c in
                    Self.thomasKernel(x + start, stride: stride, n: count, lower: l, inverse: inv, cPrime: c)
                }
            }
        }
        guard periodic else { return }
        let p = x + start
        let factor = (vFirst * p[0] + vLast * p[(count - 1) * stride]) / denominator
        for i in 0..<count { p[i * stride] -= factor * correction[i] }
    }

    /// Solves in place for a contiguous right-hand side.
    public func solve(_ x: inout [Double]) {
        precondition(x.count == count)
        x.withUnsafeMutableBufferPointer { solve($0.baseAddress!, start: 0, stride: 1) }
    }
}
