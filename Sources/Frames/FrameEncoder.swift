/// Builds RFC 6455 frames (§5.2). Server frames are unmasked, so one encoding of a publish
/// can be shared by every subscriber; clients pass a fresh `MaskKey.random()` per frame.
public enum FrameEncoder {
    /// 125 is the largest length that fits the 7-bit field; 126 and 127 announce a 16- or
    /// 64-bit extended length (§5.2). A mask key adds 4 bytes.
    @inlinable
    public static func headerSize(payloadLength: Int, masked: Bool) -> Int {
        let base = payloadLength <= 125 ? 2 : payloadLength <= 0xFFFF ? 4 : 10
        return masked ? base + 4 : base
    }

    /// Writes a frame header at `destination` (must have headerSize bytes); returns bytes written.
    /// Always uses the minimal length encoding, as §5.2 requires of senders.
    @inlinable
    public static func writeHeader(opcode: Opcode, fin: Bool, payloadLength: Int, maskKey: MaskKey?,
                                   to destination: UnsafeMutableRawPointer) -> Int {
        precondition(payloadLength >= 0, "negative payload length")
        let size = headerSize(payloadLength: payloadLength, masked: maskKey != nil)
        let header = UnsafeMutableRawBufferPointer(start: destination, count: size)
        header[0] = (fin ? 0x80 : 0) | opcode.rawValue
        let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
        var cursor: Int
        if payloadLength <= 125 {
            header[1] = maskBit | UInt8(payloadLength)
            cursor = 2
        } else if payloadLength <= 0xFFFF {
            header[1] = maskBit | 126
            header[2] = UInt8(truncatingIfNeeded: payloadLength >> 8)
            header[3] = UInt8(truncatingIfNeeded: payloadLength)
            cursor = 4
        } else {
            header[1] = maskBit | 127
            let length = UInt64(payloadLength)
            for index in 0..<8 {
                header[2 + index] = UInt8(truncatingIfNeeded: length >> (8 * (7 - UInt64(index))))
            }
            cursor = 10
        }
        if let key = maskKey {
            header[cursor] = key.bytes.0
            header[cursor + 1] = key.bytes.1
            header[cursor + 2] = key.bytes.2
            header[cursor + 3] = key.bytes.3
            cursor += 4
        }
        return cursor
    }

    /// Whole frame as bytes; masks a copy of the payload when maskKey is given (clients use MaskKey.random()).
    public static func encode(opcode: Opcode, fin: Bool = true, payload: some Collection<UInt8>,
                              maskKey: MaskKey? = nil) -> [UInt8] {
        let length = payload.count
        let size = headerSize(payloadLength: length, masked: maskKey != nil)
        var frame = [UInt8](repeating: 0, count: size)
        frame.reserveCapacity(size + length)
        frame.withUnsafeMutableBytes { header in
            _ = writeHeader(opcode: opcode, fin: fin, payloadLength: length, maskKey: maskKey, to: header.baseAddress!)
        }
        frame.append(contentsOf: payload)
        if let key = maskKey {
            frame.withUnsafeMutableBytes { bytes in
                Masking.apply(key, offset: 0, to: UnsafeMutableRawBufferPointer(rebasing: bytes[size...]))
            }
        }
        return frame
    }

    /// Close payload: 2-byte code + reason, reason truncated at a UTF-8 boundary to fit 125 bytes total.
    /// The 125 comes from the control frame limit (§5.5); the code is big-endian (§5.5.1).
    public static func closePayload(code: CloseCode, reason: String) -> [UInt8] {
        var payload: [UInt8] = [UInt8(truncatingIfNeeded: code.rawValue >> 8), UInt8(truncatingIfNeeded: code.rawValue)]
        let limit = 125
        for scalar in reason.unicodeScalars {
            let encoded = UTF8.encode(scalar)!
            if payload.count + encoded.count > limit { break }
            payload.append(contentsOf: encoded)
        }
        return payload
    }
}
