import BusProtocol
import NATS
import Topics

/// The process's one NATS connection (cluster mode), owned by loop 0: the socket and the
/// `NATSClient` state machine are touched by that loop only. Other loops reach it through
/// hub messages (`backplaneInterest`, `backplanePublish`).
///
/// - Interest: the SUB set is the union of every loop's subscribed patterns, one SUB per
///   distinct pattern, counted by the loops holding it. A loop's first subscriber to a pattern
///   waits for the SUB to be in effect (SUB, PING, then PONG) before its ack.
/// - Once per node: NATS sends a message once per matching SUB, so overlapping patterns
///   (`a.*` and `a.b`) bring copies; only the copy on the lowest matching sid is taken.
/// - Messages from NATS go to the topic's owner loop like a local publish and are never
///   published to NATS again; `no_echo` keeps our own publishes from coming back.
final class Backplane {
    static let subjects = SubjectMapping()
    /// A slow or stalled NATS server may hold this much of our output before publishes are
    /// counted as not forwarded instead of queued.
    static let maxOutbound = 64 << 20
    static let readBudget = 16

    let status: BackplaneStatus
    private let server: NATSServerURL
    private unowned let loop: EventLoop
    private var client: NATSClient
    private var fd: Int32 = -1
    private var connectPending = false
    private var outbound: [UInt8] = []
    private var writableArmed = false
    private var patterns: [TopicPattern: BackplaneSubscription] = [:]
    private var bySid: [UInt64: BackplaneSubscription] = [:]
    private var byToken: [UInt64: BackplaneSubscription] = [:]
    private let trie = SubscriptionTrie<BackplaneSubscription>()
    /// Loops waiting for a SUB to be confirmed, by the client's token: (loop, hub token).
    private var waiters: [UInt64: [(loop: Int, token: UInt64)]] = [:]
    private var nextToken: UInt64 = 0
    private var warnedUnreachable = false
    private var unforwardedAtLoss: UInt64 = 0
    private var closed = false

    init(loop: EventLoop, status: BackplaneStatus, server: NATSServerURL) {
        self.loop = loop
        self.status = status
        self.server = server
        client = NATSClient(name: status.nodeName)
    }

    private var log: Log { loop.context.log }

    // MARK: interest (from every loop's hub)

    /// A loop's first subscriber to `pattern`: SUB when it is the node's first; `token` is
    /// answered with `interestApplied` once NATS has the SUB.
    func retain(_ pattern: TopicPattern, loop waiter: Int, token: UInt64) {
        if let subscription = patterns[pattern] {
            subscription.loops += 1
            if subscription.confirmed {
                loop.hub.send(.interestApplied(token: token, position: nil, owner: 0, clock: 0), to: waiter)
            } else {
                waiters[subscription.token, default: []].append((waiter, token))
            }
            return
        }
        // Until now other nodes' messages on it did not come here (unless a wider pattern held
        // here brought them): every loop marks the gap, before this SUB's confirmation can
        // ack anyone, so before any resume of it is served.
        let covered = patterns.contains { $0.value.confirmed && pattern.isSubset(of: $0.key) }
        if !covered {
            for target in 0..<loop.context.loopCount { loop.hub.send(.backplaneRegained(pattern), to: target) }
        }
        nextToken += 1
        waiters[nextToken] = [(waiter, token)]
        let (sid, actions) = client.subscribe(Self.subjects.subject(for: pattern.string), token: nextToken)
        let subscription = BackplaneSubscription(sid: sid, token: nextToken)
        patterns[pattern] = subscription
        bySid[sid] = subscription
        byToken[nextToken] = subscription
        trie.insert(subscription, for: pattern)
        status.subscriptions.store(patterns.count, ordering: .relaxed)
        perform(actions)
    }

