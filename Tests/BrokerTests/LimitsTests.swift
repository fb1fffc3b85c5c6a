import BusProtocol
import Frames
import Testing
@testable import Broker

/// Per-connection rates and server-wide memory budgets (Protocol.md "Limits" and "Bad input").
@Suite(.serialized) struct LimitsTests {
    @Test func floodPolicyRefusesThenClosesAndForgivesAQuietClient() {
        var policy = FloodPolicy()
        for _ in 0..<FloodPolicy.tolerance { #expect(policy.refused(now: 1_000) == .refuse) }
        #expect(policy.refused(now: 2_000) == .close)
        var quiet = FloodPolicy()
        for _ in 0..<FloodPolicy.tolerance { _ = quiet.refused(now: 1_000) }
        // A second without refusals ends the flood.
        #expect(quiet.refused(now: 1_000 + FloodPolicy.quietPeriod) == .refuse)
        #expect(quiet.refusals == 1)
    }

    @Test func publishingOverTheRateIsRefusedWithTheRequestIDThenClosedWith1008() throws {
        let server = try LiveServer { $0.publishRate = 1; $0.publishBurst = 3 }
        defer { server.stop() }
        let client = try BusClient(port: server.port)
        for _ in 0..<3 {
            guard case .ack(_, "publish", _, _, _, _) = try client.publish("rate.t", json: "1")! else {
                Issue.record("within the burst, publishes are acked"); return
            }
        }
        guard case .error("rate_limited", _, let id?, "rate.t"?, _) = try client.publish("rate.t", json: "2")! else {
            Issue.record("over the rate: rate_limited with the request's id"); return
        }
        #expect(id.hasPrefix("\"r"))
        // Binary publishes draw on the same bucket.
        let binary = BinaryLayout.encodePublish(topic: "rate.t", id: nil, payload: [1, 2, 3])
        try client.socket.send(binary: binary)
        guard case .error("rate_limited", _, nil, _, _) = try client.next() else { Issue.record("binary publish refused"); return }
        // Subscribing has its own bucket, untouched by publishing.
        guard case .ack(_, "subscribe", _, _, _, _) = try client.subscribe("rate.other") else {
            Issue.record("subscribe still allowed"); return
        }
        // Going on regardless: closed with 1008.
        for _ in 0..<(FloodPolicy.tolerance + 10) { try client.publish("rate.t", json: "3", ack: false) }
        var closed: ClosedByServer?
        while closed == nil {
            do { _ = try client.next() } catch let error as ClosedByServer { closed = error }
        }
        #expect(closed?.code == 1008)
    }

    @Test func subscribeAndUnsubscribeShareTheirOwnRate() throws {
        let server = try LiveServer { $0.subscribeRate = 1; $0.subscribeBurst = 2 }
        defer { server.stop() }
        let client = try BusClient(port: server.port)
        guard case .ack = try client.subscribe("s.one"), case .ack = try client.unsubscribe("s.one") else {
            Issue.record("within the burst"); return
        }
        guard case .error("rate_limited", _, _, "s.two"?, _) = try client.subscribe("s.two") else {
            Issue.record("third change in a second is refused"); return
        }
        // Publishing is not held back by the subscribe rate.
        guard case .ack(_, "publish", _, _, _, _) = try client.publish("s.one", json: "1")! else {
            Issue.record("publish unaffected"); return
        }
        client.close()
    }

    /// A message that would take the server's partly-received bytes past --max-reassembly-bytes
    /// fails with 1009 even though it is under --max-message-size; the others are untouched, and
    /// the budget comes back when a message completes.
    @Test func reassemblyBudgetFailsTheGrowingMessageWith1009() throws {
        let server = try LiveServer { $0.loops = 1; $0.maxMessageSize = 65536; $0.maxReassemblyBytes = 100_000 }
        defer { server.stop() }
        let first = try RawSocket(port: server.port)
        let second = try RawSocket(port: server.port)
        #expect(first.upgrade().hasPrefix("HTTP/1.1 101"))
        #expect(second.upgrade().hasPrefix("HTTP/1.1 101"))
        let part = [UInt8](repeating: 0x61, count: 60_000)
        first.send(FrameEncoder.encode(opcode: .text, fin: false, payload: part, maskKey: .random()))
        #expect(eventually { metric(server, "bus_reassembly_bytes") == 60_000 })
        second.send(FrameEncoder.encode(opcode: .text, fin: false, payload: part, maskKey: .random()))
        let refused = second.read(timeout: 5) { $0.count >= 4 }
        #expect(refused.bytes.count >= 4 && refused.bytes[0] == 0x88
                && UInt16(refused.bytes[2]) << 8 | UInt16(refused.bytes[3]) == 1009)
        // The first message completes and echoes; its bytes return to the budget.
        first.send(FrameEncoder.encode(opcode: .continuation, fin: true, payload: [0x62], maskKey: .random()))
        let echoed = first.read(timeout: 5) { $0.count >= 60_001 + 4 }
        #expect(echoed.bytes.count == 60_001 + 4)
        #expect(eventually { metric(server, "bus_reassembly_bytes") == 0 })
    }

