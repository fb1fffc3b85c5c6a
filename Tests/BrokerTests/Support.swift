import Foundation
import Frames
import Glibc
@testable import Broker

/// An in-process server on 127.0.0.1, port 0, stopped by `stop()`.
final class LiveServer {
    let server: BrokerServer
    var port: UInt16 { server.addresses[0].port }

    init(_ configure: (inout ServerConfig) -> Void = { _ in }) throws {
        var config = ServerConfig()
        config.port = 0
        config.loops = 2
        configure(&config)
        server = try BrokerServer(config: config, log: .silent)
    }

    func url(_ path: String) -> WebSocketURL { try! WebSocketURL("ws://127.0.0.1:\(port)\(path)") }
    func client(_ path: String = "/echo", subprotocols: [String] = []) throws -> WebSocketClient {
        try WebSocketClient(url: url(path), subprotocols: subprotocols)
    }
    func stop() { server.shutdown(timeout: 1) }
}

/// A plain TCP socket for sending arbitrary bytes and reading raw replies.
final class RawSocket {
    let fd: Int32
    private var open = true

    /// `receiveBuffer` shrinks SO_RCVBUF before connecting (a subscriber that reads slowly).
    init(port: UInt16, receiveBuffer: Int32? = nil) throws {
        fd = try Sys.socket(family: AF_INET, nonBlocking: false)
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        try Sys.connect(fd, SocketAddress(numericHost: "127.0.0.1", port: port)!)
    }

    /// Sends one masked client frame.
    func sendFrame(_ opcode: Opcode, _ payload: [UInt8]) {
        send(FrameEncoder.encode(opcode: opcode, payload: payload, maskKey: .random()))
    }

    deinit { if open { Sys.close(fd) } }

    func send(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = Sys.send(fd, $0) }
    }
    func send(_ text: String) { send(Array(text.utf8)) }

    /// Everything until `until` matches, EOF, or the timeout.
    func read(timeout: Double = 5, until done: ([UInt8]) -> Bool = { _ in false }) -> (bytes: [UInt8], eof: Bool) {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        let deadline = Sys.monotonicNanos() + UInt64(timeout * 1e9)
        while Sys.monotonicNanos() < deadline && !done(out) {
            // `done` may take long on a large buffer: the deadline can pass in between.
            let left = Int32((deadline - min(deadline, Sys.monotonicNanos())) / 1_000_000) + 1
            guard Sys.poll(fd, events: Int16(POLLIN), timeoutMs: left) != 0 else { continue }
            switch buffer.withUnsafeMutableBytes({ Sys.read(fd, into: $0) }) {
            case .bytes(let n): out += buffer[0..<n]
            case .eof, .failed: return (out, true)
            case .wouldBlock: continue
            }
        }
        return (out, false)
    }

    func readHTTPHead(timeout: Double = 5) -> String {
        let result = read(timeout: timeout) { bytes in
            bytes.count >= 4 && String(decoding: bytes, as: UTF8.self).contains("\r\n\r\n")
        }
        return String(decoding: result.bytes, as: UTF8.self)
    }

    /// A /bus subscriber of `topic` with a 4 KiB receive buffer, its ack read: from here on
    /// the test reads nothing from it (a consumer that stalls).
    static func stalledSubscriber(port: UInt16, topic: String) throws -> RawSocket {
        let socket = try RawSocket(port: port, receiveBuffer: 4096)
        guard socket.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101") else {
            throw WebSocketClient.ClientError.handshake("no 101 for the stalled subscriber")
        }
        socket.sendFrame(.text, Array(#"{"type":"subscribe","id":1,"topic":"\#(topic)"}"#.utf8))
        _ = socket.read(timeout: 5) { String(decoding: $0, as: UTF8.self).contains("\"ack\"") }
        return socket
    }

    /// Performs a valid upgrade to `path` and returns the 101 head; `extensions` is sent as
    /// `Sec-WebSocket-Extensions`.
    func upgrade(path: String = "/echo", extensions: String? = nil) -> String {
        send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             + (extensions.map { "Sec-WebSocket-Extensions: \($0)\r\n" } ?? "")
             + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        return readHTTPHead()
    }

    func abort() {
        Sys.setLingerZero(fd)
        Sys.close(fd)
        open = false
    }

    func close() {
        Sys.close(fd)
        open = false
    }
}

