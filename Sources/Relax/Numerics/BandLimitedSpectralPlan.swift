import CFFTW
import Foundation

/// Transforms on a periodic grid whose multiplier keeps only a few modes per axis: the heat
/// propagator `exp(-nu t |k|^2)` drops below `exp(-50)` once `nu t k_a^2 >= 50` on any axis, so
/// the field after it is band-limited and its transform needs only the low modes.
///
/// `forward` transforms the last axis of every row in full (real-to-complex), keeps the modes
/// `m <= K` of that axis, and then transforms each earlier axis only on the kept columns,
/// keeping `|m| <= K_a` of it; the result is the compact coefficient block (`prod_a (2 K_a + 1)`
/// values, the last axis `K + 1`). `inverse` multiplies the block by a separable complex factor
/// (`i k` times the heat factor along one axis gives a derivative) and runs the same steps
/// backwards. Along all axes but the last the transforms touch only the kept columns, so a 2-D
/// round trip costs about one full transform instead of two, and every further inverse (a
/// gradient component) about half of one. Exact: the modes dropped are those the multiplier
/// sends below `exp(-50)` of the data's largest coefficient, an absolute change of at most
/// `N exp(-50) max|values|` (`droppedBound`).
///
/// Not for concurrent use (the plan owns its buffers). The row transforms use FFTW's threads.
final class BandLimitedSpectralPlan: @unchecked Sendable {
    let grid: Grid
    /// The largest kept `|m|` per axis, as asked for and as kept (at most the grid's).
    let requestedModes: [Int]
    let kept: [Int]
    /// The kept mode indices per axis (into `0..<n` for the earlier axes, `0..<n/2+1` for the last).
    let keptIndices: [[Int]]
    private let n: [Int]
    private let rowCoefficients: Int
    private let real: UnsafeMutablePointer<Double>
    private let rows: UnsafeMutablePointer<fftw_complex>
    /// `stage[a]` has the shape `shape(fullThrough: a)`: axes `0...a` in full, the later ones kept.
    private let stage: [UnsafeMutablePointer<fftw_complex>]
    private let compact: UnsafeMutablePointer<fftw_complex>
    private let rowForward: OpaquePointer
    private let rowBackward: OpaquePointer
    private let axisForward: [OpaquePointer]
    private let axisBackward: [OpaquePointer]

    /// The multiplier's cut: modes where it is below `exp(-cut)` on some axis are dropped.
    static let cut = 50.0

