import Topics

/// Cluster mode on every loop: owner loops hand their sequenced local publishes to the
/// backplane (loop 0) once, and renew epochs when the backplane's continuity breaks.
extension LoopHub {
    func forwardToBackplane(topic: TopicName, kind: PayloadKind, payload: UnsafeRawBufferPointer) {
        guard let status = loop.context.backplane,
              let bytes = Backplane.encode(topic: topic, kind: kind, payload: payload, status: status) else { return }
        if index == 0 { loop.backplane?.send(publish: bytes) } else { send(.backplanePublish(bytes), to: 0) }
    }

    /// The backplane went down or came back: every topic this loop owns that has subscribers
    /// somewhere in the process may have missed messages from other nodes, so it starts a new
    /// epoch. Its subscribers see the epoch change on the next message, and a resume from the
    /// old epoch answers `recovered: false`.
    func renewEpochsWithSubscribers() {
        // Topics with no state here missed messages too: pattern resumes from before now
        // cannot claim a complete recovery.
        ledger.noteUnknownLoss(upTo: ledger.published + 1)
        for name in topics.names where !interest.match(name).isEmpty {
            guard let old = topics.peek(name) else { continue }
            let renewed = topics.renew(name, policy: old.policy)
            if let evicted = renewed.evicted { ledger.evict(evicted) }
        }
    }
}
