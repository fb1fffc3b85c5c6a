import Glibc

/// A failed system call: the call's name and `errno`.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    public let call: String
    public let errno: Int32
    public var description: String { "\(call): \(String(cString: strerror(errno))) (errno \(errno))" }

    package init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }
}

/// The libc calls that both sides of a socket need: the server (Broker, through its
/// `System/` folder, which adds the server-only calls) and the benchmark's client loop
/// (BusBench). One module, so a wrapper that both use is written once. Every wrapper retries
/// `EINTR` and reports other failures as a `SystemError` or a typed result, so callers never
/// read `errno` themselves.
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

    /// EAGAIN and EWOULDBLOCK (the same on Linux) mean "try again when ready", not a failure.
    @inline(__always)
    package static func isWouldBlock(_ code: Int32) -> Bool { code == EAGAIN || code == EWOULDBLOCK }

    // MARK: sockets

    package static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        let (n, code) = retrying { Glibc.read(fd, buffer.baseAddress, buffer.count) }
        if n > 0 { return .bytes(n) }
        if n == 0 { return .eof }
        return isWouldBlock(code) ? .wouldBlock : .failed(code)
    }

    /// Writes with `MSG_NOSIGNAL`, so a peer that went away is an `EPIPE`, never a `SIGPIPE`.
    package static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> IOResult {
        let (n, code) = retrying { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
        if n >= 0 { return .bytes(n) }
        return isWouldBlock(code) ? .wouldBlock : .failed(code)
    }

    package static func close(_ fd: Int32) {
        // Linux releases the descriptor even when close reports EINTR: never retry.
        _ = Glibc.close(fd)
    }

    /// Drops the connection with a TCP reset instead of a FIN (tests and the bench's `churn`
    /// use it to "vanish").
    package static func setLingerZero(_ fd: Int32) {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    /// `TCP_USER_TIMEOUT` (RFC 5482): the connection is dropped when data it wrote stays
    /// unacknowledged this long, so a peer that vanished is noticed by the next write.
    package static func setUserTimeout(_ fd: Int32, milliseconds: UInt32) {
        var value = milliseconds
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, &value, socklen_t(MemoryLayout<UInt32>.size))
    }

    package static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Whether TCP_NODELAY is on: a socket accepted from a listener that has it inherits it
    /// (Linux copies the listener's options into the new socket).
    package static func noDelay(_ fd: Int32) -> Bool {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &value, &length) == 0 && value != 0
    }

    package static func socket(family: Int32, nonBlocking: Bool) throws -> Int32 {
        var type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        if nonBlocking { type |= Int32(SOCK_NONBLOCK.rawValue) }
        let fd = Glibc.socket(family, type, 0)
        if fd < 0 { throw SystemError(call: "socket", errno: errno) }
        return fd
    }

    /// Blocking connect (bus-cli, the bench's /metrics reader and tests).
    package static func connect(_ fd: Int32, _ address: SocketAddress) throws {
        let rc = address.withSockaddr { pointer, length in
            Int(Glibc.connect(fd, pointer, length))
        }
        if rc != 0 && errno != EINTR { throw SystemError(call: "connect \(address)", errno: errno) }
    }

    package static func poll(_ fd: Int32, events: Int16, timeoutMs: Int32) -> Int16 {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        let (n, _) = retrying { Int(Glibc.poll(&entry, 1, timeoutMs)) }
        return n > 0 ? entry.revents : 0
    }

    /// Waits until `fd` is readable, hung up or failed (true), or `timeoutMs` passed (false).
    package static func waitReadable(_ fd: Int32, timeoutMs: Int32) -> Bool {
        poll(fd, events: Int16(POLLIN), timeoutMs: timeoutMs) != 0
    }

    /// Waits until `fd` is writable, hung up or failed (true), or `timeoutMs` passed (false).
    package static func waitWritable(_ fd: Int32, timeoutMs: Int32) -> Bool {
        poll(fd, events: Int16(POLLOUT), timeoutMs: timeoutMs) != 0
    }

    // MARK: non-blocking connect

    /// Non-blocking outbound connections (the NATS backplane, the bench's clients): start the
    /// connect, wait for the socket to become writable in epoll, then read the outcome from
    /// `SO_ERROR`.
    package enum ConnectStart {
        case connected
        case inProgress
        case failed(Int32)
    }

    package static func startConnect(_ fd: Int32, _ address: SocketAddress) -> ConnectStart {
        let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        if rc == 0 { return .connected }
        switch errno {
        case EINPROGRESS, EINTR: return .inProgress
        case let code: return .failed(code)
        }
    }

    /// The pending error of a socket (0 once a non-blocking connect has succeeded).
    package static func socketError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) != 0 { return errno }
        return value
    }

    package static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    // MARK: process

    /// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the resulting soft and hard
    /// limits (`RLIM_INFINITY` reads as `Int32.max`).
    @discardableResult
    package static func raiseFileLimits() -> (soft: Int, hard: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (1024, 1024) }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        func clamped(_ value: rlim_t) -> Int { value > UInt(Int32.max) ? Int(Int32.max) : Int(value) }
        return (clamped(limit.rlim_cur), clamped(limit.rlim_max))
    }

    /// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns the resulting soft limit.
    @discardableResult
    package static func raiseFileLimit() -> Int { raiseFileLimits().soft }

    /// Monotonic nanoseconds (CLOCK_MONOTONIC): immune to wall-clock jumps.
    @inline(__always)
    package static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    package static func processID() -> Int32 { getpid() }
}
