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
        // Case by case rather than a switch over the pair, whose tuple copied (retained) the name.
        if case .spelled(let bytes) = b { return a.isSpelled(by: bytes) }
        if case .spelled(let bytes) = a { return b.isSpelled(by: bytes) }
        return a.name == b.name
    }

    func hash(into hasher: inout Hasher) {
        switch self {
        case .name(let name): name.hash(into: &hasher)
        case .spelled(let bytes): TopicName.hash(spelling: bytes, into: &hasher)
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
