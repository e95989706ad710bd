import Foundation
import Testing
@testable import Relax

@Suite("Ghost rules and central differences")
struct DifferencesTests {
    // A difference formula of order p is exact on polynomials of degree p (its truncation
    // error involves the (p+1)-th derivative), central and one-sided alike; only round-off
    // remains, ~ eps * max|u| / h ~ 1e-13 here.
    @Test("difference stencils (central and one-sided) are exact on polynomials of their order",
          arguments: [2, 4])
    func exactOnPolynomials(order: Int) throws {
        let grid = try Grid(domain: [(-1, 1), (0, 2)], counts: [11, 9], boundary: .dirichlet(0))
        let p = { (x: Double) in order == 2 ? 1 + 2 * x - 3 * x * x : 1 - x + 2 * x * x - 0.5 * pow(x, 3) + 0.25 * pow(x, 4) }
        let dp = { (x: Double) in order == 2 ? 2 - 6 * x : -1 + 4 * x - 1.5 * x * x + pow(x, 3) }
        let f = Field(grid: grid) { x in p(x[0]) + 2 * p(x[1]) }
        let g = Differences.gradient(of: f, order: order)
        let gx = Field(grid: grid) { x in dp(x[0]) }
        let gy = Field(grid: grid) { x in 2 * dp(x[1]) }
        #expect(g[0].distance(to: gx, .max) < 1e-12)
        #expect(g[1].distance(to: gy, .max) < 1e-12)
    }

    @Test("ghost rules: wrap is periodic, mirror reflects about the end node")
    func ghostIndices() {
        #expect(GhostRule.wrap.sourceIndex(-1, count: 8) == 7)
        #expect(GhostRule.wrap.sourceIndex(9, count: 8) == 1)
        #expect(GhostRule.mirror.sourceIndex(-2, count: 8) == 2)
        #expect(GhostRule.mirror.sourceIndex(8, count: 8) == 6)
        #expect(GhostRule.fixed(1).sourceIndex(-1, count: 8) == nil)
        #expect(GhostRule.fixed(1).sourceIndex(3, count: 8) == 3)
    }

    // Periodic: the fourth-order central difference of sin(x) has error (h^4/30) |sin^(5)|.
    // Neumann: cos(pi x) is even about both ends, so mirroring is exact and the slope there is 0.
    @Test("wrap and mirror rules keep the central order up to the ends")
    func boundaryOrders() throws {
        let periodic = try Grid(domain: [(0, 2 * Double.pi)], counts: [32], boundary: .periodic)
        let d = Differences.gradient(of: Field(grid: periodic) { sin($0[0]) }, order: 4)[0]
        let h = periodic.spacing[0]
        #expect(d.distance(to: Field(grid: periodic) { cos($0[0]) }, .max) < pow(h, 4) / 30)
        let neumann = try Grid(domain: [(0, 1)], counts: [33], boundary: .neumann)
        let e = Differences.gradient(of: Field(grid: neumann) { cos(Double.pi * $0[0]) }, order: 4)[0]
        let hn = neumann.spacing[0]
        #expect(abs(e[0]) < 1e-14 && abs(e[32]) < 1e-14)
        #expect(e.distance(to: Field(grid: neumann) { -Double.pi * sin(Double.pi * $0[0]) }, .max)
                < pow(hn, 4) / 30 * pow(Double.pi, 5))
    }
}
