import SystemCalls

/// `fanout` and `saturate`: one topic, many subscribers, one publisher. Fanout publishes at a
/// fixed rate; saturate publishes as fast as the slowest of a few sampled subscribers allows,
/// keeping at most `window` messages in flight past it (so no healthy subscriber's server
/// queue overflows), which measures the most deliveries per second the server sustains.
final class FanoutBench: DeliveryBench {
    let saturate: Bool

    init(server: ServerUnderTest, options: BenchOptions, saturate: Bool) throws {
        self.saturate = saturate
        try super.init(server: server, options: options)
    }

    func run() throws -> BenchReport {
        let count = options.integer("subscribers", 1000)
        let rate = options.integer("rate", 200)
        let size = options.integer("size", 128)
        let warmup = options.seconds("warmup", 2)
        let duration = options.seconds("duration", 10)
        let drain = options.seconds("drain", 5)
        let window = options.integer("window", 64)
        let sampleCount = min(count, options.integer("samples", 8))
        let topic = saturate ? "bench.saturate" : "bench.fanout"
        var report = BenchReport(scenario: saturate ? "saturate" : "fanout")

        let setupStart = BenchClock.now()
        try openSubscribers(count: count, topic: { _ in topic })
        try openPublishers(count: 1)
        let setupSeconds = Double(BenchClock.now() - setupStart) / 1e9
        let publisher = publishers[0]
        // Evenly spread samples: the slowest of them paces the saturating publisher.
        let samples = (0..<sampleCount).map { subscribers[$0 * count / sampleCount] }

        var published = 0
        let start = BenchClock.now()
        let windowStart = start + UInt64(warmup * 1e9)
        let windowEnd = windowStart + UInt64(duration * 1e9)
        recordFrom = windowStart
        recordUntil = windowEnd
        let interval = 1e9 / Double(rate)
        var next = Double(start)
        var maxLag: UInt64 = 0
        var before: ProcessFigures?
        var clientBefore: ProcessFigures?
        var deliveredAtStart = 0
        var wireAtStart = 0, wireAtEnd = 0
        var publishedAtStart = 0
        var after: ProcessFigures!
        var clientAfter: ProcessFigures?
        var deliveredAtEnd = 0
        var publishedAtEnd = 0

        func publish(_ now: UInt64) {
            loop.enqueue(BenchPayload.publishFrame(topic: topic, size: size, json: options.json, corpus: options.corpus, sentAt: now), on: publisher)
            published += 1
        }

        while true {
            let now = BenchClock.now()
            if before == nil && now >= windowStart {
                before = try serverSample()
                clientBefore = ProcessFigures.sample(pid: Sys.processID())
                deliveredAtStart = delivered
                wireAtStart = loop.bytesRead
                publishedAtStart = published
            }
            if now >= windowEnd {
                after = try serverSample()
                clientAfter = ProcessFigures.sample(pid: Sys.processID())
                deliveredAtEnd = delivered
                wireAtEnd = loop.bytesRead
                publishedAtEnd = published
                break
            }
            if publisher.state == .closed { throw BenchFailure("the publisher was disconnected: \(publisher.closeWhy)") }
            var timeout: Int32 = 1
            if saturate {
                let slowest = samples.lazy.map(\.received).min() ?? published
                var budget = window - (published - slowest)
                while budget > 0 {
                    publish(BenchClock.now())
                    budget -= 1
                }
            } else {
                while next <= Double(now) {
                    maxLag = max(maxLag, now - UInt64(next))
                    publish(BenchClock.now())
                    next += interval
                }
                timeout = Int32(max(1, (next - Double(now)) / 1e6))
            }
            loop.turn(timeoutMs: min(timeout, 50))
        }

        // Drain: every connected subscriber should end with every message.
        let expectedEach = published
        let drainDeadline = BenchClock.now() + UInt64(drain * 1e9)
        while BenchClock.now() < drainDeadline && subscribers.contains(where: { $0.state == .open && $0.received < expectedEach }) {
            loop.turn(timeoutMs: 10)
        }
        let received = subscribers.reduce(0) { $0 + $1.received }
        let connected = subscribers.filter { $0.state == .open }
        let missing = connected.reduce(0) { $0 + max(0, expectedEach - $1.received) }
        let breaks = subscribers.reduce(0) { $0 + $1.seqBreaks }
        let seconds = Double(after.at - before!.at) / 1e9
        let windowDeliveries = deliveredAtEnd - deliveredAtStart
        var compressionReport = BenchReport(scenario: "")
        addCompressionFigures(&compressionReport, wireBytes: wireAtEnd - wireAtStart, deliveries: windowDeliveries)
        finish()

        report.add("subscribers", "subscribers", .int(count))
        if saturate {
            report.add("window", "in-flight window (messages)", .int(window))
        } else {
            report.add("rate", "publish rate asked", .int(rate), "msg/s")
        }
        report.add("size", "payload size", .int(size), "bytes")
        addCommon(&report)
        report.add("setup_seconds", "setup (connect + subscribe acks)", .number(setupSeconds, digits: 2), "s")
        report.add("window_seconds", "measured window", .number(seconds, digits: 2), "s")
        report.add("published_per_second", "published in window", .number(Double(publishedAtEnd - publishedAtStart) / seconds, digits: 1), "msg/s")
        report.add("deliveries_per_second", "deliveries", .number(Double(windowDeliveries) / seconds, digits: 0), "/s")
        report.add("published", "published (all phases)", .int(published))
        report.add("received", "received", .int(received))
        report.add("expected", "expected", .int(published * count))
        report.add("missing", "missing at connected subscribers", .int(missing))
        report.add("seq_breaks", "sequence gaps or reorders", .int(breaks))
        addLatency(&report, histogram)
        addServerFigures(&report, before: before!, after: after, client: (clientBefore, clientAfter), deliveries: windowDeliveries)
        report.append(compressionReport)
        if !saturate { report.add("publisher_max_lag_ms", "publisher max lag behind schedule", .number(Double(maxLag) / 1e6, digits: 2), "ms") }
        if missing > 0 { report.fail("\(missing) deliveries missing after a \(drain) s drain") }
        if breaks > 0 { report.fail("\(breaks) sequence gaps or reorders") }
        if received < published * count && lost.isEmpty && missing == 0 { report.fail("received \(received) of \(published * count)") }
        return report
    }
}
