/// The least and largest of an array of doubles, in one pass with four running pairs (one pair
/// would chain every comparison on the one before), split over the cores for long arrays. NaN
/// values are passed over (every comparison with them is false); an empty array gives
/// `(+infinity, -infinity)`.
enum Extrema {
    /// `(min, max)` of `values[0..<count]` on the calling thread.
    static func of(_ values: UnsafePointer<Double>, count: Int) -> (least: Double, largest: Double) {
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
            i += 4
        }
        while i < count {
            low.0 = values[i] < low.0 ? values[i] : low.0
            high.0 = values[i] > high.0 ? values[i] : high.0
            i += 1
        }
        return (Swift.min(Swift.min(low.0, low.1), Swift.min(low.2, low.3)),
                Swift.max(Swift.max(high.0, high.1), Swift.max(high.2, high.3)))
    }

    /// `(min, max)` of `values`, one sweep per core when there are at least `2^16` of them.
    static func of(_ values: UnsafeBufferPointer<Double>) -> (least: Double, largest: Double) {
        guard let base = values.baseAddress else { return (.infinity, -.infinity) }
        let parts = values.count >= 1 << 16 ? Parallel.workers : 1
        var pairs = [(least: Double, largest: Double)](repeating: (.infinity, -.infinity), count: parts)
        pairs.withUnsafeMutableBufferPointer { slots in
            let slot = slots.baseAddress!
            Parallel.forEachChunk(parts, minimumPerChunk: 1) { range in
                for part in range {
                    let lo = values.count * part / parts, hi = values.count * (part + 1) / parts
                    slot[part] = of(base + lo, count: hi - lo)
                }
            }
        }
        return (pairs.map(\.least).min()!, pairs.map(\.largest).max()!)
    }

    /// `(min, max)` of `values`.
    static func of(_ values: [Double]) -> (least: Double, largest: Double) {
        values.withUnsafeBufferPointer { of($0) }
    }
}
