/// Incremental UTF-8 validation for text messages (RFC 6455 §8.1, Unicode §3.9 table 3-7).
///
/// State survives between calls, so a code point split across reads or fragments validates
/// correctly. Validation fails fast: `validate` returns false at the first byte after which
/// no continuation could make the input valid (`F4 90` fails on `90`, `ED A0` on `A0`),
/// which is what Autobahn 6.x checks and lets a server drop a bad peer before it has sent
/// the whole frame.
///
/// Non-ASCII bytes run through a DFA in the "shift" form: each state is a bit offset
/// (a multiple of 6) and `transitions[byte]` packs every state's successor into one
/// UInt64, so one table load and one shift advance the machine. Reject is offset 0, whose
/// bits are 0 in every row, so it is absorbing. ASCII runs skip the DFA 8 bytes at a time.
public struct UTF8Validator: Sendable {
    /// Current DFA state, one of the offsets below.
    @usableFromInline var state: UInt64 = UTF8Validator.accept

    @usableFromInline static let reject: UInt64 = 0
    /// Between code points: the only state where a message may end.
    @usableFromInline static let accept: UInt64 = 6
    /// One continuation byte 80–BF left.
    static let need1: UInt64 = 12
    /// Two continuation bytes 80–BF left.
    static let need2: UInt64 = 18
    /// After E0: next must be A0–BF (80–9F would be an overlong encoding).
    static let afterE0: UInt64 = 24
    /// After ED: next must be 80–9F (A0–BF would encode a surrogate D800–DFFF).
    static let afterED: UInt64 = 30
    /// After F0: next must be 90–BF (80–8F would be an overlong encoding).
    static let afterF0: UInt64 = 36
    /// After F1–F3: three continuation bytes 80–BF left.
    static let need3: UInt64 = 42
    /// After F4: next must be 80–8F (90–BF would exceed U+10FFFF).
    static let afterF4: UInt64 = 48

    /// `transitions[byte] >> state & 63` is the next state.
    @usableFromInline static let transitions: [UInt64] = (0...255).map { byte in
        // (from, to) pairs; every pair not listed goes to `reject`.
        let edges: [(UInt64, UInt64)] = switch UInt8(byte) {
        case 0x00...0x7F: [(accept, accept)]
        case 0x80...0x8F: [(need1, accept), (need2, need1), (afterED, need1),
                           (need3, need2), (afterF4, need2)]
        case 0x90...0x9F: [(need1, accept), (need2, need1), (afterED, need1),
                           (afterF0, need2), (need3, need2)]
        case 0xA0...0xBF: [(need1, accept), (need2, need1), (afterE0, need1),
                           (afterF0, need2), (need3, need2)]
        case 0xC2...0xDF: [(accept, need1)]
        case 0xE0: [(accept, afterE0)]
        case 0xE1...0xEC, 0xEE...0xEF: [(accept, need2)]
        case 0xED: [(accept, afterED)]
        case 0xF0: [(accept, afterF0)]
        case 0xF1...0xF3: [(accept, need3)]
        case 0xF4: [(accept, afterF4)]
        default: [] // C0, C1 (always overlong) and F5–FF (beyond U+10FFFF)
        }
        return edges.reduce(0) { row, edge in row | edge.1 << edge.0 }
    }

    /// Bit 7 of every byte in a word: zero means 8 ASCII bytes.
    @usableFromInline static let highBits: UInt64 = 0x8080_8080_8080_8080

    public init() {}

    /// True between code points: a text message may end here (§8.1).
    @inlinable
    public var isAtBoundary: Bool { state == Self.accept }

    /// Forgets any partial code point and any earlier failure, for the next message.
    @inlinable
    public mutating func reset() { state = Self.accept }

    /// Feeds the next piece of the text. Returns false once the input so far cannot be the
    /// prefix of valid UTF-8, and keeps returning false until `reset()`.
    @inlinable
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var current = state
        guard current != Self.reject else { return false }
        let table = Self.transitions
        let count = bytes.count
        var index = 0
        while index < count {
            if current == Self.accept {
                while count - index >= 8,
                      bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self) & Self.highBits == 0 {
                    index += 8
                }
                while index < count, bytes[index] < 0x80 {
                    index += 1
                }
                if index == count { break }
            }
            current = table[Int(bytes[index])] >> current & 63
            if current == Self.reject {
                state = current
                return false
            }
            index += 1
        }
        state = current
        return true
    }
}
