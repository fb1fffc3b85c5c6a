import Synchronization

/// What every loop of one server shares: the validated configuration, the logger, and the few
/// process-wide counters that need atomics. Immutable apart from the atomics.
final class ServerContext: Sendable {
    let config: ServerConfig
    let log: Log
    /// Connection slots in use across all loops (accepted, not yet closed).
    let openConnections = Atomic<Int>(0)
    /// Subscribers dropped because their send queue overflowed.
    let slowConsumerDrops = Atomic<Int>(0)
    let maxConnections: Int

    init(config: ServerConfig, log: Log, fileLimit: Int) {
        self.config = config
        self.log = log
        // Keep a few descriptors for listeners, epoll, eventfds and logs.
        maxConnections = config.maxConnections ?? max(1, fileLimit - 64)
    }

    /// Reserves a connection slot; false when the server is full.
    func reserveConnection() -> Bool {
        let (after) = openConnections.add(1, ordering: .relaxed).newValue
        if after > maxConnections {
            openConnections.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func releaseConnection() { openConnections.subtract(1, ordering: .relaxed) }

    func countSlowConsumerDrop() { slowConsumerDrops.add(1, ordering: .relaxed) }
}
