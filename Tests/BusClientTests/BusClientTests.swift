import Auth
import Broker
import BusClient
import Foundation
import Synchronization
import Testing
import TestSupport

/// An in-process server on 127.0.0.1 (a free port), stopped by `stop()`.
final class TestServer {
    let server: BrokerServer
    var port: UInt16 { server.addresses[0].port }
    var url: String { "ws://127.0.0.1:\(port)/bus" }

    init(_ configure: (inout ServerConfig) -> Void = { _ in }) throws {
        var config = ServerConfig()
        config.port = 0
        config.loops = 2
        configure(&config)
        server = try BrokerServer(config: config, log: .silent)
    }

    func stop() { server.shutdown(timeout: 1) }
}

/// A server, a cutting proxy in front of it, a client through the proxy and a publisher
/// straight to the server: the cut-off tests' cast.
struct ProxiedRig {
    let server: TestServer
    let proxy: CuttingProxy
    let bus: BusClient
    let publisher: BusClient

    init(options: BusClient.Options = BusClient.Options(), _ configure: (inout ServerConfig) -> Void = { _ in }) throws {
        server = try TestServer(configure)
        proxy = try CuttingProxy(to: server.port)
        bus = try BusClient(url: "ws://127.0.0.1:\(proxy.port)/bus", options: options)
        publisher = try BusClient(url: server.url)
    }

    func stop() {
        bus.close()
        publisher.close()
        proxy.stop()
        server.stop()
    }
}

/// Reads events until `count` messages arrived (or `timeout`), keeping gaps too.
func collect(_ subscription: Subscription, messages count: Int, timeout: Double = 10) async throws -> [SubscriptionEvent] {
    try await withThrowingTaskGroup(of: [SubscriptionEvent].self) { group in
        group.addTask {
            var events: [SubscriptionEvent] = []
            var messages = 0
            for try await event in subscription {
                events.append(event)
                if case .message = event { messages += 1 }
                if messages >= count { break }
            }
            return events
        }
        group.addTask {
            try await Task.sleep(for: .seconds(timeout))
            throw BusClientError.timedOut
        }
        let events = try await group.next()!
        group.cancelAll()
        return events
    }
}

func messages(_ events: [SubscriptionEvent]) -> [BusMessage] {
    events.compactMap { if case .message(let message) = $0 { message } else { nil } }
}

/// Waits until `bus` is connected.
func connected(_ bus: BusClient, timeout: Double = 10) async -> Bool {
    for await state in bus.stateChanges() where state == .connected { return true }
    return false
}

