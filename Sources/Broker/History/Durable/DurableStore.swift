import Dispatch
import HistoryStore
import Synchronization
import Topics

/// History on disk (`--data-dir`): the directory's lock, its meta file, the segment files and
/// the one writer thread that appends to them. Loops never touch a file: each hands the
/// records of its turn's publishes to `submit` as one buffer and, in the modes that wait
/// (`Durability.waitsForWriter`), gets `LoopCommand.persisted` back in its inbox once the
/// buffer is written (and synced). A full disk, a read-only file system, an I/O error or a
/// writer too far behind degrades history to memory: one log line, `bus_history_store_degraded`,
/// deliveries go on undelayed, and the next start gives every topic a new epoch (its tail on
/// disk is incomplete).
///
/// Disk layout, all files 0600 in a 0700 directory:
/// - `lock`: held with `flock` while a broker runs (a second one exits 2), holds its pid;
/// - `meta`: `StoreMeta` (server epoch, loop count, mode, boot id, how the last life ended);
/// - `segment-N.hist`: records (`RecordCodec`), appended; a new one past `segmentBytes`.
///   At start-up what the segments hold is recovered, written to a fresh segment (only what
///   history retains: compaction) and the older segments deleted. During a run the oldest
///   segments are deleted once all take more than twice the history budget plus one segment.
final class DurableStore: Sendable {
    let directory: String
    let mode: Durability
    /// What the cursor code needs of the data directory (server epoch, the loop count that
    /// wrote the recovered offsets).
    let state: DurableState
    private let queue = DispatchQueue(label: "bus-history-writer")
    /// Touched only on `queue` (and by `open`, before `queue` has work).
    private let writer: SegmentWriter
    private let log: Log
    private let recovered: Mutex<(topics: [RestoredTopic], loopsLeft: Int)>
    private let degradedFlag = Atomic<Bool>(false)
    /// Bytes handed to the writer and not yet written: bounded in `none` mode (past it,
    /// history degrades rather than memory grow); in the waiting modes each loop has at most
    /// one buffer in flight.
    let queuedBytes = Atomic<Int>(0)
    static let maxQueuedBytes = 64 << 20
    let recordsWritten = Atomic<UInt64>(0)
    let bytesWritten = Atomic<UInt64>(0)
    let syncs = Atomic<UInt64>(0)
    /// How long start-up took to read, check and compact the directory, and what it found.
    let startup: StartupReport

    struct StartupReport: Sendable {
        let nanos: UInt64
        let records: Int
        let topics: Int
        let continued: Int
        let messages: Int
        let cuts: Int
    }

    var isDegraded: Bool { degradedFlag.load(ordering: .relaxed) }

    private init(directory: String, mode: Durability, state: DurableState, writer: SegmentWriter, log: Log,
                 topics: [RestoredTopic], loops: Int, startup: StartupReport) {
        self.directory = directory
        self.mode = mode
        self.state = state
        self.writer = writer
        self.log = log
        self.startup = startup
        recovered = Mutex((topics, loops))
    }

