import Frames
import Testing

/// Decoder behaviour on valid streams. Every input goes through `decodeEveryWay`: whole, in
/// two halves at every split point and one byte at a time, with identical results.
struct FrameDecoderTests {
    static let hello = Array("Hello".utf8)
    static let maskedHello: [UInt8] = [0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]

    // MARK: RFC 6455 §5.7 examples

    @Test func decodesRFCSingleFrameUnmaskedText() {
        let outcome = decodeEveryWay([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F], role: .client)
        #expect(outcome == DecodeOutcome(events: [.text("Hello")]))
    }

    @Test func decodesRFCSingleFrameMaskedText() {
        let outcome = decodeEveryWay([0x81, 0x85] + Self.maskedHello, role: .server)
        #expect(outcome == DecodeOutcome(events: [.text("Hello")]))
    }

    @Test func decodesRFCFragmentedUnmaskedText() {
        let outcome = decodeEveryWay([0x01, 0x03, 0x48, 0x65, 0x6C, 0x80, 0x02, 0x6C, 0x6F], role: .client)
        #expect(outcome == DecodeOutcome(events: [.text("Hello")]))
    }

    @Test func decodesRFCUnmaskedPingAndMaskedPong() {
        #expect(decodeEveryWay([0x89, 0x05] + Self.hello, role: .client) == DecodeOutcome(events: [.ping(Self.hello)]))
        #expect(decodeEveryWay([0x8A, 0x85] + Self.maskedHello, role: .server) == DecodeOutcome(events: [.pong(Self.hello)]))
    }

    @Test func decodesRFC256ByteBinaryWith16BitLength() {
        let payload = (0..<256).map { UInt8($0) }
        let outcome = decodeEveryWay([0x82, 0x7E, 0x01, 0x00] + payload, role: .client)
        #expect(outcome == DecodeOutcome(events: [.binary(payload)]))
    }

    @Test func decodesRFC64KiBBinaryWith64BitLength() {
        let payload = (0..<65_536).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let outcome = decodeEveryWay([0x82, 0x7F, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00] + payload, role: .client)
        #expect(outcome == DecodeOutcome(events: [.binary(payload)]))
    }

    // MARK: Fragmentation and control frames

    @Test func decoderDeliversControlFrameBetweenFragments() {
        let input = rawFrame(0x01, Array("Hel".utf8)) + rawFrame(0x89, Array("ping".utf8)) + rawFrame(0x80, Array("lo".utf8))
        #expect(decodeEveryWay(input) == DecodeOutcome(events: [.ping(Array("ping".utf8)), .text("Hello")]))
    }

    @Test func decoderDeliversCloseBetweenFragmentsAndDropsTheMessage() {
        let input = rawFrame(0x02, [1, 2, 3]) + rawFrame(0x88, [0x03, 0xE9]) + rawFrame(0x80, [4])
        #expect(decodeEveryWay(input) == DecodeOutcome(events: [.close(.goingAway, [])]))
    }

    @Test func decoderReassemblesManyFragmentsOfBinary() {
        let input = rawFrame(0x02, [1]) + rawFrame(0x00, []) + rawFrame(0x8A, [9]) + rawFrame(0x00, [2, 3])
            + rawFrame(0x80, Array(repeating: 4, count: 200))
        let outcome = decodeEveryWay(input)
        #expect(outcome == DecodeOutcome(events: [.pong([9]), .binary([1, 2, 3] + Array(repeating: 4, count: 200))]))
    }

    @Test func decoderDeliversSeveralFramesFromOneRead() {
        let input = rawFrame(0x81, Array("a".utf8)) + rawFrame(0x82, [0xFF]) + rawFrame(0x89, []) + rawFrame(0x81, Array("b".utf8))
        #expect(decodeEveryWay(input) == DecodeOutcome(events: [.text("a"), .binary([0xFF]), .ping([]), .text("b")]))
    }

