
/// A listening TCP socket. One per address, shared by every loop: each loop adds it to its
/// epoll set with `EPOLLEXCLUSIVE`, so a new connection wakes one loop, not all.
final class Listener: Sendable {
    let fd: Int32
    let address: SocketAddress

    init(host: String, port: UInt16, backlog: Int32 = 4096) throws {
        guard let requested = SocketAddress(numericHost: host, port: port) else {
            throw ConfigError(option: "host", message: "'\(host)' is not a numeric IPv4 or IPv6 address")
        }
        let fd = try Sys.socket(family: requested.family, nonBlocking: true)
        do {
            Sys.setReuseAddress(fd)
            // Accepted sockets inherit it: no setsockopt per connection (see `EventLoop.register`).
            Sys.setNoDelay(fd)
            try Sys.bind(fd, requested)
            try Sys.listen(fd, backlog: backlog)
        } catch {
            Sys.close(fd)
            throw error
        }
        self.fd = fd
        self.address = Sys.localAddress(fd) ?? requested
    }

    func close() { Sys.close(fd) }
}
