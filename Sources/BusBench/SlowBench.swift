/// `slow`: healthy subscribers keep up while one stops reading. The server must drop the
/// stalled one (close 4008) once its queue overflows, and neither the publisher nor the
/// healthy subscribers may notice: nothing lost, p99 unchanged, publisher never held back.
final class SlowBench: DeliveryBench {
    /// Healthy subscribers' latency by when the message was sent: before the stall, while
    /// the stalled subscriber was still connected, after it was dropped.
    private var phases = [LatencyHistogram](repeating: LatencyHistogram(), count: 3)
    private var stallAt: UInt64 = .max
    private var droppedAt: UInt64 = .max
    private var slowTag = -1

    private func phase(_ time: UInt64) -> Int { time < stallAt ? 0 : time < droppedAt ? 1 : 2 }

    override func didDeliver(to connection: BenchConnection, sentAt: UInt64, latency: UInt64) {
        guard connection.tag != slowTag else { return }
        phases[phase(sentAt)].record(latency)
    }

    func run() throws -> BenchReport {
        let healthy = options.integer("subscribers", 100)
        let rate = options.integer("rate", 500)
        let size = options.integer("size", 1024)
        let warmup = options.seconds("warmup", 3)
        let limit = options.seconds("duration", 10)
        let drain = options.seconds("drain", 5)
        let slowBuffer = options.integer("slow-buffer", 4096)
        let topic = "bench.slow"
        var report = BenchReport(scenario: "slow")

        try openSubscribers(count: healthy, topic: { _ in topic })
        slowTag = healthy
        try openSubscribers(count: 1, topic: { _ in topic }, receiveBuffer: { _ in slowBuffer })
        let slow = subscribers[healthy]
        try openPublishers(count: 1)
        let publisher = publishers[0]
        let dropsAtStart = server.metric("bus_slow_consumer_drops_total")

        var published = 0
        let start = BenchClock.now()
        stallAt = start + UInt64(warmup * 1e9)
        var end = stallAt + UInt64(limit * 1e9)
        let interval = 1e9 / Double(rate)
        var next = Double(start)
        var lag = [UInt64](repeating: 0, count: 3)
        var backlog = [Int](repeating: 0, count: 3)
        var stalled = false
        var receivedBeforeStall = 0
        var dropAt: UInt64?
        var publishedAtDrop = 0
        var nextPoll: UInt64 = 0

        while true {
            let now = BenchClock.now()
            if now >= end { break }
            if publisher.state == .closed { throw BenchFailure("the publisher was disconnected: \(publisher.closeWhy)") }
            if !stalled && now >= stallAt {
                stalled = true
                receivedBeforeStall = slow.received
                loop.setReading(slow, false)
            }
            if stalled && dropAt == nil && now >= nextPoll {
                nextPoll = now + 50_000_000
                let drops = server.metric("bus_slow_consumer_drops_total")
                if let drops, drops > (dropsAtStart ?? 0) || slow.state == .closed || slow.closeCode != nil {
                    dropAt = now
                    droppedAt = now
                    publishedAtDrop = published
                    loop.setReading(slow, true)  // read its last words: the error and close 4008
                    end = min(end, now + 3_000_000_000)  // keep publishing a little after the drop
                }
            }
            while next <= Double(now) {
                lag[phase(now)] = max(lag[phase(now)], now - UInt64(next))
                loop.enqueue(BenchPayload.publishFrame(topic: topic, size: size, json: options.json, sentAt: BenchClock.now()), on: publisher)
                published += 1
                next += interval
            }
            backlog[phase(now)] = max(backlog[phase(now)], publisher.outbound.count - publisher.outboundOffset)
            loop.turn(timeoutMs: Int32(min(20, max(1, (next - Double(now)) / 1e6))))
        }

        let drainDeadline = BenchClock.now() + UInt64(drain * 1e9)
        let healthySet = subscribers.prefix(healthy)
        while BenchClock.now() < drainDeadline
                && (healthySet.contains { $0.state == .open && $0.received < published } || slow.state != .closed) {
            loop.turn(timeoutMs: 10)
        }
        let healthyLost = lost.filter { $0.tag != slowTag }
        let missing = healthySet.filter { $0.state == .open }.reduce(0) { $0 + max(0, published - $1.received) }
        let breaks = healthySet.reduce(0) { $0 + $1.seqBreaks }
        let lastSentSeq = slow.slowConsumerError.flatMap(Self.positionSeq)
        let frameBytes = size + 40  // payload + binary header (epoch, seq, topic) + frame header, about
        finish()

        report.add("healthy_subscribers", "healthy subscribers", .int(healthy))
        report.add("rate", "publish rate", .int(rate), "msg/s")
        report.add("size", "payload size", .int(size), "bytes")
        report.add("slow_receive_buffer", "stalled reader's SO_RCVBUF", .int(slowBuffer), "bytes")
        report.add("payload", "payload", .text(options.json ? "json" : "binary"))
        report.add("load_average", "machine load (1 min)", .number(ProcessFigures.loadAverage(), digits: 2))
        report.add("dropped", "stalled subscriber dropped", .flag(dropAt != nil))
        report.add("drop_after_seconds", "dropped after stalling", .number(dropAt.map { Double($0 - stallAt) / 1e9 } ?? .nan, digits: 2), "s")
        report.add("slow_close_code", "its close code", .text(slow.closeCode.map(String.init) ?? "none"))
        report.add("slow_consumer_error", "slow_consumer error received", .flag(slow.slowConsumerError != nil))
        report.add("slow_received_before_stall", "messages it read before stalling", .int(receivedBeforeStall))
        report.add("slow_last_sent_seq", "last seq written to it (error positions)", .int(Int(lastSentSeq ?? 0)))
        let queued = lastSentSeq.map { publishedAtDrop - Int($0) } ?? -1
        report.add("queued_messages_at_drop", "messages queued in the server at drop", .int(queued))
        report.add("queued_bytes_at_drop", "bytes queued in the server at drop (about)", .int(queued * frameBytes), "bytes")
        report.add("in_kernel_messages_at_drop", "written but unread (kernel buffers)", .int(lastSentSeq.map { Int($0) - receivedBeforeStall } ?? -1))
        report.add("published", "published", .int(published))
        report.add("healthy_missing", "missing at healthy subscribers", .int(missing))
        report.add("healthy_disconnected", "healthy subscribers disconnected", .int(healthyLost.count))
        report.add("seq_breaks", "sequence gaps or reorders (healthy)", .int(breaks))
        let names = [("before_", "before stall"), ("stalled_", "while stalled"), ("dropped_", "after the drop")]
        for (index, (key, label)) in names.enumerated() {
            addLatency(&report, phases[index], prefix: key, label: "healthy, \(label): ")
        }
        for (index, (key, label)) in names.enumerated() {
            report.add("\(key)publisher_max_lag_ms", "publisher max lag behind schedule, \(label)", .number(Double(lag[index]) / 1e6, digits: 2), "ms")
        }
        for (index, (key, label)) in names.enumerated() {
            report.add("\(key)publisher_max_backlog_bytes", "publisher bytes its socket refused, \(label)", .int(backlog[index]), "bytes")
        }
        if dropAt == nil { report.fail("the stalled subscriber was not dropped within \(limit) s") }
        if missing > 0 { report.fail("\(missing) deliveries missing at healthy subscribers") }
        if !healthyLost.isEmpty { report.fail("\(healthyLost.count) healthy subscriber(s) dropped, first: \(healthyLost[0].closeWhy)") }
        if breaks > 0 { report.fail("\(breaks) sequence gaps or reorders at healthy subscribers") }
        if !serverErrors.isEmpty { report.fail("server errors: \(serverErrors.joined(separator: "; "))") }
        return report
    }

    /// The `seq` of the first position in a `slow_consumer` error envelope.
    static func positionSeq(_ text: String) -> UInt64? {
        guard let range = text.range(of: "\"positions\""),
              let seqRange = text[range.upperBound...].range(of: "\"seq\":") else { return nil }
        return UInt64(text[seqRange.upperBound...].prefix { $0.isNumber })
    }
}
