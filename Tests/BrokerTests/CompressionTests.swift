import BusProtocol
import Frames
import Testing
import Topics
@testable import Broker

/// permessage-deflate (RFC 7692, issue 17) against a live server, with our own client on the
/// other end: negotiation, both directions, one compression per message whatever the fan-out.
@Suite(.serialized) struct CompressionTests {
    /// A chat-like JSON value of about 2 KiB: compresses well.
    static let document: String = {
        let lines = (0..<24).map { #"{"user":"user\#($0 % 5)","room":"general","text":"hello again, this is line \#($0)","ts":17000000\#($0)}"# }
        return "[" + lines.joined(separator: ",") + "]"
    }()

    @Test func echoNegotiatesAndCompressesBothWays() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let client = try WebSocketClient(url: server.url("/echo"), compression: true)
        #expect(client.deflate == DeflateAgreement(serverWindowBits: 15, serverNoContextTakeover: true, clientNoContextTakeover: true))
        // Sent compressed, inflated by the server, echoed compressed, inflated by us.
        try client.send(text: Self.document)
        #expect(try client.receive() == .text(Self.document))
        #expect(client.compressedMessagesReceived == 1)
        let binary = [UInt8](repeating: 7, count: 5000) + Array(0...255)
        try client.send(binary: binary)
        #expect(try client.receive() == .binary(binary))
        #expect(client.compressedMessagesReceived == 2)
        // Below the minimum size the echo goes out plain; the client may still compress.
        try client.send(text: "short")
        #expect(try client.receive() == .text("short"))
        #expect(client.compressedMessagesReceived == 2)
        // A plain message on a compressing connection is fine too (RSV1 clear).
        client.compressesOutgoing = false
        try client.send(text: Self.document)
        #expect(try client.receive() == .text(Self.document))
        #expect(client.compressedMessagesReceived == 3)
        try client.close()
    }

    @Test func compressionOffAnswersWithoutTheExtension() throws {
        let server = try LiveServer { $0.compression = false }
        defer { server.stop() }
        let client = try WebSocketClient(url: server.url("/echo"), compression: true)
        #expect(client.deflate == nil)
        try client.send(text: Self.document)
        #expect(try client.receive() == .text(Self.document))
        #expect(client.compressedMessagesReceived == 0)
        // RSV1 without the extension is a protocol error (1002), as before.
        var frame = FrameEncoder.encode(opcode: .text, payload: Deflater().compress(Array("hi".utf8)), maskKey: .random())
        frame[0] |= 0x40
        try client.sendRaw(frame)
        #expect(try client.receive() == .close(code: 1002, reason: "reserved bits set"))
    }

    /// Offers the server cannot honour are declined, never failing the handshake; a smaller
    /// window is answered and used.
    @Test(arguments: [
        ("permessage-deflate; server_max_window_bits=8", nil),
        ("permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=10",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10"),
        ("permessage-deflate; unknown_parameter", nil),
        ("x-webkit-deflate-frame, permessage-deflate; client_max_window_bits",
         "permessage-deflate; server_no_context_takeover; client_no_context_takeover"),
    ] as [(String, String?)])
    func serverDeclinesWhatItCannotHonour(offer: String, answer: String?) throws {
        let server = try LiveServer()
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        let head = raw.upgrade(path: "/echo", extensions: offer)
        #expect(head.hasPrefix("HTTP/1.1 101"))
        let answered = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("sec-websocket-extensions:") }
        #expect(answered.map { String($0.dropFirst("Sec-WebSocket-Extensions: ".count)) } == answer)
        raw.close()
    }

    /// Server frames in `bytes`, inflated with a `windowBits` window (what a client that
    /// asked for that window has); stops at the first frame it cannot read.
    static func messages(_ bytes: [UInt8], windowBits: Int = 15) -> (texts: [String], compressed: Int, error: FrameError?) {
        var decoder = FrameDecoder(role: .client, maxMessageSize: 1 << 24, inflater: Inflater(windowBits: windowBits))
        var texts: [String] = []
        var compressed = 0
        var failure: FrameError?
        var copy = bytes
        copy.withUnsafeMutableBytes { buffer in
            var rest = buffer
            do {
                while let event = try decoder.next(&rest) {
                    if decoder.lastMessageWasCompressed { compressed += 1 }
                    if case .text(let text) = event { texts.append(String(decoding: text, as: UTF8.self)) }
                }
            } catch {
                failure = error as? FrameError
            }
        }
        return (texts, compressed, failure)
    }