    /// Plans for `grid` (periodic), keeping `|m| <= kept[a]` per axis.
    init(grid: Grid, kept: [Int]) throws {
        precondition(grid.boundary == .periodic && kept.count == grid.dimension)
        self.grid = grid
        requestedModes = kept
        let d = grid.dimension, last = d - 1
        let n = grid.shape
        self.n = n
        rowCoefficients = n[last] / 2 + 1
        var kept = kept
        var indices: [[Int]] = []
        for a in 0..<d {
            if a == last {
                kept[a] = min(kept[a], rowCoefficients - 1)
                indices.append(Array(0...kept[a]))
            } else if 2 * kept[a] + 1 >= n[a] {
                kept[a] = n[a] / 2
                indices.append(Array(0..<n[a]))
            } else {
                indices.append(Array(0...kept[a]) + Array((n[a] - kept[a])..<n[a]))
            }
        }
        self.kept = kept
        keptIndices = indices
        let counts = indices.map(\.count)
        func shape(fullThrough a: Int) -> [Int] { (0..<d).map { $0 <= a ? n[$0] : counts[$0] } }
        let total = grid.count, rowCount = total / n[last]
        let rowCoefficients = self.rowCoefficients
        let real = fftw_alloc_real(total)!
        let rows = fftw_alloc_complex(rowCount * rowCoefficients)!
        let stage = (0..<last).map { fftw_alloc_complex(shape(fullThrough: $0).reduce(1, *))! }
        self.real = real
        self.rows = rows
        self.stage = stage
        compact = fftw_alloc_complex(counts.reduce(1, *))!
        let threads = Int32(total >= 1 << 15 && rowCount > 1 ? Parallel.workers : 1)
        let plans: (OpaquePointer?, OpaquePointer?, [OpaquePointer?], [OpaquePointer?]) = FFTW.withPlannerLock {
            var length = [Int32(n[last])]
            fftw_plan_with_nthreads(threads)
            let flags = UInt32(FFTW_ESTIMATE)
            let forward = fftw_plan_many_dft_r2c(1, &length, Int32(rowCount), real, nil, 1, Int32(n[last]),
                                                 rows, nil, 1, Int32(rowCoefficients), flags)
            let backward = fftw_plan_many_dft_c2r(1, &length, Int32(rowCount), rows, nil, 1, Int32(rowCoefficients),
                                                  real, nil, 1, Int32(n[last]), flags)
            fftw_plan_with_nthreads(1)
            var axisForward: [OpaquePointer?] = [], axisBackward: [OpaquePointer?] = []
            for a in 0..<last {
                let s = shape(fullThrough: a)
                let inner = s[(a + 1)...].reduce(1, *), outer = s[..<a].reduce(1, *)
                var dims = [fftw_iodim(n: Int32(n[a]), is: Int32(inner), os: Int32(inner))]
                var loops = [fftw_iodim(n: Int32(outer), is: Int32(n[a] * inner), os: Int32(n[a] * inner)),
                             fftw_iodim(n: Int32(inner), is: 1, os: 1)]
                axisForward.append(fftw_plan_guru_dft(1, &dims, 2, &loops, stage[a], stage[a], FFTW_FORWARD, flags))
                axisBackward.append(fftw_plan_guru_dft(1, &dims, 2, &loops, stage[a], stage[a], FFTW_BACKWARD, flags))
            }
            return (forward, backward, axisForward, axisBackward)
        }
        guard let forward = plans.0, let backward = plans.1, plans.2.allSatisfy({ $0 != nil }),
              plans.3.allSatisfy({ $0 != nil }) else {
            throw RelaxError.numerical("FFTW could not plan the band-limited transforms of shape \(n)")
        }
        rowForward = forward
        rowBackward = backward
        axisForward = plans.2.map { $0! }
        axisBackward = plans.3.map { $0! }
    }

    deinit {
        FFTW.withPlannerLock {
            for p in [rowForward, rowBackward] + axisForward + axisBackward { fftw_destroy_plan(p) }
        }
        fftw_free(real)
        fftw_free(rows)
        stage.forEach { fftw_free($0) }
        fftw_free(compact)
    }

    /// The number of compact coefficients.
    var coefficientCount: Int { keptIndices.reduce(1) { $0 * $1.count } }

    /// The absolute change of the result, per unit of `max|values|`, from the dropped modes when
    /// the multiplier is below `exp(-cut)` on each of them.
    var droppedBound: Double { Double(grid.count) * exp(-Self.cut) }

    /// The kept modes along `axis` of a multiplier that is `exp(-cut)` or more only where
    /// `|k| <= kmax`, with `k = 2 pi m / L`.
    static func keptModes(grid: Grid, axis: Int, largestWavenumber kmax: Double) -> Int {
        let a = grid.axes[axis]
        return Int((kmax * a.length / (2 * Double.pi)).rounded(.down))
    }

    /// The angular wavenumber of each kept index along `axis` (`2 pi m / L`, `m` signed), and 0
    /// at an even axis' Nyquist index (its derivative is not real on the grid).
    func wavenumbers(axis: Int, forDerivative: Bool = false) -> [Double] {
        let length = grid.axes[axis].length, count = n[axis]
        return keptIndices[axis].map { m in
            let signed = m <= count / 2 ? m : m - count
            if forDerivative && count % 2 == 0 && m == count / 2 { return 0 }
            return 2 * Double.pi * Double(signed) / length
        }
    }

