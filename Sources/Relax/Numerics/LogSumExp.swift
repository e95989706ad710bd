import Foundation

/// Log-domain sums that neither overflow nor underflow.
public enum LogSumExp {
    /// `log(sum_i exp(a_i))`, computed as `m + log(sum_i exp(a_i - m))` with `m = max a_i`.
    /// Returns `-infinity` for an empty input or one whose terms are all `-infinity`.
    public static func value<C: Collection>(_ a: C) -> Double where C.Element == Double {
        guard let m = a.max(), m > -.infinity else { return -.infinity }
        if m == .infinity { return .infinity }
        var s = 0.0
        for v in a { s += exp(v - m) }
        return m + log(s)
    }

    /// `log(exp(a) + exp(b))`.
    @inlinable public static func add(_ a: Double, _ b: Double) -> Double {
        let m = max(a, b)
        if m == -.infinity { return -.infinity }
        return m + log1p(exp(-abs(a - b)))
    }

    /// The weighted log-sum-exp `log(sum_i w_i exp(a_i))` with `w_i >= 0`, and the mean of
    /// `values` under the normalized weights `w_i exp(a_i)` — the Gibbs averages of Cole–Hopf.
    public static func weightedMean(logWeights a: [Double], values: [Double]) -> (logSum: Double, mean: Double) {
        precondition(a.count == values.count)
        guard let m = a.max(), m > -.infinity else { return (-.infinity, .nan) }
        var s = 0.0, sv = 0.0
        for i in a.indices {
            let w = exp(a[i] - m)
            s += w
            sv += w * values[i]
        }
        return (m + log(s), sv / s)
    }
}

/// A streaming log-sum-exp: add terms one at a time, read `value` at any point.
/// Rescales the running sum whenever a larger term arrives.
public struct LogSumExpAccumulator: Sendable {
    public private(set) var maximum = -Double.infinity
    private var scaledSum = 0.0

    public init() {}

    @inlinable public var value: Double {
        maximum == -.infinity ? -.infinity : maximum + log(scaledSumValue)
    }

    @usableFromInline var scaledSumValue: Double { scaledSum }

    public mutating func add(_ a: Double) {
        if a <= maximum {
            scaledSum += exp(a - maximum)
        } else {
            scaledSum = scaledSum * exp(maximum - a) + 1
            maximum = a
        }
    }
}
