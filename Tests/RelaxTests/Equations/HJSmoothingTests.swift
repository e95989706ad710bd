import Foundation
import Testing
@testable import Relax

@Suite("relax smooth --equation hj: HopfLax.smooth")
struct HJSmoothingTests {
    static let c = 2.0
    static func example13(_ d: Int) -> Loss {
        Loss(name: "c|x|^2/2", dimension: d, value: { p in c * p.reduce(0) { $0 + $1 * $1 } / 2 },
             gradient: { p in p.map { c * $0 } })
    }

    @Test("Example 13 through smooth(): Hopf–Lax exact, Godunov within its O(h) error, in d = 1, 2, 3",
          arguments: [1, 2, 3])
    func example13(d: Int) throws {
        let t = 0.3
        let n = [201, 61, 21][d - 1]
        let grid = try Grid(domain: [(Double, Double)](repeating: (-1, 1), count: d), counts: [Int](repeating: n, count: d))
        let problem = SmoothingProblem(loss: Self.example13(d), grid: grid, time: t, beta: 5)
        let exact = Field(grid: grid) { p in p.reduce(0) { $0 + $1 * $1 } / (2 * (t + 1 / Self.c)) }
        let hl = try HopfLax.smooth(problem, method: .hopfLax)
        #expect(hl.u.distance(to: exact, .max) < 1e-12)
        #expect(hl.report.notes.contains { $0.contains("beta = 5.0 ignored") })
        #expect(hl.prox?.count == d)
        #expect(hl.f.grid == grid && hl.u.grid == grid)
        let fd = try HopfLax.smooth(problem, method: .fd)
        // Godunov is first order: error <= C h with C ~ t max|p|^2-ish; 2 h bounds it on this
        // problem (measured ~0.3-0.6 h), a broken flux or CFL gives O(1).
        #expect(fd.u.distance(to: exact, .max) < 2 * grid.spacing[0])
        #expect(fd.report.steps > 0 && fd.report.cfl == 0.9)
        // prox = x - t grad u ~ x / (1 + c t) to O(h).
        let proxExact = Field(grid: grid) { $0[0] / (1 + Self.c * t) }
        #expect(fd.prox![0].distance(to: proxExact, .max) < 2 * grid.spacing[0])
    }

    @Test("bad input: t <= 0 and non-finite loss throw; Neumann window smaller than the prox reach warns")
    func badInput() throws {
        let grid = try Grid(domain: [(0, 1)], counts: [51], boundary: .neumann)
        let linear = Loss(name: "4x", dimension: 1, value: { 4 * $0[0] }, gradient: { _ in [4] })
        #expect(throws: RelaxError.self) { try HopfLax.smooth(SmoothingProblem(loss: linear, grid: grid, time: 0)) }
        let bad = Loss(name: "log x", dimension: 1, value: { log($0[0]) })
        #expect(throws: RelaxError.self) { try HopfLax.smooth(SmoothingProblem(loss: bad, grid: grid, time: 0.1)) }
        for method in [HJMethod.hopfLax, .fd] {
            let r = try HopfLax.smooth(SmoothingProblem(loss: linear, grid: grid, time: 0.1), method: method)
            #expect(r.report.warnings.count == 1, "\(method)")
        }
    }
}