    /// The compact coefficients (interleaved real and imaginary parts) of the values `fill`
    /// writes into the plan's input buffer (`grid.count` values).
    func forward(_ fill: (UnsafeMutablePointer<Double>) -> Void) -> [Double] {
        fill(real)
        fftw_execute(rowForward)
        let d = n.count, last = d - 1
        // Keep the low modes of the last axis, then transform and prune the earlier axes.
        var source = rows
        var sourceShape = Array(n.dropLast()) + [rowCoefficients]
        for a in stride(from: last, through: 0, by: -1) {
            let target = a == 0 ? compact : stage[a - 1]
            Self.select(keptIndices[a], axis: a, from: source, shape: sourceShape, into: target)
            sourceShape[a] = keptIndices[a].count
            if a > 0 {
                fftw_execute(axisForward[a - 1])
                source = stage[a - 1]
            }
        }
        let count = 2 * coefficientCount
        return [Double](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawPointer(compact).withMemoryRebound(to: Double.self, capacity: count) {
                buffer.baseAddress!.update(from: $0, count: count)
            }
            initialized = count
        }
    }

    /// Multiplies `coefficients` by `prod_a factors[a][index_a] / N` (complex factors, one per
    /// kept index and axis, interleaved) and transforms back; `body` reads the `grid.count`
    /// real values.
    func inverse<T>(_ coefficients: [Double], factors: [[Double]], _ body: (UnsafePointer<Double>) -> T) -> T {
        let d = n.count, last = d - 1
        let counts = keptIndices.map(\.count)
        let scale = 1 / Double(grid.count)
        let c = UnsafeMutableRawPointer(compact).assumingMemoryBound(to: Double.self)
        coefficients.withUnsafeBufferPointer { src in
            var index = [Int](repeating: 0, count: d)
            for flat in 0..<coefficientCount {
                var re = scale, im = 0.0
                for a in 0..<d {
                    let fr = factors[a][2 * index[a]], fi = factors[a][2 * index[a] + 1]
                    (re, im) = (re * fr - im * fi, re * fi + im * fr)
                }
                let xr = src[2 * flat], xi = src[2 * flat + 1]
                c[2 * flat] = xr * re - xi * im
                c[2 * flat + 1] = xr * im + xi * re
                index.advanceRowMajor(in: counts)
            }
        }
        var source = compact
        var sourceShape = counts
        for a in 0...last {
            let target = a == last ? rows : stage[a]
            let full = a == last ? rowCoefficients : n[a]
            Self.spread(keptIndices[a], axis: a, from: source, shape: sourceShape, full: full, into: target)
            sourceShape[a] = full
            if a < last {
                fftw_execute(axisBackward[a])
                source = stage[a]
            }
        }
        fftw_execute(rowBackward)
        return body(real)
    }

    /// Copies the entries with axis-`axis` index in `indices` of an array of `shape` into a
    /// compact array (that axis `indices.count` long).
    private static func select(_ indices: [Int], axis: Int, from source: UnsafePointer<fftw_complex>, shape: [Int],
                               into target: UnsafeMutablePointer<fftw_complex>) {
        let inner = shape[(axis + 1)...].reduce(1, *), outer = shape[..<axis].reduce(1, *)
        let full = shape[axis], kept = indices.count
        for o in 0..<outer {
            for (t, m) in indices.enumerated() {
                (target + (o * kept + t) * inner).update(from: source + (o * full + m) * inner, count: inner)
            }
        }
    }

    /// The inverse of `select`: zero elsewhere along the axis (`full` long).
    private static func spread(_ indices: [Int], axis: Int, from source: UnsafePointer<fftw_complex>, shape: [Int],
                               full: Int, into target: UnsafeMutablePointer<fftw_complex>) {
        let inner = shape[(axis + 1)...].reduce(1, *), outer = shape[..<axis].reduce(1, *)
        let kept = indices.count
        // Each entry written once: the kept ones copied, the runs between them zeroed.
        for o in 0..<outer {
            var next = 0
            for (t, m) in indices.enumerated() {
                if m > next {
                    UnsafeMutableRawPointer(target + (o * full + next) * inner)
                        .initializeMemory(as: Double.self, repeating: 0, count: 2 * (m - next) * inner)
                }
                (target + (o * full + m) * inner).update(from: source + (o * kept + t) * inner, count: inner)
                next = m + 1
            }
            if full > next {
                UnsafeMutableRawPointer(target + (o * full + next) * inner)
                    .initializeMemory(as: Double.self, repeating: 0, count: 2 * (full - next) * inner)
            }
        }
    }
}
