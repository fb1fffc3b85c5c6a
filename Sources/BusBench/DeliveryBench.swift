import BusProtocol
import SystemCalls

/// What the delivery scenarios (fanout, saturate, topics, slow) share: one `ClientLoop` with
/// subscriber and publisher connections, setup that waits for every subscribe ack before
/// anything is published, per-delivery bookkeeping (sequence, latency) and the server's
/// /proc figures around a measured window.
class DeliveryBench: ClientLoopDelegate {
    let loop: ClientLoop
    let server: ServerUnderTest
    let options: BenchOptions
    var subscribers: [BenchConnection] = []
    var publishers: [BenchConnection] = []
    /// Latencies of messages sent in `recordFrom ..< recordUntil` (send time, CLOCK_MONOTONIC).
    var histogram = LatencyHistogram()
    var recordFrom: UInt64 = .max
    var recordUntil: UInt64 = .max
    /// Every delivery to every subscriber.
    var delivered = 0
    var openedCount = 0
    var ackedCount = 0
    /// Connections that ended before the scenario closed them.
    var lost: [BenchConnection] = []
    /// Error envelopes other than `slow_consumer`.
    var serverErrors: [String] = []
    var ending = false

    init(server: ServerUnderTest, options: BenchOptions) throws {
        self.server = server
        self.options = options
        loop = try ClientLoop(endpoint: server.endpoint, compression: options.compression)
        loop.delegate = self
    }

    // MARK: ClientLoopDelegate

    func opened(_ connection: BenchConnection) {
        openedCount += 1
        if let topic = connection.subscribeTo {
            loop.send(.text, ClientEnvelope.subscribe(topic: topic, id: "s\(connection.tag)"), on: connection)
        }
    }

    func received(_ payload: UnsafeRawBufferPointer, binary: Bool, on connection: BenchConnection) {
        if let delivery = binary ? BenchPayload.parseBinary(payload) : BenchPayload.parseText(payload) {
            connection.noteSeq(delivery.seq)
            delivered += 1
            let latency = loop.now &- delivery.sentAt
            if delivery.sentAt >= recordFrom && delivery.sentAt < recordUntil { histogram.record(latency) }
            didDeliver(to: connection, sentAt: delivery.sentAt, latency: latency)
            return
        }
        guard !binary, let message = ServerMessage.parse(payload) else { return }
        switch message {
        case .ack(_, "subscribe", _, _, _, _):
            if !connection.subscribeAcked {
                connection.subscribeAcked = true
                ackedCount += 1
            }
        case .error("slow_consumer", _, _, _, let raw):
            connection.slowConsumerError = String(decoding: raw, as: UTF8.self)
        case .error(let code, let text, _, let topic, _):
            if serverErrors.count < 20 { serverErrors.append("\(code): \(text) (\(topic ?? ""))") }
        default:
            break
        }
    }

    func closed(_ connection: BenchConnection) {
        if !ending { lost.append(connection) }
    }

    /// Hook for scenarios that look at each delivery (slow: per-phase latency).
    func didDeliver(to connection: BenchConnection, sentAt: UInt64, latency: UInt64) {}

    // MARK: setup

    /// Opens `count` subscribers, `concurrency` at a time, and returns once every one has its
    /// subscribe ack: only then is a message published after it guaranteed to reach it.
    func openSubscribers(count: Int, concurrency: Int = 500, topic: (Int) -> String,
                         receiveBuffer: (Int) -> Int? = { _ in nil }) throws {
        let deadline = BenchClock.now() + 120_000_000_000
        let first = subscribers.count
        var started = 0
        while ackedCount < first + count {
            while started < count && started - (ackedCount - first) < concurrency {
                let connection = try loop.connect(tag: first + started, receiveBuffer: receiveBuffer(first + started))
                connection.subscribeTo = topic(first + started)
                subscribers.append(connection)
                started += 1
            }
            if let failed = lost.first {
                throw BenchFailure("subscriber \(failed.tag) failed during setup: \(failed.closeWhy)")
            }
            guard BenchClock.now() < deadline else {
                throw BenchFailure("only \(ackedCount - first) of \(count) subscribe acks within 120 s")
            }
            loop.turn(timeoutMs: 10)
        }
    }

    func openPublishers(count: Int) throws {
        let target = openedCount + count
        // --publish-url: publishers on another node of a cluster, subscribers on this one.
        let elsewhere = try options.publishTo.map { try ClientLoop.Elsewhere(endpoint: $0) }
        for index in 0..<count { publishers.append(try loop.connect(tag: index, to: elsewhere)) }
        try wait(seconds: 30, "publishers to connect") { openedCount >= target }
        // Let each welcome arrive before timing starts.
        run(seconds: 0.1)
    }

    /// Turns the loop until `done` or the time is up (then throws, naming `what`).
    func wait(seconds: Double, _ what: String, until done: () -> Bool) throws {
        let deadline = BenchClock.now() + UInt64(seconds * 1e9)
        while !done() {
            if let failed = lost.first { throw BenchFailure("connection \(failed.tag) failed: \(failed.closeWhy)") }
            guard BenchClock.now() < deadline else { throw BenchFailure("timed out waiting for \(what)") }
            loop.turn(timeoutMs: 10)
        }
    }

