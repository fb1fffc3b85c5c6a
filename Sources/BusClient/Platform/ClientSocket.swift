#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin  // Unverified in CI: nothing here builds for macOS.
#endif

/// Every system call the client makes, in one file: a blocking-free TCP socket driven by
/// `poll`, and a pipe that wakes the I/O thread. Linux and Darwin differ only in spelling.
struct ClientSocket {
    let fd: Int32

    enum Failure: Error, Equatable {
        case cannotResolve(String)
        case cannotConnect(errno: Int32)
        case closed
    }

    /// Resolves `host`, connects within `timeout` seconds, and leaves the socket non-blocking.
    static func connect(host: String, port: UInt16, timeout: Double) throws(Failure) -> ClientSocket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if canImport(Glibc)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            throw .cannotResolve(String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(list) }
        var lastError: Int32 = ECONNREFUSED
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry {
            entry = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            guard fd >= 0 else { lastError = errno; continue }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            #if canImport(Darwin)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
            #endif
            if Glue.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 || errno == EINPROGRESS {
                // SO_ERROR is cleared by reading it: read once.
                let answered = Self.wait(fd, events: Int16(POLLOUT | POLLERR | POLLHUP), timeout: timeout)
                let failure = answered ? Self.pendingError(fd) : ETIMEDOUT
                if failure == 0 {
                    var one: Int32 = 1
                    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    return ClientSocket(fd: fd)
                }
                lastError = failure
            } else {
                lastError = errno
            }
            _ = Glue.close(fd)
        }
        throw .cannotConnect(errno: lastError)
    }

    /// Writes what it can now; the count written (0: try again when writable).
    func send(_ bytes: UnsafeRawBufferPointer) throws(Failure) -> Int {
        #if canImport(Glibc)
        let n = Glue.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
        #else
        let n = Glue.send(fd, bytes.baseAddress, bytes.count, 0)
        #endif
        if n >= 0 { return n }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return 0 }
        throw .closed
    }

    /// Reads what is there; nil when nothing is (the socket would block).
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(Failure) -> Int? {
        let n = Glue.recv(fd, buffer.baseAddress, buffer.count, 0)
        if n > 0 { return n }
        if n == 0 { throw .closed }
        if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return nil }
        throw .closed
    }

    func close() { _ = Glue.close(fd) }

    func waitReadable(timeout: Double) -> Bool { Self.wait(fd, events: Int16(POLLIN), timeout: timeout) }
    func waitWritable(timeout: Double) -> Bool { Self.wait(fd, events: Int16(POLLOUT), timeout: timeout) }

    /// Waits for `events` on `fd`, at most `timeout` seconds.
    static func wait(_ fd: Int32, events: Int16, timeout: Double) -> Bool {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        let ms = Int32(max(0, min(timeout * 1000, 3_600_000)))
        return poll(&entry, 1, ms) == 1 && entry.revents & events != 0
    }

    private static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length)
        return value
    }

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
    static let connectionRefused = ECONNREFUSED
}

/// A pipe whose read end wakes the I/O thread's `poll` when another thread has work for it.
final class WakePipe: @unchecked Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    init() {
        var ends: [Int32] = [0, 0]
        _ = pipe(&ends)
        readEnd = ends[0]
        writeEnd = ends[1]
        for fd in ends { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    }

    deinit {
        _ = Glue.close(readEnd)
        _ = Glue.close(writeEnd)
    }

    func wake() {
        var byte: UInt8 = 1
        _ = Glue.write(writeEnd, &byte, 1)
    }

    func drain() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while bytes.withUnsafeMutableBytes({ Glue.read(readEnd, $0.baseAddress, 64) }) > 0 {}
    }
}

/// Waits for the socket (readable when `reading`, writable when `writing`) or the pipe.
/// Returns which are ready.
func pollSocket(_ socket: ClientSocket?, reading: Bool, writing: Bool, wake: WakePipe, timeout: Double)
    -> (readable: Bool, writable: Bool, hungUp: Bool) {
    var entries = [pollfd(fd: wake.readEnd, events: Int16(POLLIN), revents: 0)]
    if let socket {
        var events: Int16 = 0
        if reading { events |= Int16(POLLIN) }
        if writing { events |= Int16(POLLOUT) }
        entries.append(pollfd(fd: socket.fd, events: events, revents: 0))
    }
    let ms = Int32(max(0, min(timeout * 1000, 3_600_000)))
    _ = poll(&entries, nfds_t(entries.count), ms)
    if entries[0].revents != 0 { wake.drain() }
    guard entries.count > 1 else { return (false, false, false) }
    let revents = entries[1].revents
    return (revents & Int16(POLLIN) != 0, revents & Int16(POLLOUT) != 0,
            revents & Int16(POLLHUP | POLLERR) != 0)
}

/// The C functions whose Swift names clash with ours.
private enum Glue {
    #if canImport(Glibc)
    static let connect = Glibc.connect
    static let close = Glibc.close
    static let send = Glibc.send
    static let recv = Glibc.recv
    static let read = Glibc.read
    static let write = Glibc.write
    #else
    static let connect = Darwin.connect
    static let close = Darwin.close
    static let send = Darwin.send
    static let recv = Darwin.recv
    static let read = Darwin.read
    static let write = Darwin.write
    #endif
}

/// Starts `body` on a thread of its own (the client's I/O thread: its blocking waits never
/// run on Swift's cooperative pool).
func startThread(_ body: @escaping @Sendable () -> Void) {
    final class Box: @unchecked Sendable {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    #if canImport(Glibc)
    var thread = pthread_t()
    #else
    var thread: pthread_t?
    #endif
    let started = pthread_create(&thread, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.body()
        return nil
    }, box)
    #if canImport(Glibc)
    if started == 0 { pthread_detach(thread) } else { Unmanaged<Box>.fromOpaque(box).release() }
    #else
    if started == 0 { pthread_detach(thread!) } else { Unmanaged<Box>.fromOpaque(box).release() }
    #endif
}
