import Auth
import Synchronization

/// What every loop of one server shares: the validated configuration, the logger, and the few
/// process-wide values that need atomics. Immutable apart from the atomics.
final class ServerContext: Sendable {
    let config: ServerConfig
    let log: Log
    let loopCount: Int
    /// This server life's epoch, the first part of every cursor (Protocol.md "Resuming a
    /// pattern"): a cursor from another life is recognised as such. Kept in the data dir
    /// across restarts that lost nothing (`DurableState`).
    let serverEpoch: String
    /// Connection slots in use across all loops (accepted, not yet closed).
    let openConnections = Atomic<Int>(0)
    let maxConnections: Int
    let originPolicy: OriginPolicy
    /// Every listener is on a loopback address: requests must name a loopback host.
    let loopbackOnly: Bool
    let peers: PeerTable
    /// Checks presented tokens; nil when no auth is configured (the broker is open).
    let authenticator: Authenticator?
    let proxies: TrustedProxies
    /// Cluster mode's NATS backplane state; nil on a lone node.
    let backplane: BackplaneStatus?
    /// History on disk (`--data-dir`); nil keeps history in memory only.
    let durable: DurableStore?
    private let readinessValue = Atomic<UInt8>(Readiness.starting.rawValue)

    /// What `GET /readyz` reports: traffic is welcome only while `ready`.
    enum Readiness: UInt8, Sendable {
        /// Loops are still starting.
        case starting
        case ready
        /// Shutting down: finishing with the clients it has, taking no new ones.
        case draining

        var name: String { ["starting", "ready", "draining"][Int(rawValue)] }
    }

    init(config: ServerConfig, log: Log, fileLimit: Int, loopCount: Int, authenticator: Authenticator? = nil,
         durable: DurableStore? = nil) {
        self.durable = durable
        serverEpoch = durable?.state.serverEpochString ?? TopicTable.newEpoch()
        self.config = config
        self.log = log
        self.loopCount = loopCount
        // Keep a few descriptors for listeners, epoll, eventfds and logs.
        maxConnections = config.maxConnections ?? max(1, fileLimit - 64)
        originPolicy = OriginPolicy(allowed: config.allowedOrigins)
        loopbackOnly = config.hosts.allSatisfy { OriginPolicy.isLoopbackName(OriginPolicy.hostOnly($0)) }
        peers = PeerTable(maxConnections: config.maxConnectionsPerIP, rate: config.connectionRatePerIP)
        self.authenticator = authenticator?.isEnabled == true ? authenticator : nil
        proxies = (try? TrustedProxies(config.trustedProxies)) ?? TrustedProxies.none  // validated with the config
        backplane = config.nats.map { BackplaneStatus(url: $0.description, nodeName: config.effectiveNodeName) }
    }

    var readiness: Readiness {
        get { Readiness(rawValue: readinessValue.load(ordering: .relaxed)) ?? .draining }
    }

    /// Moves forward only (starting → ready → draining).
    func advance(to state: Readiness) {
        _ = readinessValue.max(state.rawValue, ordering: .relaxed)
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
}
