import Frames
import Topics

/// One thread with one epoll set, owning its connections outright: their decoders, queues and
/// timers are touched by this loop only, so none of it needs a lock. Other threads reach a loop
/// only through its `LoopInbox`. Level-triggered epoll: a connection left readable after its
/// read budget is simply reported again on the next turn.
final class EventLoop {
    /// epoll tokens below this are the loop's own descriptors; connection ids are above.
    private static let inboxToken: UInt64 = 0
    private static let firstListenerToken: UInt64 = 1
    /// The NATS backplane's socket (loop 0, cluster mode).
    private static let backplaneToken: UInt64 = 1 << 47
    private static let firstConnectionToken: UInt64 = 1 << 48
    /// Bytes read per `read` call, shared by every connection of the loop: an idle connection
    /// owns no read buffer.
    static let readBufferSize = 64 << 10
    /// Reads per connection per turn, so one busy client cannot starve the rest.
    static let readBudget = 4
    /// Connections accepted per listener wake-up, so one loop does not take every arrival.
    static let acceptBudget = 32

    let index: Int
    let context: ServerContext
    let inbox: LoopInbox
    let router: Router
    let hub: LoopHub
    /// permessage-deflate's per-loop state: the shared inflater and one deflater per window size.
    let compression: LoopCompression
    /// Loop 0's NATS connection in cluster mode; nil on other loops and on a lone node.
    private(set) var backplane: Backplane?
    /// Send queue bounds, read on every delivery: plain integers, not a trip through the
    /// configuration struct (whose arrays would be retained and released each time).
    let queueMessagesLimit: Int
    let queueBytesLimit: Int
    /// Half of each: a connection whose queue holds more is not read until it has drained to
    /// a quarter (see `Connection.ReadPauses.backlogged`).
    let backlogMessages: Int
    let backlogBytes: Int
    /// The connection deadlines and sizes read on every handshake, open, read and timer:
    /// plain values, not a trip through the context (its retain and release each time) and a
    /// conversion from seconds.
    let handshakeTimeoutNanos: UInt64
    let idleTimeoutNanos: UInt64
    let pingIntervalNanos: UInt64
    let closeTimeoutNanos: UInt64
    let maxHandshakeSize: Int
    let maxMessageSize: Int
    /// Every loop's inbox, this one's included (scrapes and backpressure look at them all).
    private let peers: [LoopInbox]
    private let epoll: Int32
    private let listeners: [Listener]
    private var listening = false
    private var listenersPausedUntil: UInt64 = 0

    /// Monotonic time of the current turn: read once per `epoll_wait`, used by everything.
    private(set) var now: UInt64
    private var wheel: TimingWheel
    private var connections: [ConnectionKey: Connection] = [:]
    private var nextSerial: UInt64 = 0
    private var dirty: [Connection] = []
    /// `--flush-delay`: dirty connections are written once the oldest has waited this long.
    private lazy var flushDelay = context.config.flushDelayNanos
    private var dirtySince: UInt64 = 0
    /// `--io-uring`: one submission writes a turn's dirty connections (nil: `sendmsg` each).
    /// Made with the loop, so its descriptor is there from the start like the epoll's.
    private let batchedWriter: BatchedWriter?
    private var draining: UInt64?  // shutdown deadline
    /// Some loop's inbox is past its high-water mark: publishers are not read this turn.
    private(set) var saturated = false
    /// Publishing connections paused while saturated, resumed below the low-water mark.
    private var throttled: [Connection] = []
    private var stopped = false

    /// Written by this loop only, on every turn and message: the unchecked exclusivity keeps
    /// the run-time access check off that path (nothing else can reach it anyway).
    @exclusivity(unchecked) var metrics = LoopMetrics()
    /// Scrapes started on this loop, waiting for every loop's snapshot.
    private var scrapes: [UInt64: Scrape] = [:]
    private var nextScrape: UInt64 = 0

