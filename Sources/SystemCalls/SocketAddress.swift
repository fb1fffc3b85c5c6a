import Glibc

/// An IPv4 or IPv6 socket address. Lives beside `Sys` because converting addresses is libc's job
/// (`inet_pton`, `inet_ntop`, `getaddrinfo`); nothing here does I/O on a socket. Broker
/// re-exports it (`Broker.SocketAddress`), so its public API keeps the name.
///
/// Holds a `sockaddr_in6` (28 bytes), which either family fits in, rather than the 128 bytes of
/// a `sockaddr_storage`: every open connection keeps its peer's address.
public struct SocketAddress: CustomStringConvertible, Sendable {
    fileprivate var storage: sockaddr_in6

    /// What `accept` or `getsockname` filled in; only AF_INET and AF_INET6 are kept whole.
    package init(storage: sockaddr_storage) {
        var compact = sockaddr_in6()
        withUnsafeMutableBytes(of: &compact) { destination in
            withUnsafeBytes(of: storage) { destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[0..<destination.count])) }
        }
        self.storage = compact
    }

    /// A numeric IPv4 (`127.0.0.1`) or IPv6 (`::1`, `[::1]`) address; nil if `host` is neither.
    public init?(numericHost host: String, port: UInt16) {
        var trimmed = host
        if trimmed.hasPrefix("[") && trimmed.hasSuffix("]") { trimmed = String(trimmed.dropFirst().dropLast()) }
        var storage = sockaddr_in6()
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, trimmed, &v4) == 1 {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    $0.pointee.sin_family = sa_family_t(AF_INET)
                    $0.pointee.sin_port = port.bigEndian
                    $0.pointee.sin_addr = v4
                }
            }
        } else if inet_pton(AF_INET6, trimmed, &v6) == 1 {
            withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    $0.pointee.sin6_family = sa_family_t(AF_INET6)
                    $0.pointee.sin6_port = port.bigEndian
                    $0.pointee.sin6_addr = v6
                }
            }
        } else {
            return nil
        }
        self.storage = storage
    }

    /// Resolves a host name (or numeric address) to its first TCP address.
    public static func resolve(host: String, port: UInt16) throws -> SocketAddress {
        if let numeric = SocketAddress(numericHost: host, port: port) { return numeric }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw SystemError(call: "getaddrinfo \(host)", errno: rc)
        }
        defer { freeaddrinfo(list) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { destination in
            destination.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr,
                                                                count: min(Int(first.pointee.ai_addrlen), destination.count)))
        }
        return SocketAddress(storage: storage)
    }

    public var family: Int32 { Int32(storage.sin6_family) }
    public var isIPv6: Bool { family == AF_INET6 }

    public var port: UInt16 {
        withUnsafePointer(to: storage) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { UInt16(bigEndian: $0.pointee.sin_port) }
        }
    }

    /// The address without the port: `127.0.0.1`, `::1`. IPv4 is formatted here rather than
    /// by `inet_ntop`, which goes through `sprintf`: every accepted connection asks for it.
    public var host: String {
        if !isIPv6 { return Self.dottedQuad(ipv4Bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        withUnsafePointer(to: storage) { pointer in
            if isIPv6 {
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    var address = $0.pointee.sin6_addr
                    _ = inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
                }
            } else {
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    var address = $0.pointee.sin_addr
                    _ = inet_ntop(AF_INET, &address, &buffer, socklen_t(buffer.count))
                }
            }
        }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// True for 127.0.0.0/8 and ::1 (and IPv4-mapped loopback, ::ffff:127.0.0.0/104).
    public var isLoopback: Bool {
        guard isIPv6 else { return ipv4Bytes.0 == 127 }
        return withUnsafePointer(to: storage) {
            $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                withUnsafeBytes(of: address.pointee.sin6_addr) { bytes in
                    let zeroPrefix = bytes[0..<10].allSatisfy { $0 == 0 }
                    let unspecifiedThenOne = zeroPrefix && bytes[10..<15].allSatisfy { $0 == 0 } && bytes[15] == 1
                    let mappedLoopback = zeroPrefix && bytes[10] == 0xff && bytes[11] == 0xff && bytes[12] == 127
                    return unspecifiedThenOne || mappedLoopback
                }
            }
        }
    }

    /// An IPv4 address's four bytes in network order.
    private var ipv4Bytes: (UInt8, UInt8, UInt8, UInt8) {
        withUnsafePointer(to: storage) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                withUnsafeBytes(of: address.pointee.sin_addr) { ($0[0], $0[1], $0[2], $0[3]) }
            }
        }
    }

    /// Written digit by digit into at most 15 bytes, a small string: every accepted connection
    /// names its peer, and interpolation cost a few thousand instructions.
    private static func dottedQuad(_ bytes: (UInt8, UInt8, UInt8, UInt8)) -> String {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { out in
            var count = 0
            for index in 0..<4 {
                let octet = withUnsafeBytes(of: bytes) { $0[index] }
                if index > 0 { out[count] = UInt8(ascii: "."); count += 1 }
                if octet >= 100 { out[count] = 0x30 + octet / 100; count += 1 }
                if octet >= 10 { out[count] = 0x30 + octet / 10 % 10; count += 1 }
                out[count] = 0x30 + octet % 10
                count += 1
            }
            return String(decoding: UnsafeBufferPointer(rebasing: out[..<count]), as: UTF8.self)
        }
    }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    package func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        let length = isIPv6 ? MemoryLayout<sockaddr_in6>.size : MemoryLayout<sockaddr_in>.size
        return withUnsafePointer(to: storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(length)) }
        }
    }
}
