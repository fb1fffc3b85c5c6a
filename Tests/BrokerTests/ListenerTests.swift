import Testing
@testable import Broker

/// The loops skip setting TCP_NODELAY on each accepted socket when the first one already has
/// it: that rests on the listener setting it and Linux handing it down on accept.
struct ListenerTests {
    @Test func acceptedSocketsInheritNoDelayFromTheListener() throws {
        let listener = try Listener(host: "127.0.0.1", port: 0)
        defer { listener.close() }
        #expect(Sys.noDelay(listener.fd))
        let client = try RawSocket(port: listener.address.port)
        defer { client.abort() }
        var accepted: Int32?
        _ = eventually {
            if case .accepted(let fd, _) = Sys.accept(listener.fd) { accepted = fd }
            return accepted != nil
        }
        let fd = try #require(accepted)
        defer { Sys.close(fd) }
        #expect(Sys.noDelay(fd))
    }
}