    /// The shared read buffer, at most an eighth of a send queue: what one read can make a
    /// connection queue (replies to pipelined requests) stays well inside its bound.
    let readBuffer: UnsafeMutableRawBufferPointer
    private let readStorage: UnsafeMutableRawBufferPointer
    let iovecs: UnsafeMutablePointer<iovec>
    let iovecCapacity: Int
    private let events: UnsafeMutablePointer<Epoll.Event>
    private static let eventCapacity: Int32 = 512
    /// The epoll flags `dispatch` tests on every event, read once: `Epoll`'s constants come
    /// from C and are lazily made globals, each read a call through its initialiser's guard.
    private let inputFlags = Epoll.readable | Epoll.hangUp | Epoll.peerHangUp
    private let errorFlag = Epoll.error
    private let writableFlag = Epoll.writable

    init(index: Int, context: ServerContext, peers: [LoopInbox], listeners: [Listener]) throws {
        self.index = index
        self.context = context
        self.inbox = peers[index]
        self.peers = peers
        queueMessagesLimit = context.config.sendQueueMessages
        queueBytesLimit = context.config.effectiveSendQueueBytes
        backlogMessages = queueMessagesLimit / 2
        backlogBytes = queueBytesLimit / 2
        handshakeTimeoutNanos = Connection.nanos(context.config.handshakeTimeout)
        idleTimeoutNanos = Connection.nanos(context.config.idleTimeout)
        pingIntervalNanos = Connection.nanos(context.config.pingInterval)
        closeTimeoutNanos = Connection.nanos(context.config.closeTimeout)
        maxHandshakeSize = context.config.maxHandshakeSize
        maxMessageSize = context.config.maxMessageSize
        self.listeners = listeners
        epoll = try Sys.epollCreate()
        now = Sys.monotonicNanos()
        wheel = TimingWheel(now: now)
        readStorage = .allocate(byteCount: Self.readBufferSize, alignment: 16)
        let readSize = min(Self.readBufferSize, max(4096, queueBytesLimit / 8))
        readBuffer = UnsafeMutableRawBufferPointer(rebasing: readStorage[0..<readSize])
        iovecCapacity = min(Sys.iovMax, 1024)
        iovecs = .allocate(capacity: iovecCapacity)
        batchedWriter = context.config.ioUring ? BatchedWriter() : nil
        if context.config.ioUring && batchedWriter == nil && index == 0 {
            context.log.info("io_uring is unavailable here: writing with sendmsg", [])
        }
        events = .allocate(capacity: Int(Self.eventCapacity))
        hub = LoopHub(index: index, peers: peers, config: context.config, serverEpoch: context.serverEpoch)
        compression = LoopCompression(config: context.config)
        router = Router(context: context, hub: hub)
        hub.loop = self
        if let store = context.durable { hub.restoreHistory(from: store) }
        if index == 0, let status = context.backplane, let server = context.config.nats {
            backplane = Backplane(loop: self, status: status, server: server)
        }
        try Sys.epollControl(epoll, Epoll.add, inbox.wakeFD, events: Epoll.readable, data: Self.inboxToken)
        try startListening()
    }

    deinit {
        Sys.close(epoll)
        readStorage.deallocate()
        iovecs.deallocate()
        events.deallocate()
    }

    var connectionCount: Int { connections.count }

    /// The live connection with this id; nil once it has gone (a late reply is dropped).
    func connection(_ id: UInt64) -> Connection? { connections[ConnectionKey(id)] }

    /// The endpoint waiting for the hub's answers on connection `id`, if it still waits.
    func endpoint(_ id: UInt64) -> HubEndpoint? { connections[ConnectionKey(id)]?.endpoint }

    // MARK: the loop

    func run() {
        while !stopped {
            let n = Sys.epollWait(epoll, events, capacity: Self.eventCapacity, timeoutMs: waitMillis())
            now = Sys.monotonicNanos()
            updateSaturation()
            if n == 0 { releaseIdleCapacity() }
            for i in 0..<n { dispatch(events[i]) }
            if !inputReady.isEmpty { consumeReadyInput() }
            fireTimers()
            backplane?.tick(now: now)
            hub.tick(now: now)
            hub.durable?.tick(now: now)
            if listenersPausedUntil != 0 && now >= listenersPausedUntil { resumeListening() }
            // Other loops start on this turn's messages while this one writes its sockets.
            hub.postOutbox()
            hub.durable?.submit()
            if flushDelay == 0 || now &- dirtySince >= flushDelay { flushDirty() }
            backplane?.flush()
            heapRelease.bytesHeld(queuedBytes + reassemblyBytes)
            metrics.iterations &+= 1
            metrics.turnNanos.observe(Sys.monotonicNanos() &- now)
            if let deadline = draining, connections.isEmpty || now >= deadline { finishShutdown() }
            // What writing and the backplane produced (a failed write closes a subscriber).
            hub.postOutbox()
            hub.durable?.submit(final: stopped)
        }
    }

