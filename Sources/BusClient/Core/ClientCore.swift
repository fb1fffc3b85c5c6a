import BusProtocol
import Frames
import Synchronization
import Topics

/// The client's engine, on its own I/O thread: the connection, its reconnections, the
/// subscriptions' resume state and the publishes waiting for their acks. Other threads talk
/// to it only through `send(_:)` (a locked command list and a wake-up pipe); everything else
/// here is touched by the I/O thread alone.
final class ClientCore: @unchecked Sendable {
    let url: WebSocketURL
    let options: BusClient.Options
    let wake = WakePipe()

    enum Command: Sendable {
        case subscribe(id: Int, tracker: ResumeTracker, channel: EventChannel)
        case unsubscribe(id: Int)
        case publish(PendingPublish)
        case token(String?)
        case close
    }

    private struct Shared {
        var commands: [Command] = []
        var state = ConnectionState.connecting
        var observers: [Int: AsyncStream<ConnectionState>.Continuation] = [:]
        var nextObserver = 0
        var closed = false
    }

    private let shared = Mutex(Shared())
    private let finished = Atomic<Bool>(false)

    // MARK: I/O thread state
    private var link: WebSocketLink?
    private var subscriptions: [Int: ActiveSubscription] = [:]
    private var waiting: [PendingPublish] = []
    private var inFlight: [String: PendingPublish] = [:]
    private var policy = ReconnectPolicy()
    private var nextAttempt = 0.0
    private var attempts = 0
    private var token: String?
    private var awaitingToken = false
    private var triedFreshToken = false
    private var stoppedWith: BusClientError?
    /// When the link last brought any bytes, and how long it may stay silent (see
    /// `Options.silenceTimeout`): the server pings quiet connections, so longer means dead.
    private var lastHeard = 0.0
    private var silenceLimit = ClientCore.silenceBeforeWelcome
    static let silenceBeforeWelcome = 60.0

    private struct ActiveSubscription {
        var tracker: ResumeTracker
        let channel: EventChannel
        /// A resume was asked for and not acked yet: messages another subscription brings in
        /// meanwhile are left to this one's replay, which follows its ack (and its gap notice).
        var awaitingResume = false
    }

    /// Sends the subscription's (resuming) subscribe.
    private func subscribe(_ id: Int, on link: WebSocketLink) {
        guard var subscription = subscriptions[id] else { return }
        subscription.awaitingResume = subscription.tracker.resumes
        subscriptions[id] = subscription
        link.queue(.text, subscription.tracker.request(id: "s\(id)"))
    }

    init(url: WebSocketURL, options: BusClient.Options) {
        self.url = url
        self.options = options
        token = options.token
    }

    func start() { startThread { [self] in run() } }

    /// From any thread.
    func send(_ command: Command) {
        let accepted = shared.withLock { shared -> Bool in
            guard !shared.closed else { return false }
            if case .close = command { shared.closed = true }
            shared.commands.append(command)
            return true
        }
        if accepted { wake.wake() } else { refuse(command) }
    }

    var state: ConnectionState { shared.withLock { $0.state } }

    func stateChanges() -> AsyncStream<ConnectionState> {
        AsyncStream { continuation in
            let id = shared.withLock { shared -> Int? in
                continuation.yield(shared.state)
                guard shared.state != .closed else { return nil }
                shared.nextObserver += 1
                shared.observers[shared.nextObserver] = continuation
                return shared.nextObserver
            }
            guard let id else { return continuation.finish() }
            continuation.onTermination = { [weak self] _ in self?.shared.withLock { _ = $0.observers.removeValue(forKey: id) } }
        }
    }

    /// A command after close: answered at once.
    private func refuse(_ command: Command) {
        switch command {
        case .subscribe(_, _, let channel): channel.finish(.closed)
        case .publish(let publish): publish.complete(.failure(.closed))
        default: break
        }
    }

    private func setState(_ state: ConnectionState) {
        let observers = shared.withLock { shared -> [AsyncStream<ConnectionState>.Continuation] in
            guard shared.state != state else { return [] }
            shared.state = state
            let list = Array(shared.observers.values)
            if state == .closed { shared.observers = [:] }
            return list
        }
        for observer in observers {
            observer.yield(state)
            if state == .closed { observer.finish() }
        }
    }

    static func now() -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private static let start = ContinuousClock.now

    // MARK: the loop