    /// Locks the directory, recovers what its segments hold, compacts it into a new segment
    /// and starts a new life in the meta file. A directory in use by another broker, or
    /// holding segments of a later format, is a `ConfigError` (exit status 2).
    static func open(config: ServerConfig, loopCount: Int, log: Log) throws -> DurableStore {
        guard let directory = config.dataDir else { throw ConfigError(option: "data-dir", message: "not set") }
        let started = Sys.monotonicNanos()
        Sys.ignoreFileSizeSignal()
        try Sys.makePrivateDirectory(directory)
        let lockFD = try Sys.openPrivateFile(directory + "/lock")
        guard try Sys.tryLock(lockFD) else {
            let holder = Sys.readFile(directory + "/lock").map { String(decoding: $0, as: UTF8.self) }?.split(separator: "\n").first
            Sys.close(lockFD)
            throw ConfigError(option: "data-dir", message: "'\(directory)' is in use by another broker-server"
                              + (holder.map { " (pid \($0))" } ?? "") + "; each broker needs its own data directory")
        }
        _ = Sys.writeAll(lockFD, Array("\(Sys.processID())\n".utf8), at: 0)
        let writer = SegmentWriter(directory: directory, lockFD: lockFD, config: config)
        let previous = Sys.readFile(directory + "/meta").flatMap(StoreMeta.init(decoding:))
        var bootChanged = previous.map { $0.bootID != Sys.bootID() } ?? true
        if Sys.environment(SegmentWriter.powerLossSeam) != nil {
            try writer.simulatePowerLoss()
            bootChanged = true
        }

        // Recover, oldest segment first (in a scope of its own: what it holds is freed before
        // frames are built).
        let segments = try writer.existingSegments()
        let maxBodyLength = config.maxMessageSize + RecordCodec.bodyFixed + config.maxTopicLength + RecordCodec.maxEpochLength
        var (topics, recordsRead, cuts, trusted) = try { () throws -> ([HistoryRecovery.Topic], Int, [(segment: Int, cut: HistoryRecovery.Cut)], Bool) in
        var recovery = HistoryRecovery(maxBodyLength: maxBodyLength,
                                       limits: config.topicLimits, byteBudget: config.historyBytes) { topic in
            let policy = config.historyPolicy(for: topic)
            return (policy.messages, policy.ageNanos)
        }
        var cuts: [(segment: Int, cut: HistoryRecovery.Cut)] = []
        for (position, number) in segments.enumerated() {
            let path = writer.path(of: number)
            guard let (scanned, size) = Sys.withMappedFile(path, { raw in
                (Result { () throws(HistoryRecovery.UnsupportedVersion) in try recovery.scan(segment: raw) }, raw.count)
            }) else { throw SystemError(call: "read \(path)", errno: 5) }
            let cut: HistoryRecovery.Cut?
            switch scanned {
            case .success(let value): cut = value
            case .failure(let error):
                throw ConfigError(option: "data-dir", message: "\(path) has format version \(error.version), newer than this broker's "
                                  + "(\(RecordCodec.version)): run a newer broker-server, or use another directory")
            }
            if let cut {
                cuts.append((position, cut))
                log.warn("history segment cut at its first bad record", [("file", path), ("offset", String(cut.validLength)),
                                                                         ("reason", "\(cut.reason)"), ("bytes_dropped", String(size - cut.validLength))])
                try Sys.truncateFile(path, to: cut.validLength)
            }
        }
        let trusted = Self.trusts(previous, cuts: cuts.map { ($0.segment == segments.count - 1, $0.cut) }, bootChanged: bootChanged,
                                  hasSegments: !segments.isEmpty)
        return (recovery.finish(trusted: trusted, nowWall: Sys.wallClockNanos(), newEpoch: TopicTable.newEpoch), recovery.records, cuts, trusted)
        }()

        // A new life: the meta file says so before anything else is written.
        // Kept only when the files hold everything the last life delivered: a position that
        // names the server epoch (a wildcard cursor's) must never claim continuity over a loss.
        let serverEpoch = trusted ? previous?.serverEpoch ?? UInt64.random(in: 1 ... .max) : UInt64.random(in: 1 ... .max)
        let state = DurableState(serverEpoch: serverEpoch, recoveredLoopCount: previous?.loopCount ?? loopCount, loopCount: loopCount,
                                 continued: trusted && previous != nil)
        try writer.openMeta(StoreMeta(serverEpoch: serverEpoch, loopCount: loopCount, durability: config.durability.code,
                                      state: .running, bootID: Sys.bootID()))
        // A disk that cannot take the compacted segment (full, read-only, failing) does not
        // stop the start: the recovered history is served from memory, nothing more is
        // written, and the old segments stay as they were (the meta file says degraded, so
        // the next start gives every topic a new epoch).
        var compactionFailure: SystemError?
        do { try writer.compact(topics, replacing: segments) } catch let error as SystemError {
            writer.abandonCompaction()
            writer.markDegraded()
            compactionFailure = error
        }
        // Frames are built from the compacted segment once the decoded messages are freed, so
        // they fill the memory the messages left instead of interleaving with it (that cost a
        // third more resident memory than the history itself).
        let messageCount = topics.reduce(0) { $0 + $1.messages.count }
        let restored: [RestoredTopic]
        if compactionFailure == nil, let path = writer.compactedPath {
            var shells = topics.map { RestoredTopic(shell: $0) }
            let counts = topics.map(\.messages.count)
            topics = []
            RestoredTopic.fill(&shells, counts: counts, fromSegment: path, maxBodyLength: maxBodyLength, limits: config.topicLimits)
            restored = shells
        } else {
            restored = topics.map(RestoredTopic.init(building:))
            topics = []
        }
        let report = StartupReport(nanos: Sys.monotonicNanos() - started, records: recordsRead, topics: restored.count,
                                   continued: restored.filter(\.continued).count, messages: messageCount, cuts: cuts.count)
        log.info("history recovered", [("dir", directory), ("durability", config.durability.rawValue),
                                       ("topics", String(report.topics)), ("continued", String(report.continued)),
                                       ("messages", String(report.messages)), ("records_read", String(report.records)),
                                       ("segments_cut", String(report.cuts)), ("ms", String(report.nanos / 1_000_000))])
        if !trusted && !restored.isEmpty {
            log.warn("history on disk may miss messages the last run delivered: its topics start new epochs",
                     [("last_run", previous.map { "\($0.state)" } ?? "unknown"),
                      ("durability", previous.flatMap { Durability(code: $0.durability) }?.rawValue ?? "unknown"),
                      ("machine_restarted", String(bootChanged))])
        }
        let store = DurableStore(directory: directory, mode: config.durability, state: state, writer: writer, log: log,
                                 topics: restored, loops: loopCount, startup: report)
        if let compactionFailure {
            store.degradedFlag.store(true, ordering: .relaxed)
            log.error("history store degraded to memory: new messages are not written to disk, and topics start new epochs at the next start",
                      [("reason", "writing the compacted segment failed"), ("errno", String(compactionFailure.errno)), ("dir", directory)])
        }
        return store
    }

