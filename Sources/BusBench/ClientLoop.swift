import Frames
import SystemCalls

/// What a scenario hears from its `ClientLoop`. Called on the loop's thread, inside `turn`.
protocol ClientLoopDelegate: AnyObject {
    /// The handshake completed.
    func opened(_ connection: BenchConnection)
    /// A text or binary message; the pointer is valid only during the call.
    func received(_ payload: UnsafeRawBufferPointer, binary: Bool, on connection: BenchConnection)
    /// The connection is gone (its fd is already closed); `why` says how.
    func closed(_ connection: BenchConnection)
}

/// A small epoll loop for client connections: one thread drives thousands of sockets. Level
/// triggered, one shared read buffer, writes coalesced per connection and flushed once at
/// the end of each turn, as the server does. Not thread-safe: one thread owns it.
final class ClientLoop {
    private let epoll: Int32
    private let events: UnsafeMutablePointer<Epoll.Event>
    private let eventCapacity: Int32 = 1024
    private let readBuffer: UnsafeMutableRawBufferPointer
    /// Reads per connection per turn, so one busy socket cannot starve the rest.
    private let readBudget = 4
    private var connections: [UInt64: BenchConnection] = [:]
    private var nextID: UInt64 = 1
    private var dirty: [BenchConnection] = []
    let address: SocketAddress
    let hostHeader: String
    let path: String
    weak var delegate: ClientLoopDelegate?
    /// Monotonic time of the current turn, read once per `epoll_wait`.
    private(set) var now: UInt64 = BenchClock.now()

    var connectionCount: Int { connections.count }

    let subprotocols: [String]
    /// Connections offer permessage-deflate; those whose server agreed (without context
    /// takeover, as bus always answers) share `inflater`.
    let compression: Bool
    private lazy var inflater = Inflater()
    /// Bytes read from every socket (wire bytes, compressed or not): scenarios difference it.
    private(set) var bytesRead = 0

    /// Connections go to `endpoint`, or to `path` on the same server (the echo service),
    /// offering `subprotocols`.
    init(endpoint: BenchEndpoint, path: String? = nil, subprotocols: [String] = ["bus.v1"], compression: Bool = false) throws {
        self.compression = compression
        address = try SocketAddress.resolve(host: endpoint.host, port: endpoint.port)
        hostHeader = endpoint.hostHeader
        self.path = path ?? endpoint.path
        self.subprotocols = subprotocols
        epoll = try Sys.epollCreate()
        events = .allocate(capacity: Int(eventCapacity))
        readBuffer = .allocate(byteCount: 256 << 10, alignment: 16)
    }

    deinit {
        for connection in connections.values { Sys.close(connection.fd) }
        Sys.close(epoll)
        events.deallocate()
        readBuffer.deallocate()
    }

    // MARK: opening and closing

    /// Another server for some connections (a cluster's other node): its address, Host and path.
    struct Elsewhere {
        let address: SocketAddress
        let hostHeader: String
        let path: String

        init(endpoint: BenchEndpoint) throws {
            address = try SocketAddress.resolve(host: endpoint.host, port: endpoint.port)
            hostHeader = endpoint.hostHeader
            path = endpoint.path
        }
    }

    /// Starts a connection to the server (`/bus`, subprotocol `bus.v1`), or to `elsewhere`. A
    /// receive buffer size, when given, is set before connecting so the TCP window starts small.
    @discardableResult
    func connect(tag: Int = 0, receiveBuffer: Int? = nil, to elsewhere: Elsewhere? = nil) throws -> BenchConnection {
        let address = elsewhere?.address ?? address
        let fd = try Sys.socket(family: address.family, nonBlocking: true)
        Sys.setNoDelay(fd)
        if let receiveBuffer { BenchSys.setReceiveBuffer(fd, receiveBuffer) }
        let handshake = ClientHandshake(host: elsewhere?.hostHeader ?? hostHeader, path: elsewhere?.path ?? path,
                                        subprotocols: subprotocols, offersDeflate: compression)
        let connection = BenchConnection(id: nextID, fd: fd, handshake: handshake)
        nextID += 1
        connection.tag = tag
        connection.startedAt = BenchClock.now()
        connections[connection.id] = connection
        switch Sys.startConnect(fd, address) {
        case .failed(let code):
            connections[connection.id] = nil
            Sys.close(fd)
            throw BenchFailure("connect \(address): \(Sys.errorText(code))")
        case .connected:
            startHandshake(connection)
        case .inProgress:
            updateInterest(connection, Epoll.writable)
        }
        return connection
    }

