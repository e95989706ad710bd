import Foundation
import Testing
@testable import Relax

@Suite("Matrix functions, Lyapunov equation, subtraction-free chain solves, Selling's decomposition")
struct MatrixFunctionsTests {
    @Test("matrix exponential: diagonalizable case e^A = V e^Λ V^-1, and e^{A} e^{-A} = I")
    func exponential() throws {
        // A = V diag(4, 1) V^-1 with V = [[-1, 1], [1, 1]] (Kunin et al., Fig. 3).
        let v = Matrix([[-1, 1], [1, 1]])
        let vinv = try LinearAlgebra.inverse(v)
        let a = vinv * Matrix.diagonal([4, 1]) * v
        for t in [0.01, 0.7, 3.0] {
            let exact = vinv * Matrix.diagonal([exp(-4 * t), exp(-t)]) * v
            let computed = try LinearAlgebra.matrixExponential(-t * a)
            // Padé [6/6] after scaling to norm <= 1/2: relative error ~ 1e-16 per squaring.
            #expect((computed - exact).maxAbs < 1e-14)
        }
        let b = Matrix([[0.3, -1.2, 0.5], [2.0, 0.1, -0.7], [0.4, 0.9, -0.2]])
        let product = try LinearAlgebra.matrixExponential(b) * LinearAlgebra.matrixExponential(-1 * b)
        #expect((product - Matrix.identity(3)).maxAbs < 1e-13)
        // A rotation generator: e^{θ J} = [[cos, -sin], [sin, cos]].
        let r = try LinearAlgebra.matrixExponential(Matrix([[0, -2.5], [2.5, 0]]))
        #expect((r - Matrix([[cos(2.5), -sin(2.5)], [sin(2.5), cos(2.5)]])).maxAbs < 1e-14)
    }

