import Foundation
import Frames
import Glibc
import Testing
@testable import Broker

/// Peers that vanish (a reset, no FIN, no close frame) at every stage of a connection: the
/// server frees the connection and everything it held, and the others never notice.
@Suite(.serialized) struct VanishingPeerTests {
    /// bus_connections and the byte budgets as /metrics reports them; the /metrics request's
    /// own connection counts itself, so the bystander's two make three.
    static func settled(_ server: LiveServer) -> Bool {
        guard let metrics = try? HTTPResult(port: server.port, "/metrics") else { return false }
        return metrics.sample("bus_connections") == 3 && metrics.sample("bus_send_queue_bytes") == 0
            && metrics.sample("bus_reassembly_bytes") == 0 && server.server.openConnections == 2
    }

    @Test func halfARequestHeadThenReset() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let calm = try Bystander(server)
        let raw = try RawSocket(port: server.port)
        raw.send("GET /bus HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgr")
        #expect(eventually { server.server.openConnections == 3 })
        raw.abort()
        #expect(eventually(timeout: 10) { Self.settled(server) })
        try calm.carriesOn()
    }

    @Test func halfAnHTTPPublishBodyThenReset() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let calm = try Bystander(server)
        let raw = try RawSocket(port: server.port)
        raw.send("POST /publish/calm.topic HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n\"hal")
        #expect(eventually { server.server.openConnections == 3 })
        raw.abort()
        #expect(eventually(timeout: 10) { Self.settled(server) })
        // Nothing of the half body was published: the bystander's next message is its own.
        try calm.carriesOn()
    }

    @Test func halfAFrameInsideAFragmentedMessageThenReset() throws {
        let server = try LiveServer()
        defer { server.stop() }
        let calm = try Bystander(server)
        let raw = try RawSocket(port: server.port)
        #expect(raw.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101"))
        // A first fragment the server must hold, then the header of the next and part of it.
        raw.send(FrameEncoder.encode(opcode: .binary, fin: false, payload: [UInt8](repeating: 2, count: 5000), maskKey: .random()))
        raw.send(Array(FrameEncoder.encode(opcode: .continuation, payload: [UInt8](repeating: 3, count: 5000), maskKey: .random()).prefix(100)))
        #expect(eventually { (try? HTTPResult(port: server.port, "/metrics"))?.sample("bus_reassembly_bytes") ?? 0 > 0 })
        raw.abort()
        #expect(eventually(timeout: 10) { Self.settled(server) })
        try calm.carriesOn()
    }

    /// Mid-close: a peer that broke the protocol and then neither reads nor answers our close
    /// is let go at the close timeout, even with bytes it never read left in the socket.
    @Test func peerSilentAfterOurCloseIsFreedAtTheCloseTimeout() throws {
        let server = try LiveServer { $0.closeTimeout = 1 }
        defer { server.stop() }
        let calm = try Bystander(server)
        let raw = try RawSocket(port: server.port)
        #expect(raw.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101"))
        raw.send([0x81, 0x02, 0x68, 0x69])  // unmasked: close 1002, then we go quiet
        raw.send(BadInputCases.frame(.text, Array(#"{"type":"publish","topic":"t","data":1}"#.utf8)))
        #expect(eventually(timeout: 10) { Self.settled(server) })
        try calm.carriesOn()
    }

    /// Per-address slots come back however a peer leaves: vanishing mid-head or mid-frame,
    /// or refused with 429 itself. Otherwise a flaky network would lock an address out.
    @Test func vanishedPeersGiveBackTheirPerAddressSlots() throws {
        let server = try LiveServer { $0.maxConnectionsPerIP = 4 }
        defer { server.stop() }
        let calm = try Bystander(server)  // two of the four
        for round in 0..<20 {
            let a = try RawSocket(port: server.port), b = try RawSocket(port: server.port)
            if round % 2 == 0 {
                a.send("GET /bus HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                #expect(b.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101"))
                b.send([0x82, 0x85, 1, 2, 3, 4, 9])
            } else {
                #expect(a.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101"))
                let refused = try RawSocket(port: server.port)
                #expect(refused.readHTTPHead().hasPrefix("HTTP/1.1 429"), "round \(round)")
                refused.abort()
            }
            a.abort()
            b.abort()
            #expect(eventually { server.server.openConnections == 2 }, "round \(round)")
        }
        let later = try BusClient(port: server.port)
        guard case .ack = try later.subscribe("later") else { Issue.record("admitted after the churn"); return }
        try calm.carriesOn()
    }

    /// Mid-write: a subscriber that stopped reading has bytes queued for it when it vanishes.
    @Test func stalledSubscriberWithAFullQueueThenReset() throws {
        let server = try LiveServer { $0.loops = 1; $0.socketSendBuffer = 4096; $0.sendQueueMessages = 100_000 }
        defer { server.stop() }
        let calm = try Bystander(server)
        let stalled = try RawSocket(port: server.port, receiveBuffer: 4096)
        #expect(stalled.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101"))
        stalled.sendFrame(.text, Array(#"{"type":"subscribe","id":1,"topic":"stall.topic"}"#.utf8))
        _ = stalled.read(timeout: 5) { String(decoding: $0, as: UTF8.self).contains("\"ack\"") }
        let payload = [UInt8](repeating: 7, count: 4000)
        for _ in 0..<100 { try calm.publisher.publish("stall.topic", binary: payload) }
        #expect(eventually { (try? HTTPResult(port: server.port, "/metrics"))?.sample("bus_send_queue_bytes") ?? 0 > 100_000 })
        stalled.abort()
        #expect(eventually(timeout: 10) { Self.settled(server) })
        try calm.carriesOn()
    }
}
