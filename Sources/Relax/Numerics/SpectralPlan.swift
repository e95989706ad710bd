import CFFTW
import Foundation

/// Process-wide FFTW state. FFTW's planner is not thread-safe (only `fftw_execute` is),
/// so every plan creation and destruction goes through `withPlannerLock`.
enum FFTW {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var threadsReady = false

    /// Runs `body` holding the planner lock, after `fftw_init_threads` has run once.
    static func withPlannerLock<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        if !threadsReady {
            _ = fftw_init_threads()
            threadsReady = true
        }
        return try body()
    }
}

/// How much work FFTW spends choosing an algorithm when a plan is made.
public enum PlanEffort: Sendable {
    /// Heuristic planning, instant; the right choice for one-shot solves.
    case estimate
    /// Times candidate algorithms (can take seconds for large grids); worth it when one
    /// plan is executed many times, as in benchmarks or long time-stepping.
    case measure

    var flags: UInt32 { self == .estimate ? UInt32(FFTW_ESTIMATE) : UInt32(FFTW_MEASURE) }
}

/// A rank-d spectral transform pair planned once for one grid shape and executed many
/// times: real-to-complex / complex-to-real DFT for periodic grids, and the DCT-I
/// (FFTW `REDFT00`, even about the end nodes) for Neumann grids.
///
/// Its one operation, `apply(multiplier:to:)`, maps a field to its transform, multiplies
/// every coefficient by a real symbol, and maps back; with the symbol
/// `exp(-nu t |k|^2)` this is the exact heat propagator on the trigonometric interpolant.
/// `wavenumbers(axis:)` gives `k` in the transform's own coefficient layout.
///
/// Not for concurrent use: a plan owns its work buffers. Make one plan per thread.
public final class SpectralPlan: @unchecked Sendable {
    public enum Kind: Sendable, Hashable {
        /// Real DFT on a periodic grid (node `n` identified with node 0).
        case periodic
        /// DCT-I on a node grid whose end nodes lie on zero-flux boundaries.
        case cosine
    }

    public let kind: Kind
    public let grid: Grid
    /// The number of real coefficients (`cosine`) or complex coefficients (`periodic`).
    public let spectralCount: Int
    /// The shape of the coefficient array (the last axis halved plus one for `periodic`).
    public let spectralShape: [Int]

    private let real: UnsafeMutablePointer<Double>
    private let complex: UnsafeMutablePointer<fftw_complex>?
    private let forwardPlan: OpaquePointer
    private let backwardPlan: OpaquePointer
    /// The factor by which forward-then-backward scales the data.
    private let normalization: Double

    /// Plans the transform for `grid`: `.periodic` needs a periodic grid, `.cosine` a
    /// Neumann (or free, treated as even) node grid.
    public init(grid: Grid, kind: Kind, effort: PlanEffort = .estimate) throws {
        self.grid = grid
        self.kind = kind
        let n = grid.shape
        let d = n.count
        var dims = n.map { Int32($0) }
        switch kind {
        case .periodic:
            spectralShape = Array(n.dropLast()) + [n[d - 1] / 2 + 1]
            normalization = Double(grid.count)
        case .cosine:
            spectralShape = n
            normalization = n.reduce(1.0) { $0 * 2 * Double($1 - 1) }
        }
        spectralCount = spectralShape.reduce(1, *)
        let real = fftw_alloc_real(grid.count)!
        let complex = kind == .periodic ? fftw_alloc_complex(spectralCount) : nil
        let threads = Int32(grid.count >= 1 << 15 ? Parallel.workers : 1)
        let flags = effort.flags
        let plans: (OpaquePointer?, OpaquePointer?) = FFTW.withPlannerLock {
            fftw_plan_with_nthreads(threads)
            switch kind {
            case .periodic:
                return (fftw_plan_dft_r2c(Int32(d), &dims, real, complex, flags),
                        fftw_plan_dft_c2r(Int32(d), &dims, complex, real, flags))
            case .cosine:
                var kinds = [fftw_r2r_kind](repeating: FFTW_REDFT00, count: d)
                let p = fftw_plan_r2r(Int32(d), &dims, real, real, &kinds, flags)
                return (p, p)
            }
        }
        guard let f = plans.0, let b = plans.1 else {
            fftw_free(real)
            if let complex { fftw_free(complex) }
            throw RelaxError.numerical("FFTW could not plan a \(kind) transform of shape \(n)")
        }
        self.real = real
        self.complex = complex
        self.forwardPlan = f
        self.backwardPlan = b
    }

