/// A set that holds its first element inline and allocates a `Set` only for the second.
///
/// Most sets in a broker hold one element: the patterns of a subscriber, the subscribers of a
/// topic with one listener, the loops interested in a topic. A native `Set` of one is an object
/// of its own (a header, a bitmap and a bucket array: about 80–130 bytes with malloc's
/// overhead); this keeps one element in the owner's own storage. Order is unspecified.
///
/// `@inlinable` where it is walked: other modules (the broker's subscriber patterns, the trie's
/// values as `LoopHub` scans them) otherwise iterate it through the unspecialised generic
/// witnesses, with a metadata look-up per `Optional<Element>`: about 1,900 instructions per
/// connection churn cycle for two walks of one element.
package struct SmallSet<Element: Hashable>: Sequence {
    /// Nil only when the set is empty (`more` is then empty too).
    @usableFromInline var one: Element?
    @usableFromInline var more: Set<Element> = []

    /// `@inlinable`, as are the walks: a set emptied by assigning a new one (a leaving
    /// subscriber's patterns) then costs no metadata look-ups.
    @inlinable
    package init() {}

    @inlinable
    package var isEmpty: Bool { one == nil }
    package var count: Int { one == nil ? 0 : 1 + more.count }
    package var underestimatedCount: Int { count }

    /// Slots of the out-of-line `Set` (0 while at most one element is held).
    package var capacity: Int { more.capacity }

    package func contains(_ element: Element) -> Bool {
        guard let one else { return false }
        return one == element || (!more.isEmpty && more.contains(element))
    }

    /// Adds `element`; false when it was already held.
    package mutating func insert(_ element: Element) -> Bool {
        guard let one else {
            self.one = element
            return true
        }
        return one != element && more.insert(element).inserted
    }

    /// Removes `element`; false when it was not held. The `Set` is let go once it empties, and
    /// shrunk once sparse (`SparseCapacity`).
    package mutating func remove(_ element: Element) -> Bool {
        guard let one else { return false }
        if one == element {
            self.one = more.popFirst()
        } else if more.remove(element) == nil {
            return false
        }
        if more.isEmpty { more = [] } else { more.shrinkIfSparse() }
        return true
    }

    package mutating func removeAll() {
        one = nil
        more = []
    }

    @inlinable
    package func makeIterator() -> Iterator { Iterator(first: one, rest: more.makeIterator()) }

    /// The first element `predicate` accepts, without making an iterator.
    @inlinable
    package func first(where predicate: (Element) throws -> Bool) rethrows -> Element? {
        guard let one else { return nil }
        if try predicate(one) { return one }
        return more.isEmpty ? nil : try more.first(where: predicate)
    }

    package struct Iterator: IteratorProtocol {
        @usableFromInline var first: Element?
        @usableFromInline var rest: Set<Element>.Iterator

        @inlinable
        init(first: Element?, rest: Set<Element>.Iterator) {
            self.first = first
            self.rest = rest
        }

        @inlinable
        package mutating func next() -> Element? {
            if let element = first {
                first = nil
                return element
            }
            return rest.next()
        }
    }
}
