/// Turns a peer's byte stream into WebSocket messages and control frames (RFC 6455 §5),
/// without IO: the caller hands it whatever `read` returned and pulls events with `next`
/// until it returns nil, as swift-nio's `WSParser.parseStep(_: inout ByteBuffer)` consumes
/// its buffer. Nothing calls back into the caller while decoding, so a caller that closes
/// its connection on an event simply stops pulling; it may also stop after any event and
/// resume later with the unconsumed rest, which `next` leaves in its `bytes` argument.
///
/// Zero copy when it can: a whole unfragmented frame inside the fed bytes is unmasked in
/// place and handed out as a pointer into them. Only a frame cut by the end of a read, or
/// a fragmented message, is copied into `buffer`, which grows only as bytes arrive (a
/// header may claim 2^63 bytes) and is released when the message completes, so an idle
/// connection holds no heap memory. A partial header lives in two fixed words.
///
/// Loop-bound like the connection that owns it, hence not Sendable.
public struct FrameDecoder {
    /// One complete message or control frame. Its pointer is valid until the next call to
    /// `next` (and, when it points into the caller's bytes, as long as those bytes are).
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
        /// A close frame was returned; everything after it is ignored (§5.5.1).
        case finished
        /// A protocol violation; every later call throws it again.
        case failed(FrameError)
    }

    /// Our side of the connection, which fixes the masking rule (§5.1).
    public let role: Role
    /// Largest message, summed over its fragments, that we reassemble; beyond it 1009. A
    /// compressed message is held to it both compressed and inflated.
    public let maxMessageSize: Int
    /// Set when permessage-deflate was negotiated (RFC 7692): RSV1 then marks a compressed
    /// message, inflated whole once its last frame is in. Shared: see `Inflater`.
    public let inflater: Inflater?
    /// A further bound on inflated bytes, set by the caller before each `next` (the server's
    /// reassembly budget left); beyond it, or `maxMessageSize`, 1009.
    public var inflateLimit = Int.max
    /// The last text or binary message returned arrived compressed.
    public private(set) var lastMessageWasCompressed = false

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
    /// The message being read is compressed (RSV1 on its first frame, RFC 7692 §6.1).
    private var messageCompressed = false
    private var frameMask: MaskKey?
    private var frameRemaining = 0
    /// Payload bytes of this frame already read; the key phase for unmasking the next piece.
    private var frameOffset = 0

    /// `.text` or `.binary` while a message is being reassembled from frames.
    private var messageOpcode: Opcode?
    /// The message reassembled so far, followed by a partial control frame's payload if one
    /// is interleaved (§5.4). Nil, with no allocation, when idle.
    private var buffer: MessageBuffer?
    /// The last event's payload when it came from `buffer`: kept alive until the next call.
    private var returned: MessageBuffer?
    /// Carries a code point split across pieces and fragments of a text message.
    private var textValidator = UTF8Validator()

    public init(role: Role, maxMessageSize: Int, inflater: Inflater? = nil) {
        precondition(maxMessageSize >= 0, "maxMessageSize must not be negative")
        self.role = role
        self.maxMessageSize = maxMessageSize
        self.inflater = inflater
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
    public var bufferedByteCount: Int { (buffer?.count ?? 0) + Int(headerCount) }

    /// Decodes from the front of `bytes` up to the end of the next complete data message
    /// (reassembled from fragments) or control frame, unmasking IN PLACE, and returns it;
    /// `bytes` is left holding the unconsumed rest, untouched. Returns nil once `bytes` is
    /// used up: a partial frame at its end has then been kept (copied) internally, to be
    /// completed by later bytes. Call again with the rest to go on; stopping after an
    /// event and resuming later with that rest gives the same events.
    ///
    /// Throws on a protocol violation; the decoder is then failed and every later call
    /// throws the same error. After a `.close` event the decoder is finished: it returns nil
    /// and consumes every later byte.
    public mutating func next(_ bytes: inout UnsafeMutableRawBufferPointer) throws(FrameError) -> Event? {
        returned = nil
        lastMessageWasCompressed = false
        var index = 0
        defer { bytes = UnsafeMutableRawBufferPointer(rebasing: bytes[index...]) }
        while true {
            switch phase {
            case .failed(let error): throw error
            case .finished:
                index = bytes.count
                return nil
            case .header:
                guard index < bytes.count else { return nil }
                if let event = try readHeader(bytes, &index) { return event }
            case .payload:
                guard index < bytes.count else { return nil }
                if let event = try readPayload(bytes, &index) { return event }
            }
        }
    }

    // MARK: Header

    /// Reads a header, parsing it straight from `bytes` when it is all there and
    /// accumulating it byte by byte otherwise. Checks run as soon as their byte arrives.
    /// Returns the frame's event when it is whole in `bytes` or empty, nil when more is needed.
    private mutating func readHeader(_ bytes: UnsafeMutableRawBufferPointer,
                                     _ index: inout Int) throws(FrameError) -> Event? {
        if headerCount == 0, bytes.count - index >= 2 {
            let first = bytes[index], second = bytes[index + 1]
            if let error = check(first: first) ?? check(second: second, first: first) { throw fail(error) }
            let size = Self.headerSize(second: second)
            if bytes.count - index >= size {
                let start = index
                try startFrame { bytes[start + $0] }
                index += size
                return try beginPayload(bytes, &index)
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
                return try beginPayload(bytes, &index)
            }
            // The length is complete but the 4-byte mask key is not: judge the length now.
            if headerByte(1) & 0x80 != 0, headerCount == headerSize - 4,  // masked: headerSize >= 6
               let error = lengthError(Self.payloadLength(headerByte).length, first: headerByte(0)) {
                throw fail(error)
            }
        }
        return nil
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
    /// RSV1 is the permessage-deflate bit once negotiated, on a message's first frame only
    /// (RFC 7692 §6.1); every other reserved bit, or RSV1 without the extension, is 1002.
    private func check(first: UInt8) -> FrameError? {
        if first & 0x30 != 0 || (first & 0x40 != 0 && inflater == nil) { return .reservedBitsSet }
        guard let opcode = Opcode(rawValue: first & 0x0F) else { return .unknownOpcode(first & 0x0F) }
        if first & 0x40 != 0 {
            if opcode.isControl { return .compressedControlFrame }
            if opcode == .continuation { return messageOpcode == nil ? .continuationWithoutMessage : .compressedContinuation }
        }
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
    /// a data frame that would take the message past `maxMessageSize` is 1009. A compressed
    /// message (RSV1 on its first frame) may be a little longer on the wire than inflated:
    /// deflate stores incompressible data in blocks with 5 bytes of header each, so it gets
    /// `compressedSlack` more; its inflated size is held to the limit itself.
    private func lengthError(_ length: UInt64, first: UInt8) -> FrameError? {
        guard length >> 63 == 0, let frameLength = Int(exactly: length) else { return .lengthTooLarge }
        let control = first & 0x08 != 0
        let compressed = inflater != nil && (first & 0x40 != 0 || messageCompressed)
        let limit = compressed ? maxMessageSize + Self.compressedSlack(maxMessageSize) : maxMessageSize
        if !control, frameLength > limit - (buffer?.count ?? 0) { return .messageTooBig }
        return nil
    }

    /// 1/16 of the limit plus 64 bytes. zlib ends a block every 2^(memLevel + 6) symbols and
    /// stores one it cannot compress with 5 bytes of header: 0.03 % more at memLevel 8, 0.24 %
    /// at the memLevel 5 of Python websockets (which a 0.1 % slack failed), 3.9 % at memLevel 1.
    static func compressedSlack(_ limit: Int) -> Int { limit / 16 + 64 }

    /// Parses a complete, already checked header. The size limit is enforced here, before a
    /// single payload byte is stored.
    private mutating func startFrame(_ byte: (Int) -> UInt8) throws(FrameError) {
        let first = byte(0), second = byte(1)
        let (length, cursor) = Self.payloadLength(byte)
        if let error = lengthError(length, first: first) { throw fail(error) }
        let frameLength = Int(length)
        frameOpcode = Opcode(rawValue: first & 0x0F)!
        frameFin = first & 0x80 != 0
        if frameOpcode == .text || frameOpcode == .binary { messageCompressed = first & 0x40 != 0 }
        frameMask = second & 0x80 == 0 ? nil : MaskKey(byte(cursor), byte(cursor + 1), byte(cursor + 2), byte(cursor + 3))
        frameRemaining = frameLength
        frameOffset = 0
    }

    // MARK: Payload

    /// Hands out a whole unfragmented frame in place, or starts copying a partial one.
    private mutating func beginPayload(_ bytes: UnsafeMutableRawBufferPointer,
                                       _ index: inout Int) throws(FrameError) -> Event? {
        let standalone = frameOpcode.isControl || (frameFin && frameOpcode != .continuation)
        if standalone, frameRemaining <= bytes.count - index {
            let payload = UnsafeMutableRawBufferPointer(rebasing: bytes[index ..< index + frameRemaining])
            index += frameRemaining
            frameRemaining = 0
            if let mask = frameMask { Masking.apply(mask, offset: 0, to: payload) }
            if messageCompressed && !frameOpcode.isControl {
                messageCompressed = false
                lastMessageWasCompressed = true
                returned = try inflate(UnsafeRawBufferPointer(payload))
                return try deliver(returned!.bytes)
            }
            return try deliver(UnsafeRawBufferPointer(payload))
        }
        if !frameOpcode.isControl, frameOpcode != .continuation { messageOpcode = frameOpcode }
        phase = .payload
        return frameRemaining == 0 ? try endFrame() : nil
    }

    /// Unmasks, validates and stores the next piece of the current frame's payload. Text is
    /// validated piece by piece so bad UTF-8 fails before the rest of the frame arrives.
    private mutating func readPayload(_ bytes: UnsafeMutableRawBufferPointer,
                                      _ index: inout Int) throws(FrameError) -> Event? {
        let take = min(frameRemaining, bytes.count - index)
        let piece = UnsafeMutableRawBufferPointer(rebasing: bytes[index ..< index + take])
        index += take
        if let mask = frameMask { Masking.apply(mask, offset: frameOffset, to: piece) }
        frameOffset += take
        frameRemaining -= take
        if !frameOpcode.isControl, messageOpcode == .text, !messageCompressed,
           !textValidator.validate(UnsafeRawBufferPointer(piece)) {
            throw fail(.invalidUTF8)
        }
        store(UnsafeRawBufferPointer(piece))
        return frameRemaining == 0 ? try endFrame() : nil
    }

    /// Appends to `buffer`, first copying it if a copy of this decoder shares it.
    private mutating func store(_ piece: UnsafeRawBufferPointer) {
        if buffer == nil {
            buffer = MessageBuffer(capacity: piece.count)
        } else if !isKnownUniquelyReferenced(&buffer) {
            buffer = buffer!.copy()
        }
        buffer!.append(piece)
    }

    /// The current frame's payload is all in `buffer`: returns a control frame or a finished
    /// message, moved to `returned` so it outlives this call and `buffer` is free again.
    private mutating func endFrame() throws(FrameError) -> Event? {
        phase = .header
        if frameOpcode.isControl {
            let held = buffer?.count ?? 0
            let start = held - frameOffset
            if start == 0 {
                returned = buffer
                buffer = nil
            } else {
                // Interleaved in a fragmented message: at most 125 bytes to copy (§5.5).
                let payload = MessageBuffer(capacity: frameOffset)
                payload.append(UnsafeRawBufferPointer(rebasing: buffer!.bytes[start...]))
                if !isKnownUniquelyReferenced(&buffer) { buffer = buffer!.copy() }
                buffer!.removeLast(frameOffset)
                returned = payload
            }
            return try deliver(returned?.bytes ?? UnsafeRawBufferPointer(start: nil, count: 0))
        }
        guard frameFin, let opcode = messageOpcode else { return nil }
        messageOpcode = nil
        if messageCompressed {
            messageCompressed = false
            lastMessageWasCompressed = true
            let compressed = buffer
            buffer = nil
            returned = try inflate(compressed?.bytes ?? UnsafeRawBufferPointer(start: nil, count: 0))
            let message = returned!.bytes
            if opcode == .text {
                var validator = UTF8Validator()
                guard validator.validate(message), validator.isAtBoundary else { throw fail(.invalidUTF8) }
            }
            return opcode == .text ? .text(message) : .binary(message)
        }
        if opcode == .text {
            let complete = textValidator.isAtBoundary
            textValidator.reset()
            // §8.1: a message may not end inside a code point.
            if !complete { throw fail(.invalidUTF8) }
        }
        returned = buffer
        buffer = nil
        let message = returned?.bytes ?? UnsafeRawBufferPointer(start: nil, count: 0)
        return opcode == .text ? .text(message) : .binary(message)
    }

    /// A compressed message's payload inflated, within `maxMessageSize` and `inflateLimit`.
    private mutating func inflate(_ payload: UnsafeRawBufferPointer) throws(FrameError) -> MessageBuffer {
        do {
            return try inflater!.inflate(payload, limit: min(maxMessageSize, inflateLimit))
        } catch {
            throw fail(error)
        }
    }

    /// The event for a whole frame's unmasked payload according to `frameOpcode`.
    private mutating func deliver(_ payload: UnsafeRawBufferPointer) throws(FrameError) -> Event {
        switch frameOpcode {
        case .text:
            var validator = UTF8Validator()
            guard validator.validate(payload), validator.isAtBoundary else { throw fail(.invalidUTF8) }
            return .text(payload)
        case .binary: return .binary(payload)
        case .ping: return .ping(payload)
        case .pong: return .pong(payload)
        case .close: return try deliverClose(payload)
        case .continuation: preconditionFailure("continuation frames complete in endFrame")
        }
    }

    /// §5.5.1: empty, or a 2-byte big-endian code that may be sent (§7.4) plus a UTF-8 reason.
    private mutating func deliverClose(_ payload: UnsafeRawBufferPointer) throws(FrameError) -> Event {
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
        return .close(code: code, reason: reason)
    }

    // MARK: Ending

    /// Records a protocol violation and frees what it held; returns the error to throw.
    private mutating func fail(_ error: FrameError) -> FrameError {
        phase = .failed(error)
        release()
        return error
    }

    /// Keeps `returned`: the close event about to be returned may point into it.
    private mutating func release() {
        buffer = nil
        messageOpcode = nil
        messageCompressed = false
        headerCount = 0
        headerLow = 0
        headerHigh = 0
        textValidator.reset()
    }
}

/// A decoder belongs to one connection on one event loop (STYLE.md, "what crosses a loop").
@available(*, unavailable)
extension FrameDecoder: Sendable {}
