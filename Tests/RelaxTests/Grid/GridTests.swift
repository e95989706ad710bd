import Foundation
import Testing
@testable import Relax

@Suite("Grid and Field")
struct GridTests {
    @Test("row-major layout: first axis slowest, strides and multi-indices agree")
    func rowMajorLayout() throws {
        let g = try Grid(domain: [(0, 1), (0, 2), (-1, 1)], counts: [4, 5, 6])
        #expect(g.strides == [30, 6, 1])
        #expect(g.count == 120)
        for flat in [0, 7, 31, 119] {
            #expect(g.flatIndex(g.multiIndex(flat)) == flat)
        }
        let p = g.point(g.flatIndex([1, 2, 3]))
        #expect(zip(p, [1.0 / 3, 1.0, 0.2]).allSatisfy { abs($0 - $1) < 1e-15 })
    }

    @Test("periodic axes exclude the upper end; others include it")
    func spacingConventions() throws {
        let p = try Grid(domain: [(0, 2 * Double.pi)], counts: [8], boundary: .periodic)
        let n = try Grid(domain: [(0, 1)], counts: [11], boundary: .neumann)
        #expect(abs(p.spacing[0] - Double.pi / 4) < 1e-15)
        #expect(abs(n.spacing[0] - 0.1) < 1e-15)
        #expect(n.axes[0].coordinate(10) == 1)
    }

    @Test("bad domains are refused with a message that says what is expected")
    func badDomains() {
        #expect(throws: RelaxError.self) { try Grid(domain: [(1, 0)], counts: [10]) }
        #expect(throws: RelaxError.self) { try Grid(domain: [(0, 0)], counts: [10]) }
        #expect(throws: RelaxError.self) { try Grid(domain: [(0, 1)], counts: [2]) }
        #expect(throws: RelaxError.self) { try Grid(domain: [(0, 1), (0, 1)], counts: [10]) }
        do {
            _ = try Grid(domain: [(0, 1), (3, 2)], counts: [10, 10])
            Issue.record("reversed interval accepted")
        } catch {
            #expect("\(error)".contains("axis y"))
            #expect("\(error)".contains("A < B"))
        }
    }

    @Test("lines along each axis visit every node exactly once")
    func linesCoverGrid() throws {
        let g = try Grid(domain: [(0, 1), (0, 1), (0, 1)], counts: [3, 4, 5])
        for axis in 0..<3 {
            var seen = [Int](repeating: 0, count: g.count)
            for line in 0..<g.lineCount(along: axis) {
                let s = g.lineStart(along: axis, line: line)
                for i in 0..<g.shape[axis] { seen[s + i * g.strides[axis]] += 1 }
            }
            #expect(seen.allSatisfy { $0 == 1 })
        }
    }

    @Test("padding keeps the window's nodes and crop recovers them")
    func padAndCrop() throws {
        let g = try Grid(domain: [(-1, 1), (0, 3)], counts: [11, 7])
        let padded = g.padded(cells: [3, 2])
        #expect(padded.grid.shape == [17, 11])
        let f: ([Double]) -> Double = { sin($0[0]) + $0[1] * $0[1] }
        let big = Field(grid: padded.grid, f)
        let cropped = padded.crop(big)
        #expect(cropped.distance(to: Field(grid: g, f), .max) < 1e-14)
    }

    @Test("norms carry the cell volume")
    func norms() throws {
        let g = try Grid(domain: [(0, 1), (0, 1)], counts: [10, 10], boundary: .periodic)
        let one = Field(grid: g, repeating: 1)
        #expect(abs(one.norm(.l1) - 1) < 1e-14)
        #expect(abs(one.norm(.l2) - 1) < 1e-14)
        #expect(one.norm(.max) == 1)
    }

    @Test("cubic interpolation converges at fourth order, linear at second")
    func interpolationOrder() throws {
        func error(_ n: Int, _ order: Int) throws -> Double {
            let g = try Grid(domain: [(0, 1), (0, 1)], counts: [n, n])
            let f = Field(grid: g) { sin(3 * $0[0]) * cos(2 * $0[1]) }
            let probe = try Grid(domain: [(0.013, 0.987), (0.021, 0.979)], counts: [37, 41])
            let exact = Field(grid: probe) { sin(3 * $0[0]) * cos(2 * $0[1]) }
            return f.resampled(onto: probe, order: order).distance(to: exact, .max)
        }
        for (order, expected) in [(2, 2.0), (4, 4.0)] {
            let e1 = try error(41, order), e2 = try error(81, order)
            let observed = log2(e1 / e2)
            #expect(abs(observed - expected) < 0.3, "order \(order): observed \(observed)")
        }
    }

    @Test("checkFinite names the first bad node")
    func nonFiniteReported() throws {
        let g = try Grid(domain: [(0, 1), (0, 1)], counts: [4, 4])
        var f = Field(grid: g, repeating: 0)
        f[2, 1] = .nan
        do {
            try f.checkFinite("f")
            Issue.record("NaN not reported")
        } catch let RelaxError.nonFinite(what, index, _, value) {
            #expect(what == "f" && index == [2, 1] && value.isNaN)
        }
    }

    /// The one-pass bit test flags exactly the values whose exponent bits are all ones.
    @Test("checkFinite: +-infinity and NaN found at any position; the largest, smallest and subnormal finite values pass")
    func nonFiniteKinds() throws {
        let g = try Grid(domain: [(0, 1)], counts: [13])
        let finite: [Double] = [.greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude,
                                -.leastNormalMagnitude, 0, -0.0, 1]
        try Field(grid: g, values: (0..<13).map { finite[$0 % finite.count] }).checkFinite("f")
        for bad in [Double.infinity, -.infinity, .nan, -.nan, .signalingNaN] {
            for at in [0, 5, 12] {
                var values = (0..<13).map { finite[$0 % finite.count] }
                values[at] = bad
                do {
                    try Field(grid: g, values: values).checkFinite("f")
                    Issue.record("\(bad) at \(at) not reported")
                } catch let RelaxError.nonFinite(_, index, _, _) {
                    #expect(index == [at])
                }
            }
        }
    }
}
