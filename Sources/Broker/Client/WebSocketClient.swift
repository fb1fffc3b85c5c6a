import Frames

/// A small blocking WebSocket client (RFC 6455, client role): bus-cli and the tests use it.
/// One socket, one thread; every wait has a timeout. Pings from the server are answered
/// inside `receive`.
public final class WebSocketClient {
    public enum Message: Equatable, Sendable {
        case text(String)
        case binary([UInt8])
        case pong([UInt8])
        /// The server's close frame (already answered), or nil code when it had no payload.
        case close(code: UInt16?, reason: String)
    }

    public enum ClientError: Error, CustomStringConvertible, Equatable {
        case timedOut
        case connectionClosed
        case handshake(String)
        case protocolViolation(String)
        /// `getaddrinfo` found no address; `reason` is the resolver's own text (`gai_strerror`).
        case cannotResolve(host: String, reason: String)
        /// `connect` failed: `address` is `host:port`, `errno` says why (`ECONNREFUSED`: nothing
        /// listens there).
        case cannotConnect(address: String, errno: Int32)
        public var description: String {
            switch self {
            case .cannotResolve(let host, let reason): return "cannot resolve \(host): \(reason)"
            case .cannotConnect(let address, let code):
                let text = Sys.errorText(code)
                return "cannot connect to \(address): \(text.prefix(1).lowercased() + text.dropFirst())"
            case .timedOut: return "timed out"
            case .connectionClosed: return "connection closed"
            case .handshake(let why): return "handshake failed: \(why)"
            case .protocolViolation(let why): return "protocol error: \(why)"
            }
        }
    }

    public let url: WebSocketURL
    public private(set) var subprotocol: String?
    /// What permessage-deflate the server agreed to (RFC 7692), when we offered it.
    public private(set) var deflate: DeflateAgreement?
    /// Messages the server sent compressed (RSV1): tests see the extension at work.
    public private(set) var compressedMessagesReceived = 0
    /// With the extension agreed, text and binary messages are sent compressed (each from an
    /// empty window, which any agreement allows) unless this is turned off.
    public var compressesOutgoing = true
    private var deflater: Deflater?
    private let fd: Int32
    private var decoder: FrameDecoder
    private var pending: [Message] = []
    private var readBuffer = [UInt8](repeating: 0, count: 64 << 10)
    private var closed = false
    /// Bytes that arrived behind the handshake response.
    private var leftover: [UInt8] = []

    /// `compression` offers permessage-deflate (RFC 7692); see `deflate` for the answer.
    public init(url: WebSocketURL, subprotocols: [String] = [], headers: [(String, String)] = [],
                maxMessageSize: Int = 64 << 20, timeout: Double = 10, compression: Bool = false) throws {
        self.url = url
        let address: SocketAddress
        do { address = try SocketAddress.resolve(host: url.host, port: url.port) } catch let error as SystemError {
            throw ClientError.cannotResolve(host: url.host, reason: Sys.resolverErrorText(error.errno))
        }
        fd = try Sys.socket(family: address.family, nonBlocking: false)
        decoder = FrameDecoder(role: .client, maxMessageSize: maxMessageSize)
        do {
            do { try Sys.connect(fd, address) } catch let error as SystemError {
                let shownHost = url.host.contains(":") ? "[\(url.host)]" : url.host
                throw ClientError.cannotConnect(address: "\(shownHost):\(url.port)", errno: error.errno)
            }
            Sys.setNoDelay(fd)
            try handshake(subprotocols: subprotocols, headers: headers, timeout: timeout, compression: compression)
            if let deflate {
                // A server that keeps its context (not ours) needs an inflater of our own that keeps it too.
                decoder = FrameDecoder(role: .client, maxMessageSize: maxMessageSize,
                                       inflater: Inflater(keepsContext: !deflate.serverNoContextTakeover))
                // zlib has no 8-bit window: a server that asks for one gets plain messages.
                if deflate.clientWindowBits >= PerMessageDeflate.smallestWindowBits {
                    deflater = Deflater(windowBits: deflate.clientWindowBits)
                }
            }
        } catch {
            Sys.close(fd)
            throw error
        }
    }

    deinit { if !closed { Sys.close(fd) } }