    /// Until the next timer tick, or until dirty connections are due when writes are delayed.
    private func waitMillis() -> Int32 {
        // Marked dirty after this turn's flush (a replay page handed over at its very end):
        // go round again at once rather than sleep until the next tick.
        if (flushDelay == 0 && !dirty.isEmpty) || !inputReady.isEmpty { return 0 }
        let wait = wheel.nanosUntilNextTick(now: Sys.monotonicNanos())
        guard flushDelay > 0 && !dirty.isEmpty else { return Int32(wait / 1_000_000) + 1 }
        let due = (dirtySince &+ flushDelay) &- min(Sys.monotonicNanos(), dirtySince &+ flushDelay)
        return Int32((min(wait, due) + 999_999) / 1_000_000)
    }

    private func dispatch(_ event: Epoll.Event) {
        let token = event.data.u64
        let flags = event.events
        if token >= Self.firstConnectionToken {
            guard let connection = connections[ConnectionKey(token)] else { return }
            if flags & inputFlags != 0 { connection.readable() }
            if flags & errorFlag != 0 { connection.closeNow(reason: "socket error") }
            if flags & writableFlag != 0 { connection.writable() }
        } else if token == Self.inboxToken {
            drainInbox()
        } else if token == Self.backplaneToken {
            backplane?.handle(flags)
        } else {
            acceptConnections(from: listeners[Int(token - Self.firstListenerToken)])
        }
    }

    // MARK: backpressure between loops

    private func updateSaturation() {
        if saturated {
            guard peers.allSatisfy({ $0.backlog < LoopInbox.lowWater }) else { return }
            saturated = false
            for connection in throttled { connection.unthrottle() }
            throttled.removeAll()
        } else if peers.contains(where: { $0.backlog > LoopInbox.highWater }) {
            saturated = true
        }
    }

    /// Stops reading a publisher until the loops have caught up.
    func throttle(_ connection: Connection) {
        connection.throttle()
        throttled.append(connection)
    }

    private var dueTimers: [(id: UInt64, tick: UInt64)] = []

    private func fireTimers() {
        wheel.collectDue(upTo: now, into: &dueTimers)
        if !dueTimers.isEmpty {
            for entry in dueTimers { connections[ConnectionKey(entry.id)]?.timerFired(tick: entry.tick) }
            dueTimers.removeAllReusingCapacity()
        }
        // Here, not in `schedule`: a connection records its new tick only once `schedule` returns.
        if wheel.needsCompaction { wheel.compact { connections[ConnectionKey($0)]?.holdsTimer(tick: $1) == true } }
    }

    private var spareCommands: [LoopCommand] = []

    /// A turn without events (the loop is quiet): the inbox and outbox buffers a burst grew go
    /// back to the allocator. Batches refilled every turn shrink by themselves
    /// (`removeAllReusingCapacity`), but only once a smaller batch passes through them.
    private func releaseIdleCapacity() {
        inbox.releaseIdleCapacity()
        hub.releaseIdleCapacity()
        if spareCommands.capacity > SparseCapacity.floor { spareCommands = [] }
        spareHeaders = []
        spareExchanges = []
        let peak = heapRelease.peak
        if heapRelease.quietTurn(connections: connections.count) {
            let start = Sys.monotonicNanos()
            Sys.returnFreeHeap()
            context.log.debug("free heap returned to the system", [("loop", String(index)), ("peak_connections", String(peak)),
                                                                  ("connections", String(connections.count)),
                                                                  ("micros", String((Sys.monotonicNanos() - start) / 1000))])
        }
    }

    /// Gives the heap back once many connections have gone (see `HeapRelease`).
    private var heapRelease = HeapRelease()

