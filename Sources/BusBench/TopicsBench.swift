import SystemCalls

/// `topics`: many small topics (chat rooms, per-user channels). Each of T topics has one
/// subscriber; P publishers share a fixed total rate, message k going to topic k mod T from
/// publisher (k mod T) mod P, so every topic gets the same share and keeps one publisher.
final class TopicsBench: DeliveryBench {
    func run() throws -> BenchReport {
        let topicCount = options.integer("topics", 9000)
        let publisherCount = options.integer("publishers", 4)
        let rate = options.integer("rate", 10_000)
        let size = options.integer("size", 128)
        let warmup = options.seconds("warmup", 2)
        let duration = options.seconds("duration", 10)
        let drain = options.seconds("drain", 5)
        let concurrency = options.integer("concurrency", 500)
        var report = BenchReport(scenario: "topics")
        let names = (0..<topicCount).map { "bench.topics.t\($0)" }

        let setupStart = BenchClock.now()
        try openSubscribers(count: topicCount, concurrency: concurrency, topic: { names[$0] })
        try openPublishers(count: publisherCount)
        let setupSeconds = Double(BenchClock.now() - setupStart) / 1e9

        var publishedPerTopic = [Int](repeating: 0, count: topicCount)
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
        var after: ProcessFigures!
        var clientAfter: ProcessFigures?
        var deliveredAtEnd = 0

        while true {
            let now = BenchClock.now()
            if before == nil && now >= windowStart {
                before = try serverSample()
                clientBefore = ProcessFigures.sample(pid: Sys.processID())
                deliveredAtStart = delivered
                wireAtStart = loop.bytesRead
            }
            if now >= windowEnd {
                after = try serverSample()
                clientAfter = ProcessFigures.sample(pid: Sys.processID())
                deliveredAtEnd = delivered
                wireAtEnd = loop.bytesRead
                break
            }
            if let gone = publishers.first(where: { $0.state == .closed }) {
                throw BenchFailure("publisher \(gone.tag) was disconnected: \(gone.closeWhy)")
            }
            while next <= Double(now) {
                maxLag = max(maxLag, now - UInt64(next))
                let topic = published % topicCount
                loop.enqueue(BenchPayload.publishFrame(topic: names[topic], size: size, json: options.json, corpus: options.corpus, sentAt: BenchClock.now()),
                             on: publishers[topic % publisherCount])
                publishedPerTopic[topic] += 1
                published += 1
                next += interval
            }
            loop.turn(timeoutMs: Int32(min(50, max(1, (next - Double(now)) / 1e6))))
        }

        let drainDeadline = BenchClock.now() + UInt64(drain * 1e9)
        func behind() -> Bool {
            subscribers.contains { $0.state == .open && $0.received < publishedPerTopic[$0.tag] }
        }
        while BenchClock.now() < drainDeadline && behind() { loop.turn(timeoutMs: 10) }
        let received = subscribers.reduce(0) { $0 + $1.received }
        let missing = subscribers.filter { $0.state == .open }.reduce(0) { $0 + max(0, publishedPerTopic[$1.tag] - $1.received) }
        let breaks = subscribers.reduce(0) { $0 + $1.seqBreaks }
        let seconds = Double(after.at - before!.at) / 1e9
        let windowDeliveries = deliveredAtEnd - deliveredAtStart
        var compressionReport = BenchReport(scenario: "")
        addCompressionFigures(&compressionReport, wireBytes: wireAtEnd - wireAtStart, deliveries: windowDeliveries)
        finish()

        report.add("topics", "topics (one subscriber each)", .int(topicCount))
        report.add("publishers", "publishers", .int(publisherCount))
        report.add("rate", "total publish rate asked", .int(rate), "msg/s")
        report.add("size", "payload size", .int(size), "bytes")
        addCommon(&report)
        report.add("setup_seconds", "setup (connect + subscribe acks)", .number(setupSeconds, digits: 2), "s")
        report.add("window_seconds", "measured window", .number(seconds, digits: 2), "s")
        report.add("deliveries_per_second", "deliveries", .number(Double(windowDeliveries) / seconds, digits: 0), "/s")
        report.add("published", "published (all phases)", .int(published))
        report.add("received", "received", .int(received))
        report.add("expected", "expected", .int(published))
        report.add("missing", "missing at connected subscribers", .int(missing))
        report.add("seq_breaks", "sequence gaps or reorders", .int(breaks))
        addLatency(&report, histogram)
        addServerFigures(&report, before: before!, after: after, client: (clientBefore, clientAfter), deliveries: windowDeliveries)
        report.append(compressionReport)
        report.add("publisher_max_lag_ms", "publisher max lag behind schedule", .number(Double(maxLag) / 1e6, digits: 2), "ms")
        if missing > 0 { report.fail("\(missing) deliveries missing after a \(drain) s drain") }
        if breaks > 0 { report.fail("\(breaks) sequence gaps or reorders") }
        return report
    }
}