    /// A loop's last subscriber to `pattern` left: UNSUB when no loop holds it.
    func release(_ pattern: TopicPattern) {
        guard let subscription = patterns[pattern] else { return }
        subscription.loops -= 1
        guard subscription.loops <= 0 else { return }
        patterns[pattern] = nil
        bySid[subscription.sid] = nil
        byToken[subscription.token] = nil
        trie.remove(subscription, for: pattern)
        status.subscriptions.store(patterns.count, ordering: .relaxed)
        perform(client.unsubscribe(sid: subscription.sid))
    }

    // MARK: publishing (from the topics' owner loops)

    /// `PUB`/`HPUB` bytes for a sequenced local publish, built by the owner loop; nil when the
    /// backplane is down or the payload is over the server's `max_payload` (counted either way).
    static func encode(topic: TopicName, kind: PayloadKind, payload: UnsafeRawBufferPointer, status: BackplaneStatus) -> [UInt8]? {
        guard status.forwarding.load(ordering: .relaxed) else {
            status.unforwarded.add(1, ordering: .relaxed)
            return nil
        }
        let size = payload.count + (kind == .binary ? SubjectMapping.binaryHeaderBlock.count : 0)
        let limit = status.serverMaxPayload.load(ordering: .relaxed)
        guard limit == 0 || size <= limit else {
            status.unforwarded.add(1, ordering: .relaxed)
            return nil
        }
        let subject = subjects.subject(for: topic.string)
        switch kind {
        case .json: return NATSEncoder.publish(subject: subject, payload: payload)
        case .binary: return NATSEncoder.publish(subject: subject, headers: [(SubjectMapping.kindHeader, SubjectMapping.binaryKind)], payload: payload)
        }
    }

    /// Queues an encoded publish for this turn's flush.
    func send(publish bytes: [UInt8]) {
        guard client.isConnected, fd >= 0, outbound.count + bytes.count <= Self.maxOutbound else {
            status.unforwarded.add(1, ordering: .relaxed)
            return
        }
        outbound += bytes
        status.messagesOut.add(1, ordering: .relaxed)
        status.bytesOut.add(UInt64(bytes.count), ordering: .relaxed)
    }

    // MARK: the loop's calls

    /// Once per loop turn: reconnects when due, keepalive pings.
    func tick(now: UInt64) {
        guard !closed else { return }
        perform(client.tick(now: now))
    }

    /// Shutdown: leave NATS first, so the other nodes stop sending here.
    func leave() {
        closed = true
        if fd >= 0 {
            flush()
            dropSocket()
        }
        status.connected.store(false, ordering: .relaxed)
        status.forwarding.store(false, ordering: .relaxed)
    }

    func handle(_ flags: UInt32) {
        if connectPending {
            guard flags & (Epoll.writable | Epoll.error | Epoll.hangUp) != 0 else { return }
            let error = Sys.socketError(fd)
            guard error == 0 else { return lost("connect failed: \(Sys.errorText(error))") }
            connectPending = false
            client.socketOpened()
            updateInterest()
            return
        }
        if flags & (Epoll.readable | Epoll.hangUp | Epoll.error | Epoll.peerHangUp) != 0 { readable() }
        if fd >= 0 && flags & Epoll.writable != 0 { flush() }
    }

    /// Writes what this turn queued (called at the end of every turn of loop 0).
    func flush() {
        guard fd >= 0, !connectPending, !outbound.isEmpty else { return }
        let result = outbound.withUnsafeBytes { Sys.send(fd, $0) }
        switch result {
        case .bytes(let n):
            if n == outbound.count { outbound.removeAll(keepingCapacity: outbound.capacity <= 1 << 20) } else { outbound.removeFirst(n) }
        case .wouldBlock:
            break
        case .failed(let code):
            return lost("write failed: \(Sys.errorText(code))")
        case .eof:
            return lost("closed")
        }
        let wantWritable = !outbound.isEmpty
        if wantWritable != writableArmed {
            writableArmed = wantWritable
            updateInterest()
        }
    }

    // MARK: the socket

