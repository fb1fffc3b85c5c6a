import Frames
import Testing

/// Encoder output is compared with literal bytes, starting with RFC 6455 §5.7.
struct FrameEncoderTests {
    static let rfcKey = MaskKey(0x37, 0xFA, 0x21, 0x3D)
    static let hello = Array("Hello".utf8)

    @Test func encodesRFCSingleFrameUnmaskedText() {
        #expect(FrameEncoder.encode(opcode: .text, payload: Self.hello) == [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
    }

    @Test func encodesRFCSingleFrameMaskedText() {
        #expect(FrameEncoder.encode(opcode: .text, payload: Self.hello, maskKey: Self.rfcKey)
            == [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    @Test func encodesRFCFragmentedUnmaskedText() {
        #expect(FrameEncoder.encode(opcode: .text, fin: false, payload: Array("Hel".utf8)) == [0x01, 0x03, 0x48, 0x65, 0x6C])
        #expect(FrameEncoder.encode(opcode: .continuation, payload: Array("lo".utf8)) == [0x80, 0x02, 0x6C, 0x6F])
    }

    @Test func encodesRFCPingAndMaskedPong() {
        #expect(FrameEncoder.encode(opcode: .ping, payload: Self.hello) == [0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
        #expect(FrameEncoder.encode(opcode: .pong, payload: Self.hello, maskKey: Self.rfcKey)
            == [0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    @Test func encodesRFC256ByteBinaryWith16BitLength() {
        let payload = (0..<256).map { UInt8($0 & 0xFF) }
        let frame = FrameEncoder.encode(opcode: .binary, payload: payload)
        #expect(Array(frame[..<4]) == [0x82, 0x7E, 0x01, 0x00])
        #expect(Array(frame[4...]) == payload)
    }

    @Test func encodesRFC64KiBBinaryWith64BitLength() {
        let payload = (0..<65_536).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let frame = FrameEncoder.encode(opcode: .binary, payload: payload)
        #expect(Array(frame[..<10]) == [0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00])
        #expect(Array(frame[10...]) == payload)
    }

    @Test(arguments: [(0, 2), (1, 2), (125, 2), (126, 4), (65_535, 4), (65_536, 10), (1 << 40, 10)])
    func headerSizeFollowsLengthEncodingBoundaries(length: Int, size: Int) {
        #expect(FrameEncoder.headerSize(payloadLength: length, masked: false) == size)
        #expect(FrameEncoder.headerSize(payloadLength: length, masked: true) == size + 4)
    }

    @Test func writeHeaderWritesExactlyHeaderSizeBytes() {
        for length in [0, 125, 126, 65_535, 65_536, 1 << 33] {
            for key in [nil, Self.rfcKey] {
                var storage = [UInt8](repeating: 0xEE, count: 20)
                let written = storage.withUnsafeMutableBytes {
                    FrameEncoder.writeHeader(opcode: .binary, fin: true, payloadLength: length, maskKey: key, to: $0.baseAddress!)
                }
                #expect(written == FrameEncoder.headerSize(payloadLength: length, masked: key != nil))
                #expect(storage[written...].allSatisfy { $0 == 0xEE })
            }
        }
    }

    @Test func writeHeaderEncodesLargeLengthBigEndian() {
        var storage = [UInt8](repeating: 0, count: 14)
        let written = storage.withUnsafeMutableBytes {
            FrameEncoder.writeHeader(opcode: .binary, fin: false, payloadLength: 0x01_0203_0405, maskKey: Self.rfcKey,
                                     to: $0.baseAddress!)
        }
        #expect(written == 14)
        #expect(storage == [0x02, 0xFF, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x37, 0xFA, 0x21, 0x3D])
    }

    @Test func closePayloadIsBigEndianCodeThenReason() {
        #expect(FrameEncoder.closePayload(code: .goingAway, reason: "bye") == [0x03, 0xE9, 0x62, 0x79, 0x65])
        #expect(FrameEncoder.closePayload(code: .slowConsumer, reason: "") == [0x0F, 0xA8])
    }

    /// §5.5: control payloads are at most 125 bytes, so the reason gets 123.
    @Test func closePayloadTruncatesReasonAtUTF8BoundaryToFit125Bytes() {
        let ascii = FrameEncoder.closePayload(code: .normalClosure, reason: String(repeating: "a", count: 200))
        #expect(ascii.count == 125)
        let accented = FrameEncoder.closePayload(code: .normalClosure, reason: String(repeating: "é", count: 200))
        #expect(accented.count == 124, "61 two-byte scalars; the 62nd would need byte 126")
        #expect(String(validating: accented[2...], as: UTF8.self) == String(repeating: "é", count: 61))
        let emoji = FrameEncoder.closePayload(code: .normalClosure, reason: "x" + String(repeating: "😀", count: 40))
        #expect(emoji.count == 2 + 1 + 4 * 30)
    }
}
