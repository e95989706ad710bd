import Foundation
import Testing
@testable import Relax

/// The source-by-source log-domain pass (`LogGaussianSourceSums`) against a brute-force
/// log-sum-exp over every source, on lines built to break a search that is not exact: random
/// rugged values (many competing prox points), a double well with a near-tie far from the prox
/// point, and a smooth loss with long runs of equal prox index (the geometric recurrence).
@Suite("Log-domain pass, source by source: equal to the brute-force log-sum-exp")
struct LogGaussianSourceSumsTests {
    static let eps = Double.ulpOfOne

    /// The brute-force pass over one line: `log sum_j exp(a_j - c (x_i - j)^2)` and the means
    /// of the displacement `x_i - j` and of a payload, `x_i = i + offset`, by `LogSumExp`.
    static func oracle(sources a: [Double], payload: [Double], offset: Int, outputs: Int, c: Double)
        -> (value: [Double], displacement: [Double], mean: [Double]) {
        var value: [Double] = [], displacement: [Double] = [], mean: [Double] = []
        for i in 0..<outputs {
            let x = Double(i + offset)
            let exponents = a.indices.map { a[$0] - c * (x - Double($0)) * (x - Double($0)) }
            let top = exponents.max()!
            var sum = 0.0, first = 0.0, second = 0.0
            for j in a.indices {
                let w = exp(exponents[j] - top)
                sum += w
                first += w * (x - Double(j))
                second += w * payload[j]
            }
            value.append(top + log(sum))
            displacement.append(first / sum)
            mean.append(second / sum)
        }
        return (value, displacement, mean)
    }

    /// The extended sources of a line under a layout, by the layout's definition (images of a
    /// periodic line; even reflections about the end nodes; the line itself).
    static func extended(_ line: [Double], layout: LineLayout, odd: Bool = false) -> [Double] {
        let n = line.count
        switch layout {
        case .window:
            return line
        case let .periodic(g):
            return (0..<(n + 2 * g)).map { line[(($0 - g) % n + n) % n] }
        case let .mirror(g):
            let period = 2 * (n - 1)
            return (0..<(n + 2 * g)).map { j in
                let r = ((j - g) % period + period) % period
                return r < n ? line[r] : (odd ? -1 : 1) * line[period - r]
            }
        }
    }

    /// Lines of `n` values with the given character, scaled to dynamic range `range`.
    static func line(kind: Int, n: Int, range: Double, generator: inout SplitMix64) -> [Double] {
        switch kind {
        case 0:   // rugged: independent random values
            return (0..<n).map { _ in -range * generator.uniform() }
        case 1:   // double well, the far well higher by 1e-3 of the range: a near-tie
            return (0..<n).map { i in
                let y = Double(i) / Double(n - 1)
                return -range * min((y - 0.2) * (y - 0.2), (y - 0.85) * (y - 0.85) + 1e-3)
            }
        default:  // smooth with curvature: long runs of equal prox index
            return (0..<n).map { i in
                let y = 2 * Double.pi * Double(i) / Double(n)
                return -range * (0.3 * (1 - cos(y)) + 0.15 * sin(7 * y) + 0.06 * sin(23 * y + 1)) / 0.9
            }
        }
    }