/// Publishes through a plain client until the subscription sees one, so it is active.
func waitActive(_ publisher: BusClient, _ subscription: Subscription, topic: String) async throws {
    var iterator = subscription.makeAsyncIterator()
    try await publisher.publish(topic, json: #""probe""#)
    _ = try await iterator.next()
}

@Suite(.serialized) struct BusClientTests {
    @Test func subscribesPublishesAndGetsAcks() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let bus = try BusClient(url: server.url)
        defer { bus.close() }
        let literal = try await bus.subscribe("orders.eu")
        let pattern = try await bus.subscribe("orders.>")
        #expect(await connected(bus))
        try await Task.sleep(for: .milliseconds(100))  // both acked
        let ack = try await bus.publish("orders.eu", json: #"{"id":1}"#)
        #expect(ack.topic == "orders.eu" && ack.seq == 1 && ack.subscribers == 2)
        let binary = try await bus.publish("orders.us", binary: [0, 1, 255])
        #expect(binary.seq == 1)
        let fromLiteral = messages(try await collect(literal, messages: 1))
        #expect(fromLiteral.map(\.payload) == [.json(Array(#"{"id":1}"#.utf8))])
        let fromPattern = messages(try await collect(pattern, messages: 2))
        #expect(Set(fromPattern.map(\.topic)) == ["orders.eu", "orders.us"])
        #expect(fromPattern.contains { $0.payload == .binary([0, 1, 255]) })
    }

    @Test func badInputIsRefusedWithTypedErrors() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let bus = try BusClient(url: server.url)
        defer { bus.close() }
        await #expect(throws: BusClientError.invalidJSON) { try await bus.publish("a", json: "{nope") }
        await #expect { try await bus.subscribe("a..b") } throws: { ($0 as? BusClientError).map { if case .refused("invalid_topic", _) = $0 { true } else { false } } ?? false }
        #expect(throws: BusClientError.invalidURL("'http://x' is not a ws:// URL")) { try BusClient(url: "http://x") }
    }

    /// The issue's core: cut off by the network while messages keep coming on a topic and a
    /// pattern; every message exactly once, in order per topic.
    @Test func aCutLosesNothingOnTopicsAndPatterns() async throws {
        let rig = try ProxiedRig()
        defer { rig.stop() }
        let (proxy, bus, publisher) = (rig.proxy, rig.bus, rig.publisher)
        let literal = try await bus.subscribe("feed.one")
        let pattern = try await bus.subscribe("feed.>")
        #expect(await connected(bus))
        try await Task.sleep(for: .milliseconds(200))
        let total = 300
        let publishing = Task {
            for n in 0..<total {
                try await publisher.publish(n % 3 == 0 ? "feed.one" : "feed.t\(n % 5)", json: String(n))
                if n == 100 { proxy.cut() }
                if n == 200 { proxy.cut() }
            }
        }
        try await publishing.value
        let fromLiteral = messages(try await collect(literal, messages: total / 3))
        let fromPattern = messages(try await collect(pattern, messages: total))
        #expect(fromLiteral.map(\.seq) == Array(1...UInt64(total / 3)))
        for topic in Set(fromPattern.map(\.topic)) {
            let seqs = fromPattern.filter { $0.topic == topic }.map(\.seq)
            #expect(seqs == Array(1...UInt64(seqs.count)), "\(topic)")
        }
        #expect(fromPattern.count == total)
    }

    /// A consumer that stops makes the client stop reading; the server drops it (4008); it
    /// resumes and delivers everything history held, and its memory stayed bounded.
    @Test func aStalledConsumerIsDroppedAndResumesWithNothingLost() async throws {
        let server = try TestServer {
            $0.sendQueueMessages = 16
            $0.historyMessages = 5000
            $0.idleTimeout = 1
        }
        defer { server.stop() }
        var options = BusClient.Options()
        options.bufferSize = 8
        options.compression = false  // the flood must fill the socket buffers, not shrink into them
        let bus = try BusClient(url: server.url, options: options)
        defer { bus.close() }
        let publisher = try BusClient(url: server.url)
        defer { publisher.close() }
        let subscription = try await bus.subscribe("flood.>")
        #expect(await connected(bus))
        try await Task.sleep(for: .milliseconds(200))
        let states = Mutex<[ConnectionState]>([])
        let watcher = Task { for await state in bus.stateChanges() { states.withLock { $0.append(state) } } }
        let total = 2000
        let payload = "\"" + String(repeating: "x", count: 2000) + "\""
        for n in 0..<total { try await publisher.publish("flood.a", json: n == 0 ? payload : payload) }
        try await Task.sleep(for: .seconds(2))  // nobody consumes: the server drops the client
        let received = messages(try await collect(subscription, messages: total, timeout: 30))
        watcher.cancel()
        #expect(received.map(\.seq) == Array(1...UInt64(total)))
        #expect(states.withLock { $0.contains { if case .reconnecting = $0 { true } else { false } } }, "it was dropped and came back")
    }

    /// A topic and a pattern on one connection, both dropped by a 4008 and resumed together.
    @Test func aTopicAndAPatternResumeTogetherAfterA4008() async throws {
        let rig = try ProxiedRig {
            $0.sendQueueMessages = 8
            $0.historyMessages = 1000
            $0.idleTimeout = 1
        }
        defer { rig.stop() }
        let (proxy, bus, publisher) = (rig.proxy, rig.bus, rig.publisher)
        let literal = try await bus.subscribe("both.lit")
        let pattern = try await bus.subscribe("both.p.>")
        proxy.hold()
        let big = "\"" + String(repeating: "x", count: 32 << 10) + "\""
        for _ in 0..<200 {
            try await publisher.publish("both.lit", json: big)
            try await publisher.publish("both.p.q", json: big)
        }
        try await Task.sleep(for: .seconds(2.5))  // dropped as stalled
        proxy.release()
        let fromLiteral = messages(try await collect(literal, messages: 200, timeout: 30))
        let fromPattern = messages(try await collect(pattern, messages: 200, timeout: 30))
        #expect(fromLiteral.map(\.seq) == Array(1...200))
        #expect(fromPattern.map(\.seq) == Array(1...200))
    }

    /// A path that dies without a reset (bytes stop, the socket stays up) is noticed by the
    /// silence alone and replaced; nothing published meanwhile is lost. The server's pings
    /// keep a quiet but live connection from being taken for dead.
    @Test func aSilentPathIsTakenForDeadAndReplaced() async throws {
        var options = BusClient.Options()
        options.silenceTimeout = 1.5
        let rig = try ProxiedRig(options: options) { $0.pingInterval = 0.5 }
        defer { rig.stop() }
        let (proxy, bus, publisher) = (rig.proxy, rig.bus, rig.publisher)
        let feed = try await bus.subscribe("quiet.feed")
        // Quiet for three silence limits: the server's pings arrive, the link stays.
        #expect(bus.state == .connected)
        try await Task.sleep(for: .seconds(4.5))
        #expect(bus.state == .connected)
        // The path goes silent: the client drops it by itself and reconnects when it can.
        proxy.hold()
        try await publisher.publish("quiet.feed", json: "1")
        var waited = 0
        while bus.state == .connected && waited < 100 {
            try await Task.sleep(for: .milliseconds(100))
            waited += 1
        }
        guard bus.state != .connected else {
            Issue.record("the silent link was kept for 10 s")
            return
        }
        proxy.cut()  // the held connection goes; new ones pass again
        try await publisher.publish("quiet.feed", json: "2")
        let received = messages(try await collect(feed, messages: 2))
        #expect(received.map(\.seq) == [1, 2])
    }

    @Test func historyTooShortIsAGapThatNamesWhatWasLost() async throws {
        let rig = try ProxiedRig { $0.historyMessages = 2 }
        defer { rig.stop() }
        let (proxy, bus, publisher) = (rig.proxy, rig.bus, rig.publisher)
        let literal = try await bus.subscribe("short.a")
        let pattern = try await bus.subscribe("short.>")
        #expect(await connected(bus))
        try await Task.sleep(for: .milliseconds(200))
        try await publisher.publish("short.a", json: "1")
        _ = try await collect(literal, messages: 1)
        _ = try await collect(pattern, messages: 1)
        try await Task.sleep(for: .milliseconds(100))
        proxy.hold()
        for n in 2...6 { try await publisher.publish("short.a", json: String(n)) }
        proxy.cut()
        let literalEvents = try await collect(literal, messages: 2)
        let patternEvents = try await collect(pattern, messages: 2)
        for events in [literalEvents, patternEvents] {
            guard case .gap(let gap) = events.first else { Issue.record("no gap first: \(events.map { "\($0)".prefix(200) })"); continue }
            #expect(gap.cause == .historyIncomplete)
            #expect(gap.lost.map(\.topic) == ["short.a"])
            #expect(gap.lost.first?.earliest?.seq == 5)
            #expect(messages(events).map(\.seq) == [5, 6])
        }
    }

    /// A publish whose link dies before its ack is reported as such and never sent again.
    @Test func aPublishInFlightWhenTheLinkDropsHasAnUnknownOutcome() async throws {
        let rig = try ProxiedRig()
        defer { rig.stop() }
        let (proxy, bus) = (rig.proxy, rig.bus)
        #expect(await connected(bus))
        proxy.hold()
        let outcome = Task { try await bus.publish("once", json: "1") }
        try await Task.sleep(for: .milliseconds(200))
        proxy.cut()
        await #expect(throws: BusClientError.unknownOutcome) { try await outcome.value }
        // Not resent after the reconnection: the topic never got a message.
        #expect(await connected(bus))
        let next = try await bus.publish("once", json: "2")
        #expect(next.seq == 1)
    }

    /// Publishes made while the client is away wait for the connection (bounded by the timeout).
    @Test func publishesWhileReconnectingWaitForTheConnection() async throws {
        let rig = try ProxiedRig()
        defer { rig.stop() }
        let (proxy, bus) = (rig.proxy, rig.bus)
        #expect(await connected(bus))
        proxy.cut()
        try await Task.sleep(for: .milliseconds(50))
        let ack = try await bus.publish("later", json: "1")
        #expect(ack.seq == 1)
    }

    @Test func anExpiredTokenIsRefreshedOn1008And401() async throws {
        let secret = "a secret of at least thirty-two bytes!!"
        let server = try TestServer { $0.auth.jwtSecret = secret; $0.auth.leeway = 0 }
        defer { server.stop() }
        @Sendable func token(expiresIn seconds: Int) -> String {
            let exp = Int(Date().timeIntervalSince1970) + seconds
            return JWTSigner.sign(claims: #"{"sub":"t","exp":\#(exp),"bus":{"pub":[">"],"sub":[">"]}}"#, secret: Array(secret.utf8))
        }
        let asked = Atomic<Int>(0)
        var options = BusClient.Options(token: token(expiresIn: 2))
        options.tokenProvider = {
            asked.add(1, ordering: .relaxed)
            return token(expiresIn: 600)
        }
        let bus = try BusClient(url: server.url, options: options)
        defer { bus.close() }
        let subscription = try await bus.subscribe("secure.a")
        #expect(await connected(bus))
        try await Task.sleep(for: .seconds(3.5))  // the first token expires: 1008, then a fresh one
        let publisher = try BusClient(url: server.url, options: BusClient.Options(token: token(expiresIn: 600)))
        defer { publisher.close() }
        try await publisher.publish("secure.a", json: "1")
        #expect(messages(try await collect(subscription, messages: 1)).map(\.seq) == [1])
        #expect(asked.load(ordering: .relaxed) >= 1)

        // An expired token at connect time (401) asks once, then connects.
        asked.store(0, ordering: .relaxed)
        var late = BusClient.Options(token: token(expiresIn: -100))
        late.tokenProvider = options.tokenProvider
        let again = try BusClient(url: server.url, options: late)
        defer { again.close() }
        #expect(await connected(again))
        #expect(asked.load(ordering: .relaxed) == 1)
    }

    @Test func a401WithoutATokenProviderEndsTheClient() async throws {
        let server = try TestServer { $0.auth.jwtSecret = "a secret of at least thirty-two bytes!!" }
        defer { server.stop() }
        let bus = try BusClient(url: server.url)
        await #expect(throws: BusClientError.connectionRefused(status: 401, reason: "Unauthorized")) {
            _ = try await bus.subscribe("x")
        }
        #expect(bus.state == .closed)
    }
}