    @Test func decoderDeliversEmptyMessagesAndEmptyFragments() {
        let input = rawFrame(0x81, []) + rawFrame(0x82, []) + rawFrame(0x01, []) + rawFrame(0x00, []) + rawFrame(0x80, [])
        #expect(decodeEveryWay(input) == DecodeOutcome(events: [.text([]), .binary([]), .text([])]))
    }

    /// §5.2 only obliges senders to use the minimal length encoding.
    @Test func decoderAcceptsNonMinimalLengthEncodings() {
        let input = rawFrame(0x82, Self.hello, lengthBytes: 2) + rawFrame(0x82, Self.hello, lengthBytes: 8)
        #expect(decodeEveryWay(input) == DecodeOutcome(events: [.binary(Self.hello), .binary(Self.hello)]))
    }

    @Test func decoderValidatesTextSplitInsideACodePointAcrossFragments() {
        let input = rawFrame(0x01, [0xCE]) + rawFrame(0x89, [1]) + rawFrame(0x00, [0xBA, 0xE1]) + rawFrame(0x80, [0xBD, 0xB9])
        #expect(decodeEveryWay(input) == DecodeOutcome(events: [.ping([1]), .text([0xCE, 0xBA, 0xE1, 0xBD, 0xB9])]))
    }

    // MARK: Close

    @Test func decoderReportsEmptyCloseAsNoCode() {
        #expect(decodeEveryWay(rawFrame(0x88, [])) == DecodeOutcome(events: [.close(nil, [])]))
    }

    @Test func decoderReportsCloseCodeAndReason() {
        let input = rawFrame(0x88, [0x0F, 0xA0] + Array("später".utf8))
        #expect(decodeEveryWay(input) == DecodeOutcome(events: [.close(CloseCode(rawValue: 4000), Array("später".utf8))]))
    }

    @Test func decoderIgnoresEveryByteAfterClose() {
        let input = rawFrame(0x88, [0x03, 0xE8]) + [0xFF, 0xFF, 0x00, 0x81] + rawFrame(0x81, Self.hello)
        #expect(decodeEveryWay(input) == DecodeOutcome(events: [.close(.normalClosure, [])]))
    }

    // MARK: Limits and fail fast

    /// Regression guard: a hostile header claiming 2^62 bytes must fail before any payload
    /// is buffered or memory reserved.
    @Test(arguments: [UInt64(1025), 1 << 32, 1 << 62, UInt64(Int64.max)])
    func decoderRejectsMessageTooBigFromTheHeaderAlone(claimed: UInt64) {
        var decoder = FrameDecoder(role: .server, maxMessageSize: 1024)
        var header = rawFrame(0x82, [], lengthBytes: 8, claimedLength: claimed)
        #expect(header.count == 14)
        #expect(throws: FrameError.messageTooBig) {
            try header.withUnsafeMutableBytes { let events = try drain(&decoder, $0); Issue.record("no event expected, got \(events)") }
        }
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func decoderCountsEarlierFragmentsTowardsTheLimit() {
        let input = rawFrame(0x02, Array(repeating: 1, count: 6)) + rawFrame(0x80, Array(repeating: 2, count: 5))
        let outcome = decodeEveryWay(input, maxMessageSize: 10)
        #expect(outcome.error == .messageTooBig)
        #expect(outcome.events.isEmpty)
        // The second header alone trips it: its 5 payload bytes never need to arrive.
        let headerOnly = Array(input[..<(input.count - 5)])
        #expect(decodeFrames(headerOnly, cuts: [], maxMessageSize: 10).error == .messageTooBig)
    }

    @Test func decoderAcceptsMessagesExactlyAtTheLimit() {
        let input = rawFrame(0x82, Array(repeating: 1, count: 10)) + rawFrame(0x02, [1, 2, 3, 4]) + rawFrame(0x80, [5, 6, 7, 8, 9, 10])
        let outcome = decodeEveryWay(input, maxMessageSize: 10)
        #expect(outcome == DecodeOutcome(events: [.binary(Array(repeating: 1, count: 10)), .binary(Array(1...10))]))
    }

