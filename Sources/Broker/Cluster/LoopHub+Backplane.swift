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
    /// This node just took NATS interest in `pattern` (again, or for the first time): it was
    /// not receiving other nodes' messages on it, so its topics that no other interest kept
    /// covered start a new epoch (a resume from their old positions is not a recovery), and
    /// pattern resumes from before now that overlap it are not either.
    func renewAfterInterestGap(_ pattern: TopicPattern) {
        ledger.noteGap(pattern)
        // States forgotten meanwhile (never published here) come back with new epochs too.
        topics.startNewGeneration()
        for name in topics.names where pattern.matches(name) {
            let covered = interest.match(name).contains { $0.count > 0 && $0.pattern != pattern }
            guard !covered, let old = topics.peek(name) else { continue }
            let renewed = topics.renew(name, policy: old.policy)
            if let evicted = renewed.evicted { ledger.evict(evicted) }
        }
    }

    func renewEpochsWithSubscribers() {
        // Topics with no state here missed messages too: pattern resumes from before now
        // cannot claim a complete recovery.
        ledger.noteUnknownLossNow()
        topics.startNewGeneration()
        for name in topics.names where interest.match(name).contains(where: { $0.count > 0 }) {
            guard let old = topics.peek(name) else { continue }
            let renewed = topics.renew(name, policy: old.policy)
            if let evicted = renewed.evicted { ledger.evict(evicted) }
        }
    }
}