    @Test("one pass on single lines equals the brute force: values to 16 eps of the exponents' size, means to their conditioning",
          arguments: [0, 1, 2])
    func singleLines(kind: Int) throws {
        var generator = SplitMix64(seed: 0x5EED + UInt64(kind))
        for n in [17, 64, 301] {
            for c in [0.02, 0.09, 0.7, 5.0] {
                for range in [1.0, 50, 3e3, 1e5] {
                    let a = Self.line(kind: kind, n: n, range: range, generator: &generator)
                    let payload = (0..<n).map { _ in generator.uniform() - 0.5 }
                    // Images reaching past a whole period too (images of images, filled in place).
                    for layout in [LineLayout.window(offset: 0, count: n), .window(offset: n / 4, count: n / 2),
                                   .periodic(ghosts: n / 3), .mirror(ghosts: n / 2), .periodic(ghosts: 2 * n + 3),
                                   .mirror(ghosts: 2 * n + 3)] {
                        let pass = LogGaussianPass(coefficient: c, layout: layout, sourceSums: true)
                        let out = pass.run(shape: ArrayShape(dims: [n]), axis: 0, logValues: a, payloads: [payload],
                                           oddPayloads: [true], displacement: true)
                        let sources = Self.extended(a, layout: layout)
                        let oracle = Self.oracle(sources: sources, payload: Self.extended(payload, layout: layout, odd: true),
                                                 offset: layout.outputOffset, outputs: layout.outputCount(lineLength: n), c: c)
                        // Exponents a_j - c d^2 are rounded to ~2 eps of their size in both
                        // computations; the recurrence adds at most 64 eps relative per term;
                        // the truncation at exp(-46) adds below 1e-20 * sources.
                        let size = range + c * Double(sources.count * sources.count)
                        let valueTolerance = 16 * Self.eps * size + 1e-13
                        let meanTolerance = valueTolerance * Double(sources.count)
                        let label = "kind \(kind), n \(n), c \(c), range \(range), \(layout)"
                        #expect(out.statistics.mode == .sourceSums)
                        #expect(zip(out.logValues, oracle.value).allSatisfy { abs($0 - $1) <= valueTolerance }, "\(label)")
                        #expect(zip(out.displacement!, oracle.displacement).allSatisfy { abs($0 - $1) <= meanTolerance },
                                "\(label)")
                        #expect(zip(out.payloads[0], oracle.mean).allSatisfy { abs($0 - $1) <= meanTolerance }, "\(label)")
                    }
                }
            }
        }
    }

    /// The sums keep exactly the terms within the truncation: a source or block passed over by
    /// a bound that is not one would lose terms far too small to show in the values.
    @Test("the terms summed are exactly those within exp(-truncation) of their output's largest (up to the exponents' rounding)",
          arguments: [0, 1, 2])
    func keptTermsAreTheSignificantOnes(kind: Int) throws {
        var generator = SplitMix64(seed: 0x7E55 + UInt64(kind))
        for n in [64, 301] {
            for c in [0.02, 0.09, 0.7, 5.0] {
                for range in [50.0, 3e3, 1e5] {
                    let a = Self.line(kind: kind, n: n, range: range, generator: &generator)
                    for layout in [LineLayout.window(offset: 0, count: n), .window(offset: n / 4, count: n / 2),
                                   .periodic(ghosts: n / 3), .mirror(ghosts: n / 2)] {
                        let out = LogGaussianPass(coefficient: c, layout: layout, sourceSums: true)
                            .run(shape: ArrayShape(dims: [n]), axis: 0, logValues: a, payloads: [], displacement: false)
                        let sources = Self.extended(a, layout: layout)
                        // Exponents are rounded to ~2 eps of their size in either computation.
                        let size = range + c * Double(sources.count * sources.count)
                        let slack = 16 * Self.eps * size
                        var sure = 0, possible = 0
                        for i in 0..<layout.outputCount(lineLength: n) {
                            let x = Double(i + layout.outputOffset)
                            let exponents = sources.indices.map { sources[$0] - c * (x - Double($0)) * (x - Double($0)) }
                            let top = exponents.max()!
                            sure += exponents.filter { $0 - top >= -LogGaussianPass.truncation + slack }.count
                            possible += exponents.filter { $0 - top >= -LogGaussianPass.truncation - slack }.count
                        }
                        let label = "kind \(kind), n \(n), c \(c), range \(range), \(layout): \(out.statistics.terms) terms"
                        #expect(sure <= out.statistics.terms && out.statistics.terms <= possible,
                                "\(label), expected \(sure)...\(possible)")
                    }
                }
            }
        }
    }

    @Test("a 2-D array along both axes and a 3-D array along its middle axis equal the brute force line by line")
    func stridedLines() throws {
        var generator = SplitMix64(seed: 42)
        for dims in [[23, 31], [9, 40, 7]] {
            let count = dims.reduce(1, *)
            let a = (0..<count).map { _ in -2e3 * generator.uniform() }
            let payload = (0..<count).map { _ in generator.uniform() }
            let shape = ArrayShape(dims: dims)
            for axis in 0..<dims.count where dims.count == 2 || axis == 1 {
                let n = dims[axis]
                let layout = LineLayout.periodic(ghosts: n / 2)
                let c = 0.15
                let out = LogGaussianPass(coefficient: c, layout: layout, sourceSums: true)
                    .run(shape: shape, axis: axis, logValues: a, payloads: [payload], displacement: true)
                for l in 0..<shape.lineCount(along: axis) {
                    let start = shape.lineStart(along: axis, line: l), step = shape.strides[axis]
                    let line = (0..<n).map { a[start + $0 * step] }
                    let weights = (0..<n).map { payload[start + $0 * step] }
                    let sources = Self.extended(line, layout: layout)
                    let oracle = Self.oracle(sources: sources, payload: Self.extended(weights, layout: layout),
                                             offset: layout.outputOffset, outputs: n, c: c)
                    let size = 2e3 + c * Double(sources.count * sources.count)
                    for i in 0..<n {
                        #expect(abs(out.logValues[start + i * step] - oracle.value[i]) <= 16 * Self.eps * size + 1e-13)
                        #expect(abs(out.displacement![start + i * step] - oracle.displacement[i])
                                <= (16 * Self.eps * size + 1e-13) * Double(sources.count))
                        #expect(abs(out.payloads[0][start + i * step] - oracle.mean[i])
                                <= 16 * Self.eps * size + 1e-13)
                    }
                }
            }
        }
    }

    @Test("source sums and the dense blocks agree where both apply")
    func agreesWithBlocks() throws {
        var generator = SplitMix64(seed: 7)
        let n = 500
        let a = Self.line(kind: 2, n: n, range: 4e3, generator: &generator)
        for c in [0.02, 0.1, 1.0] {
            let layout = LineLayout.periodic(ghosts: 200)
            let sums = LogGaussianPass(coefficient: c, layout: layout, sourceSums: true)
                .run(shape: ArrayShape(dims: [n]), axis: 0, logValues: a, payloads: [], displacement: true)
            let blocks = LogGaussianPass(coefficient: c, layout: layout, sourceSums: false)
                .run(shape: ArrayShape(dims: [n]), axis: 0, logValues: a, payloads: [], displacement: true)
            #expect(blocks.statistics.mode != .sourceSums)
            let tolerance = 16 * Self.eps * (4e3 + c * 900 * 900) + 1e-13
            #expect(zip(sums.logValues, blocks.logValues).allSatisfy { abs($0 - $1) <= tolerance })
            #expect(zip(sums.displacement!, blocks.displacement!).allSatisfy { abs($0 - $1) <= tolerance * 900 })
        }
    }
}
