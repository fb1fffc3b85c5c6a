/// A literal segment as a trie key, compared and hashed by UTF-8 bytes (see `withUTF8Bytes`).
///
/// Stored keys own their bytes in a `String`. A lookup instead builds a *probe* that borrows
/// the published topic's bytes, so `match` looks up each segment with no `String`, no
/// allocation and no reference counting. Invariant: a probe lives only for the one dictionary
/// lookup it is made for and is never stored (only `Node.childCreating` stores keys, and it
/// stores owning ones).
struct SegmentKey: Hashable {
    private let owned: String
    private let borrowed: UnsafeBufferPointer<UInt8>?

    /// A key that owns a copy of `bytes`, for storing in the trie.
    init(owning bytes: UnsafeBufferPointer<UInt8>) {
        owned = String(decoding: bytes, as: UTF8.self)
        borrowed = nil
    }

    /// A key that borrows `bytes`, for a lookup only.
    init(probing bytes: UnsafeBufferPointer<UInt8>) {
        owned = ""
        borrowed = bytes
    }

    @inline(__always)
    private func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let borrowed { return body(borrowed) }
        return withUTF8Bytes(owned, body)
    }

    static func == (lhs: SegmentKey, rhs: SegmentKey) -> Bool {
        lhs.withBytes { a in rhs.withBytes { b in utf8Equal(a, b) } }
    }

    func hash(into hasher: inout Hasher) {
        withBytes { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
    }
}
