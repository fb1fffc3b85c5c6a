/// The 4-bit frame opcode of RFC 6455 §5.2.
///
/// Raw values 3–7 and 0xB–0xF are reserved for future non-control and control frames;
/// with no extension negotiated they are a protocol error (§5.2), so they have no case here
/// and `Opcode(rawValue:)` returns nil for them.
public enum Opcode: UInt8, Sendable {
    /// Follows a `text` or `binary` frame sent with FIN clear (§5.4).
    case continuation = 0
    case text = 1
    case binary = 2
    case close = 8
    case ping = 9
    case pong = 10

    /// Control frames have the most significant opcode bit set (§5.5): they may be
    /// interleaved with fragments, must not be fragmented and carry at most 125 bytes.
    @inlinable
    public var isControl: Bool { rawValue & 0x8 != 0 }
}
