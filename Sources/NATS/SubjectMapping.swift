import BusProtocol
/// Our topics as NATS subjects. Topic syntax is NATS subject syntax (dot-separated segments,
/// `*` for one segment, `>` for the rest; no spaces or control characters), so a topic maps
/// unchanged under a prefix: `chat.room1` ⇄ `bus.chat.room1`, and patterns likewise
/// (`chat.*` ⇄ `bus.chat.*`). The prefix keeps user topics away from `$SYS`, `_INBOX` and
/// other applications on the same NATS.
///
/// A message's kind travels in a header: binary payloads go as `HPUB` with `Bus-Kind: binary`,
/// JSON payloads as plain `PUB`, so the payload bytes are never changed and other NATS clients
/// read JSON messages as they are.
public struct SubjectMapping: Sendable, Equatable {
    public static let defaultPrefix = "bus."
    public static let kindHeader = "Bus-Kind"
    public static let binaryKind = "binary"

    /// Ends with a dot (or is empty).
    public let prefix: String

    public init(prefix: String = defaultPrefix) {
        self.prefix = prefix.isEmpty || prefix.hasSuffix(".") ? prefix : prefix + "."
    }

    public func subject(for topic: String) -> String { prefix + topic }

    /// The topic of a subject under our prefix; nil for anything else.
    public func topic(for subject: String) -> String? {
        guard subject.hasPrefix(prefix), subject.utf8.count > prefix.utf8.count else { return nil }
        return String(subject.dropFirst(prefix.count))
    }

    /// The topic bytes of a subject under our prefix (`NATSMessage.subjectBytes`); nil for
    /// anything else. Bytes, so that the topic validator sees exactly what came.
    public func topic(for subject: [UInt8]) -> ArraySlice<UInt8>? {
        let prefixBytes = Array(prefix.utf8)
        guard subject.count > prefixBytes.count, subject.starts(with: prefixBytes) else { return nil }
        return subject[prefixBytes.count...]
    }

    /// Bytes the headers add to a binary message on the wire (counted against `max_payload`).
    public static let binaryHeaderBlock = NATSEncoder.headerBlock([(kindHeader, binaryKind)])

    /// True when an `HMSG`'s header block marks the payload binary.
    public static func isBinary(headers: [UInt8]?) -> Bool {
        guard let headers else { return false }
        let text = String(decoding: headers, as: UTF8.self)
        for line in text.split(separator: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingWhitespace
            let value = line[line.index(after: colon)...].trimmingWhitespace
            if name.lowercased() == kindHeader.lowercased() && value.lowercased() == binaryKind { return true }
        }
        return false
    }
}
