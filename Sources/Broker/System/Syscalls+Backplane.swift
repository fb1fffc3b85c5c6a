import Glibc

/// Non-blocking outbound connections (the NATS backplane): start the connect, wait for the
/// socket to become writable in epoll, then read the outcome from `SO_ERROR`.
extension Sys {
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

    /// This host's name (a default node name), or nil.
    package static func hostName() -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count) == 0 else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    package static func processID() -> Int32 { getpid() }
}
