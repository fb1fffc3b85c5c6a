import BusProtocol
import Foundation
import Glibc
import Testing
@testable import Broker

/// A nats-server and broker-server nodes using it, started together and stopped together.
final class TestCluster {
    let nats: NATSServerProcess
    let nodes: [ServerProcess]

    init(nodes names: [String]) throws {
        nats = try NATSServerProcess()
        var started: [ServerProcess] = []
        do {
            for name in names { started.append(try ServerProcess(node: name, nats: nats)) }
        } catch {
            started.forEach { $0.stop() }
            nats.stop()
            throw error
        }
        nodes = started
    }

    func stop() {
        nodes.forEach { $0.stop() }
        nats.stop()
    }
}

/// Several broker-server nodes sharing topics through a real nats-server (cluster mode).
@Suite(.serialized) struct ClusterTests {
    /// POST /publish/<topic> on a node; the response's status line.
    static func httpPublish(port: UInt16, _ topic: String, _ body: String, type: String = "application/json") throws -> String {
        let raw = try RawSocket(port: port)
        raw.send(HTTPPublishTests.post(topic, body, type: type))
        return HTTPPublishTests.responses(raw, count: 1).first ?? ""
    }

    /// The next delivered message, skipping nothing: anything else is a failure.
    static func nextMessage(_ client: BusClient, timeout: Double = 5) throws -> (topic: String, epoch: String, seq: UInt64, data: String) {
        let message = try client.next(timeout: timeout)
        guard case .message(let topic, let epoch, let seq, let data) = message else {
            throw WebSocketClient.ClientError.protocolViolation("expected a message, got \(message)")
        }
        return (topic, epoch, seq, String(decoding: data, as: UTF8.self))
    }

