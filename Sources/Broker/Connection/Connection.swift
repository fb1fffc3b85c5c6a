import Auth
import Frames

/// One accepted socket, owned by one loop for its whole life. A small state machine:
/// HTTP request head → (plain HTTP reply | WebSocket open) → closing → closed. It keeps the
/// transport (queue, pauses, timers); each phase's own state lives in `http` (`HTTPExchange`)
/// and `webSocket` (`WebSocketState`), and what is spoken over it in the service and endpoint.
///
/// Named everywhere by `id` (loop-unique, never reused), not by fd: Linux hands a closed fd
/// to the next accept at once, and a late timer or message addressed by fd would reach a
/// stranger.
final class Connection: QueueHolder {
    enum Phase: Equatable {
        /// Waiting for (the rest of) an HTTP request head.
        case http
        /// WebSocket open: frames flow both ways.
        case open
        /// A Server-Sent Events stream (`Connection+EventStream`): events flow out; input is
        /// read only to see EOF, and discarded.
        case streaming
        /// We sent a close frame; waiting for the peer's close (or the deadline) to drop TCP.
        case closeSent
        /// The peer broke the protocol: our close frame goes out, then we shut our side and
        /// discard input until EOF or the deadline (closing with unread input would reset the
        /// connection and could destroy the close frame in flight).
        case failing
        case lingering
        /// Everything queued goes out, then the socket closes (HTTP error replies, close echoes).
        case closingAfterFlush
        case closed
    }

    // Stored properties are laid out in declaration order: words first, then the narrower
    // fields, so an idle open connection's object stays a few hundred bytes (see bench/README.md,
    // "idle connections and topics"). What only one phase needs lives in a box of its own,
    // allocated for that phase: `httpExchange`, `eventStreamState`, a partial frame's decoder.
    let id: UInt64
    /// `unowned(unsafe)`: the loop owns its connections and outlives every one of them, and
    /// a checked `unowned` costs a retain and a release on each of the dozen `loop.` reads per
    /// delivery (`swift_unownedRetainStrong` was 7 % of a fanout profile, bench/README.md).
    unowned(unsafe) let loop: EventLoop

    /// Runs `body` with the loop, for what changes it or calls it: through `unowned(unsafe)`
    /// only plain reads are free, and every call or `+=` on the loop retained and released it
    /// (atomics, several per message); `Unmanaged`'s guaranteed reference does neither.
    @inline(__always)
    func onLoop<R>(_ body: (EventLoop) -> R) -> R { Unmanaged.passUnretained(loop)._withUnsafeGuaranteedRef(body) }
    /// The client's address: the peer's, or behind a trusted proxy the one its
    /// `X-Forwarded-For` names (see `TrustedProxies`). Logs and per-address limits use it.
    /// The peer's is formatted only when asked for: nearly every connection is never logged
    /// and never limited, and formatting it at accept was a tenth of a churn cycle's set-up.
    var clientAddress: String {
        get { forwardedClient ?? peer.host }
        set { forwardedClient = newValue }
    }
    /// What a trusted proxy said the client is; nil for a direct connection.
    private var forwardedClient: String?
    /// The address this connection is counted under in the per-address limits, if any.
    var countedAddress: String?

    /// The WebSocket phase's state, from the upgrade to the end of the closing handshake.
    var webSocket = WebSocketState()
    /// Who waits for the hub's answers to this connection's requests (see `HubEndpoint`).
    var endpoint: HubEndpoint?
    /// What the token presented with the upgrade (or the current HTTP request) allows; nil
    /// when no auth is configured and everything is allowed.
    var grant: Grant?
    /// The HTTP phase's state (`http`); nil once the phase is over.
    private var httpExchange: HTTPExchange?
    /// The event-stream phase's state (`eventStream`); nil unless the connection is one.
    private var eventStreamState: EventStreamState?

    private var queue = SendQueue()

    /// Loop time of the last bytes received: the liveness rule's only input.
    var lastReceived: UInt64
    /// Loop time the queue last made progress (bytes written, or its first entry queued):
    /// a queue that stops moving for the idle timeout belongs to a peer that stopped reading.
    var lastWritten: UInt64 = 0
    var phaseDeadline: UInt64 = 0
    var timerTick: UInt64 = 0
    /// When the current pause began: time paused by the server is not idle time.
    private var pausedSince: UInt64 = 0

