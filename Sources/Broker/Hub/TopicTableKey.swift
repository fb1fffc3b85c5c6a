import Topics

/// A key of the topic table's dictionary: the name of a topic it holds, or, only to look one
/// up, the bytes of a name as a publish brought them (no `String` made for a topic whose
/// state exists). Both hash and compare by their UTF-8 bytes, as `TopicName` does, so the
/// bytes find exactly the entry their name would.
///
/// A `.spelled` key points into a buffer that outlives only the lookup: it is never stored.
/// 24 bytes, like a `TopicName` (the tag fits in its padding): the table's entries keep their size.
enum TopicTableKey: Hashable {
    case name(TopicName)
    case spelled(UnsafeBufferPointer<UInt8>)

    static func == (a: TopicTableKey, b: TopicTableKey) -> Bool {
        // One key at a time rather than a switch over the pair, whose tuple copied (retained
        // and released) the stored name on every comparison.
        switch a {
        case .name(let name): return b.isSpelling(of: name)
        case .spelled(let bytes): return b.isSpelled(by: bytes)
        }
    }

    func hash(into hasher: inout Hasher) {
        switch self {
        case .name(let name): name.hash(into: &hasher)
        case .spelled(let bytes): TopicName.hash(spelling: bytes, into: &hasher)
        }
    }

    private func isSpelling(of name: TopicName) -> Bool {
        switch self {
        case .name(let other): return other == name
        case .spelled(let bytes): return name.isSpelled(by: bytes)
        }
    }

    private func isSpelled(by bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        switch self {
        case .name(let name): return name.isSpelled(by: bytes)
        case .spelled(let other): return other.elementsEqual(bytes)  // never: one side is a stored key
        }
    }

    var name: TopicName? {
        guard case .name(let name) = self else { return nil }
        return name
    }
}