    @Test("Lyapunov A B + B A^T = 2 D: residual at round-off, symmetric positive definite B")
    func lyapunov() throws {
        let a = Matrix([[2.5, -1.5], [-1.5, 2.5]])
        let d = Matrix([[4, 0], [0, 1]])
        let b = try LinearAlgebra.solveLyapunov(a, 2 * d)
        let residual = a * b + b * a.transposed - 2 * d
        #expect(residual.maxAbs < 1e-13)
        #expect(try LinearAlgebra.symmetricEigen(b).values.allSatisfy { $0 > 0 })
        // Commuting case A = a I: 2 a B = 2 D, B = D / a.
        let b2 = try LinearAlgebra.solveLyapunov(2 * Matrix.identity(3), 2 * Matrix.diagonal([1, 2, 3]))
        #expect((b2 - Matrix.diagonal([0.5, 1, 1.5])).maxAbs < 1e-14)
        // Sylvester with A and -B sharing an eigenvalue is singular and reported.
        #expect(throws: RelaxError.self) {
            try LinearAlgebra.solveSylvester(Matrix.identity(2), -1 * Matrix.identity(2), Matrix.identity(2))
        }
    }

    /// A random birth–death chain with rates spanning many orders of magnitude (the
    /// Bernoulli rates of a steep potential), its implicit-step matrix, and the dense solve.
    func chainSystem(n: Int, cyclic: Bool, tau: Double, seed: UInt64) -> (c: [Double], u: [Double], v: [Double], m: Matrix) {
        var rng = SplitMix(seed: seed)
        let c = (0..<n).map { k in (!cyclic && (k == 0 || k == n - 1)) ? 0.5 : 1.0 }
        var u = (0..<n).map { _ in exp(8 * rng.next() - 4) }
        var v = (0..<n).map { _ in exp(8 * rng.next() - 4) }
        if !cyclic { u[n - 1] = 0; v[n - 1] = 0 }
        var m = Matrix(rows: n, columns: n, entries: [Double](repeating: 0, count: n * n))
        for k in 0..<n { m[k, k] = c[k] }
        for k in 0..<n {
            let l = (k + 1) % n
            // edge k: k -> l at rate u[k], l -> k at rate v[k]
            m[k, k] += tau * u[k]; m[l, k] -= tau * u[k]
            m[l, l] += tau * v[k]; m[k, l] -= tau * v[k]
        }
        return (c, u, v, m)
    }

    @Test("subtraction-free chain solve: matches dgesv, x >= 0 exactly, column sums conserved",
          arguments: [(2, false), (3, false), (17, false), (3, true), (4, true), (33, true)])
    func chainSolve(n: Int, cyclic: Bool) throws {
        for (seed, tau) in [(1, 0.01), (2, 1.0), (3, 1e6)] as [(UInt64, Double)] {
            let (c, u, v, m) = chainSystem(n: n, cyclic: cyclic, tau: tau, seed: seed + UInt64(n))
            var rng = SplitMix(seed: seed)
            // A right-hand side with entries from 1e-300 to 1: positivity must survive tails.
            let rhs = (0..<n).map { _ in pow(10, -300 * rng.next() * rng.next()) }
            let reference = try LinearAlgebra.solve(m, rhs)
            var x = rhs
            var pivots = [Double](repeating: 0, count: n), fill = [Double](repeating: 0, count: n)
            x.withUnsafeMutableBufferPointer { xp in
                MarkovChainSolve.solve(n: n, tau: tau, weights: c, forward: u, backward: v, xp.baseAddress!,
                                       pivots: &pivots, fill: &fill)
            }
            #expect(x.allSatisfy { $0 >= 0 })
            // Componentwise backward error of a subtraction-free elimination: every row of
            // M x - rhs is below O(n) ulps of (|M| |x|)_i, however large tau (cond M ~ tau).
            for i in 0..<n {
                var r = -rhs[i], size = abs(rhs[i])
                for j in 0..<n { r += m[i, j] * x[j]; size += abs(m[i, j] * x[j]) }
                #expect(abs(r) <= 8 * Double(n) * 1.1e-16 * size)
            }
            // Against dgesv where M is well conditioned (tau <= 1: cond M <= ~1e4, error 1e-12).
            if tau <= 1 {
                let scale = reference.map(abs).max()!
                #expect(zip(x, reference).allSatisfy { abs($0 - $1) <= 1e-11 * scale })
            }
            // Column sums of M are c, so sum c x = sum rhs.
            let mass = zip(c, x).reduce(0) { $0 + $1.0 * $1.1 }
            #expect(abs(mass - rhs.reduce(0, +)) <= 4 * Double(n) * 1.1e-16 * rhs.reduce(0, +))
        }
    }

    @Test("Selling's decomposition: non-negative weights that rebuild D~, axis offsets for diagonal D",
          arguments: [
            [[1.0]],
            [[2.0, 0.0], [0.0, 0.5]],
            [[1.0, 0.4], [0.4, 0.6]],
            [[1.0, -0.9], [-0.9, 1.0]],
            [[3.0, 0.5, -0.2], [0.5, 2.0, 0.7], [-0.2, 0.7, 1.5]],
            [[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 3.0]],
          ])
    func selling(entries: [[Double]]) throws {
        let d = Matrix(entries)
        let lattice = try LatticeDecomposition(d)
        var rebuilt = Matrix(rows: d.rows, columns: d.rows, entries: [Double](repeating: 0, count: d.rows * d.rows))
        for term in lattice.terms {
            #expect(term.weight > 0)
            for i in 0..<d.rows { for j in 0..<d.rows { rebuilt[i, j] += term.weight * Double(term.offset[i] * term.offset[j]) } }
        }
        #expect((rebuilt - d).maxAbs < 1e-13 * d.maxAbs)
        let diagonal = (0..<d.rows).allSatisfy { i in (0..<d.rows).allSatisfy { j in i == j || d[i, j] == 0 } }
        if diagonal {
            #expect(lattice.terms.count == d.rows && lattice.terms.allSatisfy { $0.offset.filter { $0 != 0 }.count == 1 })
        }
    }
}

/// A small deterministic generator for test data.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E3779B97F4A7C15 &+ 1 }
    /// Uniform in [0, 1).
    mutating func next() -> Double {
        state &+= 0x9E3779B97F4A7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) &* 0x94D049BB133111EB
        z ^= z >> 31
        return Double(z >> 11) / Double(1 << 53)
    }
}
