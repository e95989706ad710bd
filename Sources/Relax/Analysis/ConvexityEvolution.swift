/// Convex intervals of 1-D solutions along time (paper, Example 16 and Remark 17): for each
/// time, the convex interval around every local minimum of `u(., t)`, the pairing of `f`'s
/// minima with them (`ConvexityAnalysis.widening`), and the fraction of the window where
/// `u` is convex (second difference `>= -tolerance`).
public struct ConvexityEvolution: Sendable {
    public struct Snapshot: Sendable {
        public var time: Double
        /// The convex interval around each local minimum of `u(., time)`.
        public var intervals: [ConvexInterval]
        /// For each local minimum of `f`: its convex interval, the one of the nearest minimum
        /// of `u` (nil if it vanished), and whether the latter contains the former.
        public var widening: [(original: ConvexInterval, evolved: ConvexInterval?, contains: Bool)]
        /// The fraction of the interior nodes where the second difference is `>= -tolerance`.
        public var convexFraction: Double
    }

    /// The data's convex intervals and convex fraction.
    public var initial: Snapshot
    public var snapshots: [Snapshot]

    /// Analyses `f` and each `(time, u)`; `slack` is the position slack of the widening test
    /// (about one grid spacing), `tolerance` the second-difference tolerance of "convex".
    public init(initial f: Field, solutions: [(time: Double, u: Field)], slack: Double, tolerance: Double = 0) throws {
        func snapshot(_ t: Double, _ u: Field) throws -> Snapshot {
            Snapshot(time: t, intervals: try ConvexityAnalysis.convexIntervals(u, tolerance: tolerance),
                     widening: try ConvexityAnalysis.widening(from: f, to: u, slack: slack),
                     convexFraction: Self.convexFraction(u, tolerance: tolerance))
        }
        initial = try snapshot(0, f)
        snapshots = try solutions.map { try snapshot($0.time, $0.u) }
    }

    /// The fraction of the nodes with a defined second difference where it is `>= -tolerance`.
    public static func convexFraction(_ u: Field, tolerance: Double = 0) -> Double {
        let d2 = Semiconcavity.secondDifferences(u, axis: 0).values.filter { !$0.isNaN }
        guard !d2.isEmpty else { return .nan }
        return Double(d2.filter { $0 >= -tolerance }.count) / Double(d2.count)
    }
}
