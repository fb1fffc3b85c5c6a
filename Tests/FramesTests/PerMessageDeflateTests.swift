@testable import Frames
import TestSupport
import Testing

/// permessage-deflate (RFC 7692): negotiation from header values, and the decoder's handling
/// of compressed messages, fed whole, split everywhere and byte by byte.
struct PerMessageDeflateTests {
    // MARK: negotiation (§7.1)

    static let always = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"

    struct Offer: Sendable, CustomTestStringConvertible {
        var headers: [String]
        var response: String?
        var serverWindowBits = 15
        var declined = 0
        var testDescription: String { headers.joined(separator: " | ") }
    }

    static let offers: [Offer] = [
        Offer(headers: [], response: nil),
        Offer(headers: ["permessage-deflate"], response: always),
        Offer(headers: ["permessage-deflate; client_max_window_bits"], response: always),
        Offer(headers: ["PerMessage-Deflate; Client_Max_Window_Bits=10"], response: always),
        Offer(headers: ["permessage-deflate; client_no_context_takeover; server_no_context_takeover"], response: always),
        // Autobahn 13.3/13.5: a smaller server window gets an answer (and an encoding) for it.
        Offer(headers: ["permessage-deflate; server_max_window_bits=9"], response: always + "; server_max_window_bits=9",
              serverWindowBits: 9),
        Offer(headers: ["permessage-deflate; server_max_window_bits=\"12\""], response: always + "; server_max_window_bits=12",
              serverWindowBits: 12),
        // zlib cannot honour 8: declined, and the next offer taken.
        Offer(headers: ["permessage-deflate; server_max_window_bits=8, permessage-deflate"], response: always, declined: 1),
        Offer(headers: ["permessage-deflate; server_max_window_bits=8"], response: nil, declined: 1),
        Offer(headers: ["permessage-deflate; server_max_window_bits"], response: nil, declined: 1),
        Offer(headers: ["permessage-deflate; server_max_window_bits=16"], response: nil, declined: 1),
        Offer(headers: ["permessage-deflate; server_max_window_bits=010"], response: nil, declined: 1),
        Offer(headers: ["permessage-deflate; client_max_window_bits=7"], response: nil, declined: 1),
        Offer(headers: ["permessage-deflate; server_no_context_takeover=1"], response: nil, declined: 1),
        Offer(headers: ["permessage-deflate; client_no_context_takeover; client_no_context_takeover"], response: nil, declined: 1),
        Offer(headers: ["permessage-deflate; mystery"], response: nil, declined: 1),
        // Lines join as one list; other extensions are ignored.
        Offer(headers: ["x-webkit-deflate-frame", "permessage-deflate; mystery, permessage-deflate; server_max_window_bits=10"],
              response: always + "; server_max_window_bits=10", serverWindowBits: 10, declined: 1),
        Offer(headers: ["x-webkit-deflate-frame"], response: nil),
        // A malformed header offers nothing; the handshake still succeeds without the extension.
        Offer(headers: ["permessage-deflate; =1"], response: nil, declined: 1),
        Offer(headers: ["permessage-deflate; server_max_window_bits=\"10"], response: nil, declined: 1),
    ]

    @Test(arguments: offers)
    func serverAnswersTheFirstOfferItCanHonour(_ offer: Offer) {
        let result = PerMessageDeflate.negotiate(offer.headers)
        #expect(result.response == offer.response)
        #expect(result.agreement?.serverWindowBits == (offer.response == nil ? nil : offer.serverWindowBits))
        #expect(result.declined.count == offer.declined, "\(result.declined)")
        if let agreement = result.agreement {
            #expect(agreement.serverNoContextTakeover && agreement.clientNoContextTakeover)
        }
    }

    @Test func declineOfAnEightBitWindowSaysWhy() {
        let result = PerMessageDeflate.negotiate(["permessage-deflate; server_max_window_bits=8"])
        #expect(result.declined == ["server_max_window_bits=8: zlib cannot deflate with a window under 512 bytes"])
    }