    /// Sends a close frame; the connection ends when the server closes TCP.
    func close(_ connection: BenchConnection, code: CloseCode = .normalClosure) {
        guard connection.state == .open else { return }
        send(.close, FrameEncoder.closePayload(code: code, reason: ""), on: connection)
        connection.state = .closing
    }

    /// Drops the TCP connection with a reset and no close frame: a client that vanished.
    func abort(_ connection: BenchConnection) {
        guard connection.state != .closed else { return }
        Sys.setLingerZero(connection.fd)
        finish(connection, why: "aborted")
    }

    // MARK: writing

    /// Queues one masked frame; it goes out at the end of the turn.
    func send(_ opcode: Opcode, _ payload: [UInt8], on connection: BenchConnection) {
        enqueue(FrameEncoder.encode(opcode: opcode, payload: payload, maskKey: .random()), on: connection)
    }

    /// Queues bytes already framed (publish frames built once by the scenario).
    func enqueue(_ frame: [UInt8], on connection: BenchConnection) {
        guard connection.state != .closed else { return }
        if connection.outboundOffset == connection.outbound.count {
            connection.outbound.removeAll(keepingCapacity: true)
            connection.outboundOffset = 0
        }
        connection.outbound += frame
        if !connection.isDirty {
            connection.isDirty = true
            dirty.append(connection)
        }
    }

    /// Stops or resumes reading one connection (a stalled subscriber). While stopped, only
    /// the peer's FIN or a reset is reported.
    func setReading(_ connection: BenchConnection, _ reading: Bool) {
        connection.reading = reading
        updateInterest(connection, wantedEvents(connection))
    }

    // MARK: the turn

    /// Waits up to `timeoutMs` for events, handles them, then flushes every connection
    /// written to during the turn.
    func turn(timeoutMs: Int32) {
        flush()
        let n = Sys.epollWait(epoll, events, capacity: eventCapacity, timeoutMs: max(0, timeoutMs))
        now = BenchClock.now()
        for index in 0..<n {
            let event = events[index]
            guard let connection = connections[event.data.u64] else { continue }
            handle(connection, event.events)
        }
        flush()
    }

    private func handle(_ connection: BenchConnection, _ flags: UInt32) {
        switch connection.state {
        case .connecting:
            let code = Sys.socketError(connection.fd)
            if code != 0 { return finish(connection, why: "connect: \(Sys.errorText(code))") }
            startHandshake(connection)
        case .closed:
            return
        default:
            if flags & Epoll.writable != 0 { write(connection) }
            if connection.state == .closed { return }
            if connection.reading && flags & (Epoll.readable | Epoll.hangUp | Epoll.error) != 0 {
                read(connection)
            } else if !connection.reading && flags & (Epoll.peerHangUp | Epoll.hangUp | Epoll.error) != 0 {
                // The server hung up on a stalled reader: read what is left (its last words).
                setReading(connection, true)
                read(connection)
            }
        }
    }

    private func startHandshake(_ connection: BenchConnection) {
        connection.state = .handshaking
        enqueue(connection.handshake.requestBytes(), on: connection)
        updateInterest(connection, wantedEvents(connection))
    }

    private func read(_ connection: BenchConnection) {
        for _ in 0..<readBudget {
            switch Sys.read(connection.fd, into: readBuffer) {
            case .bytes(let n):
                // Latency is measured from here: one clock read per read call, not per turn.
                now = BenchClock.now()
                bytesRead &+= n
                consume(connection, UnsafeMutableRawBufferPointer(rebasing: readBuffer[0..<n]))
                if connection.state == .closed || !connection.reading { return }
                if n < readBuffer.count { return }
            case .wouldBlock:
                return
            case .eof:
                return finish(connection, why: connection.closeCode.map { "closed \($0)" } ?? "server closed TCP")
            case .failed(let code):
                return finish(connection, why: "read: \(Sys.errorText(code))")
            }
        }
    }

