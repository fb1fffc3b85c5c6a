/// Turns a peer's byte stream into WebSocket messages and control frames (RFC 6455 §5),
/// without IO: the event loop feeds whatever `read` returned and gets callbacks.
///
/// Zero copy when it can: a whole unfragmented frame inside the fed bytes is unmasked in
/// place and handed out as a pointer into them. Only a frame cut by the end of a read, or
/// a fragmented message, is copied into `buffer`, which grows only as bytes arrive (a
/// header may claim 2^63 bytes) and is released when the message completes, so an idle
/// connection holds no heap memory. A partial header lives in two fixed words.
///
/// Loop-bound like the connection that owns it, hence not Sendable.
public struct FrameDecoder {
    /// One complete message or control frame. Pointers are valid only during the callback.
    public enum Event {
        /// A whole text message, already checked to be UTF-8.
        case text(UnsafeRawBufferPointer)
        case binary(UnsafeRawBufferPointer)
        case ping(UnsafeRawBufferPointer)
        case pong(UnsafeRawBufferPointer)
        /// `code` is nil for an empty close payload (§5.5.1); the reason is valid UTF-8.
        case close(code: CloseCode?, reason: UnsafeRawBufferPointer)
    }

    private enum Phase {
        /// Between frames, or inside a partial header.
        case header
        /// Inside a frame's payload that is being copied into `buffer`.
        case payload
        /// A close frame was delivered; everything after it is ignored (§5.5.1).
        case finished
        /// A protocol violation; every later call throws it again.
        case failed(FrameError)
    }

    /// Our side of the connection, which fixes the masking rule (§5.1).
    public let role: Role
    /// Largest message, summed over its fragments, that we reassemble; beyond it 1009.
    public let maxMessageSize: Int

    private var phase = Phase.header

    /// Bytes 0–7 and 8–13 of a header split across reads; 14 = 2 + 8-byte length + 4-byte
    /// mask key is the largest header (§5.2).
    private var headerLow: UInt64 = 0
    private var headerHigh: UInt64 = 0
    private var headerCount: UInt8 = 0
    private var headerSize: UInt8 = 2

    /// The frame whose payload is being read.
    private var frameOpcode = Opcode.continuation
    private var frameFin = false
    private var frameMask: MaskKey?
    private var frameRemaining = 0
    /// Payload bytes of this frame already read; the key phase for unmasking the next piece.
    private var frameOffset = 0

    /// `.text` or `.binary` while a message is being reassembled from frames.
    private var messageOpcode: Opcode?
    /// The message reassembled so far, followed by a partial control frame's payload if one
    /// is interleaved (§5.4). Empty, with no allocation, when idle.
    private var buffer: [UInt8] = []
    /// Carries a code point split across pieces and fragments of a text message.
    private var textValidator = UTF8Validator()

    public init(role: Role, maxMessageSize: Int) {
        precondition(maxMessageSize >= 0, "maxMessageSize must not be negative")
        self.role = role
        self.maxMessageSize = maxMessageSize
    }

    /// No partial frame and no message in progress: the peer may close the TCP stream here.
    public var isIdle: Bool {
        switch phase {
        case .payload: false
        case .header: headerCount == 0 && messageOpcode == nil
        case .finished, .failed: true
        }
    }

    /// Bytes held internally: the reassembled message plus any partial frame and header.
    public var bufferedByteCount: Int { buffer.count + Int(headerCount) }

    /// Decodes every frame `bytes` holds, unmasking IN PLACE. Calls `handle` once per complete
    /// data message (reassembled from fragments) or control frame; the pointer is valid only
    /// during the call. A partial frame at the end is kept (copied) internally and completed
    /// by the next call. Throws `FrameError` on a protocol violation (the decoder is then
    /// failed; further calls throw the same error). After a `.close` event, the decoder is
    /// finished and ignores every later byte. Errors thrown by `handle` propagate unchanged;
    /// the rest of `bytes` is then not decoded, so the connection should be dropped.
    public mutating func decode(_ bytes: UnsafeMutableRawBufferPointer, _ handle: (Event) throws -> Void) throws {
        if case .failed(let error) = phase { throw error }
        var index = 0
        while index < bytes.count {
            switch phase {
            case .header: try readHeader(bytes, &index, handle)
            case .payload: try readPayload(bytes, &index, handle)
            case .finished: return
            case .failed(let error): throw error
            }
        }
    }

    // MARK: Header