    private func readable() {
        for _ in 0..<Self.readBudget {
            guard fd >= 0 else { return }
            let buffer = loop.readBuffer
            switch Sys.read(fd, into: buffer) {
            case .bytes(let n):
                perform(client.received(UnsafeRawBufferPointer(rebasing: buffer[0..<n]), now: loop.now))
                if n < buffer.count { return }
            case .wouldBlock:
                return
            case .eof:
                return lost("NATS server closed the connection")
            case .failed(let code):
                return lost("read failed: \(Sys.errorText(code))")
            }
        }
    }

    private func openSocket() {
        let address: SocketAddress
        if let numeric = SocketAddress(numericHost: server.host, port: server.port) {
            address = numeric
        } else if let resolved = try? SocketAddress.resolve(host: server.host, port: server.port) {
            address = resolved
        } else {
            return lost("cannot resolve \(server.host)")
        }
        guard let socket = try? Sys.socket(family: address.family, nonBlocking: true) else { return lost("socket failed") }
        fd = socket
        outbound.removeAll()
        Sys.setNoDelay(fd)
        switch Sys.startConnect(fd, address) {
        case .connected:
            client.socketOpened()
        case .inProgress:
            connectPending = true
        case .failed(let code):
            return lost("connect failed: \(Sys.errorText(code))")
        }
        writableArmed = false
        loop.controlBackplane(fd: fd, op: Epoll.add, events: interestMask)
    }

    private var interestMask: UInt32 {
        Epoll.interest(readable: true, writable: connectPending || writableArmed)
    }

    private func updateInterest() {
        guard fd >= 0 else { return }
        loop.controlBackplane(fd: fd, op: Epoll.modify, events: interestMask)
    }

    private func dropSocket() {
        guard fd >= 0 else { return }
        loop.controlBackplane(fd: fd, op: Epoll.delete, events: 0)
        Sys.close(fd)
        fd = -1
        connectPending = false
        writableArmed = false
        outbound.removeAll()
    }

    /// The connection (or an attempt) ended: local delivery carries on; say so once.
    private func lost(_ reason: String) {
        dropSocket()
        let wasConnected = client.isConnected
        perform(client.socketLost(now: loop.now))
        guard wasConnected else {
            if !warnedUnreachable {
                warnedUnreachable = true
                log.warn("NATS backplane unreachable, retrying with backoff; serving local clients only",
                         [("url", server.description), ("reason", reason)])
            } else {
                log.debug("NATS connect attempt failed", [("reason", reason)])
            }
            return
        }
        status.connected.store(false, ordering: .relaxed)
        status.forwarding.store(false, ordering: .relaxed)
        unforwardedAtLoss = status.unforwarded.load(ordering: .relaxed)
        warnedUnreachable = true
        log.warn("NATS backplane lost: local delivery continues, cross-node messages are lost until it returns; topics with subscribers start a new epoch",
                 [("url", server.description), ("reason", reason)])
        renewEpochs()
    }

    private func perform(_ actions: [NATSClient.Action]) {
        for action in actions {
            switch action {
            case .openSocket:
                openSocket()
            case .send(let bytes):
                // Nothing meant for a connection that just broke may reach the next one.
                if fd >= 0 { outbound += bytes }
            case .closeSocket(let reason):
                lost(reason)
            case .connected(let info):
                connected(info)
            case .subscriptionsRestored:
                status.connected.store(true, ordering: .relaxed)
            case .message(let message):
                publishLocally(message)
            case .confirmed(let tokens):
                for token in tokens {
                    byToken[token]?.confirmed = true
                    for waiter in waiters.removeValue(forKey: token) ?? [] {
                        loop.hub.send(.interestApplied(token: waiter.token, position: nil, owner: 0, clock: 0), to: waiter.loop)
                    }
                }
            case .serverError(let text):
                log.warn("NATS server error", [("error", text)])
            }
        }
    }

