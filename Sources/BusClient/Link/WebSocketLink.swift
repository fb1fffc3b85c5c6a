import Frames

/// One WebSocket connection of the client (RFC 6455, client role), driven by the I/O thread:
/// the handshake, then frames out (masked, buffered until the socket takes them) and frames
/// in (decoded with Frames' decoder; pings answered here).
final class WebSocketLink {
    let socket: ClientSocket
    private var decoder: FrameDecoder
    private var outbound: [UInt8] = []
    private var outboundStart = 0
    private var readBuffer = [UInt8](repeating: 0, count: 64 << 10)
    private var leftover: [UInt8] = []
    private(set) var closeSent = false
    /// What permessage-deflate the server agreed to, when offered (RFC 7692).
    private(set) var deflate: DeflateAgreement?

    /// What came in, in order.
    enum Incoming {
        case text([UInt8])
        case binary([UInt8])
        case close(code: UInt16?, reason: String)
    }

    /// Why a connection attempt failed.
    enum Failure: Error {
        case socket(ClientSocket.Failure)
        /// The server answered the upgrade with this status (and `Retry-After`, in seconds).
        case refused(status: Int, reason: String, retryAfter: Double?)
        case handshake(String)
        case timedOut
    }

    private init(socket: ClientSocket, maxMessageSize: Int) {
        self.socket = socket
        decoder = FrameDecoder(role: .client, maxMessageSize: maxMessageSize)
    }

    /// Connects and upgrades within `timeout` seconds.
    /// With `compression`, offers permessage-deflate and inflates what the server compresses.
    static func open(_ url: WebSocketURL, headers: [(String, String)], maxMessageSize: Int, timeout: Double,
                     compression: Bool = false) throws(Failure) -> WebSocketLink {
        let socket: ClientSocket
        do { socket = try ClientSocket.connect(host: url.host, port: url.port, timeout: timeout) } catch { throw .socket(error) }
        let link = WebSocketLink(socket: socket, maxMessageSize: maxMessageSize)
        do {
            try link.handshake(url, headers: headers, timeout: timeout, compression: compression)
        } catch {
            socket.close()
            throw error
        }
        return link
    }

    private func handshake(_ url: WebSocketURL, headers: [(String, String)], timeout: Double, compression: Bool) throws(Failure) {
        let request = ClientHandshake(host: url.hostHeader, path: url.target, subprotocols: ["bus.v1"], headers: headers,
                                      offersDeflate: compression)
        let deadline = ContinuousClock.now + .seconds(timeout)
        outbound = request.requestBytes()
        while hasOutbound {
            guard socket.waitWritable(timeout: remaining(deadline)) else { throw .timedOut }
            do { try flush() } catch { throw .socket(.closed) }
        }
        var parser = HTTPResponseParser()
        while true {
            guard socket.waitReadable(timeout: remaining(deadline)) else { throw .timedOut }
            let received = readBuffer.withUnsafeMutableBytes { buffer in Result { () throws(ClientSocket.Failure) in try socket.receive(into: buffer) } }
            let count: Int
            switch received {
            case .success(let n?): count = n
            case .success(nil): continue
            case .failure(let error): throw .socket(error)
            }
            let result = readBuffer.withUnsafeBytes { parser.parse(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            switch result {
            case .needMore:
                continue
            case .failure(let why):
                throw .handshake(why)
            case .complete(let head, let consumed):
                guard head.status.code == 101 else {
                    let retry = head.headers.values("Retry-After").first.flatMap { DecimalNumber.unsigned(Substring($0)) }.map { Double($0) }
                    throw .refused(status: Int(head.status.code), reason: head.status.reason, retryAfter: retry)
                }
                do { _ = try request.validate(head) } catch { throw .handshake(error.message) }
                if let agreement = request.deflateAgreement(head) {
                    deflate = agreement
                    // bus answers server_no_context_takeover; a server that keeps its context
                    // needs the window kept here too.
                    decoder = FrameDecoder(role: .client, maxMessageSize: decoder.maxMessageSize,
                                           inflater: Inflater(keepsContext: !agreement.serverNoContextTakeover))
                }
                leftover = Array(readBuffer[consumed..<count])
                return
            }
        }
    }

    private func remaining(_ deadline: ContinuousClock.Instant) -> Double {
        let left = deadline - ContinuousClock.now
        return max(0, Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18)
    }

    // MARK: out

    var hasOutbound: Bool { outboundStart < outbound.count }

    /// Queues one masked frame.
    func queue(_ opcode: Opcode, _ payload: [UInt8]) {
        guard !closeSent else { return }
        if opcode == .close { closeSent = true }
        outbound += FrameEncoder.encode(opcode: opcode, fin: true, payload: payload, maskKey: .random())
    }

    /// Writes what the socket takes now.
    func flush() throws(ClientSocket.Failure) {
        while hasOutbound {
            let start = outboundStart
            let written = try outbound.withUnsafeBytes { buffer in
                Result { () throws(ClientSocket.Failure) in try socket.send(UnsafeRawBufferPointer(rebasing: buffer[start...])) }
            }.get()
            if written == 0 { return }
            outboundStart += written
        }
        outbound.removeAll(keepingCapacity: outbound.count <= 64 << 10)
        outboundStart = 0
    }

    // MARK: in

    /// Reads what is available and decodes it; empty when nothing was there.
    func read() throws(Failure) -> [Incoming] {
        var incoming: [Incoming] = []
        if !leftover.isEmpty {
            var bytes = leftover
            leftover = []
            try bytes.withUnsafeMutableBytes { buffer in decode(buffer, into: &incoming) }.get()
        }
        let received = readBuffer.withUnsafeMutableBytes { buffer in Result { () throws(ClientSocket.Failure) in try socket.receive(into: buffer) } }
        switch received {
        case .failure(let error):
            if incoming.isEmpty { throw .socket(error) }
        case .success(let count?):
            try readBuffer.withUnsafeMutableBytes { buffer in
                decode(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), into: &incoming)
            }.get()
        case .success(nil):
            break
        }
        return incoming
    }

    private func decode(_ bytes: UnsafeMutableRawBufferPointer, into incoming: inout [Incoming]) -> Result<Void, Failure> {
        var rest = bytes
        do {
            while let event = try decoder.next(&rest) {
                switch event {
                case .text(let payload): incoming.append(.text(Array(payload)))
                case .binary(let payload): incoming.append(.binary(Array(payload)))
                case .ping(let payload): queue(.pong, Array(payload))
                case .pong: break
                case .close(let code, let reason):
                    queue(.close, code.map { FrameEncoder.closePayload(code: $0, reason: "") } ?? [])
                    incoming.append(.close(code: code?.rawValue, reason: String(decoding: reason, as: UTF8.self)))
                }
            }
        } catch {
            return .failure(.handshake("protocol error from the server: \(error.reason)"))
        }
        return .success(())
    }

    func close() { socket.close() }
}
