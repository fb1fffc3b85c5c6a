import SystemCalls

/// `echo`: round trips through the server's `/echo` service, the WebSocket core without the
/// bus. Each connection keeps one binary message in flight: send, wait for it to come back,
/// send the next. Figures: round trips/s, round-trip latency, server CPU per round trip.
final class EchoBench: ClientLoopDelegate {
    let loop: ClientLoop
    let server: ServerUnderTest
    let options: BenchOptions
    private var histogram = LatencyHistogram()
    private var recordFrom: UInt64 = .max
    private var recordUntil: UInt64 = .max
    private var size = 128
    private var echoes = 0
    private var mismatched = 0
    private var sending = true
    private var opened = 0
    private var lost: [BenchConnection] = []
    private var ending = false

    init(server: ServerUnderTest, options: BenchOptions) throws {
        self.server = server
        self.options = options
        loop = try ClientLoop(endpoint: server.endpoint, path: "/echo", subprotocols: [])
        loop.delegate = self
    }

    func opened(_ connection: BenchConnection) {
        opened += 1
        send(on: connection)
    }

    private func send(on connection: BenchConnection) {
        var payload = [UInt8](repeating: 0x62, count: max(8, size))
        let now = BenchClock.now()
        for index in 0..<8 { payload[index] = UInt8(truncatingIfNeeded: now >> (8 * UInt64(index))) }
        loop.send(.binary, payload, on: connection)
    }

    func received(_ payload: UnsafeRawBufferPointer, binary: Bool, on connection: BenchConnection) {
        guard binary, payload.count == max(8, size) else {
            mismatched += 1
            return
        }
        let sentAt = UInt64(littleEndian: payload.loadUnaligned(as: UInt64.self))
        if sentAt >= recordFrom && sentAt < recordUntil { histogram.record(loop.now &- sentAt) }
        echoes += 1
        connection.received += 1
        if sending { send(on: connection) }
    }

    func closed(_ connection: BenchConnection) {
        if !ending { lost.append(connection) }
    }

    func run() throws -> BenchReport {
        let count = options.integer("connections", 50)
        size = options.integer("size", 128)
        let warmup = options.seconds("warmup", 1)
        let duration = options.seconds("duration", 5)
        var report = BenchReport(scenario: "echo")

        for index in 0..<count { try loop.connect(tag: index) }
        let setupDeadline = BenchClock.now() + 30_000_000_000
        while opened < count {
            if let failed = lost.first { throw BenchFailure("echo connection failed: \(failed.closeWhy)") }
            guard BenchClock.now() < setupDeadline else { throw BenchFailure("only \(opened) of \(count) echo connections opened") }
            loop.turn(timeoutMs: 10)
        }
        let start = BenchClock.now()
        recordFrom = start + UInt64(warmup * 1e9)
        recordUntil = recordFrom + UInt64(duration * 1e9)
        while BenchClock.now() < recordFrom { loop.turn(timeoutMs: 10) }
        guard let before = ProcessFigures.sample(pid: server.pid) else { throw BenchFailure("the server is gone") }
        let clientBefore = ProcessFigures.sample(pid: Sys.processID())
        let echoesAtStart = echoes
        while BenchClock.now() < recordUntil { loop.turn(timeoutMs: 10) }
        guard let after = ProcessFigures.sample(pid: server.pid) else { throw BenchFailure("the server is gone") }
        let clientAfter = ProcessFigures.sample(pid: Sys.processID())
        let windowEchoes = echoes - echoesAtStart
        sending = false
        run(seconds: 0.5)  // the last round trips in flight come back
        ending = true
        loop.closeAll()

        let seconds = Double(after.at - before.at) / 1e9
        let cpu = Double(after.cpuNanos - before.cpuNanos)
        report.add("connections", "connections (one message in flight each)", .int(count))
        report.add("size", "payload size", .int(size), "bytes")
        report.add("load_average", "machine load (1 min)", .number(ProcessFigures.loadAverage(), digits: 2))
        report.add("round_trips_per_second", "round trips", .number(Double(windowEchoes) / seconds, digits: 0), "/s")
        report.add("bad_echoes", "echoes of the wrong kind or size", .int(mismatched))
        report.add("lost_connections", "connections dropped", .int(lost.count))
        let ms = { (ns: UInt64) in BenchReport.Value.number(Double(ns) / 1e6, digits: 3) }
        report.add("rtt_p50_ms", "round trip p50", ms(histogram.quantile(0.5)), "ms")
        report.add("rtt_p99_ms", "round trip p99", ms(histogram.quantile(0.99)), "ms")
        report.add("rtt_p999_ms", "round trip p99.9", ms(histogram.quantile(0.999)), "ms")
        report.add("rtt_max_ms", "round trip max", ms(histogram.max), "ms")
        report.add("server_ns_per_round_trip", "server CPU per round trip", .number(windowEchoes > 0 ? cpu / Double(windowEchoes) : .nan, digits: 0), "ns")
        report.add("server_cores", "server cores used", .number(cpu / Double(after.at - before.at), digits: 2))
        report.add("server_rss_bytes", "server RSS", .int(after.rssBytes), "bytes")
        if let clientBefore, let clientAfter {
            report.add("client_cores", "bench client cores used", .number(Double(clientAfter.cpuNanos - clientBefore.cpuNanos) / Double(after.at - before.at), digits: 2))
        }
        if mismatched > 0 { report.fail("\(mismatched) echoes did not match what was sent") }
        if let first = lost.first { report.fail("\(lost.count) connection(s) dropped, first: \(first.closeWhy)") }
        if windowEchoes == 0 { report.fail("no round trip completed in the window") }
        return report
    }

    private func run(seconds: Double) {
        let deadline = BenchClock.now() + UInt64(seconds * 1e9)
        while BenchClock.now() < deadline { loop.turn(timeoutMs: 10) }
    }
}
