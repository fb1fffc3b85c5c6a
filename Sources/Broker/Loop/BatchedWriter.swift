/// `--io-uring`: a loop's dirty connections write their first batch through one io_uring
/// submission instead of one `sendmsg` system call each. Every write is queued with
/// MSG_DONTWAIT, so a full socket completes at once with EAGAIN, and the loop waits for all
/// completions before going on: the iovecs stay valid, and each result is handled exactly as
/// `sendmsg`'s would be. Where io_uring is unavailable the loop keeps plain `sendmsg`.
final class BatchedWriter {
    /// Connections written per submission, and iovecs each may use.
    static let slots = 512
    static let vectorsPerSlot = 64
    /// Room for every slot's most (512 KB), but packed: a connection's iovecs start where the
    /// previous one's end, so a batch touches only the vectors it uses (most writes need one
    /// or two) and resident memory follows the writes, not 1 KB per connection ever batched.
    private static let vectorCount = slots * vectorsPerSlot

    private let ring: IOUring
    private let vectors: UnsafeMutablePointer<iovec>
    private var prepared: [(connection: Connection, write: Connection.PreparedWrite)] = []
    /// The batch's connections whose flush goes on: kept between batches (bounded by `slots`).
    private var goingOn: [Connection] = []

    init?() {
        guard let ring = IOUring(slots: Self.slots) else { return nil }
        self.ring = ring
        vectors = .allocate(capacity: Self.vectorCount)
        prepared.reserveCapacity(Self.slots)
        goingOn.reserveCapacity(Self.slots)
    }

    deinit {
        vectors.deallocate()
    }

    /// Writes every connection of `batch` (in submissions of `slots`), then lets each finish
    /// its flush as `flush()` would.
    func flush(_ batch: [Connection]) {
        var start = 0
        while start < batch.count {
            let end = min(batch.count, start + Self.slots)
            submit(batch[start..<end])
            start = end
        }
    }

    private func submit(_ connections: ArraySlice<Connection>) {
        prepared.removeAll(keepingCapacity: true)  // bounded by `slots`
        var nextVector = 0  // at most slots × vectorsPerSlot: `connections` holds at most `slots`
        for connection in connections where !connection.batchedWriteInFlight {
            // (A connection marked dirty again after an early flush appears twice: once is enough.)
            let slot = prepared.count
            let iov = vectors + nextVector
            guard let write = connection.prepareBatchedWrite(iov, capacity: Self.vectorsPerSlot) else {
                connection.flush()  // nothing queued, or closed: the ordinary path finishes it
                continue
            }
            guard ring.queueSend(slot: slot, fd: connection.fd, iov, count: write.count) else {
                connection.batchedWriteInFlight = false
                connection.flush(observed: true)
                continue
            }
            nextVector += write.count
            prepared.append((connection, write))
        }
        guard !prepared.isEmpty else { return }
        if !ring.submitAndWait(prepared.count) {
            // The ring failed as a whole: nothing can be known sent; drain what completed and
            // let the ordinary path retry the rest (a resend of already sent bytes cannot
            // happen: results are applied only for completions we read).
            drainCompletions()
            for entry in prepared where !entry.write.completed {
                entry.connection.batchedWriteInFlight = false
                entry.connection.flush(observed: true)
            }
            return
        }
        drainCompletions()
    }

    /// Applies every result first, then lets the connections go on: finishing one flush can
    /// deliver to another connection of the batch, whose queue must already be up to date.
    private func drainCompletions() {
        goingOn.removeAll(keepingCapacity: true)
        while let (slot, result) = ring.nextCompletion() {
            guard slot < prepared.count else { continue }
            prepared[slot].write.completed = true
            if prepared[slot].connection.completeBatchedWrite(result: result, prepared[slot].write) {
                goingOn.append(prepared[slot].connection)
            }
        }
        for connection in goingOn { connection.flush(observed: true) }
        goingOn.removeAll(keepingCapacity: true)
    }
}