    @Test func subscriberOnOneNodeGetsPublishesMadeOnAnotherOverWebSocketAndHTTP() throws {
        let cluster = try TestCluster(nodes: ["a", "b"])
        defer { cluster.stop() }
        let (a, b) = (cluster.nodes[0], cluster.nodes[1])
        #expect(a.waitReady() && b.waitReady())

        let subscriber = try BusClient(port: a.port)
        try subscriber.subscribe("cl.room1")
        try subscriber.subscribe("wild.*.x")
        try subscriber.subscribe("deep.>")
        let publisher = try BusClient(port: b.port)
        let ack = try publisher.publish("cl.room1", json: #"{"n":1}"#)
        // The publisher's node counts its own subscribers only (none here): documented.
        guard case .ack(_, "publish", "cl.room1", _, 1?, 0?)? = ack else { Issue.record("ack \(String(describing: ack))"); return }
        let first = try Self.nextMessage(subscriber)
        #expect(first.topic == "cl.room1" && first.data == #"{"n":1}"# && first.seq == 1)

        try publisher.publish("wild.y.x", json: #""text""#)
        try publisher.publish("wild.y.z", json: "0")  // matches nothing on a
        try publisher.publish("deep.a.b.c", binary: [0, 1, 2, 255, 13, 10])
        #expect(try Self.httpPublish(port: b.port, "deep.http", #"{"via":"http"}"#).hasPrefix("HTTP/1.1 200"))
        #expect(try Self.httpPublish(port: b.port, "deep.text", "plain words", type: "text/plain").hasPrefix("HTTP/1.1 200"))

        // Order holds per topic, not across topics (each has its own owner loop): collect by topic.
        var received: [String: [UInt8]] = [:]
        for _ in 0..<4 {
            guard case .message(let topic, _, let seq, let data) = try subscriber.next() else { Issue.record("not a message"); return }
            #expect(seq == 1 && received.updateValue(data, forKey: topic) == nil, "\(topic) once")
        }
        #expect(received["wild.y.x"] == Array(#""text""#.utf8))
        #expect(received["deep.a.b.c"] == [0, 1, 2, 255, 13, 10], "binary kind and bytes cross")
        #expect(received["deep.http"] == Array(#"{"via":"http"}"#.utf8))
        #expect(received["deep.text"] == Array(#""plain words""#.utf8))
        // Every local publish goes to NATS once; a takes only what it subscribed to.
        #expect(b.metric("bus_backplane_messages_out_total") == 6)
        #expect(a.metric("bus_backplane_messages_in_total") == 5)
        subscriber.close()
        publisher.close()
    }

    /// Overlapping patterns on one node mean overlapping SUBs at NATS, which NATS answers with
    /// one copy per SUB: each message must still reach each subscriber once.
    @Test func noDuplicatesWhenPublisherAndSubscriberShareANodeOrPatternsOverlap() throws {
        let cluster = try TestCluster(nodes: ["a", "b"])
        defer { cluster.stop() }
        let (a, b) = (cluster.nodes[0], cluster.nodes[1])
        #expect(a.waitReady() && b.waitReady())

        let onA = try BusClient(port: a.port)
        try onA.subscribe("dup.one")
        try onA.subscribe("dup.*")
        try onA.subscribe(">")
        let onB = try BusClient(port: b.port)
        try onB.subscribe("dup.*")
        try onB.subscribe("dup.>")
        let pubA = try BusClient(port: a.port)
        let pubB = try BusClient(port: b.port)
        for n in 1...5 {
            try pubA.publish("dup.one", json: "\(n)")
            try pubB.publish("dup.one", json: "\(n + 100)")
        }
        // Each publisher's own order holds on its topic: its end marker comes after its messages.
        try pubA.publish("dup.one", json: #""endA""#)
        try pubB.publish("dup.one", json: #""endB""#)
        for client in [onA, onB] {
            var seen: [String] = []
            var ends = 0
            while ends < 2 {
                let message = try Self.nextMessage(client)
                if message.data.hasPrefix(#""end"#) { ends += 1 } else { seen.append(message.data) }
            }
            #expect(seen.sorted() == ((1...5).map { "\($0)" } + (101...105).map { "\($0)" }).sorted(), "\(seen)")
            #expect(seen.filter { Int($0)! < 100 } == (1...5).map { "\($0)" }, "one publisher's order holds")
        }
        for client in [onA, onB, pubA, pubB] { client.close() }
    }

    @Test func threeNodesAndInterestComesAndGoesWithSubscribers() throws {
        let cluster = try TestCluster(nodes: ["a", "b", "c"])
        defer { cluster.stop() }
        let nodes = cluster.nodes
        #expect(nodes.allSatisfy { $0.waitReady() })
        let (a, b, c) = (nodes[0], nodes[1], nodes[2])

        let onA = try BusClient(port: a.port)
        try onA.subscribe("tri.*")
        let onC = try BusClient(port: c.port)
        try onC.subscribe("tri.news")
        #expect(c.metric("bus_backplane_subscriptions") == 1)
        let publisher = try BusClient(port: b.port)
        try publisher.publish("tri.news", json: #""first""#)
        #expect(try Self.nextMessage(onA).data == #""first""#)
        #expect(try Self.nextMessage(onC).data == #""first""#)

        // C's last subscriber leaves: C unsubscribes from NATS, and stops receiving.
        try onC.unsubscribe("tri.news")
        #expect(eventually { c.metric("bus_backplane_subscriptions") == 0 })
        let inBefore = c.metric("bus_backplane_messages_in_total")
        try publisher.publish("tri.news", json: #""second""#)
        #expect(try Self.nextMessage(onA).data == #""second""#)
        // Comes back: the subscribe ack waits for NATS to have the SUB, so the next publish arrives.
        try onC.subscribe("tri.news")
        try publisher.publish("tri.news", json: #""third""#)
        #expect(try Self.nextMessage(onC).data == #""third""#)
        #expect(try Self.nextMessage(onA).data == #""third""#)
        #expect(c.metric("bus_backplane_messages_in_total") == (inBefore ?? -1) + 1)
        for client in [onA, onC, publisher] { client.close() }
    }

    @Test func nodesSurviveANATSRestartAndDeliverAgainAfterReconnecting() throws {
        let cluster = try TestCluster(nodes: ["a", "b"])
        defer { cluster.stop() }
        let (nats, a, b) = (cluster.nats, cluster.nodes[0], cluster.nodes[1])
        #expect(a.waitReady() && b.waitReady())

        let onA = try BusClient(port: a.port)
        try onA.subscribe("rs.t")
        let onB = try BusClient(port: b.port)
        try onB.subscribe("rs.t")
        let publisher = try BusClient(port: b.port)
        for n in 1...3 { try publisher.publish("rs.t", json: "\(n)") }
        var before = ""
        for n in 1...3 {
            let message = try Self.nextMessage(onA)
            #expect(message.data == "\(n)")
            before = message.epoch
            #expect(try Self.nextMessage(onB).data == "\(n)")
        }

        nats.kill()
        #expect(a.waitReady(false) && b.waitReady(false), "readyz says 503 while the backplane is down")
        // Local delivery carries on; the cross-node copy is counted as not forwarded.
        try publisher.publish("rs.t", json: #""during""#)
        #expect(try Self.nextMessage(onB).data == #""during""#)
        #expect((b.metric("bus_backplane_unforwarded_total") ?? 0) >= 1)
        #expect(try HTTPResult(port: b.port, "/healthz").body.contains(#""node":"b","connected":false"#))

        try nats.start()
        #expect(a.waitReady() && b.waitReady(), "both nodes reconnect by themselves")
        try publisher.publish("rs.t", json: #""after""#)
        let after = try Self.nextMessage(onA, timeout: 10)
        #expect(after.data == #""after""#, "the outage's message never reaches A: it is lost, and the epoch says so")
        #expect(after.epoch != before, "a new epoch marks the gap")
        #expect(try Self.nextMessage(onB).data == #""after""#)
        #expect((a.metric("bus_backplane_reconnects_total") ?? 0) >= 1)
        for client in [onA, onB, publisher] { client.close() }
    }

    /// A stream published across an outage: what crossed before and after arrives once, in
    /// order, and the outage shows as an epoch change, never as a silent seq gap.
    @Test func aStreamAcrossAnOutageHasNoDuplicatesAndMarksTheGap() throws {
        let cluster = try TestCluster(nodes: ["a", "b"])
        defer { cluster.stop() }
        let (nats, a, b) = (cluster.nats, cluster.nodes[0], cluster.nodes[1])
        #expect(a.waitReady() && b.waitReady())
        let onA = try BusClient(port: a.port)
        try onA.subscribe("stream.*")
        let publisher = try BusClient(port: b.port)
        for n in 1...50 { try publisher.publish("stream.x", json: "\(n)") }
        var got: [(epoch: String, seq: UInt64, n: Int)] = []
        // Messages still in a socket when NATS dies are lost (documented), so kill it once
        // the first part has crossed.
        func receive(until last: Int) throws {
            while got.last?.n != last {
                let message = try Self.nextMessage(onA, timeout: 10)
                got.append((message.epoch, message.seq, Int(message.data)!))
            }
        }
        try receive(until: 50)
        nats.kill()
        #expect(b.waitReady(false))
        for n in 51...100 { try publisher.publish("stream.x", json: "\(n)") }  // cannot cross
        try nats.start()
        #expect(a.waitReady() && b.waitReady())
        for n in 101...150 { try publisher.publish("stream.x", json: "\(n)") }

        try receive(until: 150)
        #expect(got.map(\.n) == Array(1...50) + Array(101...150))
        #expect(got[49].epoch != got[50].epoch, "the outage is an epoch change")
        for (before, after) in zip(got, got.dropFirst()) where before.epoch == after.epoch {
            #expect(after.seq == before.seq + 1, "no gap or duplicate within an epoch")
        }
        onA.close()
        publisher.close()
    }

    /// Issue 15: a node that dropped its NATS interest (its last subscriber left) never got
    /// what other nodes published meanwhile, so resuming there is not a recovery; while
    /// another local subscriber keeps the interest, it is.
    @Test(arguments: [false, true])
    func aResumeAcrossAnInterestGapIsNotARecovery(interestKept: Bool) throws {
        let cluster = try TestCluster(nodes: ["a", "b"])
        defer { cluster.stop() }
        let (a, b) = (cluster.nodes[0], cluster.nodes[1])
        #expect(a.waitReady() && b.waitReady())
        let keeper = try BusClient(port: a.port)
        if interestKept {
            try keeper.subscribe("gap.>")
        }
        let first = try BusClient(port: a.port)
        let patternAck = try first.resume("gap.>", #""checkpoints":true"#)
        var follower = CursorFollower()
        follower.cursor = try #require(PatternResumeTests.cursor(inAck: patternAck))
        guard case .ack(_, _, _, let epoch?, _, _) = try first.subscribe("gap.lit") else { Issue.record("literal ack"); return }
        let publisher = try BusClient(port: b.port)
        try publisher.publish("gap.lit", json: "1")
        var literalSeq: UInt64 = 0
        while literalSeq == 0 || follower.cursor == "" || !follower.positions.isEmpty {
            let message = try first.next()
            if case .message(_, let messageEpoch, let seq, _) = message {
                #expect(messageEpoch == epoch)
                literalSeq = seq
            }
            follower.take(message)
        }
        first.close()
        Thread.sleep(forTimeInterval: 0.5)  // a's last subscriber left: without the keeper, a sends UNSUB
        try publisher.publish("gap.lit", json: "2")
        Thread.sleep(forTimeInterval: 0.3)
        let second = try BusClient(port: a.port)
        let literal = try second.resume("gap.lit", #""since":{"epoch":"\#(epoch)","seq":\#(literalSeq)}"#)
        let pattern = try second.resume("gap.>", follower.since)
        #expect(literal.contains(#""recovered":\#(interestKept)"#), "\(literal)")
        #expect(pattern.contains(#""recovered":\#(interestKept)"#), "\(pattern)")
    }
}
