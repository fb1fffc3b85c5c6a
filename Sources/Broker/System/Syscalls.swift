import CLinux
import Glibc
import SystemCalls

// Broker calls libc and CLinux only in this folder: the calls a client needs as much as the
// server (sockets, epoll, the monotonic clock, `SocketAddress`) come from the SystemCalls
// module, which BusBench's client loop shares, and are re-exported here under the names the
// rest of Broker uses; the server-only calls (accept, eventfd, io_uring, signalfd, iovecs,
// addresses for the proxy table, malloc_trim) are the extensions of `Sys` in this folder.
// `grep -rln "import Glibc\|import CLinux\|import SystemCalls" Sources/Broker` lists System/ only.

/// The libc wrappers (see SystemCalls' `Sys`), extended in this folder with the server's own.
package typealias Sys = SystemCalls.Sys
/// epoll's bits and operations (see SystemCalls' `Epoll`).
package typealias Epoll = SystemCalls.Epoll
public typealias SocketAddress = SystemCalls.SocketAddress
public typealias SystemError = SystemCalls.SystemError
/// libc's `struct iovec`, under its own name, so the write path can fill iovecs without
/// importing Glibc.
package typealias iovec = Glibc.iovec

extension Sys {
    // MARK: eventfd

    package static func eventFD() throws -> Int32 {
        let fd = eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC))
        if fd < 0 { throw SystemError(call: "eventfd", errno: errno) }
        return fd
    }

    package static func signalEventFD(_ fd: Int32) {
        var one: UInt64 = 1
        _ = retrying { Glibc.write(fd, &one, 8) }
    }

    package static func drainEventFD(_ fd: Int32) {
        var value: UInt64 = 0
        _ = retrying { Glibc.read(fd, &value, 8) }
    }

    // MARK: server sockets

    /// `sendmsg` with an iovec array: `writev` semantics plus `MSG_NOSIGNAL`.
    package static func sendVector(_ fd: Int32, _ vectors: UnsafeMutablePointer<iovec>, count: Int) -> IOResult {
        var message = msghdr()
        message.msg_iov = vectors
        message.msg_iovlen = count
        let (n, code) = retrying { Glibc.sendmsg(fd, &message, Int32(MSG_NOSIGNAL)) }
        if n >= 0 { return .bytes(n) }
        return isWouldBlock(code) ? .wouldBlock : .failed(code)
    }

    package static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    package static func setSendBuffer(_ fd: Int32, _ size: Int) {
        var value = Int32(clamping: size)
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    package static func setReuseAddress(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    package static func setIPv6Only(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    package static func bind(_ fd: Int32, _ address: SocketAddress) throws {
        let rc = address.withSockaddr { Glibc.bind(fd, $0, $1) }
        if rc != 0 { throw SystemError(call: "bind \(address)", errno: errno) }
    }

    package static func listen(_ fd: Int32, backlog: Int32) throws {
        if Glibc.listen(fd, backlog) != 0 { throw SystemError(call: "listen", errno: errno) }
    }

    package enum AcceptResult {
        case accepted(Int32, SocketAddress)
        case wouldBlock
        case outOfDescriptors
        case failed(Int32)
    }

    /// `accept4` with `SOCK_NONBLOCK | SOCK_CLOEXEC`.
    package static func accept(_ fd: Int32) -> AcceptResult {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        while true {
            let client = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bus_accept4(fd, $0, &length) }
            }
            if client >= 0 { return .accepted(client, SocketAddress(storage: storage)) }
            switch errno {
            case EINTR, ECONNABORTED: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case EMFILE, ENFILE, ENOBUFS, ENOMEM: return .outOfDescriptors
            case let code: return .failed(code)
            }
        }
    }

    package static func localAddress(_ fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return rc == 0 ? SocketAddress(storage: storage) : nil
    }

    // MARK: process

    package static func cpuCount() -> Int { Int(bus_cpu_count()) }
    package static var iovMax: Int { Int(bus_iov_max()) }

    package static func openFileDescriptorCount() -> Int {
        guard let dir = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(dir) }
        var count = 0
        while readdir(dir) != nil { count += 1 }
        return count - 3  // ".", ".." and the directory's own descriptor
    }

    /// This host's name (a default node name), or nil.
    package static func hostName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension Sys {
    /// Writes a whole line to standard error in one call, so concurrent lines never interleave.
    package static func writeStandardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let (n, _) = retrying { Glibc.write(2, bytes.baseAddress! + offset, bytes.count - offset) }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    /// UTC wall-clock time as RFC 3339 with milliseconds, for log lines.
    /// Unix time in seconds: what JWT `exp` and `nbf` are compared with.
    package static func wallClockSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    package static func wallClockISO8601() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var seconds = ts.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(ts.tv_nsec / 1_000_000), 3))Z"
    }
}
