import Testing
import Frames

@Suite struct WebSocketURLTests {
    @Test func parsesHostPortAndPath() throws {
        let url = try WebSocketURL("ws://127.0.0.1:9000/echo")
        #expect(url.host == "127.0.0.1" && url.port == 9000 && url.target == "/echo")
        #expect(try WebSocketURL("ws://localhost:8080", defaultPath: "/bus").target == "/bus")
        #expect(try WebSocketURL("ws://[::1]:81/x?y=1").host == "::1")
        #expect(try WebSocketURL("ws://[::1]:81/x").hostHeader == "[::1]:81")
        #expect(try WebSocketURL("ws://example.com").port == 80)
    }

    @Test(arguments: ["http://a", "wss://a", "ws://", "ws://a:b", "ws://[::1", "ws://a:+80", "ws://[::1]:+80", "ws://a:-0", "ws://a:"])
    func rejectsWhatItCannotReach(text: String) {
        #expect(throws: WebSocketURLError.self) { try WebSocketURL(text) }
    }
}