    /// Reads a header, parsing it straight from `bytes` when it is all there and
    /// accumulating it byte by byte otherwise. Checks run as soon as their byte arrives.
    private mutating func readHeader(_ bytes: UnsafeMutableRawBufferPointer, _ index: inout Int,
                                     _ handle: (Event) throws -> Void) throws {
        if headerCount == 0, bytes.count - index >= 2 {
            let first = bytes[index], second = bytes[index + 1]
            if let error = check(first: first) ?? check(second: second, first: first) { throw fail(error) }
            let size = Self.headerSize(second: second)
            if bytes.count - index >= size {
                let start = index
                try startFrame { bytes[start + $0] }
                index += size
                return try beginPayload(bytes, &index, handle)
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if headerCount < 8 {
                headerLow |= UInt64(byte) << (8 * UInt64(headerCount))
            } else {
                headerHigh |= UInt64(byte) << (8 * UInt64(headerCount - 8))
            }
            headerCount += 1
            if headerCount == 1 {
                if let error = check(first: byte) { throw fail(error) }
                continue
            }
            if headerCount == 2 {
                if let error = check(second: byte, first: UInt8(truncatingIfNeeded: headerLow)) { throw fail(error) }
                headerSize = UInt8(Self.headerSize(second: byte))
            }
            let low = headerLow, high = headerHigh
            let headerByte = { (i: Int) in UInt8(truncatingIfNeeded: i < 8 ? low >> (8 * i) : high >> (8 * (i - 8))) }
            if headerCount == headerSize {
                headerLow = 0
                headerHigh = 0
                headerCount = 0
                try startFrame(headerByte)
                return try beginPayload(bytes, &index, handle)
            }
            // The length is complete but the 4-byte mask key is not: judge the length now.
            if headerByte(1) & 0x80 != 0, headerCount == headerSize - 4,  // masked: headerSize >= 6
               let error = lengthError(Self.payloadLength(headerByte).length, first: headerByte(0)) {
                throw fail(error)
            }
        }
    }

    /// 2 bytes, plus 2 or 8 for the extended length (§5.2), plus 4 for a mask key.
    private static func headerSize(second: UInt8) -> Int {
        let lengthBytes = switch second & 0x7F {
        case 126: 2
        case 127: 8
        default: 0
        }
        return 2 + lengthBytes + (second & 0x80 != 0 ? 4 : 0)
    }

    /// Byte 0: FIN, RSV1–3, opcode (§5.2), judged against the fragmentation state (§5.4).
    private func check(first: UInt8) -> FrameError? {
        if first & 0x70 != 0 { return .reservedBitsSet }
        guard let opcode = Opcode(rawValue: first & 0x0F) else { return .unknownOpcode(first & 0x0F) }
        let fin = first & 0x80 != 0
        switch opcode {
        case .close, .ping, .pong: return fin ? nil : .fragmentedControlFrame
        case .continuation: return messageOpcode == nil ? .continuationWithoutMessage : nil
        case .text, .binary: return messageOpcode == nil ? nil : .dataFrameInsideFragmentedMessage
        }
    }

    /// Byte 1: MASK must match the peer's role (§5.1); control payloads fit in 7 bits (§5.5).
    private func check(second: UInt8, first: UInt8) -> FrameError? {
        let masked = second & 0x80 != 0
        switch role {
        case .server where !masked: return .unmaskedClientFrame
        case .client where masked: return .maskedServerFrame
        default: break
        }
        if first & 0x08 != 0, second & 0x7F > 125 { return .controlFrameTooLong }
        return nil
    }

    /// The payload length of a header whose length bytes are in, and where the mask key starts.
    private static func payloadLength(_ byte: (Int) -> UInt8) -> (length: UInt64, cursor: Int) {
        let length = UInt64(byte(1) & 0x7F)
        if length == 126 { return (UInt64(byte(2)) << 8 | UInt64(byte(3)), 4) }
        if length == 127 { return ((2..<10).reduce(0) { $0 << 8 | UInt64(byte($1)) }, 10) }
        return (length, 2)
    }

    /// §5.2: "the most significant bit MUST be 0" (1002; non-minimal encodings are accepted);
    /// a data frame that would take the message past `maxMessageSize` is 1009.
    private func lengthError(_ length: UInt64, first: UInt8) -> FrameError? {
        guard length >> 63 == 0, let frameLength = Int(exactly: length) else { return .lengthTooLarge }
        let control = first & 0x08 != 0
        if !control, frameLength > maxMessageSize - buffer.count { return .messageTooBig }
        return nil
    }

    /// Parses a complete, already checked header. The size limit is enforced here, before a
    /// single payload byte is stored.
    private mutating func startFrame(_ byte: (Int) -> UInt8) throws {
        let first = byte(0), second = byte(1)
        let (length, cursor) = Self.payloadLength(byte)
        if let error = lengthError(length, first: first) { throw fail(error) }
        let frameLength = Int(length)
        frameOpcode = Opcode(rawValue: first & 0x0F)!
        frameFin = first & 0x80 != 0
        frameMask = second & 0x80 == 0 ? nil : MaskKey(byte(cursor), byte(cursor + 1), byte(cursor + 2), byte(cursor + 3))
        frameRemaining = frameLength
        frameOffset = 0
    }

    // MARK: Payload

    /// Hands out a whole unfragmented frame in place, or starts copying a partial one.
    private mutating func beginPayload(_ bytes: UnsafeMutableRawBufferPointer, _ index: inout Int,
                                       _ handle: (Event) throws -> Void) throws {
        let standalone = frameOpcode.isControl || (frameFin && frameOpcode != .continuation)
        if standalone, frameRemaining <= bytes.count - index {
            let payload = UnsafeMutableRawBufferPointer(rebasing: bytes[index ..< index + frameRemaining])
            index += frameRemaining
            frameRemaining = 0
            if let mask = frameMask { Masking.apply(mask, offset: 0, to: payload) }
            return try deliver(UnsafeRawBufferPointer(payload), handle)
        }
        if !frameOpcode.isControl, frameOpcode != .continuation { messageOpcode = frameOpcode }
        phase = .payload
        if frameRemaining == 0 { try endFrame(handle) }
    }

    /// Unmasks, validates and stores the next piece of the current frame's payload. Text is
    /// validated piece by piece so bad UTF-8 fails before the rest of the frame arrives.
    private mutating func readPayload(_ bytes: UnsafeMutableRawBufferPointer, _ index: inout Int,
                                      _ handle: (Event) throws -> Void) throws {
        let take = min(frameRemaining, bytes.count - index)
        let piece = UnsafeMutableRawBufferPointer(rebasing: bytes[index ..< index + take])
        index += take
        if let mask = frameMask { Masking.apply(mask, offset: frameOffset, to: piece) }
        frameOffset += take
        frameRemaining -= take
        if !frameOpcode.isControl, messageOpcode == .text, !textValidator.validate(UnsafeRawBufferPointer(piece)) {
            throw fail(.invalidUTF8)
        }
        buffer.append(contentsOf: UnsafeRawBufferPointer(piece))
        if frameRemaining == 0 { try endFrame(handle) }
    }

    /// The current frame's payload is all in `buffer`: deliver a control frame or a finished
    /// message, moving the bytes out first so the decoder is consistent during the callback.
    private mutating func endFrame(_ handle: (Event) throws -> Void) throws {
        phase = .header
        if frameOpcode.isControl {
            let start = buffer.count - frameOffset
            let payload: [UInt8]
            if start == 0 {
                payload = buffer
                buffer = []
            } else {
                // Interleaved in a fragmented message: at most 125 bytes to copy (§5.5).
                payload = Array(buffer[start...])
                buffer.removeSubrange(start...)
            }
            return try payload.withUnsafeBytes { try deliver($0, handle) }
        }
        guard frameFin, let opcode = messageOpcode else { return }
        messageOpcode = nil
        if opcode == .text {
            let complete = textValidator.isAtBoundary
            textValidator.reset()
            // §8.1: a message may not end inside a code point.
            if !complete { throw fail(.invalidUTF8) }
        }
        let message = buffer
        buffer = []
        try message.withUnsafeBytes { try handle(opcode == .text ? .text($0) : .binary($0)) }
    }

    /// Delivers a whole frame's unmasked payload according to `frameOpcode`.
    private mutating func deliver(_ payload: UnsafeRawBufferPointer, _ handle: (Event) throws -> Void) throws {
        switch frameOpcode {
        case .text:
            var validator = UTF8Validator()
            guard validator.validate(payload), validator.isAtBoundary else { throw fail(.invalidUTF8) }
            try handle(.text(payload))
        case .binary: try handle(.binary(payload))
        case .ping: try handle(.ping(payload))
        case .pong: try handle(.pong(payload))
        case .close: try deliverClose(payload, handle)
        case .continuation: preconditionFailure("continuation frames complete in endFrame")
        }
    }

    /// §5.5.1: empty, or a 2-byte big-endian code that may be sent (§7.4) plus a UTF-8 reason.
    private mutating func deliverClose(_ payload: UnsafeRawBufferPointer, _ handle: (Event) throws -> Void) throws {
        var code: CloseCode?
        var reason = UnsafeRawBufferPointer(start: nil, count: 0)
        if payload.count == 1 { throw fail(.invalidClosePayload) }
        if payload.count >= 2 {
            let received = CloseCode(rawValue: UInt16(payload[0]) << 8 | UInt16(payload[1]))
            guard received.isAllowedOnWire else { throw fail(.invalidCloseCode(received.rawValue)) }
            reason = UnsafeRawBufferPointer(rebasing: payload[2...])
            var validator = UTF8Validator()
            guard validator.validate(reason), validator.isAtBoundary else { throw fail(.invalidCloseReason) }
            code = received
        }
        phase = .finished
        release()
        try handle(.close(code: code, reason: reason))
    }

    // MARK: Ending

    /// Records a protocol violation and frees what it held; returns the error to throw.
    private mutating func fail(_ error: FrameError) -> FrameError {
        phase = .failed(error)
        release()
        return error
    }

    private mutating func release() {
        buffer = []
        messageOpcode = nil
        headerCount = 0
        headerLow = 0
        headerHigh = 0
        textValidator.reset()
    }
}

/// A decoder belongs to one connection on one event loop (STYLE.md, "what crosses a loop").
@available(*, unavailable)
extension FrameDecoder: Sendable {}
