import Frames
import Testing

/// Every protocol violation, fed every way, must produce its error and close code; the
/// events of frames before the bad one are still delivered.
struct FrameDecoderErrorTests {
    struct BadInput: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var role: Role = .server
        var maxMessageSize = 1 << 20
        var error: FrameError
        var closeCode: UInt16
        /// Messages in `bytes` that complete before the violation.
        var delivered: [DecodedEvent] = []
        var testDescription: String { name }
    }

    static let hello = Array("Hello".utf8)

    static let table: [BadInput] = [
        BadInput(name: "RSV1 set", bytes: rawFrame(0xC1, hello), error: .reservedBitsSet, closeCode: 1002),
        BadInput(name: "RSV2 set", bytes: rawFrame(0xA2, hello), error: .reservedBitsSet, closeCode: 1002),
        BadInput(name: "RSV3 set on ping", bytes: rawFrame(0x99, []), error: .reservedBitsSet, closeCode: 1002),
        BadInput(name: "opcode 3", bytes: rawFrame(0x83, []), error: .unknownOpcode(3), closeCode: 1002),
        BadInput(name: "opcode 7", bytes: rawFrame(0x87, hello), error: .unknownOpcode(7), closeCode: 1002),
        BadInput(name: "opcode B", bytes: rawFrame(0x8B, []), error: .unknownOpcode(0xB), closeCode: 1002),
        BadInput(name: "opcode F", bytes: rawFrame(0x8F, hello), error: .unknownOpcode(0xF), closeCode: 1002),
        BadInput(name: "server gets unmasked frame", bytes: rawFrame(0x81, hello, mask: nil), error: .unmaskedClientFrame, closeCode: 1002),
        BadInput(name: "client gets masked frame", bytes: rawFrame(0x81, hello), role: .client, error: .maskedServerFrame, closeCode: 1002),
        BadInput(name: "ping of 126 bytes", bytes: rawFrame(0x89, Array(repeating: 0, count: 126)), error: .controlFrameTooLong, closeCode: 1002),
        BadInput(name: "close with 64-bit length", bytes: rawFrame(0x88, [3, 0xE8], lengthBytes: 8), error: .controlFrameTooLong, closeCode: 1002),
        BadInput(name: "ping without FIN", bytes: rawFrame(0x09, hello), error: .fragmentedControlFrame, closeCode: 1002),
        BadInput(name: "close without FIN", bytes: rawFrame(0x08, []), error: .fragmentedControlFrame, closeCode: 1002),
        BadInput(name: "continuation first", bytes: rawFrame(0x80, hello), error: .continuationWithoutMessage, closeCode: 1002),
        BadInput(name: "continuation after finished message", bytes: rawFrame(0x81, hello) + rawFrame(0x00, hello),
                 error: .continuationWithoutMessage, closeCode: 1002, delivered: [.text("Hello")]),
        BadInput(name: "text inside fragmented text", bytes: rawFrame(0x01, hello) + rawFrame(0x81, hello),
                 error: .dataFrameInsideFragmentedMessage, closeCode: 1002),
        BadInput(name: "binary inside fragmented text", bytes: rawFrame(0x01, hello) + rawFrame(0x02, hello),
                 error: .dataFrameInsideFragmentedMessage, closeCode: 1002),
        BadInput(name: "64-bit length with MSB set", bytes: rawFrame(0x82, [], claimedLength: 1 << 63),
                 error: .lengthTooLarge, closeCode: 1002),
        BadInput(name: "frame over the limit", bytes: rawFrame(0x82, Array(repeating: 0, count: 11)), maxMessageSize: 10,
                 error: .messageTooBig, closeCode: 1009),
        BadInput(name: "fragments over the limit", bytes: rawFrame(0x01, hello) + rawFrame(0x80, hello + [0x21]), maxMessageSize: 10,
                 error: .messageTooBig, closeCode: 1009),
        BadInput(name: "overlong C0 AF in text", bytes: rawFrame(0x81, [0xC0, 0xAF]), error: .invalidUTF8, closeCode: 1007),
        BadInput(name: "surrogate in text", bytes: rawFrame(0x81, [0x61, 0xED, 0xA0, 0x80]), error: .invalidUTF8, closeCode: 1007),
        BadInput(name: "above U+10FFFF in second fragment", bytes: rawFrame(0x01, hello) + rawFrame(0x80, [0xF4, 0x90, 0x80, 0x80]),
                 error: .invalidUTF8, closeCode: 1007),
        BadInput(name: "text ends mid code point", bytes: rawFrame(0x81, [0xCE]), error: .invalidUTF8, closeCode: 1007),
        BadInput(name: "close of 1 byte", bytes: rawFrame(0x88, [0x03]), error: .invalidClosePayload, closeCode: 1002),
        BadInput(name: "close code 0", bytes: rawFrame(0x88, [0, 0]), error: .invalidCloseCode(0), closeCode: 1002),
        BadInput(name: "close code 999", bytes: rawFrame(0x88, [0x03, 0xE7]), error: .invalidCloseCode(999), closeCode: 1002),
        BadInput(name: "close code 1004", bytes: rawFrame(0x88, [0x03, 0xEC]), error: .invalidCloseCode(1004), closeCode: 1002),
        BadInput(name: "close code 1005", bytes: rawFrame(0x88, [0x03, 0xED]), error: .invalidCloseCode(1005), closeCode: 1002),
        BadInput(name: "close code 1006", bytes: rawFrame(0x88, [0x03, 0xEE]), error: .invalidCloseCode(1006), closeCode: 1002),
        BadInput(name: "close code 1015", bytes: rawFrame(0x88, [0x03, 0xF7]), error: .invalidCloseCode(1015), closeCode: 1002),
        BadInput(name: "close code 1016", bytes: rawFrame(0x88, [0x03, 0xF8]), error: .invalidCloseCode(1016), closeCode: 1002),
        BadInput(name: "close code 2999", bytes: rawFrame(0x88, [0x0B, 0xB7]), error: .invalidCloseCode(2999), closeCode: 1002),
        BadInput(name: "close code 5000", bytes: rawFrame(0x88, [0x13, 0x88]), error: .invalidCloseCode(5000), closeCode: 1002),
        BadInput(name: "close code 65535", bytes: rawFrame(0x88, [0xFF, 0xFF]), error: .invalidCloseCode(65535), closeCode: 1002),
        BadInput(name: "close reason not UTF-8", bytes: rawFrame(0x88, [0x03, 0xE8, 0xC0, 0xAF]), error: .invalidCloseReason, closeCode: 1002),
        BadInput(name: "close reason ends mid code point", bytes: rawFrame(0x88, [0x03, 0xE8, 0x61, 0xE2, 0x82]),
                 error: .invalidCloseReason, closeCode: 1002),
    ]

    @Test(arguments: table)
    func decoderRejectsBadInputWithItsCloseCode(_ input: BadInput) {
        // A valid ping in front of each bad frame shows earlier events survive.
        let mask: MaskKey? = input.role == .server ? MaskKey(0x37, 0xFA, 0x21, 0x3D) : nil
        let prelude = rawFrame(0x89, [0x70], mask: mask)
        let outcome = decodeEveryWay(prelude + input.bytes, role: input.role, maxMessageSize: input.maxMessageSize)
        #expect(outcome.error == input.error)
        #expect(outcome.error?.closeCode.rawValue == input.closeCode)
        #expect(outcome.events == [.ping([0x70])] + input.delivered)
        #expect(outcome.bufferedByteCount == 0)
    }

    @Test func clientRejectsMaskedFrames() {
        #expect(decodeEveryWay([0x81, 0x85] + FrameDecoderTests.maskedHello, role: .client).error == .maskedServerFrame)
        #expect(decodeEveryWay([0x8A, 0x80, 1, 2, 3, 4], role: .client).error == .maskedServerFrame)
    }

    @Test func decoderRejectsFragmentedControlFrame() {
        #expect(decodeEveryWay(rawFrame(0x09, [])).error == .fragmentedControlFrame)
    }

    /// Fail fast: header checks fire on the byte that breaks them, not when the header ends.
    @Test(arguments: [
        ([0xC1] as [UInt8], FrameError.reservedBitsSet),
        ([0x83], .unknownOpcode(3)),
        ([0x80], .continuationWithoutMessage),
        ([0x09], .fragmentedControlFrame),
        ([0x81, 0x05], .unmaskedClientFrame),
        ([0x89, 0xFE], .controlFrameTooLong),
    ])
    func decoderRejectsABadHeaderByteAsSoonAsItArrives(prefix: [UInt8], error: FrameError) {
        #expect(decodeFrames(prefix, cuts: []).error == error)
    }

    /// Fail fast on the length too: a length with its most significant bit set (§5.2) or
    /// over the limit is refused once the length bytes are in, without waiting for the 4-byte
    /// mask key that follows (issue 13: it was judged only when the key had arrived).
    @Test(arguments: [
        ([0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0] as [UInt8], 1 << 20, FrameError.lengthTooLarge),
        ([0x82, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], 1 << 20, .lengthTooLarge),
        ([0x01, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0x01], 1 << 20, .lengthTooLarge),
        ([0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0, 11], 10, .messageTooBig),
        ([0x82, 0xFE, 0, 11], 10, .messageTooBig),
    ])
    func decoderRejectsABadLengthBeforeTheMaskKey(header: [UInt8], maxMessageSize: Int, error: FrameError) {
        var masked = header
        masked[1] |= 0x80
        #expect(decodeEveryWay(masked, maxMessageSize: maxMessageSize).error == error)
    }
}
