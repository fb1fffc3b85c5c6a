import Auth
import Synchronization

/// The running server: listening sockets plus `EventLoop` threads (one per core but one). Construct it
/// to start serving; `shutdown` (or a signal, via `runUntilSignalled`) stops it gracefully.
public final class BrokerServer: Sendable {
    /// The bound addresses (with the real port when port 0 was asked for).
    public let addresses: [SocketAddress]
    public let loopCount: Int
    private let context: ServerContext
    private let inboxes: [LoopInbox]
    private let listeners: [Listener]
    /// Counts the loops still running.
    private let stopped: CountdownLatch
    private let startFailure = StartFailure()

    public init(config unchecked: ServerConfig, log: Log = Log()) throws {
        let config = try unchecked.validated()
        let fileLimit = Sys.raiseFileLimit()
        loopCount = config.loops > 0 ? config.loops : ServerConfig.automaticLoops(cpus: Sys.cpuCount())
        let authenticator = try config.auth.authenticator()
        // Before the listeners: a directory locked by another broker ends the start (exit 2)
        // without taking a port.
        let loops = loopCount
        let durable = try config.dataDir.map { _ in try DurableStore.open(config: config, loopCount: loops, log: log) }
        context = ServerContext(config: config, log: log, fileLimit: fileLimit, loopCount: loopCount, authenticator: authenticator,
                                durable: durable)
        var listeners: [Listener] = []
        do {
            for host in config.hosts { listeners.append(try Listener(host: host, port: config.port)) }
        } catch {
            listeners.forEach { $0.close() }
            durable?.close()
            throw error
        }
        self.listeners = listeners
        addresses = listeners.map(\.address)
        inboxes = try (0..<loopCount).map { _ in try LoopInbox() }

        let ready = CountdownLatch(count: loopCount)
        stopped = CountdownLatch(count: loopCount)
        for index in 0..<loopCount {
            let (context, peers, listeners, stopped, startFailure) = (context, inboxes, listeners, stopped, startFailure)
            do {
                try Sys.startThread(name: "bus-loop-\(index)", stackSize: 1 << 20) {
                    do {
                        let loop = try EventLoop(index: index, context: context, peers: peers, listeners: listeners)
                        ready.countDown()
                        loop.run()
                    } catch {
                        startFailure.record("\(error)")
                        ready.countDown()
                    }
                    stopped.countDown()
                }
            } catch {
                startFailure.record("\(error)")
                ready.countDown()
                stopped.countDown()
            }
        }
        ready.wait()
        if let failure = startFailure.first {
            shutdown(timeout: 0)
            throw ConfigError(option: "loops", message: "an event loop could not start: \(failure)")
        }
        // Recovered history was decoded into buffers the loops have now turned into frames.
        if durable != nil { Sys.returnFreeHeap() }
        context.advance(to: .ready)
        log.info("listening", [("addresses", addresses.map(\.description).joined(separator: ",")),
                               ("loops", String(loopCount)), ("max_connections", String(context.maxConnections))])
        // Said once, at start: without auth, whoever reaches the port can do anything.
        if let auth = context.authenticator {
            log.info("authentication required", [("static_tokens", String(auth.staticTokens.count)),
                                                 ("jwt", auth.jwt == nil ? "off" : "HS256")])
        } else {
            log.warn("no authentication configured: the broker is open, any client may subscribe and publish to any topic")
        }
    }

    /// Stops accepting, closes every WebSocket with 1001 and waits up to `timeout` seconds for
    /// the peers' closes; then every loop exits and the listeners close.
    public func shutdown(timeout: Double = 5) {
        context.advance(to: .draining)
        let deadline = Sys.monotonicNanos() + UInt64(max(0, timeout) * 1_000_000_000)
        for inbox in inboxes { inbox.post(.shutdown(deadlineNanos: deadline)) }
        stopped.wait()
        listeners.forEach { $0.close() }
        // Every loop has handed its last records over: write them, sync, mark the stop clean.
        context.durable?.close()
    }

    /// Blocks SIGINT, SIGTERM and SIGPIPE for this thread and every thread started after it.
    /// Call first thing in `main`; returns the descriptor `runUntilSignalled` waits on.
    public static func blockSignals() -> Int32 { Sys.blockSignalsAndOpenSignalFD() }

    /// Serves until SIGINT or SIGTERM arrives on `signalFD`, then shuts down gracefully.
    public func runUntilSignalled(signalFD: Int32, shutdownTimeout: Double = 5) {
        while true {
            if let signal = Sys.waitForStopSignal(signalFD) {
                context.log.info("shutting down", [("signal", signal.rawValue)])
                break
            }
        }
        shutdown(timeout: shutdownTimeout)
        context.log.info("stopped")
    }

    /// Connections currently open across all loops.
    public var openConnections: Int { context.openConnections.load(ordering: .relaxed) }

    /// What `GET /readyz` answers.
    var readiness: ServerContext.Readiness { context.readiness }

    /// Marks the server as draining (what `shutdown` does first), without stopping it: tests
    /// see `/readyz` answer 503 while the loops still serve.
    func beginDraining() { context.advance(to: .draining) }
}

/// The first error of a loop that failed to start, reported back to the starting thread.
private final class StartFailure: Sendable {
    private let message = Mutex<String?>(nil)
    func record(_ text: String) { message.withLock { if $0 == nil { $0 = text } } }
    var first: String? { message.withLock { $0 } }
}
