import Dispatch

/// Splitting loops over the machine's cores.
public enum Parallel {
    /// The number of worker threads loops use: the active processor count, at least 1.
    public static let workers: Int = max(1, ProcessInfoShim.activeProcessorCount)

    /// Runs `body(range)` on `chunks` contiguous sub-ranges of `0..<count`, in parallel
    /// when `count` is large enough to pay for the threads (`minimumPerChunk` items each).
    /// `body` must only write to disjoint locations for disjoint ranges.
    public static func forEachChunk(
        _ count: Int, minimumPerChunk: Int = 4096,
        _ body: (Range<Int>) -> Void
    ) {
        let chunks = min(workers, max(1, count / max(1, minimumPerChunk)))
        if chunks <= 1 {
            body(0..<count)
            return
        }
        withoutActuallyEscaping(body) { body in
            let box = UncheckedSendable(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = count * c / chunks
                let hi = count * (c + 1) / chunks
                box.value(lo..<hi)
            }
        }
    }
}

/// A wrapper that lets a value cross into `concurrentPerform` when the caller guarantees
/// the work items touch disjoint memory. Used only by `Parallel`.
public struct UncheckedSendable<T>: @unchecked Sendable {
    public let value: T
    public init(_ value: T) { self.value = value }
}

import Foundation

enum ProcessInfoShim {
    static var activeProcessorCount: Int { ProcessInfo.processInfo.activeProcessorCount }
}
