/// A fixed-size heap buffer with a stable base pointer, for kernels whose phases write to
/// disjoint parts of shared arrays from `Parallel.forEachChunk` workers. The caller guarantees
/// that concurrent writers touch disjoint indices (as `Parallel` requires).
final class ScratchBuffer<Element>: @unchecked Sendable {
    let base: UnsafeMutablePointer<Element>
    let count: Int

    init(count: Int, repeating value: Element) {
        self.count = count
        base = .allocate(capacity: max(count, 1))
        base.initialize(repeating: value, count: max(count, 1))
    }

    /// A buffer of a trivial type whose elements are all written before they are read: no
    /// fill pass (a fill of a fresh allocation also faults every page in).
    init(uninitializedCount count: Int) {
        precondition(_isPOD(Element.self), "uninitialized scratch only for trivial types")
        self.count = count
        base = .allocate(capacity: max(count, 1))
    }

    deinit {
        base.deinitialize(count: max(count, 1))
        base.deallocate()
    }

    @inline(__always) subscript(i: Int) -> Element {
        get { base[i] }
        set { base[i] = newValue }
    }

    var array: [Element] { Array(UnsafeBufferPointer(start: base, count: count)) }
}

/// `count` arrays of `length` doubles that `body` fills in full through their base addresses
/// (no zero fill, no copy: each array is built in place by its uninitialized initializer).
func filledArrays(_ count: Int, length: Int, _ body: ([UnsafeMutablePointer<Double>]) -> Void) -> [[Double]] {
    func nest(_ index: Int, _ pointers: [UnsafeMutablePointer<Double>]) -> [[Double]] {
        guard index < count else {
            body(pointers)
            return []
        }
        var rest: [[Double]] = []
        let array = [Double](unsafeUninitializedCapacity: length) { buffer, initialized in
            rest = nest(index + 1, pointers + [buffer.baseAddress!])
            initialized = length
        }
        return [array] + rest
    }
    return nest(0, [])
}