/// Polls `condition` until it holds or `timeout` passes (never a fixed sleep).
func eventually(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Sys.monotonicNanos() + UInt64(timeout * 1e9)
    while Sys.monotonicNanos() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}

/// broker-server as a child process (for tests that count its file descriptors).
final class ServerProcess {
    let process = Process()
    let port: UInt16
    private let errors = Pipe()

    /// `fileLimit` runs the server under `ulimit -n` (soft and hard), to exhaust descriptors.
    /// `environment` adds variables to the child's (the history store's test seams);
    /// `fileSizeLimit` runs it under `ulimit -f` (512-byte blocks in sh: a full disk, for real).
    init(_ arguments: [String] = [], fileLimit: Int? = nil, environment: [String: String] = [:], fileSizeLimit: Int? = nil) throws {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("broker-server")
        let serverArguments = ["--port", "0", "--log-level", "info"] + arguments
        if fileLimit != nil || fileSizeLimit != nil {
            let limits = (fileLimit.map { ["ulimit -n \($0)"] } ?? []) + (fileSizeLimit.map { ["ulimit -f \($0)"] } ?? [])
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", (limits + ["exec \"$0\" \"$@\""]).joined(separator: " && "), executable.path] + serverArguments
        } else {
            process.executableURL = executable
            process.arguments = serverArguments
        }
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // The first log line names the bound address: listening addresses=127.0.0.1:PORT ...
        var text = ""
        let handle = errors.fileHandleForReading
        while !(text.range(of: "listening").map { text[$0.upperBound...].contains("\n") } ?? false) {
            let data = handle.availableData
            if data.isEmpty { break }
            text += String(decoding: data, as: UTF8.self)
        }
        // The port on the "listening" line itself: other lines (a NATS backplane's address,
        // logged first in a cluster) name other ports.
        let listening = text.split(separator: "\n").first { $0.contains("listening") }.map(String.init) ?? ""
        guard let range = listening.range(of: #"127\.0\.0\.1:(\d+)"#, options: .regularExpression),
              let port = UInt16(listening[range].split(separator: ":").last!) else {
            process.terminate()
            throw WebSocketClient.ClientError.handshake("server did not start: \(text)")
        }
        self.port = port
        startupLog = text
    }

    /// What the server logged up to its "listening" line (and whatever came with it).
    private(set) var startupLog = ""

    /// Stops the server and returns everything it logged.
    func stopAndReadLog() -> String {
        stop()
        try? errors.fileHandleForWriting.close()  // our copy; the child's closed as it exited
        return startupLog + String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    }

    /// Resident memory of the server process, from /proc/PID/status.
    var residentBytes: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "") else { return -1 }
        return kilobytes * 1024
    }

    var openFileDescriptors: Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(process.processIdentifier)/fd").count) ?? -1
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }

    /// SIGKILL: the process dies with no chance to clean up (a crash).
    func kill() {
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

/// One plain HTTP exchange on a fresh connection: the status code, the head and the body.
struct HTTPResult {
    let status: Int
    let head: String
    let body: String

    init(port: UInt16, _ path: String, method: String = "GET") throws {
        let raw = try RawSocket(port: port)
        raw.send("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        let text = String(decoding: raw.read(timeout: 10).bytes, as: UTF8.self)
        guard let end = text.range(of: "\r\n\r\n") else { throw WebSocketClient.ClientError.handshake("no HTTP reply: \(text)") }
        head = String(text[..<end.lowerBound])
        body = String(text[end.upperBound...])
        status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
    }

    /// A header's value (first match, name compared case-insensitively).
    func header(_ name: String) -> String? {
        head.split(separator: "\r\n").dropFirst().first { $0.lowercased().hasPrefix(name.lowercased() + ":") }
            .map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) }
    }

    /// The value of an unlabelled or labelled sample in a Prometheus exposition body, e.g.
    /// `sample("bus_messages_published_total{kind=\"json\"}")`.
    func sample(_ series: String) -> Double? {
        for line in body.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }
}
