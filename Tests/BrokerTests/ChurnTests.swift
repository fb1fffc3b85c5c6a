import Frames
import Testing
@testable import Broker

/// The seed's "quick connect and disconnect" problem at scale: a broker-server child process
/// must end up with the file descriptors it started with.
@Suite(.serialized) struct ChurnTests {
    @Test func tenThousandConnectCloseCyclesLeaveNoDescriptorBehind() throws {
        let server = try ServerProcess(["--loops", "2"])
        defer { server.stop() }
        let url = try WebSocketURL("ws://127.0.0.1:\(server.port)/echo")
        let baseline = server.openFileDescriptors
        #expect(baseline > 0)
        for cycle in 0..<10_000 {
            let client = try WebSocketClient(url: url)
            if cycle % 2 == 0 {
                try client.close()
            } else {
                client.abort()  // reset, no close frame: the peer just vanishes
            }
        }
        // A few peers hold a raw socket silently open mid-handshake, then vanish too.
        let lingering = try (0..<5).map { _ in try RawSocket(port: server.port) }
        lingering.forEach { $0.send("GET /echo HTTP/1.1\r\n") }
        lingering.forEach { $0.abort() }
        let settled = eventually(timeout: 10) { server.openFileDescriptors == baseline }
        #expect(settled, "fds: baseline \(baseline), now \(server.openFileDescriptors)")
    }
}
