/// Swift's dictionaries, sets and arrays never shrink as elements are removed: a per-loop table
/// sized at a burst's peak (a churn of connections, a topic with thousands of subscribers for
/// a while) would hold that memory for the life of the server. These give it back once a
/// table holds under a quarter of its capacity, rebuilding it at its current size.
///
/// Amortised O(1): a rebuild at count c leaves room for c to a little over 4c/3 elements, so the
/// next rebuild needs at least half of them gone again, and growth doubles as usual; neither
/// can alternate with the other on every change. Tables at or under `floor` slots are kept:
/// they cost little and are reused at once.
@usableFromInline
package enum SparseCapacity {
    /// Slots below which a table is never rebuilt.
    @usableFromInline
    package static let floor = 64

    @inline(__always) @usableFromInline
    static func isSparse(count: Int, capacity: Int, floor: Int) -> Bool {
        capacity > floor && count < capacity / 4
    }
}

extension Dictionary {
    /// Rebuilds the storage at the current size when under a quarter of it is used. The check
    /// is inlinable: it runs on every removal from the loops' tables (three a connection churn
    /// cycle), the rebuild almost never.
    @inlinable
    package mutating func shrinkIfSparse(floor: Int = SparseCapacity.floor) {
        guard SparseCapacity.isSparse(count: count, capacity: capacity, floor: floor) else { return }
        rebuildAtCurrentSize()
    }

    @usableFromInline
    mutating func rebuildAtCurrentSize() {
        var smaller = Self(minimumCapacity: count)
        for (key, value) in self { smaller[key] = value }
        self = smaller
    }
}

extension Set {
    /// Rebuilds the storage at the current size when under a quarter of it is used.
    @inlinable
    package mutating func shrinkIfSparse(floor: Int = SparseCapacity.floor) {
        guard SparseCapacity.isSparse(count: count, capacity: capacity, floor: floor) else { return }
        rebuildAtCurrentSize()
    }

    @usableFromInline
    mutating func rebuildAtCurrentSize() {
        var smaller = Self(minimumCapacity: count)
        for element in self { smaller.insert(element) }
        self = smaller
    }
}

extension Array {
    /// Empties a batch buffer that is refilled each loop turn. Its capacity stays for the next
    /// batch unless this one used under a quarter of it: a burst's peak is given back once the
    /// traffic falls, yet a steady load keeps reusing one buffer. Inlinable: compiled once for
    /// every element type it ran unspecialized, the generic `removeAll` looking up array
    /// metadata on each call (1,700 instructions per loop turn's flush, a sixth of a topics delivery).
    @inlinable
    package mutating func removeAllReusingCapacity(floor: Int = SparseCapacity.floor) {
        removeAll(keepingCapacity: !SparseCapacity.isSparse(count: count, capacity: capacity, floor: floor))
    }
}
