import BusProtocol
import Foundation
import Frames
import Glibc
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
            var rest = buffer
            while let event = try? decoder.next(&rest) {
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

/// Issue 13: the slow-consumer notice reaches a client that stalls for long, and a client that
/// stops reading is told it is slow even below its queue bound; a client the server paused is
/// not idle.
@Suite(.serialized) struct StalledPeerTests {
    static func slowConsumerNoticeAndClose(_ socket: RawSocket, timeout: Double = 10) -> (notice: Bool, close4008: Bool) {
        let tail = socket.read(timeout: timeout) { SlowConsumerTests.frames($0).contains { $0.0 == .close } }
        let frames = SlowConsumerTests.frames(tail.bytes)
        let notice = frames.contains { $0.0 == .text && String(decoding: $0.1, as: UTF8.self).contains("slow_consumer") }
        return (notice, frames.last.map { $0.0 == .close && $0.1 == [0x0F, 0xA8] } == true)
    }

    /// A subscriber of `stall` that reads nothing, with `count` messages of `size` bytes
    /// published to it (the publisher's last one acked).
    static func stalledSubscriberBehind(_ count: Int, messagesOf size: Int, on server: LiveServer) throws -> (RawSocket, BusClient) {
        let slow = try RawSocket.stalledSubscriber(port: server.port, topic: "stall")
        let publisher = try BusClient(port: server.port)
        let body = "\"" + String(repeating: "x", count: size) + "\""
        for _ in 0..<count { _ = try publisher.publish("stall", json: body, ack: false) }
        _ = try publisher.publish("stall", json: "1")
        return (slow, publisher)
    }

    static func drops(_ server: LiveServer) -> Double? {
        try? HTTPResult(port: server.port, "/metrics").sample("bus_slow_consumer_drops_total")
    }

    @Test func aDroppedSubscriberStalledPastTheCloseTimeoutStillGetsItsNotice() throws {
        // The notice waits behind a half-written 100 KB frame in user space (tiny kernel buffers).
        let server = try LiveServer { $0.closeTimeout = 1; $0.socketSendBuffer = 4096; $0.sendQueueMessages = 16 }
        defer { server.stop() }
        let (slow, publisher) = try Self.stalledSubscriberBehind(40, messagesOf: 100_000, on: server)
        #expect(eventually(timeout: 30) { Self.drops(server) == 1 })
        usleep(3_000_000)  // three close timeouts: the server must still be waiting for it
        let (notice, close) = Self.slowConsumerNoticeAndClose(slow)
        #expect(notice, "the slow_consumer notice was lost")
        #expect(close, "no close 4008")
        publisher.close()
    }

    @Test func aSubscriberThatStopsReadingBelowItsBoundIsToldItIsSlow() throws {
        let server = try LiveServer { $0.idleTimeout = 2; $0.pingInterval = 0.5; $0.socketSendBuffer = 4096 }
        defer { server.stop() }
        let (slow, publisher) = try Self.stalledSubscriberBehind(10, messagesOf: 10_000, on: server)
        // Nothing written to it for the idle timeout: a slow consumer, told where it stopped.
        #expect(eventually(timeout: 30) { Self.drops(server) == 1 })
        let (notice, close) = Self.slowConsumerNoticeAndClose(slow)
        #expect(notice, "no slow_consumer notice")
        #expect(close, "no close 4008")
        publisher.close()
    }

    @Test func aPeerThatTheServerStoppedReadingIsNotIdle() throws {
        let server = try LiveServer {
            $0.maxMessageSize = 16 << 10; $0.sendQueueBytes = 64 << 10
            $0.idleTimeout = 2; $0.pingInterval = 1; $0.socketSendBuffer = 4096
        }
        defer { server.stop() }
        let peer = try RawSocket(port: server.port, receiveBuffer: 4096)
        #expect(peer.upgrade().hasPrefix("HTTP/1.1 101"))
        // 800 pings, each answered by a pong: more than half a 64 KiB queue and the kernel's
        // buffers, so the server stops reading the rest. The peer then sends nothing more and
        // reads 1 KB every 50 ms, for longer than the idle timeout.
        let ping = FrameEncoder.encode(opcode: .ping, payload: [UInt8](repeating: 7, count: 125), maskKey: .random())
        #expect(peer.sendUntilRefused(ping, times: 800, stall: 1) == 800 * ping.count)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1024)
        let start = Sys.monotonicNanos()
        while Sys.monotonicNanos() - start < 3_500_000_000 {
            usleep(50_000)
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(peer.fd, $0.baseAddress, 1024, Int32(MSG_DONTWAIT)) }
            if n == 0 { break }
            if n > 0 { received += buffer[0..<n] }
        }
        #expect(SlowConsumerTests.countFrames(received, .pong) < 800, "read too fast to test anything")
        received += peer.read(timeout: 5) { bytes in SlowConsumerTests.countFrames(bytes, .pong) >= 800 }.bytes
        let pongs = SlowConsumerTests.countFrames(received, .pong)
        #expect(pongs == 800, "\(pongs) pongs")
        #expect(!SlowConsumerTests.frames(received).contains { $0.0 == .close }, "closed while paused by the server")
    }
}

extension SlowConsumerTests {
    /// Frames of `opcode` in a server byte stream (control frames included).
    static func countFrames(_ bytes: [UInt8], _ opcode: Opcode) -> Int {
        var decoder = FrameDecoder(role: .client, maxMessageSize: 1 << 24)
        var count = 0
        var copy = bytes
        copy.withUnsafeMutableBytes { buffer in
            var rest = buffer
            while let event = try? decoder.next(&rest) {
                switch (event, opcode) {
                case (.pong, .pong), (.ping, .ping), (.text, .text), (.binary, .binary), (.close, .close): count += 1
                default: break
                }
            }
        }
        return count
    }
}