    /// Whether the segments hold every message the last life delivered, so topics keep their
    /// epochs. `cuts` say, for each cut segment, whether it was the newest.
    static func trusts(_ previous: StoreMeta?, cuts: [(newest: Bool, cut: HistoryRecovery.Cut)], bootChanged: Bool,
                       hasSegments: Bool) -> Bool {
        guard let previous else { return !hasSegments }
        // A torn or bad tail of the newest segment in a mode that delivers only after the
        // write: what it held was never delivered.
        let tailOnly = cuts.allSatisfy(\.newest)
        switch (previous.state, Durability(code: previous.durability)) {
        case (.degraded, _), (_, nil): return false
        case (.clean, _): return cuts.isEmpty
        case (.running, .fsync?): return tailOnly
        case (.running, .write?): return tailOnly && !bootChanged
        case (.running, .none?): return false
        }
    }

    /// The recovered topics, once for each loop (each keeps those it owns); the memory goes
    /// when the last loop has taken them.
    func takeRecovered() -> [RestoredTopic] {
        recovered.withLock { state in
            let topics = state.topics
            state.loopsLeft -= 1
            if state.loopsLeft <= 0 { state.topics = [] }
            return topics
        }
    }

    /// Hands a loop's records (one turn's, encoded) to the writer. `completion` is posted
    /// `.persisted` once they are written (and synced in `fsync` mode), or dropped: it is
    /// posted whatever happens, so a waiting loop never waits for good.
    func submit(_ batch: [UInt8], completion: (inbox: LoopInbox, token: UInt64)?) {
        if isDegraded {
            if let completion { completion.inbox.post(.persisted(completion.token)) }
            return
        }
        if completion == nil && queuedBytes.load(ordering: .relaxed) + batch.count > Self.maxQueuedBytes {
            degrade("the writer is too far behind (\(Self.maxQueuedBytes >> 20) MiB queued)", errno: 0)
            return
        }
        queuedBytes.add(batch.count, ordering: .relaxed)
        let schedule = waiting.withLock { state in
            state.batches.append(Batch(bytes: batch, completion: completion))
            if state.scheduled { return false }
            state.scheduled = true
            return true
        }
        if schedule { queue.async { [self] in drain() } }
    }

    /// A loop's records waiting for the writer.
    private struct Batch {
        let bytes: [UInt8]
        let completion: (inbox: LoopInbox, token: UInt64)?
    }

    /// Batches handed over and not yet taken by the writer; `scheduled` while a drain is
    /// queued or running, so a burst costs one wake-up of the writer thread, not one per batch.
    private let waiting = Mutex<(batches: [Batch], scheduled: Bool)>(([], false))

    /// On the writer queue: writes everything waiting, as one write and (in `fsync` mode) one
    /// `fdatasync` for all the loops' batches (group commit), then tells each loop.
    private func drain() {
        while true {
            let batches = waiting.withLock { state in
                let taken = state.batches
                state.batches = []
                if taken.isEmpty { state.scheduled = false }
                return taken
            }
            guard !batches.isEmpty else { return }
            var bytes = batches[0].bytes
            for batch in batches.dropFirst() { bytes += batch.bytes }
            if !isDegraded {
                let code = writer.append(bytes, sync: mode == .fsync)
                if code == 0 {
                    bytesWritten.add(UInt64(bytes.count), ordering: .relaxed)
                    if mode == .fsync { syncs.add(1, ordering: .relaxed) }
                } else {
                    degrade("writing history failed", errno: code)
                }
            }
            queuedBytes.subtract(bytes.count, ordering: .relaxed)
            for batch in batches {
                if let completion = batch.completion { completion.inbox.post(.persisted(completion.token)) }
            }
        }
    }

    func countRecords(_ n: Int) { recordsWritten.add(UInt64(n), ordering: .relaxed) }

    /// History falls back to memory until the next start (once; later calls do nothing).
    func degrade(_ reason: String, errno code: Int32) {
        guard degradedFlag.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        log.error("history store degraded to memory: new messages are not written to disk, and topics start new epochs at the next start",
                  [("reason", reason), ("errno", String(code)), ("dir", directory)])
        queue.async { [writer] in writer.markDegraded() }
    }

    /// A graceful stop: everything queued is written and synced, and the meta file says the
    /// segments are complete (unless history degraded). Releases the lock.
    func close() {
        queue.sync {
            writer.close(clean: !isDegraded)
        }
    }
}

/// What the rest of the broker may know of the data directory: the server epoch (chosen at
/// random the first time the directory is used, kept across restarts whose files hold
/// everything the last life delivered, new otherwise: a position naming it never spans a
/// loss) and the loop counts (per-owner offsets mean something across a restart only if the
/// loop count is unchanged).
struct DurableState: Sendable {
    let serverEpoch: UInt64
    /// Loops of the life that wrote the recovered history (this one's on a fresh directory).
    let recoveredLoopCount: Int
    /// Loops of this life.
    let loopCount: Int
    /// This start continued the last life (same server epoch, topics kept their epochs
    /// unless their own records had a gap).
    let continued: Bool

    /// The server epoch as 16 hex digits, as positions carry epochs.
    var serverEpochString: String {
        let hex = String(serverEpoch, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
