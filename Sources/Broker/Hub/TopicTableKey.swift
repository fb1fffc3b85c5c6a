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
        switch (a, b) {
        case (.name(let x), .name(let y)): return x == y
        case (.name(let name), .spelled(let bytes)), (.spelled(let bytes), .name(let name)): return name.isSpelled(by: bytes)
        case (.spelled(let x), .spelled(let y)): return x.elementsEqual(y)  // never: one side is a stored key
        }
    }

    func hash(into hasher: inout Hasher) {
        switch self {
        case .name(let name): name.hash(into: &hasher)
        case .spelled(let bytes): TopicName.hash(spelling: bytes, into: &hasher)
        }
    }

    var name: TopicName? {
        guard case .name(let name) = self else { return nil }
        return name
    }

}
