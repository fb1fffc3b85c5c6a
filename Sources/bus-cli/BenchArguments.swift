import BusBench

/// The flags of `bus-cli bench`, read into BusBench's `BenchOptions`. Every figure has a flag;
/// a flag not given takes the scenario's default, the one the performance issue defines the
/// scenario with.
struct BenchArguments {
    static let help = """
        Usage: bus-cli bench SCENARIO [options]

        Measures a bus server: starts its own release broker-server (the one beside this
        bus-cli, on a free 127.0.0.1 port) unless --url and --server-pid name a running one.
        Prints a table, then one JSON line with every figure. Stops by itself; exits 1 when
        anything was lost or the scenario could not run. Server CPU, RSS and descriptors come
        from /proc/PID/stat (utime+stime), /proc/PID/status (VmRSS) and /proc/PID/fd.

        Scenarios (defaults in brackets):
          fanout    one topic, --subscribers [1000], one publisher at --rate [200] msg/s,
                    --size [128] B; --warmup [2] s, a measured --duration [10] s, then up to
                    --drain [5] s for stragglers. Deliveries/s, received/expected, latency
                    p50/p99/p99.9/max, server ns CPU per delivery, cores, RSS.
          saturate  as fanout, but the publisher sends as fast as it can with at most
                    --window [64] messages in flight past the slowest of --samples [8]
                    sampled subscribers. Max sustained deliveries/s and ns CPU per delivery.
          topics    --topics [9000] topics with one subscriber each; --publishers [4] share
                    a total --rate [10000] msg/s round-robin over the topics.
          idle      opens --connections [10000] subscribers (--concurrency [500] connecting at
                    once) and holds them --hold [2] s: server RSS per connection, connections/s.
                    All subscribe to one topic, or spread over --topics N, or each to a topic
                    of its own with --topic-per-connection (the cost of a connection and a topic).
                    Needs that many descriptors here and in the server: the soft RLIMIT_NOFILE
                    is raised to the hard one; raise the hard one with `ulimit -Hn` (as root)
                    or /etc/security/limits.conf when it is too low.
          churn     connect, subscribe, leave, --concurrency [64] at a time for --duration [5] s
                    or --cycles N (whichever ends first; 0 = no count); every other one leaves
                    with a close frame, the rest vanish (TCP reset). Cycles/s, server µs CPU
                    per cycle, server fds and RSS before and after, once its fds are back
                    and its RSS steady for 1 s (fails on a leftover fd).
          slow      --subscribers [100] healthy ones plus one that stops reading after
                    --warmup [3] s (its socket receive buffer is --slow-buffer [4096] B so it
                    backs up quickly); publisher at --rate [500] msg/s, --size [1024] B, for up
                    to --duration [10] s. When it was dropped (messages/bytes queued), that
                    the others lost nothing, their p99 before and after, the publisher's lag.
          echo      round trips through /echo: --connections [50] each keep one --size [128] B
                    message in flight for --duration [5] s after --warmup [1] s. Round trips/s,
                    round-trip latency, server ns CPU per round trip.

        Options:
          --url URL           measure a running server (needs --server-pid for CPU/RSS figures)
          --server-pid PID    process to read /proc figures from, with --url
          --publish-url URL   publishers connect to this node of a cluster instead
                              (fanout, saturate, topics: the cross-node cost)
          --server-args ARGS  extra broker-server arguments, space-separated (when started here)
          --subscribers N     subscriber connections (fanout, saturate, slow)
          --rate N            messages per second (fanout, topics: total, slow)
          --size BYTES        payload bytes, including the 8-byte send time [128]
          --json              publish JSON text envelopes instead of binary frames
          --payloads PATH     publish these JSON values in turn (a .jsonl file, or a
                              directory of them such as bench/payloads) instead of padding
          --compression       offer permessage-deflate and inflate what the server
                              compresses (wire bytes per delivery, ns per compression)
          --warmup SECONDS    before the measured window [2; slow 3, echo 1]
          --duration SECONDS  measured window (fanout, saturate, topics [10]; churn, echo [5];
                              slow: the longest stall [10])
          --drain SECONDS     longest wait for the last deliveries after publishing [5]
          --topics N          topics scenario: topics [9000]; idle: topics the subscribers
                              spread over [1]
          --topic-per-connection  idle: each connection subscribes to a topic of its own
          --publishers N      publisher connections (topics scenario)
          --window N          saturate: messages in flight past the slowest sample
          --samples N         saturate: subscribers sampled for the window
          --connections N     idle, echo: connections to open
          --concurrency N     connections being set up at once (idle [500], topics setup
                              [500], churn: cycles in flight [64])
          --hold SECONDS      idle: how long the connections stay open before measuring
          --slow-buffer BYTES slow: the stalled subscriber's SO_RCVBUF

        """

