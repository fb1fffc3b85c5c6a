import HistoryStore

/// The files of a data directory, as the writer thread sees them: the segment being appended
/// to, the older ones (deleted oldest first past the disk bound) and the meta file.
///
/// `@unchecked Sendable`: used by `DurableStore.open` on the starting thread, then only on the
/// store's serial writer queue; never by two threads at once.
final class SegmentWriter: @unchecked Sendable {
    let directory: String
    private let lockFD: Int32
    private var metaFD: Int32 = -1
    private var meta: StoreMeta?
    private var current: Int32 = -1
    /// This life's segments, oldest first: number and bytes.
    private var segments: [(number: Int, bytes: Int)] = []
    /// A new segment is started past this size.
    let segmentBytes: Int
    /// Segments together stay within this (the oldest goes).
    let diskBudget: Int

    // Test-only fault seams (README, "Tests and checks"); never set in production.
    /// Records each segment's synced length in `test-synced` after every sync.
    static let trackSyncsSeam = "BUS_TEST_TRACK_SYNCS"
    /// At start-up, truncates every segment to its last synced length (as `test-synced` says)
    /// and treats the machine as restarted: a power loss.
    static let powerLossSeam = "BUS_TEST_POWER_LOSS"
    /// Writes fail with ENOSPC once this many bytes were appended in this life: a full disk.
    static let diskFullSeam = "BUS_TEST_DISK_FULL_AFTER"
    private let tracksSyncs = Sys.environment(SegmentWriter.trackSyncsSeam) != nil
    private let diskFullAfter = Sys.environment(SegmentWriter.diskFullSeam).flatMap { Int($0) }
    private var synced: [Int: Int] = [:]
    private var appended = 0

    init(directory: String, lockFD: Int32, config: ServerConfig) {
        self.directory = directory
        self.lockFD = lockFD
        let budget = max(config.historyBytes, 4 << 20)
        segmentBytes = min(max(budget / 4, 1 << 20), 256 << 20)
        diskBudget = 2 * budget + segmentBytes
    }

    func path(of number: Int) -> String {
        let digits = String(number)
        return directory + "/segment-" + String(repeating: "0", count: max(0, 16 - digits.count)) + digits + ".hist"
    }

    /// The segment numbers in the directory, oldest first.
    func existingSegments() throws -> [Int] {
        try Sys.listDirectory(directory).compactMap { name -> Int? in
            guard name.hasPrefix("segment-") && name.hasSuffix(".hist") else { return nil }
            return Int(name.dropFirst(8).dropLast(5))
        }.sorted()
    }

    func openMeta(_ meta: StoreMeta) throws {
        metaFD = try Sys.openPrivateFile(directory + "/meta")
        self.meta = meta
        try writeMeta()
        Sys.syncDirectory(directory)
    }

    private func writeMeta() throws {
        guard let meta else { return }
        var code = Sys.writeAll(metaFD, meta.encode(), at: 0)
        if code == 0 { code = Sys.dataSync(metaFD) }
        if code != 0 { throw SystemError(call: "write \(directory)/meta", errno: code) }
    }

    /// Starts this life's first segment with what was recovered (only what history retains,
    /// and a position record for a topic retaining nothing), synced, then deletes the older
    /// segments: the directory never holds more than one life's history plus this.
    func compact(_ topics: [HistoryRecovery.Topic], replacing old: [Int]) throws {
        let number = (old.last ?? 0) + 1
        current = try Sys.openPrivateFile(path(of: number), truncate: true)
        compacting = number
        // Written 1 MiB at a time: start-up memory stays the history, not a second copy of it.
        var bytes = RecordCodec.header()
        var total = 0
        func flush() throws {
            if let limit = diskFullAfter, total + bytes.count > limit { throw SystemError(call: "write \(path(of: number))", errno: 28) }
            let code = bytes.withUnsafeBytes { Sys.writeAll(current, $0) }
            if code != 0 { throw SystemError(call: "write \(path(of: number))", errno: code) }
            total += bytes.count
            bytes.removeAll(keepingCapacity: true)
        }
        for topic in topics {
            if topic.messages.isEmpty {
                RecordCodec.encode(StoredMessage(topic: topic.topic, epoch: topic.epoch, seq: topic.seq, wallNanos: topic.lastWallNanos,
                                                 offset: topic.lastOffset, kind: .position, payload: []), into: &bytes)
            }
            for message in topic.messages {
                RecordCodec.encode(message, into: &bytes)
                if bytes.count >= 1 << 20 { try flush() }
            }
        }
        try flush()
        let code = Sys.dataSync(current)
        if code != 0 { throw SystemError(call: "fdatasync \(path(of: number))", errno: code) }
        segments = [(number, total)]
        compacting = nil
        noteSynced()
        Sys.syncDirectory(directory)
        for number in old { Sys.removeFile(path(of: number)) }
        Sys.syncDirectory(directory)
    }