    let peer: SocketAddress
    let fd: Int32
    /// This connection's place in the loop's index of the largest send queues.
    var queueClassSlot: Int32 = 0
    var queueClass: UInt8 = 0
    private(set) var phase: Phase = .http
    /// Why the server is not reading this connection now; it reads again once none holds.
    private(set) var pauses: ReadPauses = []
    /// The WebSocket close code that ended the conversation: ours, or the peer's when the peer
    /// closed first (nil for plain HTTP and for connections that just vanished). Logged.
    var closeCode: UInt16?
    /// Part of the queue is in the loop's io_uring submission (see `BatchedWriter`).
    var batchedWriteInFlight = false
    /// It has published: backpressure between loops pauses publishers only.
    var publishes = false
    /// The service asked to hear when the queue has been written out (a replay's next page).
    private var drainNoticeWanted = false
    private var isDirty = false
    private var writableArmed = false
    /// Dropped as a slow consumer: its notice and close frame are still on their way.
    private(set) var droppedSlow = false

    /// How logs name the other end: the peer, and the client behind it when a proxy forwarded.
    var peerFields: [(String, String)] {
        guard let client = forwardedClient, client != peer.host else { return [("peer", peer.description)] }
        return [("peer", peer.description), ("client", client)]
    }
    var readPaused: Bool { !pauses.isEmpty }

    /// The HTTP phase's state: the request head being read, the request being served (its
    /// body, an answer from other loops), pipelined input. Made on first use and let go when the
    /// phase ends, so an open WebSocket holds none (an upgraded one's goes back to the loop,
    /// for the next connection: see `EventLoop.recycle`).
    var http: HTTPExchange {
        get {
            if let httpExchange { return httpExchange }
            let exchange = onLoop { $0.takeSpareExchange() } ?? HTTPExchange()
            httpExchange = exchange
            return exchange
        }
        set { httpExchange = newValue }
    }

    /// Requests read while reading was paused wait here (never while open: no exchange then).
    var hasPendingInput: Bool { httpExchange.map { !$0.pendingInput.isEmpty } ?? false }

    /// The event-stream phase's state (Server-Sent Events), made on first use.
    var eventStream: EventStreamState {
        if let eventStreamState { return eventStreamState }
        let state = EventStreamState()
        eventStreamState = state
        return state
    }

    init(id: UInt64, fd: Int32, peer: SocketAddress, loop: EventLoop) {
        self.id = id
        self.fd = fd
        self.peer = peer
        self.loop = loop
        lastReceived = loop.now
    }


    var config: ServerConfig { loop.context.config }
    var log: Log { loop.context.log }
    var queuedBytes: Int { queue.byteCount }
    var queuedMessages: Int { queue.count }
    var isOpen: Bool { phase == .open }
    /// It takes the hub's deliveries: an open WebSocket or an event stream.
    var takesDeliveries: Bool { phase == .open || phase == .streaming }

    // MARK: reading

