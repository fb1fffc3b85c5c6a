import Synchronization
import Topics

/// What one loop (or the server's main thread) asks another loop to do. Only immutable,
/// `Sendable` values cross: the receiving loop does the work on its own thread.
enum LoopCommand: Sendable {
    /// Run a closure on the loop (rare control operations; never per message).
    case run(@Sendable (EventLoop) -> Void)
    /// Stop accepting, close every connection with 1001 within the deadline, then exit.
    case shutdown(deadlineNanos: UInt64)
    /// Topic traffic between the loops' hubs.
    case hub(HubMessage)
    /// From the history writer (`--data-dir`): the loop's records handed over last are on
    /// disk; the deliveries waiting for them can go (`DurableHub.persisted`).
    case persisted(UInt64)

    /// Roughly the memory a queued command holds: a publish carries its payload; everything
    /// else is a few words or shares bytes that exist anyway.
    var weight: Int {
        if case .hub(.publish(let request)) = self { return 64 + request.payload.count }
        if case .hub(.backplanePublish(let bytes)) = self { return 64 + bytes.count }
        return 64
    }
}

/// A loop's mailbox: a mutex-guarded array plus an eventfd in the loop's epoll set. The eventfd
/// is written only when the inbox goes from empty to non-empty, so a burst costs one wake-up.
///
/// Bounded by backpressure rather than by refusal: `backlog` is the weight queued, and while
/// any loop's backlog is above `highWater` every loop stops reading from publishing
/// connections (TCP then pushes back on the publishers) until all are below `lowWater`.
/// Nothing accepted is ever dropped.
final class LoopInbox: Sendable {
    private let pending = Mutex<[LoopCommand]>([])
    let wakeFD: Int32
    private let queuedWeight = Atomic<Int>(0)

    static let highWater = 64 << 20
    static let lowWater = 16 << 20

    init() throws { wakeFD = try Sys.eventFD() }

    var backlog: Int { queuedWeight.load(ordering: .relaxed) }

    func post(_ command: LoopCommand) {
        queuedWeight.add(command.weight, ordering: .relaxed)
        let wasEmpty = pending.withLock { queue in
            queue.append(command)
            return queue.count == 1
        }
        if wasEmpty { Sys.signalEventFD(wakeFD) }
    }

    /// Posts a batch in order: one lock, and one wake-up if the inbox was empty.
    func post(contentsOf commands: [LoopCommand]) {
        guard !commands.isEmpty else { return }
        queuedWeight.add(commands.reduce(0) { $0 + $1.weight }, ordering: .relaxed)
        let wasEmpty = pending.withLock { queue in
            let wasEmpty = queue.isEmpty
            queue.append(contentsOf: commands)
            return wasEmpty
        }
        if wasEmpty { Sys.signalEventFD(wakeFD) }
    }

    /// Takes everything queued, swapping in `spare` (an empty array with capacity) to avoid
    /// reallocating on every drain. Returns the backlog before the drain.
    @discardableResult
    func drain(into spare: inout [LoopCommand]) -> Int {
        Sys.drainEventFD(wakeFD)
        pending.withLock { queue in swap(&queue, &spare) }
        let weight = spare.reduce(0) { $0 + $1.weight }
        return queuedWeight.subtract(weight, ordering: .relaxed).oldValue
    }

    /// Gives back the capacity an empty queue kept from a burst. Drains swap the queue with the
    /// loop's spare, so after a burst the buffer waiting here can be burst-sized while nothing
    /// arrives to drain it; a quiet loop calls this.
    func releaseIdleCapacity() {
        pending.withLock { queue in
            if queue.isEmpty && queue.capacity > SparseCapacity.floor { queue = [] }
        }
    }

    /// Commands the queue has room for (tests of `releaseIdleCapacity`).
    var pendingCapacity: Int { pending.withLock { $0.capacity } }

    deinit { Sys.close(wakeFD) }
}
