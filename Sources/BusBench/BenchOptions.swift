/// What `bus-cli bench` was asked to do, already parsed and checked (bus-cli reads the
/// flags). Every figure has a name; one not given takes the scenario's default, the one the
/// performance issue defines the scenario with.
package struct BenchOptions {
    package let scenario: String
    /// A running server to measure, and the process to read its figures from; nil: start one.
    package let attachTo: (endpoint: BenchEndpoint, pid: Int32)?
    /// Publishers connect here instead (another node of a cluster): cross-node delivery.
    package let publishTo: BenchEndpoint?
    /// Extra `broker-server` arguments, when the bench starts the server.
    package let serverArguments: [String]
    /// Publish JSON text envelopes instead of binary frames.
    package let json: Bool
    /// Publish these JSON values in turn (a corpus, `--payloads`) instead of padding: JSON
    /// text envelopes whose `data` is `{"sent":"<send time>","msg":<value>}`.
    package let corpus: BenchCorpus?
    /// Offer permessage-deflate (RFC 7692) and inflate what the server compresses.
    package let compression: Bool
    /// idle: each connection subscribes to a topic of its own (the per-topic cost).
    package let topicPerConnection: Bool
    private let integers: [String: Int]
    private let durations: [String: Double]

    package init(scenario: String, attachTo: (endpoint: BenchEndpoint, pid: Int32)?, publishTo: BenchEndpoint?,
                 serverArguments: [String], json: Bool, integers: [String: Int], seconds: [String: Double],
                corpus: BenchCorpus? = nil, compression: Bool = false, topicPerConnection: Bool = false) {
        self.corpus = corpus
        self.topicPerConnection = topicPerConnection
        self.compression = compression
        self.scenario = scenario
        self.attachTo = attachTo
        self.publishTo = publishTo
        self.serverArguments = serverArguments
        self.json = json
        self.integers = integers
        durations = seconds
    }

    /// A whole-number figure (`subscribers`, `rate`, ...), or the scenario's `fallback`.
    func integer(_ name: String, _ fallback: Int) -> Int { integers[name] ?? fallback }

    /// Seconds (`warmup`, `duration`, ...), or the scenario's `fallback`.
    func seconds(_ name: String, _ fallback: Double) -> Double { durations[name] ?? fallback }
}

/// Where the bench's connections go: what a `ws://` URL names, its `Host` header and path.
package struct BenchEndpoint {
    package let host: String
    package let port: UInt16
    package let hostHeader: String
    package let path: String

    package init(host: String, port: UInt16, hostHeader: String, path: String) {
        self.host = host
        self.port = port
        self.hostHeader = hostHeader
        self.path = path
    }
}
