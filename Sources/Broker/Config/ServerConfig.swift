import BusProtocol
import NATS
import Topics

/// Everything the server can be told, with the defaults a user gets with no flags. A value
/// type, validated once (`validated()`), then shared read-only by every loop.
public struct ServerConfig: Sendable {
    /// Addresses to listen on. `::` listens on IPv6 and (dual-stack) IPv4.
    public var hosts: [String] = ["127.0.0.1"]
    public var port: UInt16 = 8080
    /// Event loops (threads); 0 means `automaticLoops` of the CPUs in the affinity mask.
    public var loops = 0
    /// Largest message a client may send, reassembled (RFC 6455 §10.4). 1 MiB by default:
    /// enough for any sane pub/sub payload, small enough that reassembly cannot exhaust memory.
    public var maxMessageSize = 1 << 20
    /// Largest HTTP request head (request line and headers), as most servers allow.
    public var maxHandshakeSize = 8 << 10
    /// Total time a new connection has to send a complete request head (not an inactivity
    /// timer), so a client that trickles its upgrade request cannot hold a slot.
    public var handshakeTimeout: Double = 10
    /// The server pings an open connection this often, keeping NAT and proxy state alive.
    public var pingInterval: Double = 25
    /// A connection from which nothing at all (pongs included) arrived for this long is dead.
    /// An event stream, which never sends, is dead when what it was sent stays unacknowledged
    /// this long (TCP_USER_TIMEOUT), or its queue does not move.
    public var idleTimeout: Double = 60
    /// An event stream (GET /sse) is written an empty event this often when quiet: it keeps
    /// proxies from timing the stream out (many cut at 30 to 60 s) and proves the peer alive.
    public var sseHeartbeat: Double = 15
    /// After sending a close frame, how long to wait for the peer's close before dropping TCP.
    public var closeTimeout: Double = 5
    /// How long a subscriber dropped as a slow consumer has to read the rest of its queue, its
    /// `slow_consumer` notice and close frame (4008), instead of the close timeout: a client
    /// that stalled for seconds must still learn where to resume.
    public var slowConsumerGrace: Double = 30
    /// Per-connection send queue bound in messages (gorilla's chat uses 256).
    public var sendQueueMessages = 256
    /// Per-connection send queue bound in bytes; nil derives max(4 MiB, 2 × max message + header).
    public var sendQueueBytes: Int?
    /// SO_SNDBUF for accepted sockets; nil leaves the kernel's autotuning (up to
    /// net.ipv4.tcp_wmem's maximum, 4 MiB by default, per connection). A small value bounds
    /// the kernel memory a stalled subscriber holds and makes it overflow sooner.
    public var socketSendBuffer: Int?
    /// Opt-in write coalescing: a loop writes its dirty connections at most this often
    /// (nanoseconds; 0 = at the end of every loop turn, the default). Trades a bounded
    /// latency for fewer, larger writes under fan-out.
    public var flushDelayNanos: UInt64 = 0
    /// Write each loop turn's dirty connections through one io_uring submission (Linux 5.6+;
    /// falls back to `sendmsg` where io_uring is unavailable or forbidden, e.g. by seccomp).
    /// On by default: it saved 8-15 % of server CPU per delivery in fan-out (bench/README.md).
    public var ioUring = true
    /// Most simultaneous connections; nil derives it from the file descriptor limit.
    public var maxConnections: Int?
    /// Patterns one connection may hold: bounds its memory and the interest it can spread.
    public var maxSubscriptions = 1000
    /// Topic names: bytes and dot-separated segments.
    public var maxTopicLength = 256
    public var maxTopicDepth = 16
    /// Topic states (epoch and sequence number) held before the least recently used goes.
    public var maxTopics = 100_000
    /// Origins allowed besides same-host ones (browsers): `https://app.example.com`,
    /// `app.example.com` or `*.example.com`. See `OriginPolicy`.
    public var allowedOrigins: [String] = []
    /// Publishes one connection may make per second (token bucket); 0 = unlimited. High enough
    /// never to touch a healthy fast publisher, low enough to stop one client's flood.
    public var publishRate: Double = 1_000_000
    public var publishBurst: Double = 1_000_000
    /// Subscribes and unsubscribes per second per connection: each may fan interest out to
    /// every loop.
    public var subscribeRate: Double = 1_000
    public var subscribeBurst: Double = 2_000
    /// Open connections and new connections per second from one client address; 0 = no limit
    /// (the default, so load tests and NATed offices work out of the box).
    /// Reverse proxies whose `X-Forwarded-For` is believed: addresses or CIDR blocks.
    public var trustedProxies: [String] = []
    public var maxConnectionsPerIP = 0
    public var connectionRatePerIP: Double = 0
    /// Memory every connection together may hold in partly received messages, and in send
    /// queues. Past them a message fails with 1009, or a subscriber is dropped (4008).
    public var maxReassemblyBytes = 512 << 20
    public var maxQueuedBytes = 1 << 30
    /// Cluster mode: the NATS server nodes meet through (`nats://HOST:PORT`); nil runs alone.
    public var natsURL: String?
    /// This node's name on NATS (its CONNECT name, in logs and /healthz); nil derives one.
    public var nodeName: String?

