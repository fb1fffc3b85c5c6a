/// Every way a peer's byte stream can break RFC 6455 framing. Once thrown, the connection
/// must be closed with `closeCode` (§7.1.7 "Fail the WebSocket Connection").
public enum FrameError: Error, Equatable, Sendable {
    /// RSV1–3 set while no extension was negotiated (§5.2), or RSV2/RSV3 whatever was.
    case reservedBitsSet
    /// RSV1 ("compressed", RFC 7692 §6) on a control frame (§6.1: only data messages are compressed).
    case compressedControlFrame
    /// RSV1 on a continuation frame: it belongs on a message's first frame only (RFC 7692 §6.1).
    case compressedContinuation
    /// A compressed message zlib cannot inflate, or one that stops inside a block (RFC 7692 §7.2.2).
    case invalidCompressedData
    /// Bytes after a compressed message's final block (BFINAL, RFC 7692 §7.2.3.4).
    case dataAfterFinalBlock
    /// Opcode 3–7 or 0xB–0xF (§5.2); carries the raw 4-bit value.
    case unknownOpcode(UInt8)
    /// A server received a frame without the MASK bit (§5.1).
    case unmaskedClientFrame
    /// A client received a frame with the MASK bit (§5.1).
    case maskedServerFrame
    /// A control frame announced more than 125 payload bytes (§5.5).
    case controlFrameTooLong
    /// A control frame had FIN clear (§5.5).
    case fragmentedControlFrame
    /// A continuation frame arrived while no fragmented message was open (§5.4).
    case continuationWithoutMessage
    /// A text or binary frame arrived while a fragmented message was still open (§5.4).
    case dataFrameInsideFragmentedMessage
    /// A 64-bit payload length had its most significant bit set (§5.2).
    case lengthTooLarge
    /// The message would exceed the decoder's `maxMessageSize` (close code 1009, §7.4.1).
    case messageTooBig
    /// A text message is not valid UTF-8 (§8.1, close code 1007).
    case invalidUTF8
    /// A close frame carried exactly one payload byte: half a status code (§5.5.1).
    case invalidClosePayload
    /// A close frame carried a code that may not appear on the wire (§7.4).
    case invalidCloseCode(UInt16)
    /// A close frame's reason is not valid UTF-8 (§5.5.1).
    case invalidCloseReason

    /// The close code to send back. The one place this mapping lives.
    ///
    /// Only an invalid text *message* (or a compressed one that does not inflate) is 1007; a bad close reason is a framing error of the
    /// close frame and answers 1002, as Autobahn case 7.5.1 expects.
    public var closeCode: CloseCode {
        switch self {
        case .messageTooBig: .messageTooBig
        case .invalidUTF8, .invalidCompressedData, .dataAfterFinalBlock: .invalidPayload
        case .reservedBitsSet, .compressedControlFrame, .compressedContinuation, .unknownOpcode, .unmaskedClientFrame, .maskedServerFrame,
             .controlFrameTooLong, .fragmentedControlFrame, .continuationWithoutMessage,
             .dataFrameInsideFragmentedMessage, .lengthTooLarge, .invalidClosePayload,
             .invalidCloseCode, .invalidCloseReason:
            .protocolError
        }
    }

    /// Short ASCII text for the reason field of our close frame (well under the 123 bytes
    /// §5.5 leaves after the status code).
    public var reason: String {
        switch self {
        case .reservedBitsSet: "reserved bits set"
        case .compressedControlFrame: "compressed control frame"
        case .compressedContinuation: "RSV1 on a continuation frame"
        case .invalidCompressedData: "invalid compressed data"
        case .dataAfterFinalBlock: "data after the final deflate block"
        case .unknownOpcode(let raw): "unknown opcode \(raw)"
        case .unmaskedClientFrame: "client frame not masked"
        case .maskedServerFrame: "server frame masked"
        case .controlFrameTooLong: "control frame too long"
        case .fragmentedControlFrame: "fragmented control frame"
        case .continuationWithoutMessage: "continuation without message"
        case .dataFrameInsideFragmentedMessage: "data frame inside fragmented message"
        case .lengthTooLarge: "payload length too large"
        case .messageTooBig: "message too big"
        case .invalidUTF8: "invalid UTF-8 in text message"
        case .invalidClosePayload: "close payload of 1 byte"
        case .invalidCloseCode(let code): "invalid close code \(code)"
        case .invalidCloseReason: "invalid UTF-8 in close reason"
        }
    }
}