    deinit {
        FFTW.withPlannerLock {
            fftw_destroy_plan(forwardPlan)
            if backwardPlan != forwardPlan { fftw_destroy_plan(backwardPlan) }
        }
        fftw_free(real)
        if let complex { fftw_free(complex) }
    }

    /// The angular wavenumbers along `axis` in coefficient order: `2 pi m / L` with
    /// `m = 0, 1, ..., -1` for periodic axes (the last axis only `m >= 0`), and
    /// `pi m / L` for cosine axes.
    public func wavenumbers(axis: Int) -> [Double] {
        let a = grid.axes[axis]
        switch kind {
        case .periodic:
            let n = a.count
            return (0..<spectralShape[axis]).map { m in
                let signed = m <= n / 2 ? m : m - n
                return 2 * Double.pi * Double(signed) / a.length
            }
        case .cosine:
            return (0..<a.count).map { Double.pi * Double($0) / a.length }
        }
    }

    /// A symbol `s(|k|^2)` tabulated in coefficient order, ready for `apply`.
    public func symbol(_ s: (Double) -> Double) -> [Double] {
        let d = grid.dimension
        let k2 = (0..<d).map { wavenumbers(axis: $0).map { $0 * $0 } }
        var out = [Double](repeating: 0, count: spectralCount)
        var index = [Int](repeating: 0, count: d)
        for flat in 0..<spectralCount {
            var sum = 0.0
            for a in 0..<d { sum += k2[a][index[a]] }
            out[flat] = s(sum)
            index.advanceRowMajor(in: spectralShape)
        }
        return out
    }

    /// Replaces `values` (one per grid node) by `T^-1 (multiplier * T values)`.
    public func apply(multiplier: [Double], to values: inout [Double]) {
        precondition(values.count == grid.count && multiplier.count == spectralCount)
        let scale = 1 / normalization
        values.withUnsafeBufferPointer { src in
            real.update(from: src.baseAddress!, count: grid.count)
        }
        fftw_execute(forwardPlan)
        multiplier.withUnsafeBufferPointer { m in
            if let complex {
                let c = UnsafeMutableRawPointer(complex).assumingMemoryBound(to: Double.self)
                Parallel.forEachChunk(spectralCount, minimumPerChunk: 1 << 15) { range in
                    for i in range {
                        let s = m[i] * scale
                        c[2 * i] *= s
                        c[2 * i + 1] *= s
                    }
                }
            } else {
                for i in 0..<spectralCount { real[i] *= m[i] * scale }
            }
        }
        fftw_execute(backwardPlan)
        values.withUnsafeMutableBufferPointer { dst in
            dst.baseAddress!.update(from: real, count: grid.count)
        }
    }

    /// Replaces `values` by `T^-1 (i k_axis multiplier T values)`: the derivative along `axis`
    /// of what `apply(multiplier:to:)` returns (spectral differentiation of the filtered
    /// trigonometric interpolant). Periodic plans only. The Nyquist coefficient of an even-length
    /// axis gets factor 0 (its derivative is not real on the grid).
    public func applyDerivative(multiplier: [Double], axis: Int, to values: inout [Double]) {
        precondition(kind == .periodic, "spectral derivatives need a periodic plan")
        precondition(values.count == grid.count && multiplier.count == spectralCount)
        let n = grid.axes[axis].count
        let k = wavenumbers(axis: axis).enumerated().map { m, value in n % 2 == 0 && m == n / 2 ? 0 : value }
        let inner = spectralShape[(axis + 1)...].reduce(1, *)
        let length = spectralShape[axis]
        let scale = 1 / normalization
        values.withUnsafeBufferPointer { src in
            real.update(from: src.baseAddress!, count: grid.count)
        }
        fftw_execute(forwardPlan)
        let c = UnsafeMutableRawPointer(complex!).assumingMemoryBound(to: Double.self)
        multiplier.withUnsafeBufferPointer { m in
            k.withUnsafeBufferPointer { kb in
                Parallel.forEachChunk(spectralCount, minimumPerChunk: 1 << 15) { range in
                    for i in range {
                        let s = m[i] * kb[(i / inner) % length] * scale
                        let re = c[2 * i], im = c[2 * i + 1]
                        c[2 * i] = -im * s
                        c[2 * i + 1] = re * s
                    }
                }
            }
        }
        fftw_execute(backwardPlan)
        values.withUnsafeMutableBufferPointer { dst in
            dst.baseAddress!.update(from: real, count: grid.count)
        }
    }
}
