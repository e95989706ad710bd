import Foundation

/// How far beyond a window the sources that matter for the Cole–Hopf integral can lie, and the
/// loss sampled on the window padded that far.
///
/// A source `y` carries weight above `exp(-tau)` times the largest for a window point `x` only if
/// `f(y) + |x-y|^2/(2t) <= u_HL(x) + tau/beta <= f(x) + tau/beta`. Hence
/// `|x - y|^2 <= 2t (max_W f - min f) + 2 t tau / beta` (energy bound), and with
/// `f(x) - f(y) <= Lip |x - y|`: `|x - y| <= 2 t Lip + sqrt(2 t tau / beta)` (Lipschitz bound).
/// Both need `f` beyond the window: they are evaluated on a padded sample (values only, the
/// Lipschitz constant from neighbour differences, plus two cells of margin) and the padding is
/// grown until it covers them. A loss that falls off faster than `-|x|^2/(2t)` never settles:
/// the padding is capped at four window lengths per side, with a warning. Padded counts are
/// rounded up so that `n - 1` is 7-smooth (fast DCT-I for the FFT path).
struct SignificanceReach {
    var padded: PaddedGrid
    var samples: Field
    var notes: [String]
    var warnings: [String]

    static let maximumIterations = 6
    static let maximumReachInWindows = 4.0

    /// The loss of a smoothing problem (with `beta`) sampled where a viscous solver needs it: on
    /// the window padded by the reach when the window is `.free` and the loss can be evaluated
    /// beyond it, otherwise on the window itself (no padding, no notes).
    static func sample(_ problem: SmoothingProblem) throws
        -> (samples: Field, padding: PaddedGrid?, notes: [String], warnings: [String]) {
        let window = problem.grid
        guard window.boundary == .free && problem.loss.isExtendable else {
            return (try problem.loss.sample(on: window), nil, [], [])
        }
        let reach = try sample(loss: problem.loss, window: window, time: problem.time, beta: problem.beta!)
        return (reach.samples, reach.padded, reach.notes, reach.warnings)
    }

    static func sample(loss: Loss, window: Grid, time t: Double, beta: Double) throws -> SignificanceReach {
        let d = window.dimension
        let h = window.spacing
        let kernel = (2 * LogGaussianPass.truncation * t / beta).squareRoot()
        let windowSamples = try loss.sample(on: window)
        let maxW = windowSamples.maximum
        var reach = (0..<d).map { k in 2 * t * lipschitz(windowSamples, axis: k) + kernel + 2 * h[k] }
        var warnings: [String] = []
        for iteration in 1...maximumIterations {
            let padded = friendlyPadding(window, reach: reach)
            let samples = try loss.sample(on: padded.grid)
            let energy = (2 * t * max(0, maxW - samples.minimum) + kernel * kernel).squareRoot()
            let need = (0..<d).map { k in min(energy, 2 * t * lipschitz(samples, axis: k) + kernel) + 2 * h[k] }
            if (0..<d).allSatisfy({ need[$0] <= reach[$0] }) {
                let tight = friendlyPadding(window, reach: need)
                let note = "free space: sources within " + need.map { String(format: "%.4g", $0) }.joined(separator: ",")
                    + " of the window matter (energy and Lipschitz bounds plus the kernel reach sqrt(2*46 t/beta) = "
                    + String(format: "%.4g", kernel) + ", \(iteration) iteration(s)); padded by "
                    + tight.offsets.map(String.init).joined(separator: ",") + " cells per side"
                return SignificanceReach(padded: tight, samples: restrict(samples, from: padded, to: tight),
                                         notes: [note], warnings: warnings)
            }
            let capped = (0..<d).map { min(max(need[$0], 2 * reach[$0]), maximumReachInWindows * window.axes[$0].length) }
            if capped == reach {
                warnings.append("free space: the reach of the significant sources did not settle (capped at "
                                + "\(Int(maximumReachInWindows)) window lengths): the loss may fall off faster than "
                                + "-|x|^2/(2t) at infinity; values near the window's edge may miss sources")
                return SignificanceReach(padded: padded, samples: samples, notes: [], warnings: warnings)
            }
            reach = capped
        }
        let padded = friendlyPadding(window, reach: reach)
        warnings.append("free space: the reach of the significant sources did not settle after \(maximumIterations) "
                        + "iterations; using \(reach.map { String(format: "%.4g", $0) })")
        return SignificanceReach(padded: padded, samples: try loss.sample(on: padded.grid), notes: [], warnings: warnings)
    }

    /// `max |f_{i+1} - f_i| / h` along `axis`.
    static func lipschitz(_ f: Field, axis: Int) -> Double {
        let grid = f.grid
        let n = grid.axes[axis].count, step = grid.strides[axis]
        var slope = 0.0
        f.values.withUnsafeBufferPointer { v in
            for line in 0..<grid.lineCount(along: axis) {
                let start = grid.lineStart(along: axis, line: line)
                for i in 1..<n { slope = max(slope, abs(v[start + i * step] - v[start + (i - 1) * step])) }
            }
        }
        return slope / grid.axes[axis].spacing
    }

    /// The window padded by at least `reach` per axis, with `count - 1` 7-smooth.
    static func friendlyPadding(_ window: Grid, reach: [Double]) -> PaddedGrid {
        window.padded(cells: (0..<window.dimension).map { k in
            let n = window.axes[k].count
            var cells = max(0, Int((reach[k] / window.axes[k].spacing).rounded(.up)))
            while !isSmooth(n + 2 * cells - 1) { cells += 1 }
            return cells
        })
    }

    static func isSmooth(_ value: Int) -> Bool {
        var v = value
        guard v > 0 else { return false }
        for p in [2, 3, 5, 7] { while v % p == 0 { v /= p } }
        return v == 1
    }

    /// The part of `field` (on `outer.grid`) that lies on `inner.grid`, both paddings of the same window.
    static func restrict(_ field: Field, from outer: PaddedGrid, to inner: PaddedGrid) -> Field {
        let shift = zip(outer.offsets, inner.offsets).map { $0 - $1 }
        return PaddedGrid(grid: outer.grid, window: inner.grid, offsets: shift).crop(field)
    }
}