    private func handshake(subprotocols: [String], headers: [(String, String)], timeout: Double, compression: Bool) throws {
        let request = ClientHandshake(host: url.hostHeader, path: url.target, subprotocols: subprotocols, headers: headers,
                                      offersDeflate: compression)
        try sendAll(request.requestBytes())
        var parser = HTTPResponseParser()
        while true {
            let n = try readSome(timeout: timeout)
            let result = readBuffer.withUnsafeBytes { parser.parse(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            switch result {
            case .needMore:
                continue
            case .failure(let why):
                throw ClientError.handshake(why)
            case .complete(let head, let consumed):
                do { subprotocol = try request.validate(head) } catch { throw ClientError.handshake(error.message) }
                deflate = request.deflateAgreement(head)
                leftover = Array(readBuffer[consumed..<n])
                return
            }
        }
    }

    // MARK: sending

    public func send(text: String) throws { try send(.text, Array(text.utf8)) }
    public func send(binary: [UInt8]) throws { try send(.binary, binary) }
    public func ping(_ payload: [UInt8] = []) throws { try send(.ping, payload) }

    /// Sends one frame, masked with a fresh key (RFC 6455 §5.3). A whole text or binary
    /// message is compressed (RSV1, RFC 7692 §6) when the extension was agreed.
    public func send(_ opcode: Opcode, _ payload: [UInt8], fin: Bool = true) throws {
        if fin, compressesOutgoing, let deflater, opcode == .text || opcode == .binary {
            var frame = FrameEncoder.encode(opcode: opcode, fin: true, payload: deflater.compress(payload), maskKey: .random())
            frame[0] |= 0x40
            return try sendAll(frame)
        }
        try sendAll(FrameEncoder.encode(opcode: opcode, fin: fin, payload: payload, maskKey: .random()))
    }

    /// Writes bytes exactly as given (tests use it to send malformed input).
    public func sendRaw(_ bytes: [UInt8]) throws { try sendAll(bytes) }

    private func sendAll(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                switch Sys.send(fd, UnsafeRawBufferPointer(rebasing: buffer[offset...])) {
                case .bytes(let n): offset += n
                case .wouldBlock: _ = Sys.waitWritable(fd, timeoutMs: 1000)
                case .eof, .failed: throw ClientError.connectionClosed
                }
            }
        }
    }

    // MARK: receiving

    /// The next text, binary, pong or close. Pings are answered on the way.
    public func receive(timeout: Double = 10) throws -> Message {
        let deadline = Sys.monotonicNanos() + UInt64(timeout * 1_000_000_000)
        while pending.isEmpty {
            if !leftover.isEmpty {
                var bytes = leftover
                leftover = []
                try bytes.withUnsafeMutableBytes { try decode($0) }
                continue
            }
            let now = Sys.monotonicNanos()
            guard now < deadline else { throw ClientError.timedOut }
            let n = try readSome(timeout: Double(deadline - now) / 1e9)
            try readBuffer.withUnsafeMutableBytes { try decode(UnsafeMutableRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return pending.removeFirst()
    }

    private func decode(_ bytes: UnsafeMutableRawBufferPointer) throws {
        var replies: [(Opcode, [UInt8])] = []
        var rest = bytes
        do {
            while let event = try decoder.next(&rest) {
                if decoder.lastMessageWasCompressed { compressedMessagesReceived += 1 }
                switch event {
                case .text(let p): pending.append(.text(String(decoding: p, as: UTF8.self)))
                case .binary(let p): pending.append(.binary(Array(p)))
                case .ping(let p): replies.append((.pong, Array(p)))
                case .pong(let p): pending.append(.pong(Array(p)))
                case .close(let code, let reason):
                    let payload = code.map { FrameEncoder.closePayload(code: $0, reason: "") } ?? []
                    replies.append((.close, payload))
                    pending.append(.close(code: code?.rawValue, reason: String(decoding: reason, as: UTF8.self)))
                }
            }
        } catch {
            throw ClientError.protocolViolation(error.reason)
        }
        for (opcode, payload) in replies { try? send(opcode, payload) }
    }

    private func readSome(timeout: Double) throws -> Int {
        let ms = Int32(max(0, min(timeout * 1000, Double(Int32.max))))
        guard Sys.waitReadable(fd, timeoutMs: ms) else { throw ClientError.timedOut }
        let result = readBuffer.withUnsafeMutableBytes { Sys.read(fd, into: $0) }
        switch result {
        case .bytes(let n): return n
        case .wouldBlock: return 0
        case .eof, .failed: throw ClientError.connectionClosed
        }
    }

    // MARK: closing

    /// Sends a close frame and waits (bounded) for the server's close and TCP end.
    public func close(code: CloseCode = .normalClosure, reason: String = "", timeout: Double = 5) throws {
        guard !closed else { return }
        try? send(.close, FrameEncoder.closePayload(code: code, reason: reason))
        let deadline = Sys.monotonicNanos() + UInt64(timeout * 1_000_000_000)
        while Sys.monotonicNanos() < deadline {
            do {
                if case .close = try receive(timeout: 0.2) { break }
            } catch ClientError.timedOut {
                continue
            } catch {
                break
            }
        }
        closed = true
        Sys.close(fd)
    }

    /// Drops the TCP connection with a reset and no close frame ("vanishing").
    public func abort() {
        guard !closed else { return }
        closed = true
        Sys.setLingerZero(fd)
        Sys.close(fd)
    }

    /// True once the server has closed the TCP connection (reads see EOF).
    public func waitForServerClose(timeout: Double = 5) -> Bool {
        let deadline = Sys.monotonicNanos() + UInt64(timeout * 1_000_000_000)
        while Sys.monotonicNanos() < deadline {
            do { _ = try receive(timeout: 0.2) } catch ClientError.timedOut { continue } catch { return true }
        }
        return false
    }
}