    /// History kept per topic by default: the last messages, up to an age. On by default with
    /// a small bound, so a client that blinks recovers without anyone configuring anything.
    public var historyMessages = 100
    public var historyAge: Double = 120
    /// Bytes of history across all topics (split evenly across the loops).
    public var historyBytes = 64 << 20
    /// Per-pattern history policies, first match wins (0 messages turns history off).
    public var historyOverrides: [HistoryOverride] = []
    /// Tokens and their permissions; nothing configured means an open broker.
    public var auth = AuthSettings()
    /// permessage-deflate (RFC 7692) for clients that offer it (every browser does). A message
    /// is compressed at most once per window size, whatever the number of subscribers, and
    /// sent compressed only when that is smaller. On by default: see bench/README.md.
    public var compression = true
    /// Frames shorter than this go out uncompressed. zlib's cost per message is mostly fixed
    /// (about 10 µs here for a 300-byte JSON frame, which it shrinks by a quarter; a 2.4 KB one
    /// loses 70 % for 2–3 times that): with 512, 9,000 one-subscriber topics cost 1.27× the
    /// server CPU per delivery for 0.61× the wire bytes; with 128, 2.3× for 0.48×
    /// (bench/README.md, "permessage-deflate").
    public var compressionMinBytes = 512
    /// Topics never compressed (already compressed payloads, latency-critical ticks).
    public var compressionExclude: [TopicPattern] = []
    /// History that survives a restart: the directory its segment files go in (created 0700,
    /// locked by one broker at a time); nil keeps history in memory only.
    public var dataDir: String?
    /// What a delivery waits for with `dataDir` (see `Durability`).
    public var durability = Durability.write

    /// A history policy for the topics a pattern matches.
    public struct HistoryOverride: Sendable, Equatable {
        public var pattern: TopicPattern
        public var messages: Int
        public var age: Double
        public init(pattern: TopicPattern, messages: Int, age: Double) {
            self.pattern = pattern
            self.messages = messages
            self.age = age
        }
    }

    /// The history policy of a topic: the first matching override, else the defaults.
    func historyPolicy(for topic: TopicName) -> HistoryPolicy {
        for override in historyOverrides where override.pattern.matches(topic) {
            return HistoryPolicy(messages: override.messages, maxAge: override.age)
        }
        return HistoryPolicy(messages: historyMessages, maxAge: historyAge)
    }

    /// The longest any policy keeps a message.
    var longestHistoryAge: Double { historyOverrides.map(\.age).reduce(historyAge, max) }

    public init() {}

