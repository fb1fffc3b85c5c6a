import Foundation
import SystemCalls

/// The broker being measured: either a `broker-server` this command starts (the release
/// binary beside bus-cli's own executable, on a free loopback port) or one already running,
/// named by `--url` and `--server-pid`.
final class ServerUnderTest {
    let endpoint: BenchEndpoint
    let pid: Int32
    /// Where the started server's log goes (nil for an attached server).
    let logPath: String?
    let binaryPath: String?
    private let process: Process?

    private init(endpoint: BenchEndpoint, pid: Int32, process: Process?, logPath: String?, binaryPath: String?) {
        self.endpoint = endpoint
        self.pid = pid
        self.process = process
        self.logPath = logPath
        self.binaryPath = binaryPath
    }

    /// A running server; `pid` was checked with `Bench.canMeasure(pid:)`.
    static func attach(endpoint: BenchEndpoint, pid: Int32) -> ServerUnderTest {
        return ServerUnderTest(endpoint: endpoint, pid: pid, process: nil, logPath: nil, binaryPath: nil)
    }

    /// Starts `broker-server --host 127.0.0.1 --port 0` plus `extraArguments`, and reads the
    /// port it picked from its "listening" log line.
    static func start(extraArguments: [String], warn: (String) -> Void) throws -> ServerUnderTest {
        guard let directory = BenchSys.executableDirectory() else { throw BenchFailure("cannot read /proc/self/exe") }
        let binary = directory + "/broker-server"
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw BenchFailure("""
                broker-server is missing: expected it beside bus-cli at \(binary).
                Build both: swift build -c release
                or measure a running server with --url ws://HOST:PORT --server-pid PID
                """)
        }
        if directory.contains("/debug") {
            warn("warning: \(binary) is a debug build; figures mean little (build with -c release)")
        }
        let logPath = NSTemporaryDirectory() + "bus-bench-server-\(Sys.processID()).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw BenchFailure("cannot write \(logPath)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--host", "127.0.0.1", "--port", "0"] + extraArguments
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = BenchClock.now() + 15_000_000_000
        while BenchClock.now() < deadline {
            if let port = listeningPort(logPath: logPath) {
                let endpoint = BenchEndpoint(host: "127.0.0.1", port: port, hostHeader: "127.0.0.1:\(port)", path: "/bus")
                return ServerUnderTest(endpoint: endpoint, pid: process.processIdentifier, process: process,
                                       logPath: logPath, binaryPath: binary)
            }
            if !process.isRunning {
                let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
                throw BenchFailure("broker-server exited with status \(process.terminationStatus): \(text)")
            }
            BenchSys.sleep(microseconds: 20_000)
        }
        process.terminate()
        throw BenchFailure("broker-server did not report a listening port within 15 s (log: \(logPath))")
    }

    /// The port in `... msg=listening addresses=127.0.0.1:PORT ...` (logfmt or JSON).
    static func listeningPort(logPath: String) -> UInt16? {
        guard let text = try? String(contentsOfFile: logPath, encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.contains("listening") }),
              let range = line.range(of: "addresses") else { return nil }
        let rest = line[range.upperBound...].drop { $0 == "=" || $0 == "\"" || $0 == ":" }
        let address = rest.prefix { $0 != "," && $0 != " " && $0 != "\"" }
        guard let colon = address.lastIndex(of: ":") else { return nil }
        return UInt16(address[address.index(after: colon)...])
    }

    /// Lines the server logged that mention `word` (e.g. "slow consumer"), for the report.
    func logLines(containing word: String) -> [String] {
        guard let logPath, let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").filter { $0.contains(word) }.map(String.init)
    }

    /// Any line at warn or error level: something in the server went wrong during the run.
    func complaints() -> [String] {
        guard let logPath, let text = try? String(contentsOfFile: logPath, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").map(String.init).filter {
            ($0.contains("level=warn") || $0.contains("level=error") || $0.contains("\"level\":\"warn")
                || $0.contains("\"level\":\"error")) && !$0.contains("no authentication configured")
        }
    }

    /// SIGTERM, then up to 10 s for a clean exit (SIGKILL after that). Only a server this
    /// command started is stopped.
    func stop() {
        guard let process, process.isRunning else { return }
        BenchSys.signal(process.processIdentifier, force: false)
        let deadline = BenchClock.now() + 10_000_000_000
        while process.isRunning && BenchClock.now() < deadline { BenchSys.sleep(microseconds: 20_000) }
        if process.isRunning { BenchSys.signal(process.processIdentifier, force: true) }
        process.waitUntilExit()
        if let logPath { try? FileManager.default.removeItem(atPath: logPath) }
    }

    /// GET /metrics and read one counter (e.g. `bus_slow_consumer_drops_total`); nil on failure.
    func metric(_ name: String) -> Double? {
        guard let address = try? SocketAddress.resolve(host: endpoint.host, port: endpoint.port),
              let fd = try? Sys.socket(family: address.family, nonBlocking: false) else { return nil }
        defer { Sys.close(fd) }
        guard (try? Sys.connect(fd, address)) != nil else { return nil }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: \(endpoint.hostHeader)\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ Sys.send(fd, $0) }) == .bytes(request.count) else { return nil }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        let deadline = BenchClock.now() + 2_000_000_000
        while BenchClock.now() < deadline {
            guard Sys.waitReadable(fd, timeoutMs: 200) else { continue }
            let result = chunk.withUnsafeMutableBytes { Sys.read(fd, into: $0) }
            guard case .bytes(let n) = result else { break }
            response += chunk[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }
}

/// A scenario could not run (server missing, connections refused, limits too low).
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
