import Foundation

/// `bus-cli bench SCENARIO`: sets up the server under test, runs one scenario, prints its
/// table and then its JSON line, and stops the server it started.
struct BenchCommand {
    let options: BenchOptions

    init(_ arguments: [String]) throws {
        options = try BenchOptions(arguments)
    }

    /// Exit status: 0 when the scenario passed, 1 when it failed or could not run.
    func run() throws -> Int32 {
        let limits = BenchSys.fileLimits()
        if options.scenario == "idle" {
            let wanted = try options.integer("connections", 10_000) + 64
            if limits.soft < wanted {
                throw BenchFailure("idle needs \(wanted) file descriptors but the hard RLIMIT_NOFILE is \(limits.hard); "
                    + "raise it (as root: ulimit -Hn \(wanted), or nofile in /etc/security/limits.conf) or pass a smaller --connections")
            }
        }
        let server: ServerUnderTest
        if let url = options.url, let pid = options.serverPID {
            server = try ServerUnderTest.attach(url: try CLI.url(url), pid: pid)
        } else {
            server = try ServerUnderTest.start(extraArguments: options.serverArguments)
        }
        defer { server.stop() }
        var report: BenchReport
        do {
            report = try runScenario(server)
        } catch let failure as BenchFailure {
            // Scripts still get their one JSON line, saying why there are no figures.
            report = BenchReport(scenario: options.scenario)
            report.fail(failure.description)
        }
        report.note("server \(server.binaryPath ?? "pid \(server.pid)") at \(server.url.host):\(server.url.port); "
            + "descriptors soft/hard \(limits.soft)/\(limits.hard)")
        for line in server.complaints().prefix(5) { report.note("server log: \(line)") }
        print(report.table(), terminator: "")
        print(report.jsonLine())
        return report.passed ? 0 : 1
    }

    private func runScenario(_ server: ServerUnderTest) throws -> BenchReport {
        switch options.scenario {
        case "fanout": return try FanoutBench(server: server, options: options, saturate: false).run()
        case "saturate": return try FanoutBench(server: server, options: options, saturate: true).run()
        case "topics": return try TopicsBench(server: server, options: options).run()
        case "slow": return try SlowBench(server: server, options: options).run()
        case "idle": return try IdleBench(server: server, options: options).run()
        case "churn": return try ChurnBench(server: server, options: options).run()
        case "echo": return try EchoBench(server: server, options: options).run()
        default: throw UsageError("unknown scenario \(options.scenario)")
        }
    }
}
