/// The client side of one NATS connection as a state machine, without sockets: the runtime
/// tells it what happened (socket open, bytes read, socket lost, time passing) and performs the
/// actions it returns. Time is passed in (monotonic nanoseconds), never read.
///
/// disconnected --tick at retry time--> connecting --socket open--> awaitingInfo
///   --INFO (sends CONNECT, every SUB, PING)--> connected --socket lost--> disconnected (backoff)
///
/// Subscriptions survive reconnects: every SUB is sent again on each new connection. A SUB is
/// confirmed by the `PONG` answering the `PING` sent right after it (the server handles a
/// connection's operations in order), which is when a message published anywhere afterwards
/// is sure to reach us.
public struct NATSClient: Sendable {
    public enum State: Equatable, Sendable {
        case disconnected
        case connecting
        case awaitingInfo
        case connected
    }

    public enum Action: Equatable, Sendable {
        /// Open a TCP connection to the server.
        case openSocket
        /// Write these bytes.
        case send([UInt8])
        /// Drop the socket (then report `socketLost`).
        case closeSocket(reason: String)
        /// The handshake completed (`CONNECT` and every SUB queued; publishing may start).
        case connected(NATSInfo)
        /// The server answered the handshake's `PING`: every SUB is in effect again.
        case subscriptionsRestored
        /// A message on one of our subscriptions: it is published here like a local one.
        case message(NATSMessage)
        /// SUBs with these tokens are in effect at the server (or the connection is down and
        /// they will be sent on reconnect: nobody waits across an outage).
        case confirmed([UInt64])
        /// The server reported an error (it usually closes the connection next).
        case serverError(String)
    }

    public private(set) var state: State = .disconnected
    public let name: String
    /// Subject by sid, for every active subscription (sent again on each reconnect).
    public private(set) var subscriptions: [UInt64: String] = [:]
    /// The server's `max_payload`, from the latest `INFO`.
    public private(set) var maxPayload: Int?
    public private(set) var reconnects = 0
    private var nextSid: UInt64 = 0
    private var parser = NATSParser()
    /// Tokens waiting for each `PING` in flight, oldest first.
    private var pingWaiters: [[UInt64]] = []
    /// Tokens of SUBs made while the handshake is under way: confirmed by the handshake's PING.
    private var handshakeWaiters: [UInt64] = []
    private var backoff: ReconnectBackoff
    private var retryAt: UInt64 = 0
    private var lastPing: UInt64 = 0
    private var everConnected = false
    /// The next `PONG` answers the handshake's `PING`.
    private var awaitingHandshakePong = false
    /// Keepalive: a PING this often while connected; this many unanswered means the server is gone.
    public let pingInterval: UInt64
    public let maxPingsOutstanding: Int
    /// From opening the socket to `INFO`: a server that swallows SYNs or never speaks would
    /// otherwise hold the attempt for minutes of kernel retries.
    public let connectTimeout: UInt64
    private var attemptStarted: UInt64 = 0

    public init(name: String, backoff: ReconnectBackoff = ReconnectBackoff(),
                pingIntervalNanos: UInt64 = 10_000_000_000, maxPingsOutstanding: Int = 3,
                connectTimeoutNanos: UInt64 = 5_000_000_000) {
        self.name = name
        self.backoff = backoff
        pingInterval = pingIntervalNanos
        self.maxPingsOutstanding = maxPingsOutstanding
        connectTimeout = connectTimeoutNanos
    }

    public var isConnected: Bool { state == .connected }

    // MARK: what the runtime reports

    /// Time passed: opens the socket when a (re)connect is due, and keeps the connection alive.
    public mutating func tick(now: UInt64) -> [Action] {
        switch state {
        case .disconnected where now >= retryAt:
            state = .connecting
            attemptStarted = now
            return [.openSocket]
        case .connecting, .awaitingInfo:
            return now >= attemptStarted &+ connectTimeout ? [.closeSocket(reason: "no INFO from the server in time")] : []
        case .connected where now >= lastPing &+ pingInterval:
            if pingWaiters.count >= maxPingsOutstanding { return [.closeSocket(reason: "server stopped answering PING")] }
            lastPing = now
            pingWaiters.append([])
            return [.send(NATSEncoder.ping)]
        default:
            return []
        }
    }