    private func run() {
        while true {
            let commands = shared.withLock { shared -> [Command] in
                defer { shared.commands.removeAll() }
                return shared.commands
            }
            for command in commands where handle(command) == false { return shutDown() }
            let now = Self.now()
            expirePublishes(now)
            guard stoppedWith == nil else {
                _ = pollSocket(nil, reading: false, writing: false, wake: wake, timeout: 3600)
                continue
            }
            guard let link else {
                if awaitingToken || now < nextAttempt {
                    _ = pollSocket(nil, reading: false, writing: false, wake: wake, timeout: min(nextDeadline(now), max(0, nextAttempt - now)))
                    continue
                }
                connect()
                continue
            }
            let paused = subscriptions.values.contains { $0.channel.isFull }
            let watched = paused && !link.hasOutbound ? nil : link.socket
            // While paused (a full subscription buffer) the client is not reading: silence is its own.
            if !paused && Self.now() - lastHeard > silenceLimit {
                drop(cause: .dropped, why: "nothing from the server for \(Int(silenceLimit)) s")
                continue
            }
            let ready = pollSocket(watched, reading: !paused, writing: link.hasOutbound, wake: wake, timeout: nextDeadline(now))
            do {
                if link.hasOutbound { try link.flush() }
                if ready.readable || (ready.hungUp && !paused) {
                    let incoming = try link.read()
                    lastHeard = Self.now()
                    for message in incoming { receive(message) }
                } else if paused {
                    lastHeard = Self.now()
                } else if ready.hungUp {
                    throw WebSocketLink.Failure.socket(.closed)
                }
                if self.link != nil && link.hasOutbound { try link.flush() }
            } catch {
                if self.link === link { drop(cause: .dropped) }
            }
        }
    }

    /// Applies one command; false for close.
    private func handle(_ command: Command) -> Bool {
        switch command {
        case .subscribe(let id, let tracker, let channel):
            guard stoppedWith == nil else {
                channel.finish(stoppedWith)
                return true
            }
            subscriptions[id] = ActiveSubscription(tracker: tracker, channel: channel)
            if let link { subscribe(id, on: link) }
        case .unsubscribe(let id):
            guard let subscription = subscriptions.removeValue(forKey: id) else { return true }
            subscription.channel.finish()
            // Another subscription to the same pattern keeps it on the server.
            if !subscriptions.values.contains(where: { $0.tracker.pattern == subscription.tracker.pattern }) {
                link?.queue(.text, ClientEnvelope.unsubscribe(topic: subscription.tracker.pattern.string, id: nil))
            }
        case .publish(let publish):
            if let stoppedWith { publish.complete(.failure(stoppedWith)) } else if let link {
                send(publish, on: link)
            } else if waiting.count >= options.maxPendingPublishes {
                publish.complete(.failure(.tooManyPending))
            } else {
                waiting.append(publish)
            }
        case .token(let fresh):
            awaitingToken = false
            if let fresh { token = fresh } else { stop(.connectionRefused(status: 401, reason: "no token")) }
        case .close:
            return false
        }
        return true
    }

    private func send(_ publish: PendingPublish, on link: WebSocketLink) {
        link.queue(publish.opcode, publish.frame)
        inFlight[publish.idToken] = publish
    }

    // MARK: connecting

    private func connect() {
        attempts += 1
        setState(attempts == 1 ? .connecting : .connecting)
        var headers: [(String, String)] = []
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        do {
            let link = try WebSocketLink.open(url, headers: headers, maxMessageSize: options.maxMessageSize, timeout: options.connectTimeout,
                                              compression: options.compression)
            self.link = link
            lastHeard = Self.now()
            silenceLimit = options.silenceTimeout ?? Self.silenceBeforeWelcome
            triedFreshToken = false
            policy.connected(at: Self.now())
            setState(.connected)
            for id in subscriptions.keys.sorted() { subscribe(id, on: link) }
            let queued = waiting
            waiting = []
            for publish in queued { send(publish, on: link) }
        } catch .socket(let failure) where !options.reconnect {
            stop(connectionError(failure))
        } catch .refused(let status, let reason, let retryAfter) where options.reconnect || status == 401 {
            switch status {
            case 401:
                if options.tokenProvider != nil && !triedFreshToken { return askForToken() }
                stop(.connectionRefused(status: status, reason: reason))
            case 429, 503: schedule(.overloaded(retryAfter: retryAfter))
            case 400, 403, 404: stop(.connectionRefused(status: status, reason: reason))
            default: schedule(.dropped)
            }
        } catch .refused(let status, let reason, _) {
            stop(.connectionRefused(status: status, reason: reason))
        } catch {
            if options.reconnect { schedule(.dropped) } else { stop(.connectionLost("handshake failed: \(error)")) }
        }
    }