    /// When every queue together reaches --max-queued-bytes, a subscriber holding the most is
    /// dropped (4008, saying why), not the one the next message is for (issue 13, defect 4:
    /// this test asserted the opposite before); that one gets its message.
    @Test func queueBudgetDropsALargestHolderNotTheSubscriberThatNeedsMore() throws {
        let server = try LiveServer {
            $0.loops = 1; $0.maxMessageSize = 16384; $0.sendQueueMessages = 100_000
            $0.sendQueueBytes = 200_000; $0.maxQueuedBytes = 300_000; $0.socketSendBuffer = 4096; $0.historyMessages = 0
        }
        defer { server.stop() }
        // Two subscribers that read nothing (4 KiB receive buffers): their queues stay ours.
        let stalled = try (0..<2).map { _ in try RawSocket.stalledSubscriber(port: server.port, topic: "budget.a") }
        let reader = try BusClient(port: server.port)
        _ = try reader.subscribe("budget.b")
        let publisher = try BusClient(port: server.port)
        // Each stalled queue grows by about 1 kB a publish, to about 145 kB: under its own
        // 200 kB bound, 290 kB in all.
        let small = [UInt8](repeating: 7, count: 1000)
        var published = 0
        while (metric(server, "bus_send_queue_bytes") ?? 0) < 290_000 && published < 1000 {
            _ = try publisher.publish("budget.a", binary: small, ack: true)
            published += 1
        }
        #expect(metric(server, "bus_slow_consumer_drops_total") == 0)
        // The reader's 14 kB message needs more than the 300 kB budget leaves: a stalled one goes.
        let large = [UInt8](repeating: 8, count: 14_000)
        _ = try publisher.publish("budget.b", binary: large, ack: true)
        guard case .message("budget.b", _, _, let data) = try reader.next(timeout: 10) else { Issue.record("the reader lost its message"); return }
        #expect(data == large)
        #expect(metric(server, "bus_slow_consumer_drops_total") == 1)
        let told = stalled.map { socket in
            let tail = socket.read(timeout: 3) { SlowConsumerTests.frames($0).contains { $0.0 == .close } }
            return SlowConsumerTests.frames(tail.bytes).contains {
                $0.0 == .text && String(decoding: $0.1, as: UTF8.self).contains("budget")
            }
        }
        #expect(told.filter { $0 }.count == 1, "\(told)")
    }
}

/// One sample from the server's /metrics.
private func metric(_ server: LiveServer, _ series: String) -> Double? {
    (try? HTTPResult(port: server.port, "/metrics"))?.sample(series)
}

@Suite(.serialized) struct FlushDelayTests {
    @Test(arguments: [("0", UInt64(0)), ("1ms", 1_000_000), ("250us", 250_000), ("0.5ms", 500_000), ("0.002s", 2_000_000)])
    func durationsParse(text: String, nanos: UInt64) throws {
        #expect(try ServerOptions.duration(text, "flush-delay") == nanos)
    }

    @Test(arguments: ["1", "ms", "-1ms", "1h", "fast"])
    func badDurationsNameTheOption(text: String) {
        #expect(throws: ConfigError.self) { try ServerOptions.duration(text, "flush-delay") }
        #expect(throws: ConfigError.self) { try ServerOptions.parse(["--flush-delay", "1s"], environment: [:]) }
    }

    /// With a delay, a reply waits for it (a lower bound, not a timing race), and nothing is lost.
    @Test func delayedFlushesStillDeliverEverythingInOrder() throws {
        let server = try LiveServer { $0.flushDelayNanos = 40_000_000 }
        defer { server.stop() }
        let client = try server.client()
        let start = Sys.monotonicNanos()
        try client.send(text: "first")
        #expect(try client.receive(timeout: 5) == .text("first"))
        #expect(Sys.monotonicNanos() - start >= 35_000_000)
        for i in 0..<200 { try client.send(text: String(i)) }
        for i in 0..<200 { #expect(try client.receive(timeout: 5) == .text(String(i))) }
        try client.close()
    }
}
