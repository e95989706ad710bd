extension Array where Element == Int {
    /// Advances this multi-index to the next one of `shape` in row-major order (the last axis
    /// fastest), wrapping to all zeros after the last: the odometer of every loop that walks a
    /// grid's nodes in storage order while it needs their per-axis indices.
    @inline(__always)
    mutating func advanceRowMajor(in shape: [Int]) {
        var k = count - 1
        while k >= 0 {
            self[k] += 1
            if self[k] < shape[k] { return }
            self[k] = 0
            k -= 1
        }
    }
}
