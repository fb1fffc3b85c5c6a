import BusProtocol
import Frames
import Testing
@testable import Broker

/// `--io-uring` (BusTests' fan-out burst also runs with it).
@Suite(.serialized) struct BatchedWriterTests {
    /// A full socket completes with EAGAIN at once (MSG_DONTWAIT): the loop never waits for a
    /// stalled reader, which is dropped as a slow consumer while the others carry on.
    @Test func aStalledReaderNeverHoldsTheLoop() throws {
        let server = try LiveServer { $0.ioUring = true; $0.socketSendBuffer = 4096; $0.sendQueueMessages = 64; $0.closeTimeout = 300 }
        defer { server.stop() }
        let healthy = try BusClient(port: server.port)
        try healthy.subscribe("uring.slow")
        // Never read, but its socket must stay open to the end: closed, it would not be a slow
        // consumer. Swift may release an unused local early, hence withExtendedLifetime.
        let stalled = try RawSocket.stalledSubscriber(port: server.port, topic: "uring.slow")
        try withExtendedLifetime(stalled) {
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
}
