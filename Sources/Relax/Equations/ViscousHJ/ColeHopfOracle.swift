import Foundation

extension ColeHopf {
    /// The brute-force oracle: for every node `x`, the log-sum-exp over every node `y` and every
    /// image of it within reach of
    ///
    ///     -beta f(y) - beta |x - y|^2 / (2t),
    ///
    /// in coordinates (not cell indices), with the Gibbs means of the image position and of
    /// `lossGradient`. Images: periodic `y + m L`; Neumann `y + 2 m L` and `2 lower - y + 2 m L`
    /// (end nodes once per period: the trapezoid weights of the even extension; the gradient of
    /// the even extension of `f` changes sign along the reflected axis); free: the nodes themselves. O(N^2 * images): for tests on small grids, independent of
    /// `LogGaussianPass`.
    public static func bruteForce(_ f: Field, beta: Double, time t: Double,
                                  lossGradient: [Field]? = nil) -> (u: Field, gradient: [Field], averagedLossGradient: [Field]?) {
        let grid = f.grid
        let all = bruteForce(f, beta: beta, time: t, lossGradient: lossGradient, at: Array(0..<grid.count))
        return (Field(grid: grid, values: all.u), all.gradient.map { Field(grid: grid, values: $0) },
                lossGradient == nil ? nil : all.averagedLossGradient.map { Field(grid: grid, values: $0) })
    }

    /// The oracle at the nodes `indices` only (flat indices): `u`, and per axis the gradient and
    /// the averaged loss gradient (empty without `lossGradient`), in the order of `indices`.
    /// O(N * images) per point: checks large grids at sampled points.
    public static func bruteForce(_ f: Field, beta: Double, time t: Double, lossGradient: [Field]? = nil,
                                  at indices: [Int]) -> (u: [Double], gradient: [[Double]], averagedLossGradient: [[Double]]) {
        let grid = f.grid
        let d = grid.dimension
        let reach = (2 * t * f.oscillation + 2 * 60 * t / beta).squareRoot()
        let images = (0..<d).map { k in axisImages(grid.axes[k], boundary: grid.boundary, reach: reach) }
        let normalization = grid.spacing.reduce(0) { $0 + log($1) - 0.5 * log(2 * Double.pi * t / beta) }
        var u = [Double](repeating: 0, count: indices.count)
        var gradient = [[Double]](repeating: u, count: d)
        var averaged = [[Double]](repeating: u, count: lossGradient == nil ? 0 : d)
        let imageCounts = images.map(\.count)
        let combinations = imageCounts.reduce(1, *)
        var index = [Int](repeating: 0, count: d)
        var reflected = [Bool](repeating: false, count: d)
        var y = [Double](repeating: 0, count: d)
        var x = [Double](repeating: 0, count: d)
        // The exponent of one image combination; fills `index`, `y`, `reflected`.
        func exponent(_ combination: Int) -> Double {
            var rest = combination
            var distance2 = 0.0
            for k in stride(from: d - 1, through: 0, by: -1) {
                let image = images[k][rest % imageCounts[k]]
                rest /= imageCounts[k]
                index[k] = image.node
                y[k] = image.position
                reflected[k] = image.reflected
                distance2 += (x[k] - y[k]) * (x[k] - y[k])
            }
            return -beta * f.values[grid.flatIndex(index)] - beta * distance2 / (2 * t)
        }
        for (slot, flat) in indices.enumerated() {
            x = grid.point(flat)
            // Two streaming passes: the largest exponent, then the shifted sums (log-sum-exp).
            var top = -Double.infinity
            for combination in 0..<combinations { top = max(top, exponent(combination)) }
            var total = 0.0
            var first = [Double](repeating: 0, count: d)
            var loss = [Double](repeating: 0, count: averaged.count)
            for combination in 0..<combinations {
                let w = exp(exponent(combination) - top)
                total += w
                for k in 0..<d { first[k] += w * y[k] }
                if !averaged.isEmpty {
                    let source = grid.flatIndex(index)
                    for k in 0..<d { loss[k] += w * (reflected[k] ? -1 : 1) * lossGradient![k].values[source] }
                }
            }
            for k in 0..<d { gradient[k][slot] = (x[k] - first[k] / total) / t }
            for k in 0..<averaged.count { averaged[k][slot] = loss[k] / total }
            u[slot] = -(top + log(total) + normalization) / beta
        }
        return (u, gradient, averaged)
    }

    /// The images of the nodes of one axis within `reach` of the axis' interval.
    static func axisImages(_ axis: Axis, boundary: Boundary, reach: Double) -> [(node: Int, position: Double, reflected: Bool)] {
        var out: [(node: Int, position: Double, reflected: Bool)] = []
        let lo = axis.lower - reach, hi = axis.upper + reach
        switch boundary {
        case .periodic:
            let copies = Int((reach / axis.length).rounded(.up)) + 1
            for m in -copies...copies {
                for j in 0..<axis.count {
                    let y = axis.coordinate(j) + Double(m) * axis.length
                    if y >= lo && y <= hi { out.append((j, y, false)) }
                }
            }
        case .neumann:
            let period = 2 * axis.length
            let copies = Int((reach / period).rounded(.up)) + 1
            for m in -copies...copies {
                for j in 0..<axis.count {
                    let direct = axis.coordinate(j) + Double(m) * period
                    if direct >= lo && direct <= hi { out.append((j, direct, false)) }
                    guard j > 0 && j < axis.count - 1 else { continue }
                    let mirrored = 2 * axis.lower - axis.coordinate(j) + Double(m) * period
                    if mirrored >= lo && mirrored <= hi { out.append((j, mirrored, true)) }
                }
            }
        default:
            for j in 0..<axis.count { out.append((j, axis.coordinate(j), false)) }
        }
        return out
    }
}