    /// The TCP connection is established: the server speaks first, with `INFO`.
    public mutating func socketOpened() {
        guard state == .connecting else { return }
        state = .awaitingInfo
        parser.reset()
    }

    /// The socket failed or closed (or could not connect): wait, then try again. Waiters are
    /// released at once: their SUBs will be sent on reconnect.
    public mutating func socketLost(now: UInt64) -> [Action] {
        guard state != .disconnected else { return [] }
        state = .disconnected
        awaitingHandshakePong = false
        parser.reset()
        retryAt = now &+ backoff.nextDelay()
        let waiting = pingWaiters.flatMap { $0 } + handshakeWaiters
        pingWaiters.removeAll()
        handshakeWaiters.removeAll()
        return waiting.isEmpty ? [] : [.confirmed(waiting)]
    }

    /// When the next reconnect attempt is due (meaningful while disconnected).
    public var nextAttempt: UInt64 { retryAt }

    public mutating func received(_ bytes: some Sequence<UInt8>, now: UInt64) -> [Action] {
        guard state == .awaitingInfo || state == .connected else { return [] }
        let operations: [NATSOperation]
        do { operations = try parser.feed(bytes) } catch { return [.closeSocket(reason: "protocol error: \(error)")] }
        var actions: [Action] = []
        for operation in operations {
            switch operation {
            case .info(let info):
                maxPayload = info.maxPayload
                parser.maxPayload = info.maxPayload + 4096  // header block slack
                if state == .awaitingInfo { actions += handshake(info, now: now) }
            case .message(let message):
                if subscriptions[message.sid] != nil { actions.append(.message(message)) }
            case .ping:
                actions.append(.send(NATSEncoder.pong))
            case .pong:
                if awaitingHandshakePong {
                    awaitingHandshakePong = false
                    actions.append(.subscriptionsRestored)
                }
                if !pingWaiters.isEmpty {
                    let tokens = pingWaiters.removeFirst()
                    if !tokens.isEmpty { actions.append(.confirmed(tokens)) }
                }
            case .ok:
                break
            case .err(let text):
                actions.append(.serverError(text))
            }
        }
        return actions
    }

    private mutating func handshake(_ info: NATSInfo, now: UInt64) -> [Action] {
        state = .connected
        if everConnected { reconnects += 1 }
        everConnected = true
        backoff.reset()
        var bytes = NATSEncoder.connect(name: name, headers: info.headers)
        for sid in subscriptions.keys.sorted() {
            bytes += NATSEncoder.subscribe(subject: subscriptions[sid]!, sid: sid)
        }
        bytes += NATSEncoder.ping
        lastPing = now
        awaitingHandshakePong = true
        pingWaiters.append(handshakeWaiters)
        handshakeWaiters.removeAll()
        return [.send(bytes), .connected(info)]
    }

    // MARK: what the application asks

    /// Subscribes to `subject`; `token` comes back in `.confirmed` once the server has the SUB
    /// (at once when disconnected, at the end of the handshake when connecting).
    public mutating func subscribe(_ subject: String, token: UInt64) -> (sid: UInt64, actions: [Action]) {
        nextSid += 1
        subscriptions[nextSid] = subject
        switch state {
        case .connected:
            pingWaiters.append([token])
            return (nextSid, [.send(NATSEncoder.subscribe(subject: subject, sid: nextSid) + NATSEncoder.ping)])
        case .connecting, .awaitingInfo:
            handshakeWaiters.append(token)
            return (nextSid, [])
        case .disconnected:
            return (nextSid, [.confirmed([token])])
        }
    }

    public mutating func unsubscribe(sid: UInt64) -> [Action] {
        guard subscriptions.removeValue(forKey: sid) != nil, state == .connected else { return [] }
        return [.send(NATSEncoder.unsubscribe(sid: sid))]
    }
}