    @Test func clientReadsTheServersAnswer() throws {
        let agreement = try PerMessageDeflate.accept(response: [Self.always + "; server_max_window_bits=10"]).get()
        #expect(agreement == DeflateAgreement(serverWindowBits: 10, serverNoContextTakeover: true, clientNoContextTakeover: true))
        #expect(try PerMessageDeflate.accept(response: []).get() == nil)
        let plain = try PerMessageDeflate.accept(response: ["permessage-deflate; client_max_window_bits=9"]).get()
        #expect(plain == DeflateAgreement(serverWindowBits: 15, serverNoContextTakeover: false, clientNoContextTakeover: false,
                                          clientWindowBits: 9))
        for bad in ["x-other", "permessage-deflate, permessage-deflate", "permessage-deflate; mystery",
                    "permessage-deflate; server_max_window_bits=7", "permessage-deflate; client_max_window_bits"] {
            #expect(throws: DeflateResponseError.self, "\(bad)") { try PerMessageDeflate.accept(response: [bad]).get() }
        }
    }

    @Test func extensionHeaderParsesQuotedValuesAndEmptyElements() {
        let parsed = ExtensionOffer.parse(["a; x=\"1\" ; y, , b;z=2"])
        #expect(parsed == [ExtensionOffer(name: "a", parameters: [.init("x", "1"), .init("y")]),
                           ExtensionOffer(name: "b", parameters: [.init("z", "2")])])
        #expect(ExtensionOffer.parse(["a b"]) == nil)
        #expect(ExtensionOffer.parse(["a; x=\"1 2\""]) == nil)
    }

    // MARK: inflating in the decoder (§7.2.2), RFC 7692 §7.2.3's examples

    /// "Hello" as the RFC's examples compress it (server frames, unmasked).
    static let examples: [(String, [UInt8])] = [
        ("7.2.3.1 one frame", [0xC1, 0x07, 0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]),
        ("7.2.3.1 two fragments", [0x41, 0x03, 0xF2, 0x48, 0xCD, 0x80, 0x04, 0xC9, 0xC9, 0x07, 0x00]),
        ("7.2.3.3 stored block", [0xC1, 0x0B, 0x00, 0x05, 0x00, 0xFA, 0xFF, 0x48, 0x65, 0x6C, 0x6C, 0x6F, 0x00]),
        ("7.2.3.4 BFINAL set", [0xC1, 0x08, 0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x00]),
        ("7.2.3.5 two blocks", [0xC1, 0x0D, 0xF2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xCA, 0xC9, 0xC9, 0x07, 0x00]),
    ]

    @Test(arguments: examples.map(\.0))
    func decoderInflatesTheRFCExamples(_ name: String) {
        let frame = Self.examples.first { $0.0 == name }!.1
        let outcome = decodeEveryWay(frame + frame, role: .client, compressed: true)
        #expect(outcome.error == nil)
        #expect(outcome.events == [.text("Hello"), .text("Hello")])
        #expect(outcome.bufferedByteCount == 0)
    }

    @Test func uncompressedMessagesStillPassOnANegotiatedConnection() {
        let frames = rawFrame(0x81, Array("plain".utf8)) + rawFrame(0x89, [1]) + rawFrame(0xC2, [0x02, 0x00])
        let outcome = decodeEveryWay(frames, compressed: true)
        #expect(outcome.events == [.text("plain"), .ping([1]), .binary([])])
    }

    @Test func ourDeflaterRoundTripsThroughTheDecoderAtEveryWindowSize() {
        let text = Array(String(repeating: "{\"price\":101.25,\"symbol\":\"ABC\",\"size\":300} ", count: 40).utf8)
        for bits in 9...15 {
            let compressed = Deflater(windowBits: bits).compress(text)
            #expect(compressed.count < text.count / 4)
            // Split into a fragment and a continuation with an interleaved ping.
            let cut = compressed.count / 2
            let frames = rawFrame(0x41, Array(compressed[..<cut])) + rawFrame(0x89, [7]) + rawFrame(0x80, Array(compressed[cut...]))
            let outcome = decodeEveryWay(frames, compressed: true)
            #expect(outcome.events == [.ping([7]), .text(text)], "window bits \(bits)")
        }
    }

    @Test func deflaterGivesUpWhenTheResultIsNotSmaller() {
        var generator = SplitMix64(seed: 7)
        let noise = (0..<2000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let deflater = Deflater()
        #expect(noise.withUnsafeBytes { deflater.compress($0, maxCount: noise.count - 1) } == nil)
        // And the same deflater then still compresses the next message from scratch.
        let hello = Array("Hello".utf8)
        #expect(deflater.compress(hello) == [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])
        #expect(deflater.compress([]) == [0x00])
    }

    // MARK: bad input (issue 17, item 3)

    struct BadInput: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        var compressed = true
        var maxMessageSize = 1 << 20
        var error: FrameError
        var closeCode: UInt16
        var testDescription: String { name }
    }

    static let hello: [UInt8] = [0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00]

    /// 1 KiB of compressed zeros that inflate to about 1 MiB.
    static let bomb: [UInt8] = {
        let deflater = Deflater(level: 9)
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        return deflater.compress(zeros)
    }()

    static let badInputs: [BadInput] = [
        BadInput(name: "RSV1 without negotiation", bytes: rawFrame(0xC1, hello), compressed: false,
                 error: .reservedBitsSet, closeCode: 1002),
        BadInput(name: "RSV1 on ping", bytes: rawFrame(0xC9, []), error: .compressedControlFrame, closeCode: 1002),
        BadInput(name: "RSV1 on close", bytes: rawFrame(0xC8, [0x03, 0xE8]), error: .compressedControlFrame, closeCode: 1002),
        BadInput(name: "RSV1 on continuation", bytes: rawFrame(0x41, Array(hello[..<3])) + rawFrame(0xC0, Array(hello[3...])),
                 error: .compressedContinuation, closeCode: 1002),
        BadInput(name: "RSV1 on continuation of a plain message", bytes: rawFrame(0x01, [0x61]) + rawFrame(0xC0, hello),
                 error: .compressedContinuation, closeCode: 1002),
        BadInput(name: "RSV2 with the extension", bytes: rawFrame(0xE1, hello), error: .reservedBitsSet, closeCode: 1002),
        BadInput(name: "invalid UTF-8 after inflating", bytes: rawFrame(0xC1, Deflater().compress([0x61, 0xC0, 0xAF])),
                 error: .invalidUTF8, closeCode: 1007),
        BadInput(name: "text inflating to half a code point", bytes: rawFrame(0xC1, Deflater().compress([0xCE])),
                 error: .invalidUTF8, closeCode: 1007),
        BadInput(name: "invalid UTF-8 in a fragmented compressed text",
                 bytes: rawFrame(0x41, Array(Deflater().compress([0x61, 0xED, 0xA0, 0x80]).prefix(2)))
                     + rawFrame(0x80, Array(Deflater().compress([0x61, 0xED, 0xA0, 0x80]).dropFirst(2))),
                 error: .invalidUTF8, closeCode: 1007),
        BadInput(name: "data after the final block", bytes: rawFrame(0xC1, [0xF3, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00, 0x41]),
                 error: .dataAfterFinalBlock, closeCode: 1007),
        BadInput(name: "reserved block type 11", bytes: rawFrame(0xC2, [0xFF, 0xFF, 0xFF]), error: .invalidCompressedData, closeCode: 1007),
        BadInput(name: "stored block with wrong NLEN", bytes: rawFrame(0xC2, [0x00, 0x05, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5]),
                 error: .invalidCompressedData, closeCode: 1007),
        BadInput(name: "distance before the start", bytes: rawFrame(0xC2, [0x02, 0x08, 0x20, 0x80, 0x00]),
                 error: .invalidCompressedData, closeCode: 1007),
        BadInput(name: "message stops inside a block", bytes: rawFrame(0xC1, Array(hello.prefix(3))),
                 error: .invalidCompressedData, closeCode: 1007),
        BadInput(name: "inflate bomb: 1 KiB to 1 MiB, limit 64 KiB", bytes: rawFrame(0xC2, bomb), maxMessageSize: 64 << 10,
                 error: .messageTooBig, closeCode: 1009),
        BadInput(name: "inflate bomb in fragments", bytes: rawFrame(0x42, Array(bomb.prefix(500))) + rawFrame(0x80, Array(bomb.dropFirst(500))),
                 maxMessageSize: 64 << 10, error: .messageTooBig, closeCode: 1009),
    ]

    @Test(arguments: badInputs)
    func decoderRejectsBadCompressedInput(_ input: BadInput) {
        let prelude = rawFrame(0x89, [0x70])
        let outcome = decodeEveryWay(prelude + input.bytes, maxMessageSize: input.maxMessageSize, compressed: input.compressed)
        #expect(outcome.error == input.error)
        #expect(outcome.error?.closeCode.rawValue == input.closeCode)
        #expect(outcome.events == [.ping([0x70])])
        #expect(outcome.bufferedByteCount == 0)
    }

    @Test func bombIsSmallAndInflatesPastTheLimit() throws {
        #expect(Self.bomb.count <= 1100)
        // What the limit allows still inflates: the bomb fails on size alone.
        #expect(try Inflater().inflate(Self.bomb).count == 1 << 20)
    }

    /// The bound holds while inflating: the inflater never holds more than limit + 1 bytes,
    /// whatever the message would inflate to.
    @Test func inflaterStopsAtTheLimit() throws {
        let inflater = Inflater()
        #expect(throws: FrameError.messageTooBig) { try inflater.inflate(Self.bomb, limit: 4096) }
        #expect(inflater.lastOutputCapacity <= 4097, "held \(inflater.lastOutputCapacity) bytes for a 4 KiB limit")
        // The same with a limit that is no power of two, where doubling would overshoot it.
        #expect(throws: FrameError.messageTooBig) { try inflater.inflate(Self.bomb, limit: 50_000) }
        #expect(inflater.lastOutputCapacity <= 50_001, "held \(inflater.lastOutputCapacity) bytes for a 50,000-byte limit")
        // And serves the next message afterwards.
        #expect(try inflater.inflate(Self.hello) == Array("Hello".utf8))
    }

    /// Incompressible data is a little longer deflated (stored blocks): a compressed message at
    /// the limit once inflated is accepted even though its frame is over it (found with
    /// Python websockets, which compresses random bytes too).
    @Test func incompressibleMessageAtTheLimitIsAccepted() throws {
        var generator = SplitMix64(seed: 3)
        let noise = (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) }
        // zlib's smallest memory level: the most stored blocks, the most overhead (3.9 %).
        let compressed = Deflater(memoryLevel: 1).compress(noise)
        #expect(compressed.count > noise.count + noise.count / 30)
        let outcome = decodeFrames(rawFrame(0xC2, compressed), cuts: [], maxMessageSize: noise.count, compressed: true)
        #expect(outcome.error == nil)
        #expect(outcome.events == [.binary(noise)])
        // One byte less and it is too big: the limit holds on the inflated size.
        #expect(decodeFrames(rawFrame(0xC2, compressed), cuts: [], maxMessageSize: noise.count - 1, compressed: true).error == .messageTooBig)
    }

    @Test func inflateLimitNarrowsTheMessageSize() throws {
        var decoder = FrameDecoder(role: .client, maxMessageSize: 1 << 20, inflater: Inflater())
        decoder.inflateLimit = 4
        var frame: [UInt8] = [0xC1, 0x07] + Self.hello
        #expect(throws: FrameError.messageTooBig) { try frame.withUnsafeMutableBytes { try drain(&decoder, $0) } }
    }

    @Test func contextTakeoverCarriesTheWindowAcrossMessages() throws {
        // §7.2.3.2: the second "Hello" refers back into the first message.
        let inflater = Inflater(keepsContext: true)
        #expect(try inflater.inflate(Self.hello) == Array("Hello".utf8))
        #expect(try inflater.inflate([0xF2, 0x00, 0x11, 0x00, 0x00]) == Array("Hello".utf8))
        // Without it, the same reference points before the start.
        let fresh = Inflater()
        _ = try fresh.inflate(Self.hello)
        #expect(throws: FrameError.invalidCompressedData) { try fresh.inflate([0xF2, 0x00, 0x11, 0x00, 0x00]) }
    }
}