    private func drainInbox() {
        var commands = spareCommands
        let backlog = inbox.drain(into: &commands)
        if backlog > LoopInbox.highWater {
            // Throttled loops wait for this one: wake them to look again.
            for (offset, peer) in peers.enumerated() where offset != index { peer.post(.run { _ in }) }
        }
        for command in commands {
            switch command {
            case .hub(let message): hub.receive(message)
            case .run(let body): body(self)
            case .shutdown(let deadline): beginShutdown(deadline: deadline)
            case .persisted(let token): hub.durable?.persisted(token)
            }
        }
        commands.removeAllReusingCapacity()
        spareCommands = commands
    }

    // MARK: accepting

    private func startListening() throws {
        for (offset, listener) in listeners.enumerated() {
            try Sys.epollControl(epoll, Epoll.add, listener.fd, events: Epoll.readable | Epoll.exclusive,
                                 data: Self.firstListenerToken + UInt64(offset))
        }
        listening = true
    }

    /// Takes the listeners out of this loop's epoll set (`EPOLLEXCLUSIVE` forbids `MOD`).
    private func stopListening() {
        guard listening else { return }
        for listener in listeners { try? Sys.epollControl(epoll, Epoll.delete, listener.fd, events: 0, data: 0) }
        listening = false
    }

    private func resumeListening() {
        listenersPausedUntil = 0
        if draining == nil && !listening { try? startListening() }
    }

    private func acceptConnections(from listener: Listener) {
        for _ in 0..<Self.acceptBudget {
            switch Sys.accept(listener.fd) {
            case .accepted(let fd, let peer):
                guard context.reserveConnection() else {
                    refuse(fd, peer: peer, with: HTTPResponses.serviceUnavailable, reason: "server full")
                    continue
                }
                // A trusted proxy's connections are counted once its request names the client.
                let counted = context.peers.isActive && !context.proxies.trusts(peer.host) ? peer.host : nil
                if let counted, !context.peers.admit(counted, now: now) {
                    context.releaseConnection()
                    refuse(fd, peer: peer, with: HTTPResponses.tooManyRequests, reason: "too many connections from this address")
                    continue
                }
                register(fd: fd, peer: peer, countedAs: counted)
            case .wouldBlock:
                return
            case .outOfDescriptors:
                // Without a free descriptor the pending connection cannot even be refused; stop
                // polling the listener for a moment instead of spinning on EMFILE.
                context.log.warn("out of file descriptors: pausing accept", [("loop", String(index))])
                stopListening()
                listenersPausedUntil = now + 100_000_000
                return
            case .failed(let code):
                context.log.warn("accept failed", [("errno", String(code))])
                return
            }
        }
    }

    /// Over the connection limit: a short 503 (best effort, the socket is fresh and its buffer
    /// empty) and close, before any upgrade.
    private func refuse(_ fd: Int32, peer: SocketAddress, with response: [UInt8], reason: String) {
        response.withUnsafeBytes { _ = Sys.send(fd, $0) }
        Sys.close(fd)
        metrics.connectionsRefused &+= 1
        context.log.debug("connection refused", [("peer", peer.description), ("reason", reason)])
    }

    /// Whether accepted sockets come with TCP_NODELAY from their listener (checked on the
    /// first one): then the one system call per connection that set it is saved.
    private var acceptedWithNoDelay: Bool?

    private func register(fd: Int32, peer: SocketAddress, countedAs counted: String?) {
        if acceptedWithNoDelay == nil { acceptedWithNoDelay = Sys.noDelay(fd) }
        if acceptedWithNoDelay != true { Sys.setNoDelay(fd) }
        if let size = context.config.socketSendBuffer { Sys.setSendBuffer(fd, size) }
        nextSerial += 1
        let id = (UInt64(index + 1) << 48) | nextSerial
        let connection = Connection(id: id, fd: fd, peer: peer, loop: self)
        connection.countedAddress = counted
        do {
            try Sys.epollControl(epoll, Epoll.add, fd, events: Epoll.interest(readable: true, writable: false), data: id)
        } catch {
            Sys.close(fd)
            context.releaseConnection()
            return
        }
        connections[ConnectionKey(id)] = connection
        heapRelease.connectionsChanged(to: connections.count)
        metrics.connectionsAccepted &+= 1
        connection.didOpen()
    }

