import Foundation
import Glibc
import Testing
@testable import Broker

/// A real nats-server on 127.0.0.1 and a free port, started and stopped (by pid) by the test.
/// `kill` and `start` again on the same port simulate an outage.
final class NATSServerProcess {
    let port: UInt16
    let executable: String
    private var process: Process?

    /// Skips (or fails under BUS_REQUIRE_ALL=1) when nats-server is not installed.
    static func require(sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
            + ["/usr/sbin", "/usr/local/bin", "/usr/bin"]
        let found = path.map { "\($0)/nats-server" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        try ExternalTool.require(found != nil, "nats-server (Debian package nats-server)", sourceLocation: sourceLocation)
        return found!
    }

    init() throws {
        executable = try Self.require()
        // A free port: bind port 0, note it, release it for nats-server.
        let probe = try Listener(host: "127.0.0.1", port: 0)
        port = probe.address.port
        probe.close()
        try start()
    }

    var url: String { "nats://127.0.0.1:\(port)" }

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["-a", "127.0.0.1", "-p", String(port)]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        guard eventually(timeout: 10, { (try? RawSocket(port: port)) != nil }) else {
            throw WebSocketClient.ClientError.handshake("nats-server did not start on port \(port)")
        }
    }

    /// Kills the server outright (SIGKILL): no goodbye to its clients.
    func kill() {
        guard let process else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    func stop() {
        guard let process else { return }
        process.terminate()
        process.waitUntilExit()
        self.process = nil
    }
}

/// A broker-server node of a cluster: a child process joined to `nats`.
extension ServerProcess {
    convenience init(node name: String, nats: NATSServerProcess, loops: Int = 2) throws {
        try self.init(["--nats", nats.url, "--node-name", name, "--loops", String(loops)])
    }

    /// Polls /readyz until it answers 200 (in cluster mode: the backplane is up).
    func waitReady(_ ready: Bool = true, timeout: Double = 15) -> Bool {
        eventually(timeout: timeout) { ((try? HTTPResult(port: port, "/readyz"))?.status == 200) == ready }
    }

    func metric(_ series: String) -> Double? { (try? HTTPResult(port: port, "/metrics"))?.sample(series) }
}
