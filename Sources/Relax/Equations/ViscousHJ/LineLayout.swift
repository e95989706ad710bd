/// Where the sources of a one-dimensional Gaussian pass come from along a grid line, and
/// where its outputs sit among them (positions in source-index units).
///
/// - `window(offset:count:)`: the line itself; the outputs are its nodes
///   `offset ..< offset + count` (free space: a padded line cropped to its window).
/// - `periodic(ghosts:)`: the line and `ghosts` periodic images of it on each side; the
///   outputs are the line's own nodes (the sum over images is the periodic heat kernel).
/// - `mirror(ghosts:)`: the line and `ghosts` images reflected evenly about the end nodes
///   (period `2 (n - 1)`): the sum over them is the Neumann heat kernel with trapezoid weights
///   (an end node appears once per period, interior nodes twice), the operator the DCT-I
///   propagator applies.
enum LineLayout: Sendable, Equatable {
    case window(offset: Int, count: Int)
    case periodic(ghosts: Int)
    case mirror(ghosts: Int)

    func sourceCount(lineLength n: Int) -> Int {
        switch self {
        case .window: return n
        case let .periodic(g), let .mirror(g): return n + 2 * g
        }
    }

    func outputCount(lineLength n: Int) -> Int {
        switch self {
        case let .window(_, count): return count
        case .periodic, .mirror: return n
        }
    }

    /// The images on each side of the line (0 for `window`).
    var images: Int {
        switch self {
        case .window: return 0
        case let .periodic(g), let .mirror(g): return g
        }
    }

    /// The position of output 0 in source-index units.
    var outputOffset: Int {
        switch self {
        case let .window(offset, _): return offset
        case let .periodic(g), let .mirror(g): return g
        }
    }

    /// Copies the `sourceCount` sources of a line of `n` nodes, `step` apart from `line`, to
    /// `out`, each through `map`: the line itself, then its images (`fillImages`; `odd` payloads
    /// change sign at reflected ones).
    func gather(_ line: UnsafePointer<Double>, step: Int, lineLength n: Int, into out: UnsafeMutablePointer<Double>,
                map: AffineMap = .identity, odd: Bool = false) {
        let own = out + images
        if step == 1 && map == .identity {
            own.update(from: line, count: n)
        } else {
            for i in 0..<n { own[i] = map(line[i * step]) }
        }
        fillImages(own, lineLength: n, odd: odd)
    }

    /// The images on both sides of a line whose `n` nodes are in place at `line[0..<n]`:
    /// writes `line[-ghosts..<0]` and `line[n..<n + ghosts]`, so that `line - ghosts` holds the
    /// `sourceCount` sources (`gather` without the copy of the line itself). `odd` payloads change
    /// sign at reflected images. Nothing to write for `window`.
    func fillImages(_ line: UnsafeMutablePointer<Double>, lineLength n: Int, odd: Bool = false) {
        switch self {
        case .window:
            return
        case let .periodic(g):
            // Nearest first, so that images of images (g > n) read values already in place.
            for j in stride(from: 1, through: g, by: 1) {
                line[-j] = line[n - j]
                line[n - 1 + j] = line[j - 1]
            }
        case let .mirror(g):
            let sources = line - g
            func reflect(_ j: Int) {
                let value = line[node(ofSource: j, lineLength: n)]
                sources[j] = odd && isReflected(source: j, lineLength: n) ? -value : value
            }
            for j in 0..<g { reflect(j) }
            for j in (g + n)..<(2 * g + n) { reflect(j) }
        }
    }

    /// Whether source `j` is a reflected image (a `mirror` image beyond an end node): payloads
    /// that are odd under the reflection (the loss gradient along this axis) change sign there.
    @inline(__always)
    func isReflected(source j: Int, lineLength n: Int) -> Bool {
        guard case let .mirror(g) = self else { return false }
        let period = 2 * (n - 1)
        var r = (j - g) % period
        if r < 0 { r += period }
        return r >= n
    }

    /// The line node that source `j` reads.
    @inline(__always)
    func node(ofSource j: Int, lineLength n: Int) -> Int {
        switch self {
        case .window:
            return j
        case let .periodic(g):
            let r = (j - g) % n
            return r < 0 ? r + n : r
        case let .mirror(g):
            let period = 2 * (n - 1)
            var r = (j - g) % period
            if r < 0 { r += period }
            return r < n ? r : period - r
        }
    }
}

/// `x -> (x + shift) * factor`: how a separable pass reads its values and writes its results,
/// so that a caller's scaling (`-beta f` in, `-(b + log normalization)/beta` out) costs no pass
/// over the array of its own.
struct AffineMap: Sendable, Equatable {
    var shift = 0.0
    var factor = 1.0

    static let identity = AffineMap()

    @inline(__always) func callAsFunction(_ x: Double) -> Double { (x + shift) * factor }
}

/// Row-major strides and line addressing for an arbitrary shape (the `Grid` helpers without
/// axes): the shapes of the intermediate arrays of separable passes, which shrink axis by axis.
struct ArrayShape: Sendable, Equatable {
    let dims: [Int]

    var count: Int { dims.reduce(1, *) }

    var strides: [Int] {
        var s = [Int](repeating: 1, count: dims.count)
        var acc = 1
        for k in stride(from: dims.count - 1, through: 0, by: -1) {
            s[k] = acc
            acc *= dims[k]
        }
        return s
    }

    func lineCount(along axis: Int) -> Int { count / dims[axis] }

    /// The flat index of the first node of line `line` along `axis` (lines in row-major order
    /// of the remaining axes), as `Grid.lineStart`.
    func lineStart(along axis: Int, line: Int) -> Int {
        var inner = 1
        for k in (axis + 1)..<dims.count { inner *= dims[k] }
        return (line / inner) * inner * dims[axis] + line % inner
    }

    func replacing(axis: Int, with n: Int) -> ArrayShape {
        var d = dims
        d[axis] = n
        return ArrayShape(dims: d)
    }
}
