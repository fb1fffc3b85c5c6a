/// The deduplicated values whose patterns match one topic, in no particular order.
///
/// Immutable, so one result can be cached and handed to every publish of the topic while the
/// trie changes: a mutation drops or replaces cached results, it never edits one in place
/// (the NATS `SublistResult` rule).
public struct MatchResult<Value>: RandomAccessCollection {
    /// Each matching value exactly once, even when several of its patterns match.
    public let values: ContiguousArray<Value>

    public init(values: ContiguousArray<Value>) {
        self.values = values
    }

    public var startIndex: Int { values.startIndex }
    public var endIndex: Int { values.endIndex }
    public subscript(position: Int) -> Value { values[position] }
}

extension MatchResult: Sendable where Value: Sendable {}
