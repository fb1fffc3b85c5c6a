import BusProtocol
import Foundation
import Frames
import Testing
@testable import Broker

/// gorilla's chat rule, generalised: a subscriber that cannot keep up is dropped on its own,
/// within its queue bound, while every healthy subscriber gets every message in order.
@Suite(.serialized) struct SlowConsumerTests {
    /// Decodes server frames from raw bytes (what a stalled client finds when it reads again).
    static func frames(_ bytes: [UInt8]) -> [(Opcode, [UInt8])] {
        var decoder = FrameDecoder(role: .client, maxMessageSize: 1 << 24)
        var out: [(Opcode, [UInt8])] = []
        var copy = bytes
        copy.withUnsafeMutableBytes { buffer in
            try? decoder.decode(buffer) { event in
                switch event {
                case .text(let p): out.append((.text, Array(p)))
                case .binary(let p): out.append((.binary, Array(p)))
                case .close(let code, _): out.append((.close, code.map { [UInt8($0.rawValue >> 8), UInt8($0.rawValue & 0xFF)] } ?? []))
                default: break
                }
            }
        }
        return out
    }

    @Test func stalledSubscriberIsDroppedWhileHundredHealthyOnesGetEverything() throws {
        // A small kernel send buffer: the stalled subscriber overflows after a few hundred
        // messages instead of after the megabytes loopback autotuning would absorb.
        // A close deadline longer than the test: the stalled client reads its error and close
        // only after the publishing below, which takes over a minute on a loaded machine; with
        // the default 5 s the server rightly gave up on it first and the test failed.
        let server = try ServerProcess(["--loops", "2", "--socket-send-buffer", "32768", "--close-timeout", "3600"])
        defer { server.stop() }
        let healthy = try (0..<100).map { _ in try BusClient(port: server.port) }
        for client in healthy { try client.subscribe("load.topic") }

        let slow = try RawSocket.stalledSubscriber(port: server.port, topic: "load.topic")
        // From here on the slow subscriber reads nothing.

        let publisher = try BusClient(port: server.port)
        let body = "\"" + String(repeating: "x", count: 1000) + "\""
        let rounds = 20, perRound = 100
        let rssBefore = server.residentBytes
        var rssPeak = rssBefore
        for round in 0..<rounds {
            for _ in 0..<perRound { try publisher.publish("load.topic", json: body, ack: false) }
            for client in healthy {
                for i in 0..<perRound {
                    guard case .message(_, _, let seq, _) = try client.next(timeout: 10) else {
                        Issue.record("healthy subscriber got something else"); return
                    }
                    #expect(seq == UInt64(round * perRound + i + 1))
                }
            }
            rssPeak = max(rssPeak, server.residentBytes)
        }

        // The stalled client now reads what was left for it: some messages, the
        // slow_consumer error naming its last position, and close 4008.
        let tail = slow.read(timeout: 10) { bytes in
            let frames = Self.frames(bytes)
            return frames.contains { $0.0 == .close }
        }
        let frames = Self.frames(tail.bytes)
        let delivered = frames.filter { $0.0 == .text && String(decoding: $0.1, as: UTF8.self).hasPrefix("{\"type\":\"message\"") }.count
        let error = frames.first { String(decoding: $0.1, as: UTF8.self).contains("slow_consumer") }
        #expect(error != nil)
        #expect(frames.last.map { $0.0 == .close && $0.1 == [0x0F, 0xA8] } == true, "close 4008")
        let lastSeq = error.flatMap { frame -> UInt64? in
            guard case .error(_, _, _, _, let raw) = frame.1.withUnsafeBytes({ ServerMessage.parse($0) }) else { return nil }
            let text = String(decoding: raw, as: UTF8.self)
            guard let range = text.range(of: #""seq":(\d+)"#, options: .regularExpression) else { return nil }
            return UInt64(text[range].dropFirst(6))
        }
        // Everything it was sent before the drop, and nothing after: its last position is what it got.
        #expect(lastSeq == UInt64(delivered), "delivered \(delivered), reported \(String(describing: lastSeq))")
        #expect(delivered < rounds * perRound)
        // Memory stayed bounded while it was stalled: the queue bound, not the backlog.
        #expect(rssPeak - rssBefore < 64 << 20, "RSS grew \(rssPeak - rssBefore) bytes")
        // Counted once, by the loop that dropped it.
        #expect(try HTTPResult(port: server.port, "/metrics").sample("bus_slow_consumer_drops_total") == 1)
        print("slow consumer: dropped after \(delivered) of \(rounds * perRound) messages; healthy 100 × \(rounds * perRound) delivered; server RSS \(rssBefore / 1024) KiB → peak \(rssPeak / 1024) KiB")
        healthy.forEach { $0.close() }
        publisher.close()
    }
}
