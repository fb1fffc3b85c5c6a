import SystemCalls

/// `churn`: connect, subscribe, leave, over and over, `concurrency` cycles in flight. Every
/// other client leaves with a close frame, the rest vanish with a TCP reset. Afterwards the
/// server must hold no more descriptors than before.
final class ChurnBench: DeliveryBench {
    private var active: [UInt64: BenchConnection] = [:]
    private var cycles = 0
    private var failed: [String] = []
    private var next = 0

    override func closed(_ connection: BenchConnection) {
        guard active.removeValue(forKey: connection.id) != nil else { return }
        if connection.subscribeAcked {
            cycles += 1
        } else if failed.count < 1000 {
            failed.append(connection.closeWhy)
        }
    }

    private func startCycle() throws {
        let connection = try loop.connect(tag: next)
        connection.subscribeTo = "bench.churn.t\(next % 100)"
        active[connection.id] = connection
        next += 1
    }

    func run() throws -> BenchReport {
        let concurrency = options.integer("concurrency", 64)
        let duration = options.seconds("duration", 5)
        let cycleLimit = options.integer("cycles", 0)
        var report = BenchReport(scenario: "churn")

        let base = try serverSample()
        let clientBase = ProcessFigures.sample(pid: Sys.processID())
        let start = BenchClock.now()
        let end = start + UInt64(duration * 1e9)
        var leaving = Set<UInt64>()
        while BenchClock.now() < end || !active.isEmpty {
            let now = BenchClock.now()
            let starting = cycleLimit == 0 || next < cycleLimit
            if now < end && starting {
                while active.count < concurrency && (cycleLimit == 0 || next < cycleLimit) { try startCycle() }
            } else if active.isEmpty {
                break
            } else if now > end + 10_000_000_000 {
                break
            }
            for connection in active.values where connection.subscribeAcked && !leaving.contains(connection.id) {
                leaving.insert(connection.id)
                if connection.tag % 2 == 0 { loop.close(connection) } else { loop.abort(connection) }
            }
            loop.turn(timeoutMs: 5)
        }
        let stopped = BenchClock.now()
        let atEnd = try serverSample()
        let clientEnd = ProcessFigures.sample(pid: Sys.processID())
        let unfinished = active.count
        finish()
        let settled = try settledSample(fdsAtMost: base.openFDs, deadline: BenchClock.now() + 15_000_000_000)

        let seconds = Double(stopped - start) / 1e9
        report.add("concurrency", "cycles in flight", .int(concurrency))
        report.add("load_average", "machine load (1 min)", .number(ProcessFigures.loadAverage(), digits: 2))
        report.add("seconds", "ran for", .number(seconds, digits: 2), "s")
        report.add("cycles", "cycles (connect, subscribe ack, leave)", .int(cycles))
        report.add("cycles_per_second", "cycles", .number(Double(cycles) / seconds, digits: 0), "/s")
        report.add("failed_cycles", "failed cycles", .int(failed.count))
        report.add("server_us_per_cycle", "server CPU per cycle", .number(Double(atEnd.cpuNanos - base.cpuNanos) / 1e3 / Double(max(1, cycles)), digits: 1), "µs")
        report.add("server_cores", "server cores used", .number(Double(atEnd.cpuNanos - base.cpuNanos) / Double(atEnd.at - base.at), digits: 2))
        if let clientBase, let clientEnd {
            report.add("client_cores", "bench client cores used", .number(Double(clientEnd.cpuNanos - clientBase.cpuNanos) / Double(clientEnd.at - clientBase.at), digits: 2))
        }
        report.add("server_fds_before", "server open fds before", .int(base.openFDs))
        report.add("server_fds_after", "server open fds after", .int(settled.openFDs))
        report.add("server_fds_left_behind", "server fds left behind", .int(settled.openFDs - base.openFDs))
        report.add("server_rss_before_bytes", "server RSS before", .int(base.rssBytes), "bytes")
        report.add("server_rss_after_bytes", "server RSS after", .int(settled.rssBytes), "bytes")
        report.add("server_anon_before_bytes", "server anonymous RSS before", .int(base.anonymousBytes), "bytes")
        report.add("server_anon_after_bytes", "server anonymous RSS after", .int(settled.anonymousBytes), "bytes")
        report.add("server_rss_growth_percent", "server RSS growth", .number(Double(settled.rssBytes - base.rssBytes) * 100 / Double(max(1, base.rssBytes)), digits: 1), "%")
        if !failed.isEmpty { report.fail("\(failed.count) cycles failed, first: \(failed[0])") }
        if unfinished > 0 { report.fail("\(unfinished) cycles did not finish within 10 s of the end") }
        if settled.openFDs > base.openFDs { report.fail("\(settled.openFDs - base.openFDs) server descriptors still open 15 s after the end") }
        if !serverErrors.isEmpty { report.fail("server errors: \(serverErrors.joined(separator: "; "))") }
        return report
    }
}
