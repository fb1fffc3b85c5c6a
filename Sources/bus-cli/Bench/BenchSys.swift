import Broker
import Glibc

/// The few libc calls the benchmark needs beyond `Sys`: a non-blocking connect, the pending
/// socket error, a small receive buffer and the file limit. Kept here so Broker's `Sys`
/// stays the server's own list.
enum BenchSys {
    enum ConnectStart {
        case inProgress
        case connected
        case failed(Int32)
    }

    /// Starts a TCP connect on a non-blocking socket; completion is reported as writable.
    static func startConnect(_ fd: Int32, _ address: SocketAddress) -> ConnectStart {
        let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        if rc == 0 { return .connected }
        let code = errno
        return code == EINPROGRESS || code == EINTR ? .inProgress : .failed(code)
    }

    /// `SO_ERROR`: 0 when a non-blocking connect succeeded.
    static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) != 0 { return errno }
        return value
    }

    /// A small kernel receive buffer makes a stalled reader back up into the server's queue
    /// within seconds instead of minutes (the `slow` scenario). Set before connecting.
    static func setReceiveBuffer(_ fd: Int32, _ size: Int) {
        var value = Int32(clamping: size)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Soft and hard `RLIMIT_NOFILE` after raising soft to hard.
    static func fileLimits() -> (soft: Int, hard: Int) {
        let soft = Sys.raiseFileLimit()
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return (soft, soft) }
        let hard = limit.rlim_max > UInt(Int32.max) ? Int(Int32.max) : Int(limit.rlim_max)
        return (soft, hard)
    }

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// This executable's directory, from `/proc/self/exe` (works whatever the working directory).
    static func executableDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let path = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}