    func readable() {
        if loop.saturated && publishes && !pauses.contains(.throttled) {
            loop.throttle(self)
            return
        }
        // Requests read earlier and held back while paused go first, in order.
        if hasPendingInput { consumePendingInput() }
        var budget = EventLoop.readBudget
        while budget > 0 && phase != .closed && !readPaused {
            budget -= 1
            let buffer = loop.readBuffer
            switch Sys.read(fd, into: buffer) {
            case .bytes(let n):
                lastReceived = loop.now
                consume(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n]))
                if n < buffer.count { return }  // the socket is most likely drained
            case .wouldBlock:
                return
            case .eof:
                // Read now: `closeNow` evaluates its reason after it has moved `phase` on.
                let lingering = phase == .lingering
                closeNow(reason: lingering ? "closed" : "peer closed TCP")
                return
            case .failed(let code):
                closeNow(reason: "read error \(code)")
                return
            }
        }
    }

    /// Feeds freshly read bytes to whatever the phase expects. Bytes left after an HTTP head
    /// (pipelined requests, or frames sent right behind the upgrade) are fed again.
    func consume(_ bytes: UnsafeMutableRawBufferPointer) {
        var rest = bytes
        while !rest.isEmpty {
            switch phase {
            case .http:
                if pauses.contains(.backlogged) || http.awaitingOutcome {
                    // One read's worth at most: reading stays paused until this is used.
                    http.pendingInput.append(contentsOf: rest)
                    return
                }
                guard let used = consumeHTTP(UnsafeRawBufferPointer(rest)) else { return }
                rest = UnsafeMutableRawBufferPointer(rebasing: rest[used...])
            case .open, .closeSent:
                consumeFrames(rest)
                return
            case .streaming:
                discardStreamInput(rest.count)
                return
            case .failing, .lingering, .closingAfterFlush, .closed:
                return  // input after the end of the conversation is discarded
            }
        }
    }

    /// Feeds the requests held back while reading was paused (see `consume`).
    func consumePendingInput() {
        guard !readPaused, phase == .http, hasPendingInput else { return }
        var input: [UInt8] = []
        swap(&input, &http.pendingInput)
        input.withUnsafeMutableBytes { consume($0) }
    }

    // MARK: writing

    func forEachUnstartedFrame(_ body: (OutboundBytes) -> Void) { queue.forEachUnstarted(body) }

    func dropUnstartedFrames() {
        loop.queuedBytes -= queue.dropUnstarted()
        queueChanged()
    }

    /// Replies count against the byte bound only; deliveries against the message bound too.
    /// An event stream queues each delivery as two entries (its shared data, its own id).
    private func queueWouldOverflow(adding bytes: Int, countingMessages: Bool) -> Bool {
        let messages = !countingMessages ? Int.max : phase == .streaming ? 2 * loop.queueMessagesLimit : loop.queueMessagesLimit
        return queue.wouldOverflow(adding: bytes, maxMessages: messages, maxBytes: loop.queueBytesLimit)
    }

    /// The loop's share of the server's send-queue budget would be exceeded.
    func queueBudgetExceeded(adding bytes: Int) -> Bool { onLoop { $0.queuedBytes + bytes > $0.queuedBytesBudget } }

    /// Queues bytes (a delivery, or a reply: an ack, an error, a pong, an HTTP answer) for
    /// the end of this loop turn's flush. Replies count against the queue's byte bound and the
    /// server's budget like deliveries, which also count against the message bound; what does
    /// not fit ends the connection (a WebSocket as a slow consumer). Nothing is queued once our
    /// side has finished. Returns whether the bytes were queued.
    @discardableResult
    func enqueue(_ bytes: OutboundBytes, countingMessages: Bool = false) -> Bool {
        guard acceptsBytes else { return false }
        if queueWouldOverflow(adding: bytes.count, countingMessages: countingMessages) || queueBudgetExceeded(adding: bytes.count) {
            guard admit(bytes, countingMessages: countingMessages) else { return false }
        }
        append(bytes)
        return true
    }

    /// Checks `bytes` against the queue's bounds and the loop's budget, writing the queue out
    /// first (a burst within one turn must not count against a socket that would take it).
    /// Past the budget, the connections holding the most give way; a connection that still
    /// does not fit is dropped and false returned.
    func admit(_ bytes: OutboundBytes, countingMessages: Bool) -> Bool {
        flush()
        guard acceptsBytes else { return false }
        if queueWouldOverflow(adding: bytes.count, countingMessages: countingMessages) {
            overflowed(by: bytes, cause: "send queue overflow")
            return false
        }
        if queueBudgetExceeded(adding: bytes.count) && !loop.makeRoom(bytes.count, for: self) {
            overflowed(by: bytes, cause: "server send-queue budget exhausted")
            return false
        }
        return acceptsBytes
    }

    /// Queues still take replies and deliveries (not once our side has finished).
    private var acceptsBytes: Bool { phase == .http || phase == .open || phase == .closeSent || phase == .streaming }

    /// `bytes` do not fit: a WebSocket is dropped as a slow consumer, anything else closed.
    private func overflowed(by bytes: OutboundBytes?, cause: String) {
        if phase == .open {
            dropSlowConsumer(overflowing: bytes, cause: cause)
        } else if phase == .streaming {
            dropSlowEventStream(overflowing: bytes, cause: cause)
        } else {
            log.info("send queue overflow: closing", peerFields + [("id", String(id)), ("cause", cause),
                                                     ("queued_bytes", String(queue.byteCount))])
            closeNow(reason: cause)
        }
    }

    /// Counted while its notice and close frame are on their way (`/metrics`).
    func markDroppedSlow() {
        guard !droppedSlow else { return }
        droppedSlow = true
        loop.slowConsumersClosing += 1
    }

    /// The loop's budget needs room and this connection holds one of the largest queues.
    func evictForBudget() {
        overflowed(by: nil, cause: "server send-queue budget exhausted: this connection held one of the largest queues")
    }

    /// Queues the last frame of a close, whatever the phase is about to become.
    func enqueueFinal(_ bytes: OutboundBytes) {
        append(bytes)
    }

    private func append(_ bytes: OutboundBytes) {
        if queue.isEmpty { lastWritten = loop.now }
        queue.append(bytes)
        onLoop { $0.queuedBytes += bytes.count }
        queueChanged()
        markDirty()
        // An event stream's input is only read to see EOF: never paused for its backlog.
        if (queue.byteCount > loop.backlogBytes || queue.count > loop.backlogMessages) && !pauses.contains(.backlogged)
            && phase != .streaming {
            pause(.backlogged)
            loop.metrics.backlogPauses &+= 1
        }
    }

    /// Keeps the loop's index of large queues current: one comparison for a small queue that
    /// was small before (nearly every delivery).
    @inline(__always)
    private func queueChanged() {
        let bytes = queue.byteCount
        if queueClass == 0 && bytes < LargestQueues<Connection>.minimumBytes { return }
        loop.largestQueues.update(self, bytes: bytes)
    }

    private func markDirty() {
        guard !isDirty else { return }
        isDirty = true
        onLoop { $0.markDirty(self) }
    }

    /// Writes as much of the queue as the socket takes, in one `sendmsg` per `IOV_MAX` entries.
    /// One `sendmsg`'s worth of the queue: its iovecs, bytes, and the message timed by it.
    struct PreparedWrite {
        let count: Int
        let total: Int
        /// The batch's first message, timed once its last byte is written (not per message).
        let timed: (arrival: UInt64, bytesLeft: Int)?
        var completed = false
    }

    private func prepareWrite(_ iov: UnsafeMutablePointer<iovec>, capacity: Int) -> PreparedWrite {
        let count = queue.fill(iov, capacity: capacity)
        var total = 0
        for i in 0..<count { total += iov[i].iov_len }
        return PreparedWrite(count: count, total: total, timed: queue.first?.stamp.map { ($0.arrival, iov[0].iov_len) })
    }

    /// Applies one write's outcome; false when the flush must stop here (the socket is full,
    /// or the connection closed).
    private func applyWrite(_ result: Sys.IOResult, _ write: PreparedWrite) -> Bool {
        switch result {
        case .bytes(let written):
            if let timed = write.timed, written >= timed.bytesLeft {
                let now = Sys.monotonicNanos()
                onLoop { $0.metrics.deliveryNanos.observe(now > timed.arrival ? now - timed.arrival : 0) }
            }
            queue.consume(written)
            onLoop { $0.queuedBytes -= written }
            if written > 0 { lastWritten = loop.now }
            queueChanged()
            if written < write.total { armWritable(); return false }
            return true
        case .wouldBlock:
            armWritable()
            return false
        case .failed(let code):
            // The peer is gone (EPIPE, ECONNRESET): close quietly, one debug line.
            closeNow(reason: "write error \(code)")
            return false
        case .eof:
            closeNow(reason: "peer closed TCP")
            return false
        }
    }

    /// `--io-uring`: the first write of this flush, to go out in the loop's batch; nil when
    /// there is nothing to send (then `flush()` does the rest as usual).
    func prepareBatchedWrite(_ iov: UnsafeMutablePointer<iovec>, capacity: Int) -> PreparedWrite? {
        guard phase != .closed, !queue.isEmpty else { return nil }
        isDirty = false
        batchedWriteInFlight = true
        onLoop { $0.metrics.queueDepth.observe(UInt64(queue.count)) }
        return prepareWrite(iov, capacity: capacity)
    }

    /// The batch's result for this connection, as `sendmsg` would have returned it. Returns
    /// whether the flush goes on (`flush(observed: true)`, once every result is applied).
    func completeBatchedWrite(result outcome: Sys.IOResult, _ write: PreparedWrite) -> Bool {
        batchedWriteInFlight = false
        return phase != .closed && applyWrite(outcome, write)
    }

    func flush(observed: Bool = false) {
        isDirty = false
        // A batched write of these bytes is out: writing them again here would send them twice.
        guard phase != .closed, !batchedWriteInFlight else { return }
        if !queue.isEmpty && !observed { onLoop { $0.metrics.queueDepth.observe(UInt64(queue.count)) } }
        while !queue.isEmpty {
            let write = prepareWrite(loop.iovecs, capacity: loop.iovecCapacity)
            guard applyWrite(Sys.sendVector(fd, loop.iovecs, count: write.count), write) else { return }
        }
        if writableArmed { writableArmed = false; updateInterest() }
        if drainNoticeWanted {
            drainNoticeWanted = false
            webSocket.service?.drained(self)
            eventStreamState?.stream?.drained()
        }
        if pauses.contains(.backlogged) && queue.byteCount <= loop.backlogBytes / 2 && queue.count <= loop.backlogMessages / 2 {
            resume(.backlogged)
        }
        switch phase {
        case .closingAfterFlush:
            closeNow(reason: "closed")
        case .failing:
            Sys.shutdownWrite(fd)
            phase = .lingering
        default:
            break
        }
    }

    func writable() { flush() }

    private func armWritable() {
        guard !writableArmed else { return }
        writableArmed = true
        updateInterest()
    }

    func throttle() { pause(.throttled) }

    func unthrottle() { resume(.throttled) }

    func pause(_ reason: ReadPauses) {
        guard !pauses.contains(reason) else { return }
        if pauses.isEmpty {
            pausedSince = loop.now
            pauses.insert(reason)
            updateInterest()
        } else {
            pauses.insert(reason)
        }
    }

    func resume(_ reason: ReadPauses) {
        guard pauses.contains(reason) else { return }
        pauses.remove(reason)
        guard pauses.isEmpty, phase != .closed else { return }
        // The peer could not be heard while we were not reading it.
        lastReceived = min(loop.now, lastReceived &+ (loop.now &- pausedSince))
        updateInterest()
        if hasPendingInput { loop.inputReady(self) }
    }

    private func updateInterest() {
        guard phase != .closed else { return }
        onLoop { $0.setWritableInterest(self, writable: writableArmed, readable: !readPaused) }
    }

    // MARK: closing

    /// Closes the WebSocket politely: our close frame, then wait (bounded) for the peer's;
    /// a dropped slow consumer gets `--slow-consumer-grace` to read what it still has.
    func close(_ reason: CloseReason) {
        guard phase == .open else {
            if phase == .http { closeAfterFlush() }
            return
        }
        enqueueFinal(Self.closeFrame(code: reason.code, reason: reason.text))
        closeCode = reason.code.rawValue
        enterClosingPhase(.closeSent, timeout: reason == .slowConsumer ? max(config.closeTimeout, config.slowConsumerGrace) : nil)
        log.debug("closing", peerFields + [("code", String(reason.code.rawValue)), ("reason", reason.text)])
    }

    /// The peer broke the protocol: send the close code the error maps to, then leave.
    func fail(_ error: FrameError) {
        guard phase == .open || phase == .closeSent else { return }
        let wasOpen = phase == .open
        webSocket.decoding = false
        loop.reassemblyBytes -= webSocket.dropPartialFrame()
        if wasOpen {
            enqueueFinal(Self.closeFrame(code: error.closeCode, reason: error.reason))
            closeCode = error.closeCode.rawValue
        }
        enterClosingPhase(.failing)
        log.debug("protocol error", peerFields + [("code", String(error.closeCode.rawValue)),
                                     ("reason", error.reason)])
    }

    /// Sends what is queued (an HTTP reply, a close echo), then closes the socket.
    func closeAfterFlush() {
        guard phase != .closed else { return }
        enterClosingPhase(.closingAfterFlush)
        markDirty()
    }

    func enterClosingPhase(_ next: Phase, timeout: Double? = nil) {
        let wasOpen = phase == .open
        let wasStreaming = phase == .streaming
        phase = next
        httpExchange?.parser = nil
        phaseDeadline = loop.now + (timeout.map(Self.nanos) ?? loop.closeTimeoutNanos)
        rescheduleTimer()
        if wasOpen { notifyServiceClosed() }
        if wasStreaming { endEventStream() }
        markDirty()
    }

    /// Server shutdown: WebSockets get close 1001 (going away); anything else just closes.
    func shutdown() {
        switch phase {
        case .open: close(.shuttingDown)
        case .streaming: closeAfterFlush()
        case .http: closeNow(reason: "shutdown")
        default: break
        }
    }

    /// Drops the socket now: no more writes, the descriptor closed, every trace removed.
    /// `reason` is made only if the debug line is written: a peer's reset would otherwise pay
    /// for formatting its error code on every close.
    func closeNow(reason: @autoclosure () -> String) {
        guard phase != .closed else { return }
        let wasOpen = phase == .open
        let wasStreaming = phase == .streaming
        phase = .closed
        if wasOpen && closeCode == nil { closeCode = CloseCode.abnormalClosure.rawValue }  // no close frame either way
        onLoop { $0.queuedBytes -= queue.byteCount }
        queue.removeAll()
        queueChanged()
        if droppedSlow { loop.slowConsumersClosing -= 1 }
        webSocket.decoding = false
        let partialBytes = webSocket.dropPartialFrame()
        onLoop { $0.reassemblyBytes -= partialBytes }
        httpExchange = nil
        if wasOpen { notifyServiceClosed() }
        if wasStreaming { endEventStream() }
        endpoint = nil
        Sys.close(fd)
        onLoop { $0.remove(self) }
        log.debug("connection closed", peerFields + [("id", String(id)), ("reason", reason()),
                                        ("code", closeCode.map { String($0) } ?? "none")])
    }

    private func notifyServiceClosed() {
        guard let service = webSocket.service else { return }
        webSocket.service = nil
        service.closed(self)
    }

    static func closeFrame(code: CloseCode?, reason: String) -> OutboundBytes {
        guard let code else { return WireFrame.make(opcode: .close, payloadCount: 0) { _ in } }
        // An echo of the peer's close (half of all leaves) has no reason: its code is written
        // in place, without the array `closePayload` builds.
        guard !reason.isEmpty else {
            return WireFrame.make(opcode: .close, payloadCount: 2) { $0.storeBytes(of: code.rawValue.bigEndian, as: UInt16.self) }
        }
        return WireFrame.make(opcode: .close, payload: FrameEncoder.closePayload(code: code, reason: reason))
    }

    /// Switches to WebSocket framing after a successful upgrade, with permessage-deflate when
    /// it was agreed (the loop's shared inflater; our frames compressed for its window).
    func becomeOpen(_ endpoint: WebSocketEndpoint, compression: DeflateAgreement? = nil) {
        phase = .open
        if var exchange = httpExchange.take(), isKnownUniquelyReferenced(&exchange) { onLoop { $0.recycle(exchange) } }
        webSocket.decoding = true
        webSocket.inflates = compression != nil
        webSocket.deflateWindowBits = UInt8(compression?.serverWindowBits ?? 0)
        webSocket.nextPing = loop.now + loop.pingIntervalNanos
        rescheduleTimer()
        webSocket.service = endpoint.open(self)
    }

    /// Switches to an event stream after its response head was queued (`Connection+EventStream`).
    func becomeEventStream() {
        phase = .streaming
        httpExchange = nil
    }

    /// Once per ping interval: a queue found empty gives its ring back (see `SendQueue`).
    func releaseIdleStorage() { queue.releaseIdleStorage() }

    /// Ring slots the send queue holds (tests: an idle connection holds none).
    var queueStorageSlots: Int { queue.ringCapacity }

    /// The entry being written, when part of it already went out: a dropped stream completes
    /// the event it belongs to.
    var partlyWritten: OutboundBytes? { queue.headOffset > 0 ? queue.first : nil }

    /// The service hears (`drained`) once everything queued now has been written.
    func notifyWhenDrained() {
        drainNoticeWanted = true
        markDirty()
    }
}
