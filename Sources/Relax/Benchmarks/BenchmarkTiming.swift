import Foundation

/// What the `relax bench` topics time with: the median, the process CPU clock, and a
/// time-based warm-up (the first calls of a process pay for thread start-up, plans and fresh
/// pages, not for the algorithm). The Cole–Hopf and Hopf–Lax topics and their Python references
/// warm up for `warmUpSeconds`; heat and losses make one untimed call on both sides.
enum BenchmarkTiming {
    /// Seconds of untimed calls before the timed repeats.
    static let warmUpSeconds = 0.25

    /// Calls `body` until `warmUpSeconds` have passed (at least once).
    static func warmUp(_ body: () throws -> Void) rethrows {
        let start = Date()
        repeat { try body() } while Date().timeIntervalSince(start) < warmUpSeconds
    }

    /// The median (mean of the middle two for an even count).
    static func median(_ values: [Double]) -> Double {
        let s = values.sorted()
        return s.count % 2 == 1 ? s[s.count / 2] : 0.5 * (s[s.count / 2 - 1] + s[s.count / 2])
    }

    /// CPU seconds of the whole process (all threads).
    static func processCPUSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + 1e-9 * Double(ts.tv_nsec)
    }
}