    /// Room kept in a message for the envelope or binary header around a payload, so a
    /// full-size delivery never exceeds what a client accepts.
    public static let envelopeAllowance = 1024
    public var maxPayload: Int { maxMessageSize - Self.envelopeAllowance }
    public var topicLimits: TopicLimits { TopicLimits(maxLength: maxTopicLength, maxDepth: maxTopicDepth) }

    /// The byte bound in force: at least two maximum-size deliveries must fit.
    public var effectiveSendQueueBytes: Int { sendQueueBytes ?? max(4 << 20, 2 * (maxMessageSize + 14)) }

    /// Checks every option; the error names the option and says what is wrong.
    public func validated() throws(ConfigError) -> ServerConfig {
        if hosts.isEmpty { throw ConfigError(option: "host", message: "at least one address is needed") }
        for host in hosts where SocketAddress(numericHost: host, port: port) == nil {
            throw ConfigError(option: "host", message: "'\(host)' is not a numeric IPv4 or IPv6 address")
        }
        if loops < 0 || loops > 256 { throw ConfigError(option: "loops", message: "must be 0 (automatic) to 256") }
        if maxMessageSize < 2048 || maxMessageSize > 1 << 30 {
            throw ConfigError(option: "max-message-size", message: "must be 2048 to 1073741824 bytes")
        }
        if maxHandshakeSize < 512 || maxHandshakeSize > 1 << 20 {
            throw ConfigError(option: "max-handshake-size", message: "must be 512 to 1048576 bytes")
        }
        for (name, value) in [("handshake-timeout", handshakeTimeout), ("ping-interval", pingInterval),
                              ("idle-timeout", idleTimeout), ("close-timeout", closeTimeout),
                              ("slow-consumer-grace", slowConsumerGrace), ("sse-heartbeat", sseHeartbeat)]
        where !(value > 0 && value <= 86_400) {
            throw ConfigError(option: name, message: "must be a number of seconds above 0 and at most 86400")
        }
        if compressionMinBytes < 0 { throw ConfigError(option: "compression-min-bytes", message: "must not be negative") }
        if sendQueueMessages < 1 { throw ConfigError(option: "send-queue-messages", message: "must be at least 1") }
        if let bytes = sendQueueBytes, bytes < 2 * (maxMessageSize + 14) {
            throw ConfigError(option: "send-queue-bytes",
                              message: "must hold two maximum-size messages: at least \(2 * (maxMessageSize + 14))")
        }
        if flushDelayNanos > 100_000_000 { throw ConfigError(option: "flush-delay", message: "must be at most 100ms") }
        if let size = socketSendBuffer, size < 4096 || size > 1 << 30 {
            throw ConfigError(option: "socket-send-buffer", message: "must be 4096 to 1073741824 bytes")
        }
        if maxSubscriptions < 1 { throw ConfigError(option: "max-subscriptions", message: "must be at least 1") }
        if maxTopicLength < 1 || maxTopicLength > 4096 { throw ConfigError(option: "max-topic-length", message: "must be 1 to 4096 bytes") }
        if maxTopicDepth < 1 || maxTopicDepth > 256 { throw ConfigError(option: "max-topic-depth", message: "must be 1 to 256 segments") }
        if historyMessages < 0 || historyMessages > 1_000_000 {
            throw ConfigError(option: "history-messages", message: "must be 0 (off) to 1000000")
        }
        if !(historyAge > 0 && historyAge <= 86_400 * 7) { throw ConfigError(option: "history-age", message: "must be above 0 and at most 604800 seconds") }
        if historyBytes < 0 { throw ConfigError(option: "history-bytes", message: "must be 0 or more") }
        // The age bound is history-age's: a larger one (1e300, inf) trapped converting to nanoseconds.
        for override in historyOverrides
        where override.messages < 0 || override.messages > 1_000_000 || !(override.age > 0 && override.age <= 86_400 * 7) {
            throw ConfigError(option: "history", message: "\(override.pattern): messages must be 0 to 1000000 and the age above 0 and at most 604800 seconds")
        }
        for (name, value) in [("publish-rate", publishRate), ("publish-burst", publishBurst),
                              ("subscribe-rate", subscribeRate), ("subscribe-burst", subscribeBurst),
                              ("connection-rate-per-ip", connectionRatePerIP)] where !(value >= 0 && value.isFinite) {
            throw ConfigError(option: name, message: "must be 0 or more")
        }
        _ = try TrustedProxies(trustedProxies)
        if maxConnectionsPerIP < 0 { throw ConfigError(option: "max-connections-per-ip", message: "must be 0 (no limit) or more") }
        if maxReassemblyBytes < maxMessageSize {
            throw ConfigError(option: "max-reassembly-bytes", message: "must hold at least one maximum-size message (\(maxMessageSize))")
        }
        if maxQueuedBytes < effectiveSendQueueBytes {
            throw ConfigError(option: "max-queued-bytes", message: "must hold at least one full send queue (\(effectiveSendQueueBytes))")
        }
        if maxTopics < 1 { throw ConfigError(option: "max-topics", message: "must be at least 1") }
        if let limit = maxConnections, limit < 1 { throw ConfigError(option: "max-connections", message: "must be at least 1") }
        if let url = natsURL, NATSServerURL(url) == nil {
            throw ConfigError(option: "nats", message: "'\(url)' is not nats://HOST[:PORT]")
        }
        if let name = nodeName, name.isEmpty || name.utf8.count > 64
            || !name.unicodeScalars.allSatisfy({ $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }) {
            throw ConfigError(option: "node-name", message: "must be 1 to 64 letters, digits, '-', '_' or '.'")
        }
        if let dir = dataDir, dir.isEmpty || dir.utf8.contains(0) {
            throw ConfigError(option: "data-dir", message: "must name a directory")
        }
        try auth.validated()
        return self
    }
}

