import TestSupport
import Frames
import Testing

/// Encoder output fed back to the decoder, and randomized streams cut at random points
/// (uWebSockets `fuzzing/helpers.h` style, with a seeded generator so failures replay).
struct RoundTripTests {
    @Test(arguments: [0, 125, 126, 65_535, 65_536])
    func encoderOutputDecodesToTheSamePayload(size: Int) {
        var generator = SplitMix64(seed: UInt64(size))
        let binary = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let text = (0..<size).map { _ in UInt8.random(in: 0x20...0x7E, using: &generator) }
        let key = MaskKey.random(using: &generator)

        let fromClient = FrameEncoder.encode(opcode: .binary, payload: binary, maskKey: key)
            + FrameEncoder.encode(opcode: .text, payload: text, maskKey: key)
        #expect(decodeEveryWay(fromClient, role: .server) == DecodeOutcome(events: [.binary(binary), .text(text)]))

        let fromServer = FrameEncoder.encode(opcode: .binary, payload: binary)
            + FrameEncoder.encode(opcode: .text, payload: text)
        #expect(decodeEveryWay(fromServer, role: .client) == DecodeOutcome(events: [.binary(binary), .text(text)]))
    }

    @Test func encodedCloseRoundTripsThroughTheDecoder() {
        let payload = FrameEncoder.closePayload(code: .slowConsumer, reason: String(repeating: "ü", count: 100))
        let frame = FrameEncoder.encode(opcode: .close, payload: payload, maskKey: MaskKey.random())
        let outcome = decodeEveryWay(frame, role: .server)
        #expect(outcome == DecodeOutcome(events: [.close(.slowConsumer, Array(payload[2...]))]))
    }

    /// Random messages (text of any scalars, binary, up to 70 000 bytes) cut into random
    /// fragments with pings and pongs between them, masked with fresh keys, then fed in
    /// random pieces: the decoder must return exactly the messages that were sent.
    @Test func randomValidStreamsSplitAtRandomPointsDecodeToTheSameMessages() {
        var generator = SplitMix64(seed: 0x6455)
        for _ in 0..<150 {
            var stream: [UInt8] = []
            var expected: [DecodedEvent] = []
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let isText = Bool.random(using: &generator)
                let size = Int.random(in: 0..<10, using: &generator) == 0
                    ? Int.random(in: 126...70_000, using: &generator)
                    : Int.random(in: 0...300, using: &generator)
                let payload: [UInt8]
                if isText {
                    var scalars = String.UnicodeScalarView()
                    var bytes = 0
                    while bytes < size {
                        let scalar = Unicode.Scalar(UInt32.random(in: 0...0x10FFFF, using: &generator)) ?? "a"
                        scalars.append(scalar)
                        bytes += String(scalar).utf8.count
                    }
                    payload = Array(String(scalars).utf8)
                    expected.append(.text(payload))
                } else {
                    payload = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
                    expected.append(.binary(payload))
                }
                // Fragment at random byte positions, even inside code points.
                var cuts = (0..<Int.random(in: 0...4, using: &generator)).map { _ in Int.random(in: 0...payload.count, using: &generator) }
                cuts.sort()
                let bounds = [0] + cuts + [payload.count]
                for (number, (start, end)) in zip(bounds, bounds.dropFirst()).enumerated() {
                    let opcode: Opcode = number == 0 ? (isText ? .text : .binary) : .continuation
                    let fin = end == payload.count && number == bounds.count - 2
                    stream += FrameEncoder.encode(opcode: opcode, fin: fin, payload: payload[start..<end],
                                                  maskKey: MaskKey.random(using: &generator))
                    if Int.random(in: 0..<4, using: &generator) == 0 {
                        let control = (0..<Int.random(in: 0...125, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
                        let ping = Bool.random(using: &generator)
                        stream += FrameEncoder.encode(opcode: ping ? .ping : .pong, payload: control,
                                                      maskKey: MaskKey.random(using: &generator))
                        // The control frame completes before the message it interrupts.
                        expected.insert(ping ? .ping(control) : .pong(control), at: expected.count - (fin ? 0 : 1))
                    }
                }
            }
            var cuts = (0..<Int.random(in: 0...12, using: &generator)).map { _ in Int.random(in: 0...stream.count, using: &generator) }
            cuts.sort()
            let outcome = decodeFrames(stream, cuts: cuts, role: .server, maxMessageSize: 1 << 20)
            #expect(outcome == DecodeOutcome(events: expected), "cuts \(cuts)")
        }
    }
}
