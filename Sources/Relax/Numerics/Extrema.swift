/// The least and largest of an array of doubles, in one pass with four running pairs (one pair
/// would chain every comparison on the one before), split over the cores for long arrays. NaN
/// values are passed over (every comparison with them is false); an empty array gives
/// `(+infinity, -infinity)`. `finiteRange` also tells whether every value is finite, in the
/// same pass.
enum Extrema {
    /// `(min, max)` of `values[0..<count]` on the calling thread.
    static func of(_ values: UnsafePointer<Double>, count: Int) -> (least: Double, largest: Double) {
        let (least, largest, _) = scan(values, count: count)
        return (least, largest)
    }

    /// `(min, max)` and whether all of `values[0..<count]` are finite (`x - x` is 0 for a finite
    /// `x` and NaN for infinities and NaN, so one running sum of them tells).
    static func scan(_ values: UnsafePointer<Double>, count: Int) -> (least: Double, largest: Double, finite: Bool) {
        var check = 0.0
        var low = (Double.infinity, Double.infinity, Double.infinity, Double.infinity)
        var high = (-Double.infinity, -Double.infinity, -Double.infinity, -Double.infinity)
        var i = 0
        while i + 3 < count {
            let v0 = values[i], v1 = values[i + 1], v2 = values[i + 2], v3 = values[i + 3]
            low.0 = v0 < low.0 ? v0 : low.0
            low.1 = v1 < low.1 ? v1 : low.1
            low.2 = v2 < low.2 ? v2 : low.2
            low.3 = v3 < low.3 ? v3 : low.3
            high.0 = v0 > high.0 ? v0 : high.0
            high.1 = v1 > high.1 ? v1 : high.1
            high.2 = v2 > high.2 ? v2 : high.2
            high.3 = v3 > high.3 ? v3 : high.3
            check += ((v0 - v0) + (v1 - v1)) + ((v2 - v2) + (v3 - v3))
            i += 4
        }
        while i < count {
            low.0 = values[i] < low.0 ? values[i] : low.0
            high.0 = values[i] > high.0 ? values[i] : high.0
            check += values[i] - values[i]
            i += 1
        }
        return (Swift.min(Swift.min(low.0, low.1), Swift.min(low.2, low.3)),
                Swift.max(Swift.max(high.0, high.1), Swift.max(high.2, high.3)), check == 0)
    }

    /// `(min, max)` of `values`, one sweep per core when there are at least `2^16` of them.
    static func of(_ values: UnsafeBufferPointer<Double>) -> (least: Double, largest: Double) {
        let (least, largest, _) = finiteRange(values)
        return (least, largest)
    }

    /// `(min, max)` of `values` and whether they are all finite, one sweep per core when there
    /// are at least `2^16` of them.
    static func finiteRange(_ values: UnsafeBufferPointer<Double>) -> (least: Double, largest: Double, finite: Bool) {
        guard let base = values.baseAddress else { return (.infinity, -.infinity, true) }
        let parts = values.count >= 1 << 16 ? Parallel.workers : 1
        var results = [(least: Double, largest: Double, finite: Bool)](repeating: (.infinity, -.infinity, true), count: parts)
        results.withUnsafeMutableBufferPointer { slots in
            let slot = slots.baseAddress!
            Parallel.forEachChunk(parts, minimumPerChunk: 1) { range in
                for part in range {
                    let lo = values.count * part / parts, hi = values.count * (part + 1) / parts
                    slot[part] = scan(base + lo, count: hi - lo)
                }
            }
        }
        return (results.map(\.least).min()!, results.map(\.largest).max()!, results.allSatisfy(\.finite))
    }

    /// `(min, max)` of `values`.
    static func of(_ values: [Double]) -> (least: Double, largest: Double) {
        values.withUnsafeBufferPointer { of($0) }
    }
}
