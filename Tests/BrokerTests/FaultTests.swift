import Foundation
import Frames
import Glibc
import Testing
@testable import Broker

/// Faults from outside: signals, running out of file descriptors, peers that stall.
@Suite(.serialized) struct FaultTests {
    @Test func sigtermClosesClientsWithGoingAwayAndExitsZero() throws {
        let server = try ServerProcess()
        let client = try WebSocketClient(url: try WebSocketURL("ws://127.0.0.1:\(server.port)/echo"))
        try client.send(text: "before")
        #expect(try client.receive() == .text("before"))
        kill(server.process.processIdentifier, SIGTERM)
        #expect(try client.receive() == .close(code: 1001, reason: "server shutting down"))
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
        #expect(server.process.terminationReason == .exit)
    }

    @Test func outOfDescriptorsTheServerKeepsServingAndRecovers() throws {
        // 64 descriptors in all, and a connection limit above that: accept hits EMFILE.
        let server = try ServerProcess(["--max-connections", "1000", "--loops", "1"], fileLimit: 64)
        defer { server.stop() }
        let url = try WebSocketURL("ws://127.0.0.1:\(server.port)/echo")
        var clients: [WebSocketClient] = []
        while clients.count < 100 {
            guard let client = try? WebSocketClient(url: url, timeout: 1) else { break }
            clients.append(client)
        }
        #expect(clients.count > 10 && clients.count < 64, "\(clients.count) connections with 64 descriptors")
        // Those it has are still served.
        try clients[0].send(text: "still here")
        #expect(try clients[0].receive() == .text("still here"))
        // Free some descriptors: new connections are accepted again.
        for client in clients.prefix(10) { try client.close() }
        clients.removeFirst(10)
        let later = try WebSocketClient(url: url, timeout: 5)
        try later.send(text: "recovered")
        #expect(try later.receive() == .text("recovered"))
        try later.close()
        for client in clients { client.abort() }
    }

    @Test func aPeerStalledMidFrameIsDroppedByTheIdleRuleOnly() throws {
        let server = try LiveServer { $0.idleTimeout = 1; $0.pingInterval = 0.3 }
        defer { server.stop() }
        let raw = try RawSocket(port: server.port)
        #expect(raw.upgrade().hasPrefix("HTTP/1.1 101"))
        raw.send([0x82, 0x85, 1, 2, 3, 4, 9])  // a frame header and one of five payload bytes
        #expect(raw.read(timeout: 4).eof)
        #expect(eventually { server.server.openConnections == 0 })
    }
}
