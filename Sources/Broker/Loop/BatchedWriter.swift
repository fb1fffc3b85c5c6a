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
    /// The submission's connections and their writes, slot by slot. Unretained: every one is
    /// an element of the batch `flush` was given, which holds it until `flush` returns (a
    /// retain and a release per connection per step was a tenth of a churn cycle's atomics).
    private var prepared: [(connection: Unmanaged<Connection>, write: Connection.PreparedWrite)] = []
    /// The batch's connections whose flush goes on: kept between batches (bounded by `slots`),
    /// unretained as `prepared` is.
    private var goingOn: [Unmanaged<Connection>] = []

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
    /// its flush as `flush()` would. `batch` keeps its connections alive throughout.
    func flush(_ batch: [Connection]) {
        batch.withUnsafeBufferPointer { all in
            var start = 0
            while start < all.count {
                let end = min(all.count, start + Self.slots)
                submit(UnsafeBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
    }

    private func submit(_ connections: UnsafeBufferPointer<Connection>) {
        prepared.removeAll(keepingCapacity: true)  // bounded by `slots`
        var nextVector = 0  // at most slots × vectorsPerSlot: `connections` holds at most `slots`
        for index in connections.indices {
            let entry = Unmanaged.passUnretained(connections[index])
            entry._withUnsafeGuaranteedRef { connection in
                // (A connection marked dirty again after an early flush appears twice: once is enough.)
                guard !connection.batchedWriteInFlight else { return }
                let slot = prepared.count
                let iov = vectors + nextVector
                guard let write = connection.prepareBatchedWrite(iov, capacity: Self.vectorsPerSlot) else {
                    connection.flush()  // nothing queued, or closed: the ordinary path finishes it
                    return
                }
                guard ring.queueSend(slot: slot, fd: connection.fd, iov, count: write.count) else {
                    connection.batchedWriteInFlight = false
                    connection.flush(observed: true)
                    return
                }
                nextVector += write.count
                prepared.append((entry, write))
            }
        }
        guard !prepared.isEmpty else { return }
        if !ring.submitAndWait(prepared.count) {
            // The ring failed as a whole: nothing can be known sent; drain what completed and
            // let the ordinary path retry the rest (a resend of already sent bytes cannot
            // happen: results are applied only for completions we read).
            drainCompletions()
            for entry in prepared where !entry.write.completed {
                entry.connection._withUnsafeGuaranteedRef { connection in
                    connection.batchedWriteInFlight = false
                    connection.flush(observed: true)
                }
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
            let (entry, write) = prepared[slot]
            if entry._withUnsafeGuaranteedRef({ $0.completeBatchedWrite(result: result, write) }) {
                goingOn.append(entry)
            }
        }
        for index in goingOn.indices {
            goingOn[index]._withUnsafeGuaranteedRef { $0.flush(observed: true) }
        }
        goingOn.removeAll(keepingCapacity: true)
    }
}