    /// The flags that take a whole number (at least 1) and those that take seconds.
    private static let integerNames = ["subscribers", "rate", "size", "topics", "publishers", "window", "samples",
                                       "connections", "concurrency", "slow-buffer", "cycles"]
    private static let secondsNames = ["warmup", "duration", "drain", "hold"]

    /// The flags that take a value and those that do not: the parser and `completion` read both.
    static let options = Set(["url", "publish-url", "server-pid", "server-args", "payloads"] + integerNames + secondsNames)
    static let switches: Set<String> = ["json", "compression", "topic-per-connection"]

    let scenario: String
    let url: String?
    /// Publishers connect here instead (another node of a cluster): cross-node delivery.
    let publishURL: String?
    let serverPID: Int32?
    let serverArguments: [String]
    let json: Bool
    private let flags: Flags

    init(_ arguments: [String]) throws {
        flags = try Flags(arguments, options: Self.options, switches: Self.switches, help: Self.help)
        guard flags.positional.count == 1, Bench.scenarios.contains(flags.positional[0]) else {
            throw UsageError("bench needs one SCENARIO: \(Bench.scenarios.joined(separator: ", "))")
        }
        scenario = flags.positional[0]
        url = flags.value("url")
        publishURL = flags.value("publish-url")
        serverPID = try flags.integer("server-pid").map { Int32(clamping: $0) }
        serverArguments = flags.value("server-args").map { $0.split(separator: " ").map(String.init) } ?? []
        json = flags.has("json")
        if url != nil && serverPID == nil { throw UsageError("--url needs --server-pid (the figures come from /proc/PID)") }
        if flags.has("topic-per-connection") && (scenario != "idle" || flags.value("topics") != nil) {
            throw UsageError("--topic-per-connection is for idle, instead of --topics")
        }
        if url == nil && serverPID != nil { throw UsageError("--server-pid needs --url") }
        if let serverPID, !Bench.canMeasure(pid: serverPID) {
            throw UsageError("--server-pid \(serverPID): no such process readable in /proc")
        }
    }

    /// The options BusBench runs with. Every number is read here, so a bad value fails before
    /// anything starts.
    func options() throws -> BenchOptions {
        var integers: [String: Int] = [:]
        for name in Self.integerNames { integers[name] = try integer(name) }
        var seconds: [String: Double] = [:]
        for name in Self.secondsNames { seconds[name] = try self.seconds(name) }
        var attachTo: (endpoint: BenchEndpoint, pid: Int32)?
        if let url, let serverPID { attachTo = (try Self.endpoint(url), serverPID) }  // both or neither
        return BenchOptions(scenario: scenario, attachTo: attachTo,
                            publishTo: try publishURL.map(Self.endpoint),
                            serverArguments: serverArguments, json: json, integers: integers, seconds: seconds,
                            corpus: try flags.value("payloads").map { try BenchCorpus(path: $0) },
                            compression: flags.has("compression"), topicPerConnection: flags.has("topic-per-connection"))
    }

    /// A whole-number flag, at least 1; nil when not given.
    private func integer(_ name: String) throws -> Int? {
        guard let value = try flags.integer(name) else { return nil }
        guard value >= 1 else { throw UsageError("--\(name) must be at least 1") }
        return value
    }

    /// Seconds, fractions allowed; nil when not given.
    private func seconds(_ name: String) throws -> Double? {
        guard let text = flags.value(name) else { return nil }
        guard let value = Double(text), value >= 0, value <= 3600 else {
            throw UsageError("--\(name): '\(text)' is not a number of seconds (0 to 3600)")
        }
        return value
    }

    /// `ws://host:port` without a path means `/bus`.
    private static func endpoint(_ text: String) throws -> BenchEndpoint {
        let url = try CLI.url(text)
        return BenchEndpoint(host: url.host, port: url.port, hostHeader: url.hostHeader, path: url.target)
    }
}