@Suite struct BusClientQuickStartTests {
    /// The README's flow: subscribe, publish at once, read back. With one loop a publish right
    /// behind an unacked subscribe was sequenced before the subscription was in place.
    @Test(arguments: [1, 2]) func subscribeThenPublishAtOnceReadsItBack(loops: Int) async throws {
        let server = try TestServer { $0.loops = loops }
        defer { server.stop() }
        let bus = try BusClient(url: server.url)
        defer { bus.close() }
        let readings = try await bus.subscribe("sensors.>")
        let reader = Task {
            var seen: [String] = []
            for try await event in readings {
                if case .message(let message) = event { seen.append(message.topic) }
                if seen.count == 3 { break }
            }
            return seen
        }
        for n in 1...3 { try await bus.publish("sensors.room\(n)", json: "\(n)") }
        #expect(Set(try await reader.value) == ["sensors.room1", "sensors.room2", "sensors.room3"])
    }
}

@Suite struct BusClientCodableTests {
    struct Reading: Codable, Equatable {
        let room: String
        let celsius: Double
    }

    @Test func encodablesArePublishedAsJSONAndDecodeBack() async throws {
        let server = try TestServer()
        defer { server.stop() }
        let bus = try BusClient(url: server.url)
        defer { bus.close() }
        let readings = try await bus.subscribe("readings.>")
        let ack = try await bus.publish("readings.kitchen", value: Reading(room: "kitchen", celsius: 21.5))
        #expect(ack.seq == 1)
        let received = messages(try await collect(readings, messages: 1))
        #expect(try received.first?.decode(Reading.self) == Reading(room: "kitchen", celsius: 21.5))
    }
}
