/// Local extrema and convex regions of 1-D fields, for the widening of convex regions under
/// the inviscid HJ equation (paper, Example 16 and Remark 17).
public struct LocalExtremum: Sendable, Equatable {
    public enum Kind: String, Sendable { case minimum, maximum }
    public var kind: Kind
    /// The node (the middle node of a plateau).
    public var index: Int
    public var x: Double
    public var value: Double
}

/// The widest interval around a local minimum where the field is convex.
public struct ConvexInterval: Sendable, Equatable {
    public var minimum: LocalExtremum
    /// The ends, where the second difference changes sign (linear interpolation of its zero),
    /// or the window's end if it never does.
    public var lower: Double
    public var upper: Double
    public var width: Double { upper - lower }

    public func contains(_ other: ConvexInterval, slack: Double = 0) -> Bool {
        lower <= other.lower + slack && upper >= other.upper - slack
    }
}

public enum ConvexityAnalysis {
    /// Local minima and maxima of a 1-D field at interior nodes (every node on a periodic
    /// grid): a node, or a plateau of equal values, below (above) both neighbours.
    public static func extrema(_ u: Field) throws -> [LocalExtremum] {
        try requireOneDimensional(u)
        let v = u.values, n = v.count
        let periodic = u.grid.axes[0].periodic
        var found: [LocalExtremum] = []
        var i = periodic ? 0 : 1
        let end = periodic ? n : n - 1
        while i < end {
            // The plateau [i, j] of values equal to v[i].
            var j = i
            while j + 1 < (periodic ? i + n - 1 : n) && v[(j + 1) % n] == v[i] { j += 1 }
            let left = periodic ? v[(i + n - 1) % n] : v[i - 1]
            guard periodic || j + 1 < n else { break }
            let right = v[(j + 1) % n]
            let middle = ((i + j) / 2) % n
            if v[i] < left && v[i] < right {
                found.append(.init(kind: .minimum, index: middle, x: u.grid.axes[0].coordinate(middle), value: v[i]))
            } else if v[i] > left && v[i] > right {
                found.append(.init(kind: .maximum, index: middle, x: u.grid.axes[0].coordinate(middle), value: v[i]))
            }
            i = j + 1
        }
        return found
    }

    /// Second differences `(u[i+1] - 2u[i] + u[i-1]) / h^2` at every node
    /// (`Semiconcavity.secondDifferences`), zero at the ends of a non-periodic grid, where
    /// they are not defined.
    static func secondDifferences(_ u: Field) -> [Double] {
        Semiconcavity.secondDifferences(u, axis: 0).values.map { $0.isNaN ? 0 : $0 }
    }

    /// The convex interval around each local minimum: the widest run of nodes around it where
    /// the second difference is `>= -tolerance`, its ends placed at the interpolated zero of
    /// the second difference. (For smooth `u`, second differences are O(h^2) accurate.)
    public static func convexIntervals(_ u: Field, tolerance: Double = 0) throws -> [ConvexInterval] {
        let d2 = secondDifferences(u)
        let n = d2.count
        let axis = u.grid.axes[0]
        let h = axis.spacing
        return try extrema(u).filter { $0.kind == .minimum }.map { m in
            var lo = m.index, hi = m.index
            while lo > 1 && d2[lo - 1] >= -tolerance { lo -= 1 }
            while hi < n - 2 && d2[hi + 1] >= -tolerance { hi += 1 }
            // Ends: the zero of the linear interpolant between the last convex node and the
            // first concave one, or the last node with a defined second difference.
            func end(_ inside: Int, _ outside: Int) -> Double {
                let a = d2[inside] + tolerance, b = d2[outside] + tolerance
                guard b < 0 else { return axis.coordinate(inside) }
                return axis.coordinate(inside) + Double(outside - inside) * h * a / (a - b)
            }
            return ConvexInterval(minimum: m, lower: lo > 1 ? end(lo, lo - 1) : axis.coordinate(lo),
                                  upper: hi < n - 2 ? end(hi, hi + 1) : axis.coordinate(hi))
        }
    }

    /// The local minimum of `u` nearest to `x`, if any lies within `distance`.
    public static func minimum(of u: Field, near x: Double, within distance: Double) throws -> LocalExtremum? {
        try extrema(u).filter { $0.kind == .minimum && abs($0.x - x) <= distance }
            .min { abs($0.x - x) < abs($1.x - x) }
    }

    /// Example 16: for every local minimum of `f`, the convex interval of `u` around the
    /// nearest minimum of `u` contains the one of `f` (up to `slack`). Returns the pairs
    /// `(f's interval, u's interval or nil if the minimum vanished)`.
    public static func widening(from f: Field, to u: Field, slack: Double) throws
        -> [(original: ConvexInterval, evolved: ConvexInterval?, contains: Bool)] {
        let evolved = try convexIntervals(u)
        return try convexIntervals(f).map { original in
            let partner = evolved.filter { $0.minimum.x >= original.lower - slack && $0.minimum.x <= original.upper + slack }
                .min { abs($0.minimum.x - original.minimum.x) < abs($1.minimum.x - original.minimum.x) }
            return (original, partner, partner?.contains(original, slack: slack) ?? false)
        }
    }

    static func requireOneDimensional(_ u: Field) throws {
        guard u.grid.dimension == 1 else {
            throw RelaxError.unsupported("the convexity analysis (Example 16) is for 1-D fields; this one has \(u.grid.dimension) axes")
        }
    }
}