/// A configuration problem, reported as one line naming the option and where its value came
/// from: `--port: …` for a flag, `BUS_PORT: …` for the environment, `FILE: port: …` for the
/// config file.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    /// Where a value was set.
    public enum Source: Sendable, Equatable {
        case flag
        case environment(variable: String)
        /// `key` is the option's place in the file, e.g. `port` or `auth.jwt-secret`; nil when
        /// the whole file is wrong. `at` is the line and column of the value (or of what broke).
        case file(path: String, key: String?, at: TextPosition?)
    }

    /// The option's flag name (`max-message-size`), whatever the source.
    public let option: String
    public let message: String
    public var source: Source?

    public init(option: String, message: String, source: Source? = nil) {
        self.option = option
        self.message = message
        self.source = source
    }

    public var description: String {
        switch source {
        case nil, .flag: "--\(option): \(message)"
        case .environment(let variable): "\(variable): \(message)"
        case .file(let path, let key, let position):
            [path, position?.description, key, message].compactMap { $0 }.joined(separator: ": ")
        }
    }

    /// The same error, attributed to `source` unless it already names one.
    func from(_ source: Source?) -> ConfigError {
        var copy = self
        if copy.source == nil { copy.source = source }
        return copy
    }
}

extension ServerConfig {
    /// One loop per CPU but one, and at least one. The CPU left over takes the kernel's share of
    /// the network (on loopback a send also runs the receiver's TCP input) and whatever else
    /// the machine runs. On 2 CPUs shared with the load generator, a second loop cost more in
    /// hand-offs between loops than it gained: topics 18-25 µs per delivery with one loop and
    /// 33-56 µs with two, churn and connection set-up 15-25 % cheaper, saturate 2.7 M against
    /// 2.4 M deliveries/s, fan-out CPU and p99 the same (bench/README.md).
    static func automaticLoops(cpus: Int) -> Int { max(1, cpus - 1) }
}