    @Test func controlFramesDoNotCountTowardsTheMessageLimit() {
        let input = rawFrame(0x02, [1, 2]) + rawFrame(0x89, Array(repeating: 7, count: 125)) + rawFrame(0x80, [3])
        #expect(decodeEveryWay(input, maxMessageSize: 3) == DecodeOutcome(events: [.ping(Array(repeating: 7, count: 125)), .binary([1, 2, 3])]))
    }

    /// The frame announces 100 bytes; only the header and the first bad bytes have arrived.
    @Test func decoderFailsFastOnInvalidUTF8MidFrame() {
        let payload = Array("ab".utf8) + [0xED, 0xA0, 0x80] + Array(repeating: 0x61, count: 95)
        let frame = rawFrame(0x81, payload)
        let headerSize = 2 + 4
        for cut in [headerSize + 4, headerSize + 5] {
            var decoder = FrameDecoder(role: .server, maxMessageSize: 1 << 20)
            var start = Array(frame[..<headerSize])
            var bad = Array(frame[headerSize..<cut])
            #expect(throws: Never.self) { try start.withUnsafeMutableBytes { try drain(&decoder, $0) } }
            #expect(throws: FrameError.invalidUTF8) { try bad.withUnsafeMutableBytes { try drain(&decoder, $0) } }
            #expect(decodeFrames(Array(frame[..<cut]), cuts: []).error == .invalidUTF8, "header and bad bytes in one read")
        }
    }

    @Test func decoderFailsFastOnInvalidUTF8AcrossFragmentBoundary() {
        let first = rawFrame(0x01, [0x61, 0xF4])
        var decoder = FrameDecoder(role: .server, maxMessageSize: 1 << 20)
        var input = first + Array(rawFrame(0x80, [0x90, 0x80, 0x80, 0x61])[..<7])
        #expect(throws: FrameError.invalidUTF8) { try input.withUnsafeMutableBytes { try drain(&decoder, $0) } }
    }

    @Test func decoderRejectsTextMessageEndingInsideACodePoint() {
        #expect(decodeEveryWay(rawFrame(0x01, [0x61, 0xE2, 0x82]) + rawFrame(0x80, [])).error == .invalidUTF8)
        #expect(decodeEveryWay(rawFrame(0x81, [0x61, 0xE2, 0x82])).error == .invalidUTF8)
    }

    // MARK: Buffers and pointers

    @Test func decoderHandsOutAPointerIntoTheInputForWholeFrames() throws {
        var input = rawFrame(0x82, Array(repeating: 5, count: 300)) + rawFrame(0x89, [1, 2])
        var decoder = FrameDecoder(role: .server, maxMessageSize: 1 << 20)
        var inside: [Bool] = []
        try input.withUnsafeMutableBytes { bytes in
            let range = UInt(bitPattern: bytes.baseAddress!)..<UInt(bitPattern: bytes.baseAddress! + bytes.count)
            var rest = bytes
            while let event = try decoder.next(&rest) {
                switch event {
                case .binary(let payload), .ping(let payload): inside.append(range.contains(UInt(bitPattern: payload.baseAddress!)))
                default: Issue.record("unexpected \(DecodedEvent(event))")
                }
            }
        }
        #expect(inside == [true, true])
        #expect(Array(input[8..<308]) == Array(repeating: 5, count: 300), "unmasked in place")
    }

