import Foundation
import Testing
@testable import Relax

@Suite("Numerics: FFT plans, LAPACK, tridiagonal solves, log-sum-exp")
struct NumericsTests {
    @Test("periodic plan: identity symbol round-trips; derivative symbol is exact on modes",
          arguments: [[16], [8, 12], [6, 4, 10]])
    func periodicPlan(shape: [Int]) throws {
        let g = try Grid(domain: shape.map { _ in (0, 2 * Double.pi) }, counts: shape, boundary: .periodic)
        let plan = try SpectralPlan(grid: g, kind: .periodic)
        let f = Field(grid: g) { p in p.reduce(0) { $0 + cos(2 * $1) } + 0.5 }
        var v = f.values
        plan.apply(multiplier: plan.symbol { _ in 1 }, to: &v)
        #expect(Field(grid: g, values: v).distance(to: f, .max) < 1e-13)
        // exp(-t k^2) on cos(2x): decays by exp(-4t) per axis term.
        var w = f.values
        plan.apply(multiplier: plan.symbol { exp(-0.3 * $0) }, to: &w)
        let exact = Field(grid: g) { p in p.reduce(0) { $0 + exp(-1.2) * cos(2 * $1) } + 0.5 }
        #expect(Field(grid: g, values: w).distance(to: exact, .max) < 1e-13)
    }

    @Test("cosine plan: heat symbol is exact on Neumann cosine modes")
    func cosinePlan() throws {
        let g = try Grid(domain: [(0, 1), (0, 2)], counts: [17, 9], boundary: .neumann)
        let plan = try SpectralPlan(grid: g, kind: .cosine)
        let f = Field(grid: g) { cos(3 * Double.pi * $0[0]) * cos(Double.pi * $0[1]) }
        var v = f.values
        plan.apply(multiplier: plan.symbol { exp(-0.01 * $0) }, to: &v)
        let decay = exp(-0.01 * (9 * Double.pi * Double.pi + Double.pi * Double.pi))
        #expect(Field(grid: g, values: v).distance(to: decay * f, .max) < 1e-13)
    }

    @Test("symmetric eigendecomposition reconstructs the matrix")
    func eigen() throws {
        let a = Matrix([[4, 1, 0.5], [1, 3, -1], [0.5, -1, 2]])
        let (w, v) = try LinearAlgebra.symmetricEigen(a)
        #expect(w == w.sorted())
        let rebuilt = v * Matrix.diagonal(w) * v.transposed
        #expect((rebuilt - a).maxAbs < 1e-13)
    }

    @Test("dense solve, and a singular matrix is reported")
    func denseSolve() throws {
        let a = Matrix([[2, 1], [1, 3]])
        let x = try LinearAlgebra.solve(a, [3, 5])
        #expect(abs(x[0] - 0.8) < 1e-14 && abs(x[1] - 1.4) < 1e-14)
        #expect(throws: RelaxError.self) { try LinearAlgebra.solve(Matrix([[1, 2], [2, 4]]), [1, 1]) }
    }

    @Test("Thomas and cyclic Thomas agree with the dense LAPACK solve")
    func tridiagonal() throws {
        let n = 9
        let lower = (0..<n).map { -1.0 - 0.1 * Double($0) }
        let diag = (0..<n).map { 4.0 + 0.2 * Double($0) }
        let upper = (0..<n).map { -0.5 + 0.05 * Double($0) }
        let rhs = (0..<n).map { sin(Double($0)) }
        for periodic in [false, true] {
            var dense = Matrix(rows: n, columns: n, entries: [Double](repeating: 0, count: n * n))
            for i in 0..<n {
                dense[i, i] = diag[i]
                if i > 0 { dense[i, i - 1] = lower[i] }
                if i < n - 1 { dense[i, i + 1] = upper[i] }
            }
            if periodic { dense[0, n - 1] = lower[0]; dense[n - 1, 0] = upper[n - 1] }
            let reference = try LinearAlgebra.solve(dense, rhs)
            var x = rhs
            TridiagonalSystem(lower: lower, diagonal: diag, upper: upper, periodic: periodic).solve(&x)
            #expect(zip(x, reference).allSatisfy { abs($0 - $1) < 1e-13 }, "periodic: \(periodic)")
        }
    }

    @Test("log-sum-exp survives terms far below the double range")
    func logSumExp() {
        let a = [-2000.0, -2001.0, -2000.5]
        let direct = -2000 + log(1 + exp(-1) + exp(-0.5))
        #expect(abs(LogSumExp.value(a) - direct) < 1e-12)
        var acc = LogSumExpAccumulator()
        for v in a { acc.add(v) }
        #expect(abs(acc.value - direct) < 1e-12)
        #expect(abs(LogSumExp.add(-1000, -1000) - (-1000 + log(2))) < 1e-12)
        #expect(LogSumExp.value([Double]()) == -.infinity)
    }
}