    // MARK: services for connections

    /// Schedules connection `id`'s timer; returns the tick it will fire at.
    func schedule(_ id: UInt64, atNanos deadline: UInt64) -> UInt64 {
        wheel.schedule(id, at: TimingWheel.tick(for: deadline))
    }

    func markDirty(_ connection: Connection) {
        if dirty.isEmpty { dirtySince = now }
        dirty.append(connection)
    }

    /// Adds, changes or removes the backplane socket in this loop's epoll set.
    func controlBackplane(fd: Int32, op: Int32, events: UInt32) {
        try? Sys.epollControl(epoll, op, fd, events: events, data: Self.backplaneToken)
    }

    func setWritableInterest(_ connection: Connection, writable: Bool, readable: Bool) {
        let mask = Epoll.interest(readable: readable, writable: writable)
        try? Sys.epollControl(epoll, Epoll.modify, connection.fd, events: mask, data: connection.id)
    }

    /// Called by a connection as it closes its socket: forget it everywhere.
    func remove(_ connection: Connection) {
        connections[ConnectionKey(connection.id)] = nil
        connections.shrinkIfSparse()
        heapRelease.connectionsChanged(to: connections.count)
        context.releaseConnection()
        if let counted = connection.countedAddress { context.peers.release(counted) }
    }

    /// Header storage of upgraded requests, emptied, for later connections' first heads
    /// (`Connection.didOpen`): two allocations and two frees fewer per connection. A stack,
    /// not one spare: under churn many connections are accepted before the first upgrades.
    private var spareHeaders: [HTTPHeaders] = []
    /// Spare header storages kept at most, each of a handshake's size (`recycle`: up to 1 KB
    /// of names and values, 16 lines): about 100 KB a loop at most, let go on a quiet turn.
    static let maxSpareHeaders = 64
    static let maxSpareHeaderBytes = 1024

    /// HTTP exchanges of upgraded connections, reset, for later connections (`Connection.http`):
    /// an allocation and a free fewer per connection. Bounded as `spareHeaders` is, a few
    /// hundred bytes each.
    private var spareExchanges: [HTTPExchange] = []

    func takeSpareExchange() -> HTTPExchange? { spareExchanges.popLast() }

    /// Keeps an upgraded connection's exchange (no one else's: the caller holds the only
    /// reference) for a later connection, reset.
    func recycle(_ exchange: HTTPExchange) {
        guard spareExchanges.count < Self.maxSpareHeaders else { return }
        exchange.reset()
        spareExchanges.append(exchange)
    }

    /// Storage for a connection's first request head: a spare one when there is one.
    func takeSpareHeaders() -> HTTPHeaders { spareHeaders.popLast() ?? HTTPHeaders() }

    /// Keeps an upgraded request's header storage for a later connection, unless enough are
    /// kept or it grew past a handshake's size.
    func recycle(_ headers: inout HTTPHeaders) {
        guard spareHeaders.count < Self.maxSpareHeaders, headers.byteCapacity <= Self.maxSpareHeaderBytes else { return }
        headers.removeAll(keepingCapacity: true)
        spareHeaders.append(headers)
    }

    /// Connections whose reading resumed with requests already read and held back.
    private var inputReady: [Connection] = []

    func inputReady(_ connection: Connection) { inputReady.append(connection) }

    private func consumeReadyInput() {
        var ready: [Connection] = []
        swap(&ready, &inputReady)
        for connection in ready { connection.consumePendingInput() }
    }

    // MARK: memory budgets (this loop's share of the server's)

    /// Bytes held in this loop's send queues and in its partly received messages.
    var queuedBytes = 0
    var reassemblyBytes = 0
    /// This loop's largest send queues, for the budget below.
    var largestQueues = LargestQueues<Connection>()
    /// Slow consumers dropped whose notice and close frame are still on their way.
    var slowConsumersClosing = 0
    /// Open Server-Sent Events streams.
    var eventStreams = 0

