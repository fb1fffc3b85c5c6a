import Broker
import BusClient
import Testing

/// BusClient offers permessage-deflate by default (issue 17): what the server compresses
/// arrives intact, and turning it off gets plain frames.
@Suite(.serialized) struct BusClientCompressionTests {
    /// One sample of GET /metrics, read with the server's own socket calls.
    static func metric(_ name: String, port: UInt16) -> Double? {
        guard let address = try? SocketAddress.resolve(host: "127.0.0.1", port: port),
              let fd = try? Sys.socket(family: address.family, nonBlocking: false) else { return nil }
        defer { Sys.close(fd) }
        guard (try? Sys.connect(fd, address)) != nil else { return nil }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ Sys.send(fd, $0) }) == .bytes(request.count) else { return nil }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 << 10)
        while Sys.waitReadable(fd, timeoutMs: 2000) {
            guard case .bytes(let n) = chunk.withUnsafeMutableBytes({ Sys.read(fd, into: $0) }) else { break }
            response += chunk[0..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        return text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ").last!) }
    }

    @Test(arguments: [true, false])
    func largeMessagesArriveIntactWithAndWithoutCompression(compression: Bool) async throws {
        let server = try TestServer()
        defer { server.stop() }
        var options = BusClient.Options()
        options.compression = compression
        let bus = try BusClient(url: server.url, options: options)
        defer { bus.close() }
        let publisher = try BusClient(url: server.url)
        defer { publisher.close() }
        let subscription = try await bus.subscribe("doc.>")
        try await waitActive(publisher, subscription, topic: "doc.probe")
        let document = "[" + (0..<60).map { #"{"line":\#($0),"text":"the same words again and again"}"# }.joined(separator: ",") + "]"
        try await publisher.publish("doc.a", json: document)
        let received = messages(try await collect(subscription, messages: 1))
        #expect(received.map(\.payload) == [.json(Array(document.utf8))])
        // Compressed once for the one subscriber that negotiated it; nothing otherwise.
        #expect(Self.metric("bus_compressed_messages_total", port: server.port) == (compression ? 1 : 0))
    }
}