    /// The segment `compact` wrote (start-up reads the frames back from it).
    var compactedPath: String? { segments.first.map { path(of: $0.number) } }

    /// The segment a compaction is writing, until it is synced.
    private var compacting: Int?

    /// A compaction that failed: its partial segment goes, the older ones stay untouched.
    func abandonCompaction() {
        if current >= 0 { Sys.close(current) }
        current = -1
        if let number = compacting { Sys.removeFile(path(of: number)) }
        compacting = nil
        segments = []
    }

    /// Appends a loop's records; 0 or the errno that stopped it.
    func append(_ batch: [UInt8], sync: Bool) -> Int32 {
        if let limit = diskFullAfter, appended + batch.count > limit { return 28 }  // ENOSPC
        var code = batch.withUnsafeBytes { Sys.writeAll(current, $0) }
        guard code == 0 else { return code }
        appended += batch.count
        segments[segments.count - 1].bytes += batch.count
        if sync {
            code = Sys.dataSync(current)
            guard code == 0 else { return code }
            noteSynced()
        }
        if segments[segments.count - 1].bytes >= segmentBytes { return rotate() }
        return 0
    }

    /// Syncs and closes the full segment, starts the next, and deletes the oldest past the bound.
    private func rotate() -> Int32 {
        var code = Sys.dataSync(current)
        guard code == 0 else { return code }
        noteSynced()
        Sys.close(current)
        let number = segments[segments.count - 1].number + 1
        do { current = try Sys.openPrivateFile(path(of: number), truncate: true) } catch {
            current = -1
            return (error as? SystemError)?.errno ?? 5
        }
        let header = RecordCodec.header()
        code = header.withUnsafeBytes { Sys.writeAll(current, $0) }
        guard code == 0 else { return code }
        segments.append((number, header.count))
        Sys.syncDirectory(directory)
        while segments.count > 1 && segments.reduce(0, { $0 + $1.bytes }) > diskBudget {
            Sys.removeFile(path(of: segments.removeFirst().number))
        }
        return 0
    }

    /// The meta file says the segments are incomplete. Rewritten in place (no new block is
    /// needed on a full disk); if even that fails, it is removed, and a directory with
    /// segments but no meta file is never trusted either.
    func markDegraded() {
        meta?.state = .degraded
        do { try writeMeta() } catch {
            Sys.removeFile(directory + "/meta")
            Sys.syncDirectory(directory)
        }
    }

    private var closed = false

    /// Idempotent: a server stopped twice closes (and unlocks) once.
    func close(clean: Bool) {
        guard !closed else { return }
        closed = true
        if clean && current >= 0 && Sys.dataSync(current) == 0 {
            noteSynced()
            meta?.state = .clean
            try? writeMeta()
        }
        if current >= 0 { Sys.close(current) }
        if metaFD >= 0 { Sys.close(metaFD) }
        current = -1
        metaFD = -1
        Sys.close(lockFD)
    }

    /// The seam's record of what a power loss would leave.
    private func noteSynced() {
        guard tracksSyncs, let last = segments.last else { return }
        synced[last.number] = last.bytes
        let text = synced.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)\n" }.joined()
        let fd = try? Sys.openPrivateFile(directory + "/test-synced", truncate: true)
        if let fd {
            _ = Array(text.utf8).withUnsafeBytes { Sys.writeAll(fd, $0) }
            Sys.close(fd)
        }
    }

    /// The seam: every segment back to its last synced length (never synced: empty).
    func simulatePowerLoss() throws {
        let text = Sys.readFile(directory + "/test-synced").map { String(decoding: $0, as: UTF8.self) } ?? ""
        var lengths: [Int: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let number = Int(parts[0]), let length = Int(parts[1]) { lengths[number] = length }
        }
        for number in try existingSegments() {
            let size = Sys.fileSize(path(of: number)) ?? 0
            try Sys.truncateFile(path(of: number), to: min(size, lengths[number] ?? 0))
        }
        Sys.removeFile(directory + "/test-synced")
    }
}
