import Synchronization

/// What one loop (or the server's main thread) asks another loop to do. Only immutable,
/// `Sendable` values cross: the receiving loop does the work on its own thread.
enum LoopCommand: Sendable {
    /// Run a closure on the loop (rare control operations; never per message).
    case run(@Sendable (EventLoop) -> Void)
    /// Stop accepting, close every connection with 1001 within the deadline, then exit.
    case shutdown(deadlineNanos: UInt64)
    /// Topic traffic between the loops' hubs.
    case hub(HubMessage)
}

/// A loop's mailbox: a mutex-guarded array plus an eventfd in the loop's epoll set. The eventfd
/// is written only when the inbox goes from empty to non-empty, so a burst costs one wake-up.
final class LoopInbox: Sendable {
    private let pending = Mutex<[LoopCommand]>([])
    let wakeFD: Int32

    init() throws { wakeFD = try Sys.eventFD() }

    func post(_ command: LoopCommand) {
        let wasEmpty = pending.withLock { queue in
            queue.append(command)
            return queue.count == 1
        }
        if wasEmpty { Sys.signalEventFD(wakeFD) }
    }

    /// Takes everything queued, swapping in `spare` (an empty array with capacity) to avoid
    /// reallocating on every drain.
    func drain(into spare: inout [LoopCommand]) {
        Sys.drainEventFD(wakeFD)
        pending.withLock { queue in swap(&queue, &spare) }
    }

    deinit { Sys.close(wakeFD) }
}
