import Synchronization

/// The events of one subscription, in order, as an `AsyncSequence`. Its buffer is bounded:
/// while it is full the client stops reading the connection, so a consumer that stops makes
/// the server drop the connection as a slow consumer (4008) and the client resume — memory
/// never grows without bound. Ends when the subscription or the client ends; throws if the
/// server refused the subscription.
public struct Subscription: AsyncSequence, Sendable {
    public typealias Element = SubscriptionEvent
    public typealias Failure = BusClientError

    /// The pattern (or topic) subscribed to.
    public let pattern: String
    let id: Int
    let channel: EventChannel

    public func makeAsyncIterator() -> Iterator { Iterator(channel: channel) }

    public struct Iterator: AsyncIteratorProtocol {
        let channel: EventChannel
        public mutating func next() async throws(BusClientError) -> SubscriptionEvent? { try await channel.next() }
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(BusClientError) -> SubscriptionEvent? {
            try await channel.next()
        }
    }
}

/// A bounded queue from the I/O thread to one consumer. Messages count against `capacity`;
/// gap notices do not (they are few, and must never be dropped).
final class EventChannel: Sendable {
    private struct State {
        var events: [SubscriptionEvent] = []
        var head = 0
        var messages = 0
        var waiter: CheckedContinuation<Result<SubscriptionEvent?, BusClientError>, Never>?
        var end: BusClientError??
        /// Acked by the server once (nil: not yet), and who waits for that.
        var active: Result<Void, BusClientError>?
        var activation: CheckedContinuation<Result<Void, BusClientError>, Never>?
    }

    private let state = Mutex(State())
    let capacity: Int
    /// Told when a full channel has room again (the I/O thread reads again).
    private let wake: WakePipe

    init(capacity: Int, wake: WakePipe) {
        self.capacity = max(1, capacity)
        self.wake = wake
    }

    var isFull: Bool { state.withLock { $0.messages >= capacity } }

    /// From the I/O thread.
    func push(_ event: SubscriptionEvent) {
        let waiter = state.withLock { state -> CheckedContinuation<Result<SubscriptionEvent?, BusClientError>, Never>? in
            guard state.end == nil else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.events.append(event)
            if case .message = event { state.messages += 1 }
            return nil
        }
        waiter?.resume(returning: .success(event))
    }

    /// The server acknowledged the subscription (the first time counts).
    func activated() { settleActivation(.success(())) }

    /// Until the first ack, or the refusal or end that came instead.
    func waitActive() async throws(BusClientError) {
        let result: Result<Void, BusClientError> = await withCheckedContinuation { continuation in
            let known = state.withLock { state -> Result<Void, BusClientError>? in
                if let active = state.active { return active }
                state.activation = continuation
                return nil
            }
            if let known { continuation.resume(returning: known) }
        }
        try result.get()
    }

    private func settleActivation(_ result: Result<Void, BusClientError>) {
        let waiter = state.withLock { state -> CheckedContinuation<Result<Void, BusClientError>, Never>? in
            guard state.active == nil else { return nil }
            state.active = result
            defer { state.activation = nil }
            return state.activation
        }
        waiter?.resume(returning: result)
    }

    /// Ends the sequence after what is queued: normally (nil) or with an error.
    func finish(_ error: BusClientError? = nil) {
        settleActivation(.failure(error ?? .closed))
        let waiter = state.withLock { state -> CheckedContinuation<Result<SubscriptionEvent?, BusClientError>, Never>? in
            if state.end == nil { state.end = .some(error) }
            defer { state.waiter = nil }
            return state.events.count == state.head ? state.waiter : nil
        }
        waiter?.resume(returning: error.map { .failure($0) } ?? .success(nil))
    }

    /// The next event; nil at the end, or once the waiting task is cancelled.
    func next() async throws(BusClientError) -> SubscriptionEvent? {
        let result: Result<SubscriptionEvent?, BusClientError> = await withTaskCancellationHandler {
            await waitForNext()
        } onCancel: {
            let waiter = state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: .success(nil))
        }
        return try result.get()
    }

    private func waitForNext() async -> Result<SubscriptionEvent?, BusClientError> {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { state -> Result<SubscriptionEvent?, BusClientError>? in
                if state.head < state.events.count {
                    let event = state.events[state.head]
                    state.head += 1
                    if case .message = event {
                        state.messages -= 1
                        if state.messages == capacity / 2 { wake.wake() }
                    }
                    if state.head > 1024 && state.head * 2 > state.events.count {
                        state.events.removeFirst(state.head)
                        state.head = 0
                    }
                    return .success(event)
                }
                if let end = state.end { return end.map { .failure($0) } ?? .success(nil) }
                if Task.isCancelled { return .success(nil) }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
