import Topics

extension MatchResult where Value: AnyObject {
    /// Runs `body` on each value, in order, without retaining or releasing it: iterating
    /// the result retained and released every value (an atomic on a cold object per
    /// delivery). Sound because the values are borrowed from this result, which stays alive
    /// for the whole call: a value `body` removes from its trie (a subscriber dropped as
    /// slow) lives on until the result goes.
    @inline(__always)
    func forEachBorrowed(_ body: (Value) -> Void) {
        values.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            // A class reference and an `Unmanaged` of it have the same layout.
            base.withMemoryRebound(to: Unmanaged<Value>.self, capacity: buffer.count) { values in
                for index in 0..<buffer.count { values[index]._withUnsafeGuaranteedRef(body) }
            }
        }
    }
}