    /// Makes room for `bytes` more in this loop's share of `--max-queued-bytes` by dropping
    /// the connections that hold the most (as slow consumers), not `asker`, which is dropped
    /// instead (false) when its own queue is the largest or no other holds much.
    func makeRoom(_ bytes: Int, for asker: Connection) -> Bool {
        while queuedBytes + bytes > queuedBytesBudget {
            guard let victim = largestQueues.largest(excluding: asker), victim.queueClass >= asker.queueClass else { return false }
            victim.evictForBudget()
        }
        return true
    }
    lazy var queuedBytesBudget = context.config.maxQueuedBytes / context.loopCount
    lazy var reassemblyBytesBudget = context.config.maxReassemblyBytes / context.loopCount

    private func flushDirty() {
        guard !dirty.isEmpty else { return }
        var batch: [Connection] = []
        swap(&batch, &dirty)
        if let writer = batchedWriter, batch.count > 1 {
            writer.flush(batch)
        } else {
            for connection in batch { connection.flush() }
        }
        batch.removeAllReusingCapacity()
        if dirty.isEmpty { swap(&batch, &dirty) }
    }

    // MARK: metrics

    /// This loop's metrics and gauges, copied on its own thread.
    func snapshot() -> LoopSnapshot {
        LoopSnapshot(loop: index, metrics: metrics, connections: connections.count,
                     subscriptions: hub.subscriptionCount, topics: hub.topicStateCount,
                     queuedBytes: queuedBytes, reassemblyBytes: reassemblyBytes, slowConsumersClosing: slowConsumersClosing,
                     eventStreams: eventStreams, historyMessages: hub.ledger.messages, historyBytes: hub.ledger.bytes)
    }

    /// Asks every loop for its snapshot through its inbox (as loops ask each other everything)
    /// and calls `completion` on this loop once all have answered.
    func gatherSnapshots(_ completion: @escaping ([LoopSnapshot]) -> Void) {
        nextScrape += 1
        let (token, home) = (nextScrape, index)
        scrapes[token] = Scrape(waiting: peers.count, completion: completion)
        for peer in peers {
            peer.post(.run { loop in
                let part = loop.snapshot()
                loop.peers[home].post(.run { $0.received(part, forScrape: token) })
            })
        }
    }

    private func received(_ part: LoopSnapshot, forScrape token: UInt64) {
        guard var scrape = scrapes[token] else { return }
        scrape.parts.append(part)
        guard scrape.parts.count == scrape.waiting else {
            scrapes[token] = scrape
            return
        }
        scrapes[token] = nil
        scrape.completion(scrape.parts)
    }

    // MARK: shutdown

    private func beginShutdown(deadline: UInt64) {
        guard draining == nil else { return }
        draining = deadline
        backplane?.leave()
        stopListening()
        for connection in Array(connections.values) { connection.shutdown() }
    }

    private func finishShutdown() {
        for connection in Array(connections.values) { connection.closeNow(reason: "shutdown deadline") }
        stopped = true
    }
}

/// A scrape waiting for the loops' snapshots.
private struct Scrape {
    let waiting: Int
    var parts: [LoopSnapshot] = []
    let completion: ([LoopSnapshot]) -> Void
}

/// A connection id as the key of its loop's table. Ids are the loop's own serials, never a
/// client's choice, so nobody can pick ids that collide: the key mixes its id with the table's
/// seed in a few instructions instead of running SipHash, which every look-up (each epoll
/// event, each hub answer), insertion and deletion (and the re-homing of the entries after a
/// deleted one) paid, about 90 instructions a time (issue 18, connection churn).
struct ConnectionKey: Hashable {
    let id: UInt64

    init(_ id: UInt64) { self.id = id }

    func hash(into hasher: inout Hasher) { hasher.combine(id) }

    /// The 64-bit finaliser of MurmurHash3 over the id and the seed: every bit of the id
    /// reaches the low bits that pick the bucket.
    func _rawHashValue(seed: Int) -> Int {
        var mixed = id ^ UInt64(truncatingIfNeeded: seed)
        mixed ^= mixed >> 33
        mixed &*= 0xff51_afd7_ed55_8ccd
        mixed ^= mixed >> 33
        mixed &*= 0xc4ce_b9fe_1a85_ec53
        mixed ^= mixed >> 33
        return Int(truncatingIfNeeded: mixed)
    }
}
