import NATS
import Testing

/// The client state machine driven by hand: time and randomness are injected, so every
/// transition and delay is exact.
struct NATSClientTests {
    static let info = Array("INFO {\"max_payload\":1024,\"headers\":true}\r\n".utf8)

    func makeClient() -> NATSClient {
        NATSClient(name: "n1", backoff: ReconnectBackoff(baseNanos: 100, capNanos: 800, random: { 0.0 }),
                   pingIntervalNanos: 1_000, maxPingsOutstanding: 2)
    }

    func sent(_ actions: [NATSClient.Action]) -> String {
        actions.compactMap { if case .send(let bytes) = $0 { String(decoding: bytes, as: UTF8.self) } else { nil } }.joined()
    }

    /// Connects a fresh client through INFO and returns it with the handshake's actions.
    func connected(_ client: inout NATSClient) -> [NATSClient.Action] {
        #expect(client.tick(now: 0) == [.openSocket])
        client.socketOpened()
        #expect(client.state == .awaitingInfo)
        return client.received(Self.info, now: 0)
    }

    @Test func handshakeSendsConnectThenPingAndLearnsMaxPayload() {
        var client = makeClient()
        let actions = connected(&client)
        #expect(client.state == .connected)
        #expect(client.maxPayload == 1024)
        let text = sent(actions)
        #expect(text.hasPrefix("CONNECT {") && text.hasSuffix("PING\r\n"))
        #expect(actions.contains(.connected(NATSInfo(maxPayload: 1024, headers: true, serverName: nil))))
    }

    @Test func subscribeIsConfirmedByThePongAfterIt() {
        var client = makeClient()
        _ = connected(&client)
        #expect(client.received(Array("PONG\r\n".utf8), now: 0) == [.subscriptionsRestored])  // the handshake's PING
        let (sid, actions) = client.subscribe("bus.a.*", token: 42)
        #expect(sent(actions) == "SUB bus.a.* \(sid)\r\nPING\r\n")
        #expect(client.received(Array("PONG\r\n".utf8), now: 0) == [.confirmed([42])])
    }

    @Test func subscribeWhileConnectingIsConfirmedByTheHandshake() {
        var client = makeClient()
        #expect(client.tick(now: 0) == [.openSocket])
        let (sid, actions) = client.subscribe("bus.x", token: 7)
        #expect(actions == [])
        client.socketOpened()
        let handshake = client.received(Self.info, now: 0)
        #expect(sent(handshake).contains("SUB bus.x \(sid)\r\nPING\r\n"))
        #expect(client.received(Array("PONG\r\n".utf8), now: 0) == [.subscriptionsRestored, .confirmed([7])])
    }

    @Test func subscribeWhileDisconnectedIsConfirmedAtOnceAndSentOnReconnect() {
        var client = makeClient()
        _ = connected(&client)
        _ = client.socketLost(now: 10)
        let (sid, actions) = client.subscribe("bus.y", token: 9)
        #expect(actions == [.confirmed([9])])
        #expect(client.tick(now: 10 + 100) == [.openSocket])
        client.socketOpened()
        #expect(sent(client.received(Self.info, now: 110)).contains("SUB bus.y \(sid)\r\n"))
        #expect(client.reconnects == 1)
    }

    @Test func lostConnectionReleasesWaitersAndResubscribesEverything() {
        var client = makeClient()
        _ = connected(&client)
        let (a, _) = client.subscribe("bus.a", token: 1)
        let (b, _) = client.subscribe("bus.b.>", token: 2)
        #expect(client.socketLost(now: 5) == [.confirmed([1, 2])])
        #expect(client.tick(now: 5 + 49) == [])
        #expect(client.tick(now: 5 + 50) == [.openSocket])
        client.socketOpened()
        let text = sent(client.received(Self.info, now: 200))
        #expect(text.contains("SUB bus.a \(a)\r\nSUB bus.b.> \(b)\r\nPING\r\n"))
    }

    @Test func unsubscribeSendsUnsubAndLaterMessagesOnTheSidAreIgnored() {
        var client = makeClient()
        _ = connected(&client)
        let (sid, _) = client.subscribe("bus.a", token: 1)
        #expect(sent(client.unsubscribe(sid: sid)) == "UNSUB \(sid)\r\n")
        #expect(client.received(Array("MSG bus.a \(sid) 1\r\nx\r\n".utf8), now: 0) == [])
    }

    @Test func deliversMessagesAndAnswersServerPings() {
        var client = makeClient()
        _ = connected(&client)
        let (sid, _) = client.subscribe("bus.a", token: 1)
        let actions = client.received(Array("PING\r\nMSG bus.a \(sid) 2\r\nhi\r\n".utf8), now: 0)
        #expect(actions == [.send(NATSEncoder.pong), .message(NATSMessage(subject: "bus.a", sid: sid, payload: Array("hi".utf8)))])
    }

    @Test func malformedInputClosesTheSocket() {
        var client = makeClient()
        _ = connected(&client)
        let actions = client.received(Array("BOGUS\r\n".utf8), now: 0)
        guard case .closeSocket = actions.first else { Issue.record("expected closeSocket, got \(actions)"); return }
    }

    @Test func keepalivePingsAndGivesUpOnASilentServer() {
        var client = makeClient()
        _ = connected(&client)  // one PING outstanding (handshake)
        #expect(client.tick(now: 1_000) == [.send(NATSEncoder.ping)])
        guard case .closeSocket = client.tick(now: 2_000).first else { Issue.record("expected closeSocket"); return }
    }

    @Test func anAttemptWithoutINFOTimesOutAndRetriesLater() {
        var client = NATSClient(name: "n", backoff: ReconnectBackoff(baseNanos: 100, capNanos: 800, random: { 0.0 }),
                                connectTimeoutNanos: 1_000)
        #expect(client.tick(now: 0) == [.openSocket])
        #expect(client.tick(now: 999) == [])
        client.socketOpened()  // TCP up, but the server never speaks
        guard case .closeSocket = client.tick(now: 1_000).first else { Issue.record("expected closeSocket"); return }
        _ = client.socketLost(now: 1_000)
        #expect(client.state == .disconnected)
        #expect(client.tick(now: 1_050) == [.openSocket])
    }

    @Test func backoffDoublesToTheCapWithJitterAndResets() {
        var backoff = ReconnectBackoff(baseNanos: 100, capNanos: 400, random: { 0.0 })
        #expect([backoff.nextDelay(), backoff.nextDelay(), backoff.nextDelay(), backoff.nextDelay()] == [50, 100, 200, 200])
        backoff.reset()
        #expect(backoff.nextDelay() == 50)
        var top = ReconnectBackoff(baseNanos: 100, capNanos: 400, random: { 0.5 })
        #expect(top.nextDelay() == 75)
    }
}