    private func connectionError(_ failure: ClientSocket.Failure) -> BusClientError {
        let shownHost = url.host.contains(":") ? "[\(url.host)]" : url.host
        switch failure {
        case .cannotResolve(let reason): return .cannotResolve(host: url.host, reason: reason)
        case .cannotConnect(let code):
            let text = ClientSocket.errorText(code)
            return .cannotConnect(address: "\(shownHost):\(url.port)", reason: text.prefix(1).lowercased() + text.dropFirst(),
                                  refused: code == ClientSocket.connectionRefused)
        case .closed: return .connectionLost("connection closed")
        }
    }

    /// Asks the application for a fresh token (off this thread); reconnects when it answers.
    private func askForToken() {
        guard let provider = options.tokenProvider else { return }
        triedFreshToken = true
        awaitingToken = true
        Task { [weak self] in
            let fresh = await provider()
            self?.send(.token(fresh))
        }
    }

    private func schedule(_ cause: ReconnectPolicy.Cause) {
        let now = Self.now()
        let delay = policy.delay(after: cause, at: now) { Double.random(in: 0..<1) }
        nextAttempt = now + delay
        setState(.reconnecting(attempt: policy.attempt, delay: delay))
    }

    /// The link is gone: what was sent and not acked has an unknown outcome.
    private func drop(cause: ReconnectPolicy.Cause, why: String = "connection closed") {
        link?.close()
        link = nil
        for publish in inFlight.values { publish.complete(.failure(.unknownOutcome)) }
        inFlight = [:]
        if options.reconnect { schedule(cause) } else { stop(.connectionLost(why)) }
    }

    /// For good: every subscription and publish ends with `error`.
    private func stop(_ error: BusClientError) {
        stoppedWith = error
        link?.close()
        link = nil
        setState(.closed)
        for subscription in subscriptions.values { subscription.channel.finish(error) }
        subscriptions = [:]
        for publish in waiting + Array(inFlight.values) { publish.complete(.failure(error)) }
        waiting = []
        inFlight = [:]
    }

    private func shutDown() {
        if let link {
            link.queue(.close, FrameEncoder.closePayload(code: .normalClosure, reason: ""))
            try? link.flush()
            link.close()
        }
        link = nil
        for subscription in subscriptions.values { subscription.channel.finish() }
        subscriptions = [:]
        let pending = waiting + Array(inFlight.values)
        waiting = []
        inFlight = [:]
        for publish in pending { publish.complete(.failure(.closed)) }
        for command in shared.withLock({ $0.commands }) { refuse(command) }
        setState(.closed)
        finished.store(true, ordering: .releasing)
    }

    // MARK: publish timeouts

    private func expirePublishes(_ now: Double) {
        waiting.removeAll { publish in
            guard publish.deadline <= now else { return false }
            publish.complete(.failure(.timedOut))
            return true
        }
        for (id, publish) in inFlight where publish.deadline <= now {
            inFlight[id] = nil
            publish.complete(.failure(.timedOut))
        }
    }

    private func nextDeadline(_ now: Double) -> Double {
        let deadlines = waiting.map(\.deadline) + inFlight.values.map(\.deadline)
        return max(0.001, min(deadlines.min().map { $0 - now } ?? 1, 1, silenceLimit))
    }

    // MARK: receiving

    private func receive(_ incoming: WebSocketLink.Incoming) {
        switch incoming {
        case .text(let bytes):
            guard let message = bytes.withUnsafeBytes({ ServerMessage.parse($0) }) else { return }
            receive(message, raw: bytes)
        case .binary(let bytes):
            guard let decoded = bytes.withUnsafeBytes({ BinaryLayout.parseMessage($0) }) else { return }
            deliver(BusMessage(topic: decoded.topic, epoch: decoded.epoch, seq: decoded.seq, payload: .binary(Array(bytes[decoded.payload]))))
        case .close(let code, let reason):
            let why = "server closed the connection (\(code.map(String.init) ?? "no code")\(reason.isEmpty ? "" : ": \(reason)"))"
            guard options.reconnect else { return drop(cause: .dropped, why: why) }
            switch code {
            case 4008: drop(cause: .slowConsumer)
            case 1013: drop(cause: .overloaded(retryAfter: nil))
            case 1008 where reason.contains("expired") && options.tokenProvider != nil:
                drop(cause: .slowConsumer)  // at once, with a fresh token
                triedFreshToken = false
                askForToken()
            default: drop(cause: .dropped)
            }
        }
    }

