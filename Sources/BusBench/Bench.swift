import SystemCalls

/// One `bus-cli bench` run: sets up the server under test, runs one scenario and stops the
/// server it started. bus-cli parses the flags and prints the report.
package enum Bench {
    package static let scenarios = ["fanout", "saturate", "topics", "idle", "churn", "slow", "echo"]

    /// The scenario's report; a scenario that could not run reports why as a failure, so
    /// scripts still get their one JSON line. `warn` hears what should reach a person at once.
    package static func run(_ options: BenchOptions, warn: (String) -> Void) throws -> BenchReport {
        let limits = Sys.raiseFileLimits()
        if options.scenario == "idle" {
            let wanted = options.integer("connections", 10_000) + 64
            if limits.soft < wanted {
                throw BenchFailure("idle needs \(wanted) file descriptors but the hard RLIMIT_NOFILE is \(limits.hard); "
                    + "raise it (as root: ulimit -Hn \(wanted), or nofile in /etc/security/limits.conf) or pass a smaller --connections")
            }
        }
        let server: ServerUnderTest
        if let (endpoint, pid) = options.attachTo {
            server = ServerUnderTest.attach(endpoint: endpoint, pid: pid)
        } else {
            server = try ServerUnderTest.start(extraArguments: options.serverArguments, warn: warn)
        }
        defer { server.stop() }
        var report: BenchReport
        do {
            report = try runScenario(options, server)
        } catch let failure as BenchFailure {
            report = BenchReport(scenario: options.scenario)
            report.fail(failure.description)
        }
        report.note("server \(server.binaryPath ?? "pid \(server.pid)") at \(server.endpoint.host):\(server.endpoint.port); "
            + "descriptors soft/hard \(limits.soft)/\(limits.hard)")
        for line in server.complaints().prefix(5) { report.note("server log: \(line)") }
        return report
    }

    /// Whether `/proc` shows the figures of process `pid` (a running server given by
    /// `--server-pid`).
    package static func canMeasure(pid: Int32) -> Bool { ProcessFigures.sample(pid: pid) != nil }

    private static func runScenario(_ options: BenchOptions, _ server: ServerUnderTest) throws -> BenchReport {
        switch options.scenario {
        case "fanout": return try FanoutBench(server: server, options: options, saturate: false).run()
        case "saturate": return try FanoutBench(server: server, options: options, saturate: true).run()
        case "topics": return try TopicsBench(server: server, options: options).run()
        case "slow": return try SlowBench(server: server, options: options).run()
        case "idle": return try IdleBench(server: server, options: options).run()
        case "churn": return try ChurnBench(server: server, options: options).run()
        case "echo": return try EchoBench(server: server, options: options).run()
        default: throw BenchFailure("unknown scenario \(options.scenario)")
        }
    }
}