    /// A caller may stop pulling after any event (the connection closed, or it wants to
    /// yield) and resume later: `next` leaves the rest of the buffer exactly where the event
    /// ended, still masked, and the events that follow are the same as without the stop.
    @Test func decoderStopsAfterAnEventAndResumesWithTheRest() throws {
        let frames = [rawFrame(0x81, Self.hello), rawFrame(0x89, [1, 2]), rawFrame(0x02, [1]), rawFrame(0x8A, []),
                      rawFrame(0x80, [2, 3]), rawFrame(0x82, Array(repeating: 9, count: 200)), rawFrame(0x88, [0x03, 0xE8])]
        let input = frames.reduce([], +)
        var decoder = FrameDecoder(role: .server, maxMessageSize: 1 << 20)
        var copy = input
        var restSizes: [Int] = []
        try copy.withUnsafeMutableBytes { bytes in
            var rest = bytes
            while try decoder.next(&rest) != nil {
                restSizes.append(rest.count)
                #expect(Array(rest) == Array(input.suffix(rest.count)), "the rest is untouched")
            }
        }
        // The fragmented binary message ends with its last fragment; the pong inside it is an event.
        let ends = [1, 2, 4, 5, 6, 7].map { frames[..<$0].reduce(0) { $0 + $1.count } }
        #expect(restSizes == ends.map { input.count - $0 })
        let expected: [DecodedEvent] = [.text("Hello"), .ping([1, 2]), .pong([]), .binary([1, 2, 3]),
                                        .binary(Array(repeating: 9, count: 200)), .close(.normalClosure, [])]
        #expect(decodeEveryWay(input).events == expected)
        for cut in [3, 10, 20, input.count - 5] {
            #expect(decodeFrames(input, cuts: [cut], pausing: true).events == expected, "cut at \(cut)")
        }
    }

    /// The reassembled message lives in the decoder, not in the caller's bytes: its pointer
    /// must stay valid (and unchanged) while the caller goes on holding the event.
    @Test func reassembledMessageStaysValidUntilTheNextCall() throws {
        var decoder = FrameDecoder(role: .server, maxMessageSize: 1 << 20)
        var first = rawFrame(0x02, Array(repeating: 4, count: 100))
        var last = rawFrame(0x80, Array(repeating: 6, count: 100))
        try first.withUnsafeMutableBytes { bytes in
            let events = try drain(&decoder, bytes)
            #expect(events.isEmpty)
        }
        try last.withUnsafeMutableBytes { bytes in
            var rest = bytes
            let event = try #require(try decoder.next(&rest))
            guard case .binary(let message) = event else { Issue.record("expected binary"); return }
            bytes.initializeMemory(as: UInt8.self, repeating: 0)  // the caller reuses its buffer
            #expect(Array(message) == Array(repeating: 4, count: 100) + Array(repeating: 6, count: 100))
            #expect(decoder.isIdle && decoder.bufferedByteCount == 0)
        }
    }

    @Test func decoderHoldsOnlyWhatArrivedAndReleasesItWhenTheMessageCompletes() throws {
        var decoder = FrameDecoder(role: .server, maxMessageSize: 1 << 20)
        #expect(decoder.isIdle && decoder.bufferedByteCount == 0)
        func feed(_ bytes: [UInt8]) throws {
            var bytes = bytes
            _ = try bytes.withUnsafeMutableBytes { try drain(&decoder, $0) }
        }
        let big = rawFrame(0x82, Array(repeating: 1, count: 1000))
        try feed(Array(big[..<3]))
        #expect(!decoder.isIdle && decoder.bufferedByteCount == 3, "partial header")
        try feed(Array(big[3..<108]))
        #expect(!decoder.isIdle && decoder.bufferedByteCount == 100, "partial payload, no reservation for 1000")
        try feed(Array(big[108...]))
        #expect(decoder.isIdle && decoder.bufferedByteCount == 0)
        try feed(rawFrame(0x01, [0x61, 0x62]))
        #expect(!decoder.isIdle && decoder.bufferedByteCount == 2, "fragmented message in progress")
        try feed(rawFrame(0x80, [0x63]))
        #expect(decoder.isIdle && decoder.bufferedByteCount == 0)
    }

    @Test func failedDecoderThrowsTheSameErrorForeverAfter() {
        var decoder = FrameDecoder(role: .server, maxMessageSize: 1 << 20)
        var bad: [UInt8] = [0xC1]
        var good = rawFrame(0x81, Self.hello)
        #expect(throws: FrameError.reservedBitsSet) { try bad.withUnsafeMutableBytes { try drain(&decoder, $0) } }
        #expect(throws: FrameError.reservedBitsSet) { try good.withUnsafeMutableBytes { try drain(&decoder, $0) } }
        var empty: [UInt8] = []
        #expect(throws: FrameError.reservedBitsSet) { try empty.withUnsafeMutableBytes { try drain(&decoder, $0) } }
    }
}
