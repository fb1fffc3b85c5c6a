/// What `EnvelopeParser` collects while `JSON.scanObject` walks a request: the first range
/// of each known member and the first duplicate key.
///
/// Keys compare by their unescaped bytes, so `"id"` and `"\u0069d"` are the same key. Known
/// keys are tracked without allocating; other keys go into a set built only when a request
/// has one, since a duplicate unknown key is refused too (Protocol.md: "duplicate keys are
/// refused").
struct EnvelopeMembers {
    var type: Range<Int>?
    var id: Range<Int>?
    var topic: Range<Int>?
    var data: Range<Int>?
    var since: Range<Int>?
    var last: Range<Int>?
    var checkpoints: Range<Int>?
    /// `id` appeared twice: which one to echo is unclear, so neither is.
    var idDuplicated = false
    /// `topic` appeared twice: neither is reported.
    var topicDuplicated = false
    /// The first key seen twice, unescaped and shortened for the error message.
    var duplicateKey: String?
    /// Unescaped bytes of every other key seen so far.
    var otherKeys: Set<[UInt8]>?

    /// Longest key or type name quoted back in an error message, in characters.
    static let maxDisplayLength = 64

    mutating func record(key: UnsafeRawBufferPointer, value: Range<Int>) {
        guard key.contains(0x5C) else { return record(unescapedKey: key, value: value) }
        var unescaped: [UInt8] = []
        _ = JSON.unescape(key, into: &unescaped)
        unescaped.withUnsafeBytes { record(unescapedKey: $0, value: value) }
    }

    mutating func record(unescapedKey key: UnsafeRawBufferPointer, value: Range<Int>) {
        if Self.equals(key, "type") {
            if type == nil { type = value } else { noteDuplicate(key) }
        } else if Self.equals(key, "id") {
            if id == nil { id = value } else { idDuplicated = true; noteDuplicate(key) }
        } else if Self.equals(key, "topic") {
            if topic == nil { topic = value } else { topicDuplicated = true; noteDuplicate(key) }
        } else if Self.equals(key, "data") {
            if data == nil { data = value } else { noteDuplicate(key) }
        } else if Self.equals(key, "since") {
            if since == nil { since = value } else { noteDuplicate(key) }
        } else if Self.equals(key, "last") {
            if last == nil { last = value } else { noteDuplicate(key) }
        } else if Self.equals(key, "checkpoints") {
            if checkpoints == nil { checkpoints = value } else { noteDuplicate(key) }
        } else if otherKeys == nil {
            otherKeys = [Array(key)]
        } else if !otherKeys!.insert(Array(key)).inserted {
            noteDuplicate(key)
        }
    }

    mutating func noteDuplicate(_ key: UnsafeRawBufferPointer) {
        if duplicateKey == nil { duplicateKey = Self.displayName(key) }
    }

    /// Bytes as text for an error message, at most `maxDisplayLength` characters. Lone
    /// surrogates (WTF-8 from `JSON.unescape`) show as U+FFFD; this text is only read.
    static func displayName(_ bytes: UnsafeRawBufferPointer) -> String {
        var truncated = bytes.count > maxDisplayLength * 4
        var text = String(decoding: bytes.prefix(maxDisplayLength * 4), as: UTF8.self)
        if text.count > maxDisplayLength {
            text = String(text.prefix(maxDisplayLength))
            truncated = true
        }
        return truncated ? text + "…" : text
    }

    /// Byte equality with a literal, without allocating.
    @inline(__always)
    static func equals(_ bytes: UnsafeRawBufferPointer, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        for index in 0 ..< bytes.count where bytes[index] != literal.utf8Start[index] {
            return false
        }
        return true
    }
}
