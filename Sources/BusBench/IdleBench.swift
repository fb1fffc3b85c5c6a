import SystemCalls

/// `idle`: how much an open, subscribed, silent connection costs the server, and how fast
/// it accepts them. RSS per connection is the server's RSS growth over the connections. With
/// `--topic-per-connection` each subscribes to a topic of its own, so the figure is one
/// connection plus one topic (no message is ever published to it).
final class IdleBench: DeliveryBench {
    func run() throws -> BenchReport {
        let count = options.integer("connections", 10_000)
        let concurrency = options.integer("concurrency", 500)
        let topicCount = options.topicPerConnection ? count : options.integer("topics", 1)
        let hold = options.seconds("hold", 2)
        var report = BenchReport(scenario: "idle")

        let base = try serverSample()
        let clientBase = ProcessFigures.sample(pid: Sys.processID())
        let start = BenchClock.now()
        try openSubscribers(count: count, concurrency: concurrency, topic: { "bench.idle.t\($0 % topicCount)" })
        let ackedAt = BenchClock.now()
        let serverAcked = try serverSample()
        let clientAcked = ProcessFigures.sample(pid: Sys.processID())
        let lastOpen = subscribers.map(\.openedAt).max() ?? ackedAt
        run(seconds: hold)
        let held = try serverSample()
        let clientHeld = ProcessFigures.sample(pid: Sys.processID())
        let stillOpen = subscribers.filter { $0.state == .open }.count

        // Leave without close frames and check the server lets every descriptor go.
        finish()
        let afterClose = try settledSample(fdsAtMost: base.openFDs, deadline: BenchClock.now() + 15_000_000_000)

        let perConnection = Double(held.rssBytes - base.rssBytes) / Double(count)
        report.add("connections", "connections", .int(count))
        report.add("concurrency", "connecting at once", .int(concurrency))
        report.add("topics", "topics they subscribe to", .int(topicCount))
        addCommon(&report)
        report.add("connections_per_second", "connections established", .number(Double(count) / (Double(lastOpen - start) / 1e9), digits: 0), "/s")
        report.add("subscribed_per_second", "connected and subscribed (acked)", .number(Double(count) / (Double(ackedAt - start) / 1e9), digits: 0), "/s")
        report.add("still_open", "open after holding", .int(stillOpen))
        report.add("server_rss_before_bytes", "server RSS before", .int(base.rssBytes), "bytes")
        report.add("server_rss_bytes", "server RSS while held", .int(held.rssBytes), "bytes")
        report.add("server_rss_per_connection", "server RSS per connection", .number(perConnection, digits: 0), "bytes")
        report.add("server_fds_held", "server open fds while held", .int(held.openFDs))
        report.add("server_fds_after_close", "server open fds after they left", .int(afterClose.openFDs))
        report.add("server_fds_left_behind", "server fds left behind", .int(afterClose.openFDs - base.openFDs))
        report.add("server_rss_after_close_bytes", "server RSS after they left", .int(afterClose.rssBytes), "bytes")
        report.add("server_cpu_ns_per_connection", "server CPU per connection set up", .number(Double(held.cpuNanos - base.cpuNanos) / Double(count), digits: 0), "ns")
        report.add("server_cores_connecting", "server cores used while connecting", .number(Double(serverAcked.cpuNanos - base.cpuNanos) / Double(serverAcked.at - base.at), digits: 2))
        if let clientBase, let clientAcked {
            report.add("client_cores_connecting", "bench client cores used while connecting", .number(Double(clientAcked.cpuNanos - clientBase.cpuNanos) / Double(clientAcked.at - clientBase.at), digits: 2))
        }
        if let clientBase, let clientHeld {
            report.add("client_rss_per_connection", "bench client RSS per connection", .number(Double(clientHeld.rssBytes - clientBase.rssBytes) / Double(count), digits: 0), "bytes")
        }
        if stillOpen < count { report.fail("\(count - stillOpen) connections closed while idle") }
        if afterClose.openFDs > base.openFDs { report.fail("\(afterClose.openFDs - base.openFDs) server descriptors still open 15 s after the clients left") }
        return report
    }
}