    @Test func smallerWindowGetsItsOwnEncodingThatInflates() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        #expect(raw.upgrade(path: "/echo", extensions: "permessage-deflate; server_max_window_bits=9").hasPrefix("HTTP/1.1 101"))
        // 8 KiB of repeated lines: a 32 KiB window would refer back further than 512 bytes.
        let long = String(repeating: Self.document, count: 4)
        raw.send(FrameEncoder.encode(opcode: .text, payload: Array(long.utf8), maskKey: .random()))
        let reply = raw.read(timeout: 5) { !Self.messages($0).texts.isEmpty }.bytes
        // A 512-byte-window inflater reads it: no distance reaches further back.
        let narrow = Self.messages(reply, windowBits: 9)
        #expect(narrow.error == nil)
        #expect(narrow.texts == [long] && narrow.compressed == 1)
        // The same text compressed with a 32 KiB window is beyond that inflater: the check can fail.
        let wide = FrameEncoder.encode(opcode: .text, payload: Deflater(windowBits: 15).compress(Array(long.utf8)))
        var flagged = wide
        flagged[0] |= 0x40
        #expect(Self.messages(flagged, windowBits: 9).error == .invalidCompressedData)
        raw.close()
    }

    @Test func busFanOutCompressesEachMessageOncePerWindowSize() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let plain = try BusClient(port: server.port)
        let compressing = try (0..<4).map { _ in try BusClient(port: server.port, compression: true) }
        let narrow = try RawSocket(port: server.port)
        #expect(narrow.upgrade(path: "/bus", extensions: "permessage-deflate; server_max_window_bits=10").contains("server_max_window_bits=10"))
        for client in [plain] + compressing { try client.subscribe("chat.room") }
        narrow.send(FrameEncoder.encode(opcode: .text, payload: Array(#"{"type":"subscribe","id":1,"topic":"chat.room"}"#.utf8), maskKey: .random()))
        _ = narrow.read(timeout: 5) { String(decoding: $0, as: UTF8.self).contains("ack") }
        let publisher = try BusClient(port: server.port, compression: true)
        let count = 5
        for index in 0..<count {
            try publisher.publish("chat.room", json: #"{"n":\#(index),"body":\#(Self.document)}"#)
        }
        for client in [plain] + compressing {
            for index in 0..<count {
                guard case .message(let topic, _, let seq, let data) = try client.next() else {
                    Issue.record("expected a message")
                    return
                }
                #expect(topic == "chat.room" && seq == UInt64(index + 1))
                #expect(String(decoding: data, as: UTF8.self) == #"{"n":\#(index),"body":\#(Self.document)}"#)
            }
        }
        #expect(plain.socket.compressedMessagesReceived == 0)
        #expect(compressing.allSatisfy { $0.socket.compressedMessagesReceived == count })
        // The 10-bit subscriber reads its messages too (compressed frames, RSV1).
        let narrowBytes = narrow.read(timeout: 5) { Self.messages($0, windowBits: 10).texts.count >= count }.bytes
        let narrowMessages = Self.messages(narrowBytes, windowBits: 10)
        #expect(narrowMessages.error == nil && narrowMessages.compressed == count, "\(narrowMessages)")
        // Once per message for the 15-bit window (four subscribers on two loops), once for the
        // 10-bit one: 2 × count, whatever the fan-out.
        let metrics = try HTTPResult(port: server.port, "/metrics")
        #expect(metrics.sample("bus_compressed_messages_total") == Double(2 * count))
        #expect((metrics.sample("bus_compression_saved_bytes_total") ?? 0) > Double(count * 4 * 1000))
        narrow.close()
    }

    /// A compressed copy kept with a retained message counts against --history-bytes like the
    /// frame itself (it used to be left out: the budget then held up to twice its bytes).
    @Test(arguments: [1, 2])
    func compressedCopiesCountAgainstTheHistoryBudget(loops: Int) throws {
        let server = try LiveServer { $0.loops = loops }
        defer { server.stop() }
        let subscriber = try BusClient(port: server.port, compression: true)
        try subscriber.subscribe("chat.room")
        let publisher = try BusClient(port: server.port)
        let count = 6
        for _ in 0..<count { try publisher.publish("chat.room", json: Self.document) }
        for _ in 0..<count { _ = try subscriber.next() }
        #expect(subscriber.socket.compressedMessagesReceived == count)
        // The plain frame of one message: the envelope around the document, and its header.
        let envelope = #"{"type":"message","topic":"chat.room","epoch":""#.utf8.count
        let plainFrames = count * (Self.document.utf8.count + envelope + 60)
        // The owner compresses at publish for its compressing subscribers and charges it then.
        let metrics = try HTTPResult(port: server.port, "/metrics")
        #expect(metrics.sample("bus_history_messages") == Double(count))
        let held = metrics.sample("bus_history_bytes") ?? 0
        #expect(held > Double(plainFrames), "history holds \(held) bytes; the plain frames alone are about \(plainFrames)")
        #expect(held < Double(plainFrames) * 1.5)
    }

    /// The windows a loop tells owners to compress for: set while any subscription holds one.
    @Test func deflateWindowMaskFollowsTheSubscriptionsHoldingEachWindow() {
        var counts = DeflateWindowCounts()
        #expect(counts.mask == 0)
        counts.change(window: 15, by: 1)
        counts.change(window: 15, by: 1)
        counts.change(window: 10, by: 1)
        #expect(counts.mask == (1 << 15) | (1 << 10))
        counts.change(window: 15, by: -1)
        #expect(counts.mask == (1 << 15) | (1 << 10))
        counts.change(window: 15, by: -1)
        counts.change(window: 8, by: 1)  // not a window the server answers: ignored
        #expect(counts.mask == 1 << 10)
        counts.change(window: 10, by: -1)
        #expect(counts.mask == 0)
    }

    @Test func excludedTopicsGoOutPlain() throws {
        let server = try LiveServer { $0.compressionExclude = [try! TopicPattern("raw.>")] }
        defer { server.stop() }
        let subscriber = try BusClient(port: server.port, compression: true)
        try subscriber.subscribe(">")
        let publisher = try BusClient(port: server.port)
        try publisher.publish("raw.feed", json: Self.document)
        try publisher.publish("chat.room", json: Self.document)
        for _ in 0..<2 { _ = try subscriber.next() }
        #expect(subscriber.socket.compressedMessagesReceived == 1)
        let metrics = try HTTPResult(port: server.port, "/metrics")
        #expect(metrics.sample("bus_compression_skipped_total") == 1)
    }
}