    func run(seconds: Double) {
        let deadline = BenchClock.now() + UInt64(seconds * 1e9)
        while BenchClock.now() < deadline { loop.turn(timeoutMs: 10) }
    }

    func serverSample() throws -> ProcessFigures {
        guard let sample = ProcessFigures.sample(pid: server.pid) else { throw BenchFailure("the server (pid \(server.pid)) is gone") }
        return sample
    }

    /// The server once it has let go of a run: its descriptors back to `base`, then its RSS
    /// unchanged for a second (a loop hands freed heap back on its first quiet turn, a timer
    /// tick after the last event). At `deadline` it gives up and returns the last sample.
    func settledSample(fdsAtMost base: Int, deadline: UInt64) throws -> ProcessFigures {
        var sample = try serverSample()
        while sample.openFDs > base && BenchClock.now() < deadline {
            BenchSys.sleep(microseconds: 100_000)
            sample = try serverSample()
        }
        var steadySince = BenchClock.now()
        while BenchClock.now() < deadline && BenchClock.now() - steadySince < 1_000_000_000 {
            BenchSys.sleep(microseconds: 100_000)
            let next = try serverSample()
            if next.rssBytes != sample.rssBytes { steadySince = BenchClock.now() }
            sample = next
        }
        return sample
    }

    /// Closes every connection without counting them as lost.
    func finish() {
        ending = true
        loop.closeAll()
    }

    // MARK: report pieces

    func addLatency(_ report: inout BenchReport, _ histogram: LatencyHistogram, prefix: String = "", label: String = "") {
        let ms = { (ns: UInt64) in BenchReport.Value.number(Double(ns) / 1e6, digits: 3) }
        report.add("\(prefix)latency_p50_ms", "\(label)latency p50", ms(histogram.quantile(0.50)), "ms")
        report.add("\(prefix)latency_p99_ms", "\(label)latency p99", ms(histogram.quantile(0.99)), "ms")
        report.add("\(prefix)latency_p999_ms", "\(label)latency p99.9", ms(histogram.quantile(0.999)), "ms")
        report.add("\(prefix)latency_max_ms", "\(label)latency max", ms(histogram.max), "ms")
        report.add("\(prefix)latency_samples", "\(label)latency samples", .int(Int(histogram.count)))
    }

    /// CPU per delivery, cores and RSS over a window, plus the client's own CPU (it shares the
    /// machine, so a saturated client limits what is measured).
    func addServerFigures(_ report: inout BenchReport, before: ProcessFigures, after: ProcessFigures,
                          client: (ProcessFigures?, ProcessFigures?), deliveries: Int) {
        let cpu = Double(after.cpuNanos &- before.cpuNanos)
        let wall = Double(after.at - before.at)
        report.add("server_ns_per_delivery", "server CPU per delivery", .number(deliveries > 0 ? cpu / Double(deliveries) : .nan, digits: 0), "ns")
        report.add("server_cores", "server cores used", .number(cpu / wall, digits: 2))
        report.add("server_rss_bytes", "server RSS", .int(after.rssBytes), "bytes")
        report.add("server_fds", "server open fds", .int(after.openFDs))
        if let start = client.0, let end = client.1 {
            report.add("client_cores", "bench client cores used", .number(Double(end.cpuNanos &- start.cpuNanos) / wall, digits: 2))
        }
    }

    /// Wire bytes the bench read per delivery in the window (compressed or not), and the
    /// server's permessage-deflate counters (read from /metrics while it still runs).
    func addCompressionFigures(_ report: inout BenchReport, wireBytes: Int, deliveries: Int) {
        report.add("compression", "permessage-deflate offered", .text(options.compression ? "on" : "off"))
        report.add("wire_bytes_per_delivery", "wire bytes read per delivery",
                   .number(deliveries > 0 ? Double(wireBytes) / Double(deliveries) : .nan, digits: 1), "bytes")
        if let count = server.metric("bus_compressed_messages_total"), count > 0,
           let seconds = server.metric("bus_compression_seconds_total") {
            report.add("compressed_messages", "messages compressed by the server", .int(Int(count)))
            report.add("compress_ns_per_message", "server time per compressed message", .number(seconds * 1e9 / count, digits: 0), "ns")
        }
    }

    func addCommon(_ report: inout BenchReport) {
        let corpus = options.corpus.map { "corpus (\($0.messages.count) messages, mean \(Int($0.meanSize)) B)" }
        report.add("payload", "payload", .text(corpus ?? (options.json ? "json" : "binary")))
        report.add("load_average", "machine load (1 min)", .number(ProcessFigures.loadAverage(), digits: 2))
        report.add("lost_connections", "subscribers disconnected", .int(lost.count))
        if let first = lost.first { report.fail("\(lost.count) connection(s) dropped, first: \(first.closeWhy)") }
        if !serverErrors.isEmpty { report.fail("server errors: \(serverErrors.joined(separator: "; "))") }
    }
}
