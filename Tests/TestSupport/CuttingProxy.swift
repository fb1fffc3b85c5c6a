import Foundation
import Glibc
import Synchronization

/// A TCP proxy on 127.0.0.1 in front of a server, for tests that cut clients off mid-stream
/// without touching the server: `cut()` shuts every proxied connection down (both sides see
/// the connection drop, as with a network failure), and new connections are proxied again.
public final class CuttingProxy: Sendable {
    public let port: UInt16
    private let listener: Int32
    private let sockets = Mutex<[Int32]>([])
    private let stopped = Atomic<Bool>(false)
    private let held = Atomic<Bool>(false)

    public init(to target: UInt16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 64) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in acceptLoop(target: target) }
    }

    /// Stops passing bytes on (they wait in the proxy) until `cut` or `release`: a link that
    /// seems up but delivers nothing, as when a network path dies without a reset.
    public func hold() { held.store(true, ordering: .relaxed) }
    public func release() { held.store(false, ordering: .relaxed) }

    /// Drops every connection proxied so far.
    public func cut() {
        sockets.withLock { list in
            for fd in list { shutdown(fd, Int32(SHUT_RDWR)) }
            list.removeAll()
        }
        held.store(false, ordering: .relaxed)
    }

    public func stop() {
        stopped.store(true, ordering: .relaxed)
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        cut()
    }

    private func acceptLoop(target: UInt16) {
        while !stopped.load(ordering: .relaxed) {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(client)
                close(upstream)
                continue
            }
            sockets.withLock { $0 += [client, upstream] }
            let pair = Pair(client, upstream)
            Thread.detachNewThread { [self] in pump(from: client, to: upstream, pair) }
            Thread.detachNewThread { [self] in pump(from: upstream, to: client, pair) }
        }
    }

    /// Both ends of one proxied connection: the second pump to finish closes them.
    private final class Pair: Sendable {
        let ends: (Int32, Int32)
        let finished = Atomic<Int>(0)
        init(_ left: Int32, _ right: Int32) { ends = (left, right) }
    }

    /// Copies bytes one way until either side ends, then ends both.
    private func pump(from source: Int32, to destination: Int32, _ pair: Pair) {
        var buffer = [UInt8](repeating: 0, count: 16384)
        outer: while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            while held.load(ordering: .relaxed) { usleep(1000) }
            var sent = 0
            while sent < count {
                let written = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
                if written <= 0 { break outer }
                sent += written
            }
        }
        shutdown(source, Int32(SHUT_RDWR))
        shutdown(destination, Int32(SHUT_RDWR))
        guard pair.finished.add(1, ordering: .acquiringAndReleasing).newValue == 2 else { return }
        sockets.withLock { $0.removeAll { $0 == pair.ends.0 || $0 == pair.ends.1 } }
        close(pair.ends.0)
        close(pair.ends.1)
    }

    private static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
