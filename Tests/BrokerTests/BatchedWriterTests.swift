import BusProtocol
import Frames
import Testing
@testable import Broker

/// `--io-uring`: the same deliveries as with `sendmsg`, byte for byte and in order.
@Suite(.serialized) struct BatchedWriterTests {
    /// A burst fills queues to their bound, so connections are flushed early and marked dirty
    /// again within one turn: they appear twice in the batch. They must be written once (a
    /// regression: the first version sent their bytes twice).
    @Test func burstsReachEverySubscriberOnceAndInOrder() throws {
        let server = try LiveServer { $0.ioUring = true }
        defer { server.stop() }
        let subscribers = try (0..<40).map { _ in try BusClient(port: server.port) }
        for subscriber in subscribers { try subscriber.subscribe("uring.fan") }
        let publisher = try BusClient(port: server.port)
        for i in 0..<1000 { try publisher.publish("uring.fan", json: String(i), ack: false) }
        for subscriber in subscribers {
            for i in 0..<1000 {
                guard case .message(_, _, let seq, let data) = try subscriber.next() else { Issue.record("expected a message"); return }
                #expect(seq == UInt64(i + 1) && data == Array(String(i).utf8))
            }
        }
        subscribers.forEach { $0.close() }
        publisher.close()
    }

    /// A full socket completes with EAGAIN at once (MSG_DONTWAIT): the loop never waits for a
    /// stalled reader, which is dropped as a slow consumer while the others carry on.
    @Test func aStalledReaderNeverHoldsTheLoop() throws {
        let server = try LiveServer { $0.ioUring = true; $0.socketSendBuffer = 4096; $0.sendQueueMessages = 64; $0.closeTimeout = 300 }
        defer { server.stop() }
        let healthy = try BusClient(port: server.port)
        try healthy.subscribe("uring.slow")
        let stalled = try RawSocket(port: server.port, receiveBuffer: 4096)
        #expect(stalled.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101"))
        stalled.sendFrame(.text, Array(#"{"type":"subscribe","id":1,"topic":"uring.slow"}"#.utf8))
        _ = stalled.read(timeout: 5) { String(decoding: $0, as: UTF8.self).contains("\"ack\"") }
        let publisher = try BusClient(port: server.port)
        let body = "\"" + String(repeating: "y", count: 2000) + "\""
        for round in 0..<20 {
            for _ in 0..<50 { try publisher.publish("uring.slow", json: body, ack: false) }
            for i in 0..<50 {
                guard case .message(_, _, let seq, _) = try healthy.next(timeout: 10) else { Issue.record("healthy lost"); return }
                #expect(seq == UInt64(round * 50 + i + 1))
            }
        }
        #expect(try HTTPResult(port: server.port, "/metrics").sample("bus_slow_consumer_drops_total") == 1)
    }
}
