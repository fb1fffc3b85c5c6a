import Frames
import Testing
import Topics
@testable import Broker

/// `WireFrame.compressing` on bytes: a server frame's payload deflated, RSV1 set, its stamp
/// kept, for every length encoding; nil when the result would not be smaller.
struct WireFrameCompressionTests {
    /// Inflates one server frame as a client that negotiated permessage-deflate would.
    static func read(_ frame: OutboundBytes) throws -> (first: UInt8, event: [UInt8], text: Bool) {
        var bytes = frame.withUnsafeBytes { Array($0) }
        var decoder = FrameDecoder(role: .client, maxMessageSize: 1 << 24, inflater: Inflater())
        return try bytes.withUnsafeMutableBytes { buffer in
            var rest = buffer
            let first = buffer[0]
            switch try decoder.next(&rest) {
            case .text(let payload): return (first, Array(payload), true)
            case .binary(let payload): return (first, Array(payload), false)
            default: throw FrameError.invalidCompressedData
            }
        }
    }

    /// 7-bit, 16-bit and 64-bit lengths, before and after compression.
    @Test(arguments: [200, 3000, 70_000, 300_000])
    func compressedFrameInflatesToTheSamePayload(size: Int) throws {
        let payload = Array((0..<size).map { UInt8(ascii: "a") + UInt8($0 % 7 == 0 ? 1 : $0 % 3) })
        for opcode in [Opcode.text, .binary] {
            let plain = WireFrame.make(opcode: opcode, payload: payload)
            let compressed = try #require(WireFrame.compressing(plain, with: Deflater()))
            #expect(compressed.count < plain.count)
            let read = try Self.read(compressed)
            #expect(read.first == 0xC0 | opcode.rawValue, "FIN, RSV1 and the opcode")
            #expect(read.event == payload && read.text == (opcode == .text))
        }
    }

    @Test func incompressibleFrameIsNotCompressed() {
        var generator = SystemRandomNumberGenerator()
        let noise = (0..<4000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        #expect(WireFrame.compressing(WireFrame.make(opcode: .binary, payload: noise), with: Deflater()) == nil)
        // Nor one whose payload is too short to shrink.
        #expect(WireFrame.compressing(WireFrame.make(opcode: .text, payload: Array("a".utf8)), with: Deflater()) == nil)
    }

    /// A slow consumer's notice reads the stamps of what it could not be sent: a compressed
    /// delivery carries its message's stamp.
    @Test func compressedDeliveryKeepsItsStamp() throws {
        let topic = try TopicName("prices.abc")
        let data = Array(String(repeating: #"{"bid":1.25,"ask":1.26},"#, count: 40).utf8)
        let frame = data.withUnsafeBytes {
            DeliveryFrame.make(kind: .json, topic: topic, position: TopicPosition(epoch: "e1", seq: 42), payload: $0, arrival: 7)
        }
        let compressed = try #require(WireFrame.compressing(frame, with: Deflater()))
        #expect(compressed.stamp?.topic == topic && compressed.stamp?.position.seq == 42 && compressed.stamp?.arrival == 7)
        let text = String(decoding: try Self.read(compressed).event, as: UTF8.self)
        #expect(text.hasSuffix(String(decoding: data, as: UTF8.self) + "}"))
    }
}