    private func receive(_ message: ServerMessage, raw: [UInt8]) {
        switch message {
        case .welcome(let fields):
            if options.silenceTimeout == nil, let interval = fields["ping_interval"].flatMap(Double.init), interval > 0, interval < 86_400 {
                silenceLimit = interval + 10
            }
        case .message(let topic, let epoch, let seq, let data):
            deliver(BusMessage(topic: topic, epoch: epoch, seq: seq, payload: .json(data)))
        case .ack(let id?, "publish", let topic, let epoch?, let seq?, let subscribers):
            inFlight.removeValue(forKey: id)?.complete(.success(PublishAck(topic: topic, epoch: epoch, seq: seq, subscribers: subscribers ?? 0)))
        case .ack(let id?, "subscribe", _, let epoch, let seq, _):
            guard let subscriptionID = Self.subscriptionID(id), var subscription = subscriptions[subscriptionID],
                  let outcome = raw.withUnsafeBytes({ ResumeOutcome.parse($0) }) else { return }
            subscription.awaitingResume = false
            subscription.channel.activated()
            if let cursor = outcome.cursor { subscription.tracker.follow(cursor: cursor, checkpoint: false) }
            if let epoch, let seq, outcome.recovered == nil { subscription.tracker.started(epoch: epoch, seq: seq) }
            subscriptions[subscriptionID] = subscription
            if outcome.recovered == false { subscription.channel.push(.gap(Self.gap(outcome, topic: subscription.tracker.pattern))) }
        case .checkpoint(let pattern, let cursor):
            for (id, var subscription) in subscriptions where subscription.tracker.pattern.string == pattern {
                subscription.tracker.follow(cursor: cursor, checkpoint: true)
                subscriptions[id] = subscription
            }
        case .error(let code, let text, let id?, _, _):
            if let publish = inFlight.removeValue(forKey: id) {
                publish.complete(.failure(.refused(code: code, message: text)))
            } else if let subscriptionID = Self.subscriptionID(id), let subscription = subscriptions.removeValue(forKey: subscriptionID) {
                subscription.channel.finish(.refused(code: code, message: text))
            }
        default:
            break
        }
    }

    /// Hands a message to every subscription it matches, each checking it is new.
    private func deliver(_ message: BusMessage) {
        guard let topic = try? TopicName(message.topic) else { return }
        for (id, var subscription) in subscriptions where !subscription.awaitingResume && subscription.tracker.pattern.matches(topic) {
            let verdict = subscription.tracker.accept(topic: message.topic, epoch: message.epoch, seq: message.seq)
            subscriptions[id] = subscription
            switch verdict {
            case .duplicate: continue
            case .deliverAfterEpochChange:
                subscription.channel.push(.gap(BusGap(cause: .epochChanged, lost: [BusGap.LostTopic(topic: message.topic, earliest: (message.epoch, message.seq))])))
            case .deliver: break
            }
            subscription.channel.push(.message(message))
        }
    }

    private static func gap(_ outcome: ResumeOutcome, topic pattern: TopicPattern) -> BusGap {
        var lost = outcome.lost.map { BusGap.LostTopic(topic: $0.topic, earliest: $0.earliest.map { ($0.epoch, $0.seq) }) }
        if let literal = pattern.literal, lost.isEmpty {
            lost = [BusGap.LostTopic(topic: literal.string, earliest: outcome.earliest.map { ($0.epoch, $0.seq) })]
        }
        return BusGap(cause: .historyIncomplete, lost: lost)
    }

    /// `"s12"` → 12.
    private static func subscriptionID(_ token: String) -> Int? {
        guard token.hasPrefix("\"s"), token.hasSuffix("\"") else { return nil }
        return Int(token.dropFirst(2).dropLast())
    }
}

/// A publish waiting to be sent or acked.
struct PendingPublish: Sendable {
    let opcode: Opcode
    let frame: [UInt8]
    /// The id as the ack echoes it: a JSON string token.
    let idToken: String
    let deadline: Double
    let continuation: CheckedContinuation<Result<PublishAck, BusClientError>, Never>

    func complete(_ result: Result<PublishAck, BusClientError>) { continuation.resume(returning: result) }
}