    private func connected(_ info: NATSInfo) {
        status.serverMaxPayload.store(info.maxPayload, ordering: .relaxed)
        let effective = min(loop.context.config.maxPayload, info.maxPayload - SubjectMapping.binaryHeaderBlock.count)
        // Streams of topics subscribed before this connection (after an outage, or while the
        // first connect was pending) may have missed other nodes' messages.
        renewEpochs()
        if client.reconnects > 0 {
            status.reconnects.store(UInt64(client.reconnects), ordering: .relaxed)
            let missed = status.unforwarded.load(ordering: .relaxed) - unforwardedAtLoss
            log.info("NATS backplane reconnected; subscriptions restored, topics with subscribers start a new epoch",
                     [("url", server.description), ("not_forwarded_during_outage", String(missed))])
        } else {
            log.info("NATS backplane connected", [("url", server.description), ("node", status.nodeName),
                                                  ("server", info.serverName ?? "?"), ("max_payload", String(info.maxPayload)),
                                                  ("effective_max_payload", String(effective))])
        }
        warnedUnreachable = false
        status.forwarding.store(true, ordering: .relaxed)
    }

    /// Every loop renews the epoch of its topics that have subscribers: their streams missed
    /// whatever other nodes published while the backplane was down.
    private func renewEpochs() {
        // This loop renews at once: a message read right after could otherwise be sequenced
        // before the renewal came round at the end of the turn. Other loops get it ahead of any
        // message this loop forwards them (one FIFO per peer).
        loop.hub.renewEpochsWithSubscribers()
        for target in 0..<loop.context.loopCount where target != loop.index { loop.hub.send(.backplaneEpoch, to: target) }
    }

    /// The topic a message from NATS is for, or nil when its subject is not under our prefix
    /// or not a valid topic. Validated from the subject's bytes like any client's topic: NATS
    /// does not require UTF-8, and a repaired subject would be another topic.
    static func topic(of message: NATSMessage, limits: TopicLimits) -> TopicName? {
        guard let name = subjects.topic(for: message.subjectBytes) else { return nil }
        return try? TopicName(validating: Array(name), limits: limits)
    }

    /// A message from another node: once per node (the lowest matching sid), then to the
    /// topic's owner to be sequenced and fanned out like a local publish.
    private func publishLocally(_ message: NATSMessage) {
        let config = loop.context.config
        guard let topic = Self.topic(of: message, limits: config.topicLimits) else {
            status.rejectedIn.add(1, ordering: .relaxed)
            return
        }
        var lowestConfirmed = UInt64.max
        var lowest = UInt64.max
        for subscription in trie.match(topic) {
            lowest = min(lowest, subscription.sid)
            if subscription.confirmed { lowestConfirmed = min(lowestConfirmed, subscription.sid) }
        }
        guard message.sid == (lowestConfirmed != .max ? lowestConfirmed : lowest) else { return }
        let kind: PayloadKind = SubjectMapping.isBinary(headers: message.headers) ? .binary : .json
        let valid = message.payload.withUnsafeBytes { payload in
            payload.count <= config.maxPayload && (kind == .binary || JSON.validateValue(payload))
        }
        guard valid else {
            status.rejectedIn.add(1, ordering: .relaxed)
            return
        }
        status.messagesIn.add(1, ordering: .relaxed)
        status.bytesIn.add(UInt64(message.payload.count), ordering: .relaxed)
        let origin = PublishOrigin(loop: loop.index, connection: 0, requestID: nil, wantsOutcome: false, arrival: loop.now,
                                   fromBackplane: true)
        message.payload.withUnsafeBytes { loop.hub.publish(topic: topic, kind: kind, payload: $0, origin: origin) }
    }
}

/// One SUB at the NATS server: the pattern's sid and how many loops hold the pattern.
final class BackplaneSubscription: Hashable {
    let sid: UInt64
    /// The client token confirming the SUB.
    let token: UInt64
    var loops = 1
    /// The server has the SUB (its PONG arrived), so messages on it are certain to come.
    var confirmed = false

    init(sid: UInt64, token: UInt64) {
        self.sid = sid
        self.token = token
    }

    static func == (a: BackplaneSubscription, b: BackplaneSubscription) -> Bool { a === b }
    func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}
