import CLinux
import Glibc

/// A minimal io_uring for batched socket writes (the CLinux shim's `bus_uring`), used by
/// `BatchedWriter`. Each slot owns one `msghdr`, valid from `queueSend` until its completion
/// is taken, so the caller only has to keep its iovecs alive that long.
final class IOUring {
    let slots: Int
    private let ring: OpaquePointer
    private let messages: UnsafeMutablePointer<msghdr>

    /// A ring with room for `slots` submissions, or nil where io_uring is unavailable.
    init?(slots: Int) {
        guard let ring = bus_uring_create(UInt32(slots)) else { return nil }
        self.ring = ring
        self.slots = slots
        messages = .allocate(capacity: slots)
        messages.initialize(repeating: msghdr(), count: slots)
    }

    deinit {
        bus_uring_destroy(ring)
        messages.deallocate()
    }

    /// Queues a `sendmsg` of `count` iovecs in `slot` (below `slots`), with MSG_DONTWAIT and
    /// MSG_NOSIGNAL: a full socket completes with EAGAIN instead of waiting. False when the
    /// submission queue is full.
    func queueSend(slot: Int, fd: Int32, _ vectors: UnsafeMutablePointer<iovec>, count: Int) -> Bool {
        messages[slot] = msghdr()
        messages[slot].msg_iov = vectors
        messages[slot].msg_iovlen = count
        return bus_uring_queue_sendmsg(ring, fd, messages + slot, UInt64(slot)) == 0
    }

    /// Submits everything queued and waits until `count` completions are ready; false when
    /// the ring failed as a whole.
    func submitAndWait(_ count: Int) -> Bool {
        bus_uring_submit_and_wait(ring, UInt32(count)) == 0
    }

    /// Takes one completion: its slot and the send's outcome as `sendmsg` would have
    /// reported it; nil when none is ready.
    func nextCompletion() -> (slot: Int, result: Sys.IOResult)? {
        var result: Int32 = 0
        var tag: UInt64 = 0
        guard bus_uring_next_completion(ring, &result, &tag) == 1 else { return nil }
        // A completion carries -errno where sendmsg would have set errno.
        let outcome: Sys.IOResult = result >= 0 ? .bytes(Int(result))
            : Sys.isWouldBlock(-result) ? .wouldBlock : .failed(-result)
        return (Int(tag), outcome)
    }
}