    private func consume(_ connection: BenchConnection, _ bytes: UnsafeMutableRawBufferPointer) {
        var bytes = bytes
        if connection.state == .handshaking {
            switch connection.responseParser.parse(UnsafeRawBufferPointer(bytes)) {
            case .needMore:
                return
            case .failure(let why):
                return finish(connection, why: "handshake: \(why)")
            case .complete(let head, let consumed):
                do {
                    _ = try connection.handshake.validate(head)
                } catch {
                    return finish(connection, why: "handshake: \(error.message)")
                }
                if let agreement = connection.handshake.deflateAgreement(head) {
                    connection.decoder = FrameDecoder(role: .client, maxMessageSize: connection.decoder.maxMessageSize,
                                                      inflater: agreement.serverNoContextTakeover ? inflater : Inflater(keepsContext: true))
                }
                connection.state = .open
                connection.openedAt = now
                delegate?.opened(connection)
                bytes = UnsafeMutableRawBufferPointer(rebasing: bytes[consumed...])
            }
        }
        var replies: [(Opcode, [UInt8])] = []
        do {
            while let event = try connection.decoder.next(&bytes) {
                switch event {
                case .text(let payload): delegate?.received(payload, binary: false, on: connection)
                case .binary(let payload): delegate?.received(payload, binary: true, on: connection)
                case .ping(let payload): replies.append((.pong, Array(payload)))
                case .pong: break
                case .close(let code, _):
                    connection.closeCode = code?.rawValue
                    if connection.state == .open {
                        replies.append((.close, code.map { FrameEncoder.closePayload(code: $0, reason: "") } ?? []))
                    }
                    connection.state = .closing
                }
            }
        } catch {
            return finish(connection, why: "protocol error: \(error)")
        }
        for (opcode, payload) in replies { enqueue(FrameEncoder.encode(opcode: opcode, payload: payload, maskKey: .random()), on: connection) }
    }

    private func flush() {
        guard !dirty.isEmpty else { return }
        let batch = dirty
        dirty.removeAll(keepingCapacity: true)
        for connection in batch {
            connection.isDirty = false
            if connection.state != .closed && connection.state != .connecting { write(connection) }
        }
    }

    private func write(_ connection: BenchConnection) {
        while connection.hasOutbound {
            let result = connection.outbound.withUnsafeBytes {
                Sys.send(connection.fd, UnsafeRawBufferPointer(rebasing: $0[connection.outboundOffset...]))
            }
            switch result {
            case .bytes(let n):
                connection.outboundOffset += n
            case .wouldBlock:
                updateInterest(connection, wantedEvents(connection))
                return
            case .eof, .failed:
                return finish(connection, why: "write failed")
            }
        }
        connection.outbound.removeAll(keepingCapacity: connection.outbound.capacity <= 64 << 10)
        connection.outboundOffset = 0
        updateInterest(connection, wantedEvents(connection))
    }

    private func wantedEvents(_ connection: BenchConnection) -> UInt32 {
        Epoll.interest(readable: connection.reading, writable: connection.hasOutbound)
    }

    private func updateInterest(_ connection: BenchConnection, _ wanted: UInt32) {
        guard wanted != connection.registeredEvents else { return }
        let op = connection.registeredEvents == 0 ? Epoll.add : Epoll.modify
        try? Sys.epollControl(epoll, op, connection.fd, events: wanted, data: connection.id)
        connection.registeredEvents = wanted
    }

    /// Closes the descriptor (which also leaves the epoll set) and tells the delegate.
    private func finish(_ connection: BenchConnection, why: String) {
        guard connection.state != .closed else { return }
        connection.state = .closed
        connection.closeWhy = why
        connections[connection.id] = nil
        Sys.close(connection.fd)
        delegate?.closed(connection)
    }

    /// Closes every connection at once (end of a scenario).
    func closeAll() {
        for connection in Array(connections.values) { finish(connection, why: "benchmark ended") }
    }
}
