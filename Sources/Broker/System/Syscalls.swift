import CLinux
import Glibc

/// A failed system call: the call's name and `errno`.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let errno: Int32
    public var description: String { "\(call): \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// The only place Broker calls libc. Every wrapper retries `EINTR` and reports other
/// failures as a `SystemError` or a typed result, so callers never read `errno` themselves.
package enum Sys {
    /// Outcome of a non-blocking read or write.
    package enum IOResult: Equatable {
        case bytes(Int)
        case wouldBlock
        case eof
        case failed(Int32)
    }

    @inline(__always)
    package static func retrying(_ body: () -> Int) -> (Int, Int32) {
        while true {
            let result = body()
            if result >= 0 { return (result, 0) }
            let code = errno
            if code != EINTR { return (result, code) }
        }
    }

    // MARK: epoll and eventfd

    package static func epollCreate() throws -> Int32 {
        let fd = epoll_create1(Int32(EPOLL_CLOEXEC))
        if fd < 0 { throw SystemError(call: "epoll_create1", errno: errno) }
        return fd
    }

    package static func epollControl(_ epoll: Int32, _ op: Int32, _ fd: Int32, events: UInt32, data: UInt64) throws {
        var event = epoll_event()
        event.events = events
        event.data.u64 = data
        if epoll_ctl(epoll, op, fd, &event) != 0 { throw SystemError(call: "epoll_ctl", errno: errno) }
    }

    package static func epollWait(_ epoll: Int32, _ events: UnsafeMutablePointer<epoll_event>, capacity: Int32, timeoutMs: Int32) -> Int {
        let n = epoll_wait(epoll, events, capacity, timeoutMs)
        return n < 0 ? 0 : Int(n)  // EINTR: the loop goes round and waits again
    }

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

    // MARK: sockets

    package static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        let (n, code) = retrying { Glibc.read(fd, buffer.baseAddress, buffer.count) }
        if n > 0 { return .bytes(n) }
        if n == 0 { return .eof }
        return code == EAGAIN || code == EWOULDBLOCK ? .wouldBlock : .failed(code)
    }

    /// Writes with `MSG_NOSIGNAL`, so a peer that went away is an `EPIPE`, never a `SIGPIPE`.
    package static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> IOResult {
        let (n, code) = retrying { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
        if n >= 0 { return .bytes(n) }
        return code == EAGAIN || code == EWOULDBLOCK ? .wouldBlock : .failed(code)
    }

    /// `sendmsg` with an iovec array: `writev` semantics plus `MSG_NOSIGNAL`.
    package static func sendVector(_ fd: Int32, _ vectors: UnsafeMutablePointer<iovec>, count: Int) -> IOResult {
        var message = msghdr()
        message.msg_iov = vectors
        message.msg_iovlen = count
        let (n, code) = retrying { Glibc.sendmsg(fd, &message, Int32(MSG_NOSIGNAL)) }
        if n >= 0 { return .bytes(n) }
        return code == EAGAIN || code == EWOULDBLOCK ? .wouldBlock : .failed(code)
    }

    package static func close(_ fd: Int32) {
        // Linux releases the descriptor even when close reports EINTR: never retry.
        _ = Glibc.close(fd)
    }

    package static func shutdownWrite(_ fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// Drops the connection with a TCP reset instead of a FIN (tests use it to "vanish").
    package static func setLingerZero(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    package static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
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

    package static func socket(family: Int32, nonBlocking: Bool) throws -> Int32 {
        var type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
        let fd = Glibc.socket(family, type, 0)
        if fd < 0 { throw SystemError(call: "socket", errno: errno) }
        return fd
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

    /// Blocking connect (bus-cli and tests).
    package static func connect(_ fd: Int32, _ address: SocketAddress) throws {
        let rc = address.withSockaddr { pointer, length in
            Int(Glibc.connect(fd, pointer, length))
        }
        if rc != 0 && errno != EINTR { throw SystemError(call: "connect \(address)", errno: errno) }
    }

    package static func localAddress(_ fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return rc == 0 ? SocketAddress(storage: storage) : nil
    }

    package static func poll(_ fd: Int32, events: Int16, timeoutMs: Int32) -> Int16 {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        let (n, _) = retrying { Int(Glibc.poll(&entry, 1, timeoutMs)) }
        return n > 0 ? entry.revents : 0
    }

    // MARK: process

    /// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the resulting soft limit.
    @discardableResult
    package static func raiseFileLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur > UInt(Int32.max) ? Int(Int32.max) : Int(limit.rlim_cur)  // RLIM_INFINITY too
    }

    package static func cpuCount() -> Int { Int(bus_cpu_count()) }
    package static var iovMax: Int { Int(bus_iov_max()) }

    /// Monotonic nanoseconds (CLOCK_MONOTONIC): immune to wall-clock jumps.
    package static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    package static func openFileDescriptorCount() -> Int {
        guard let dir = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(dir) }
        var count = 0
        while readdir(dir) != nil { count += 1 }
        return count - 3  // ".", ".." and the directory's own descriptor
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
