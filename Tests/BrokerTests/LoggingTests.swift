import Foundation
import Testing
@testable import Broker

/// What broker-server writes to standard error: a start-up line naming the addresses, one line
/// saying the broker is open, connections at debug with peer and close code, and nothing per
/// message at the default level.
@Suite(.serialized) struct LoggingTests {
    static func lines(_ log: String, containing text: String) -> [Substring] {
        log.split(separator: "\n").filter { $0.contains(text) }
    }

    @Test func debugLogsEachConnectionWithPeerAndCloseCode() throws {
        let server = try ServerProcess(["--loops", "2", "--log-level", "debug"])
        let polite = try BusClient(port: server.port)
        polite.close()  // close 1000
        let rude = try RawSocket(port: server.port)
        #expect(rude.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101"))
        rude.abort()  // no close frame: 1006
        _ = try HTTPResult(port: server.port, "/healthz")
        #expect(eventually { (try? HTTPResult(port: server.port, "/healthz").body.contains("\"connections\":1,")) == true })
        let log = server.stopAndReadLog()

        let listening = Self.lines(log, containing: "msg=listening")
        #expect(listening.count == 1)
        #expect(listening.first?.contains("addresses=127.0.0.1:\(server.port)") == true)
        #expect(Self.lines(log, containing: "no authentication configured").count == 1)
        let opened = Self.lines(log, containing: "msg=\"connection opened\"")
        #expect(opened.count >= 4)
        #expect(opened.allSatisfy { $0.contains("level=debug") && $0.contains("peer=127.0.0.1:") })
        let closed = Self.lines(log, containing: "msg=\"connection closed\"")
        #expect(closed.allSatisfy { $0.contains("level=debug") && $0.contains("peer=127.0.0.1:") && $0.contains(" code=") })
        #expect(closed.contains { $0.contains("code=1000") }, "\(log)")
        #expect(closed.contains { $0.contains("code=1006") }, "\(log)")
        #expect(closed.contains { $0.contains("code=none") }, "plain HTTP has no close code")
    }

    @Test func infoLevelWritesNothingPerMessage() throws {
        let server = try ServerProcess(["--loops", "2"])
        let subscriber = try BusClient(port: server.port)
        try subscriber.subscribe("quiet.topic")
        let publisher = try BusClient(port: server.port)
        for i in 0..<200 { try publisher.publish("quiet.topic", json: String(i), ack: false) }
        for _ in 0..<200 { _ = try subscriber.next() }
        subscriber.close()
        publisher.close()
        let log = server.stopAndReadLog()
        let messages = log.split(separator: "\n").compactMap { line in
            line.range(of: #"level=\w+ msg=("[^"]*"|\S+)"#, options: .regularExpression).map { String(line[$0]) }
        }
        #expect(messages == [
            "level=info msg=listening",
            "level=warn msg=\"no authentication configured: the broker is open, any client may subscribe and publish to any topic\"",
            "level=info msg=\"shutting down\"",
            "level=info msg=stopped",
        ], "\(log)")
    }
}
