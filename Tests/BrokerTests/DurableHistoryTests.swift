import Foundation
import Glibc
@testable import HistoryStore
import Testing
@testable import Broker
import Topics

/// History that survives a restart (`--data-dir`, issue 15 item 2): servers in child processes,
/// stopped gracefully (SIGTERM), crashed (SIGKILL) or given a simulated power loss (the
/// store's test seam truncates every segment to what was last synced).
@Suite(.serialized) struct DurableHistoryTests {
    static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "bus-data-\(UInt64.random(in: 0 ... .max))"
        return path
    }

    static func server(_ dir: String, mode: String, environment: [String: String] = [:]) throws -> ServerProcess {
        try ServerProcess(["--loops", "2", "--data-dir", dir, "--durability", mode], environment: environment)
    }

    /// Subscribes to `topic`, then publishes `count` numbered messages (acked) and reads them
    /// all back; returns the epoch.
    static func publishAndSee(_ port: UInt16, topic: String, from first: Int = 1, count: Int) throws -> String {
        let subscriber = try BusClient(port: port)
        defer { subscriber.close() }
        guard case .ack(_, _, _, let epoch?, _, _) = try subscriber.subscribe(topic) else { throw Failure("no subscribe ack") }
        let publisher = try BusClient(port: port)
        defer { publisher.close() }
        for n in first..<(first + count) { try publisher.publish(topic, json: String(n)) }
        var seen: [UInt64] = []
        while seen.count < count {
            if case .message(_, let got, let seq, _) = try subscriber.next(timeout: 10) {
                #expect(got == epoch)
                seen.append(seq)
            }
        }
        #expect(seen == Array(UInt64(first)...UInt64(first + count - 1)))
        return epoch
    }

    /// Resumes `topic` after (`epoch`, `seq`) and reads until `"end"` (published after the ack).
    static func resume(_ port: UInt16, topic: String, epoch: String, seq: UInt64) throws -> (ack: String, messages: [(String, UInt64, String)]) {
        let client = try BusClient(port: port)
        defer { client.close() }
        let ack = try client.resume(topic, #""since":{"epoch":"\#(epoch)","seq":\#(seq)}"#)
        let publisher = try BusClient(port: port)
        try publisher.publish(topic, json: "\"end\"")
        publisher.close()
        var messages: [(String, UInt64, String)] = []
        while true {
            guard case .message(_, let got, let seq, let data) = try client.next(timeout: 10) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            if text == "\"end\"" { return (ack, messages) }
            messages.append((got, seq, text))
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ text: String) { description = text }
    }

    static func mode(of path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o777 : 0
    }

    @Test(arguments: ["none", "write", "fsync"])
    func topicSubscriberResumesAcrossAGracefulRestart(mode: String) throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var server = try Self.server(dir, mode: mode)
        let epoch = try Self.publishAndSee(server.port, topic: "rolling.room", count: 5)
        // Subscribed, never published: its epoch must survive too (no false "some were lost").
        let quiet = try BusClient(port: server.port)
        guard case .ack(_, _, _, let quietEpoch?, 0?, _) = try quiet.subscribe("rolling.quiet") else { Issue.record("quiet ack"); return }
        quiet.close()
        _ = server.stopAndReadLog()

        #expect(Self.mode(of: dir) == 0o700)
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) { #expect(Self.mode(of: dir + "/" + name) == 0o600, "\(name)") }

        server = try Self.server(dir, mode: mode)
        defer { server.stop() }
        let publisher = try BusClient(port: server.port)
        for n in 6...7 { try publisher.publish("rolling.room", json: String(n)) }
        publisher.close()
        let (ack, messages) = try Self.resume(server.port, topic: "rolling.room", epoch: epoch, seq: 3)
        #expect(HistoryTests.field("recovered", in: ack) == "true", "\(ack)")
        #expect(messages.map(\.1) == [4, 5, 6, 7])
        #expect(messages.map(\.2) == ["4", "5", "6", "7"])
        #expect(messages.allSatisfy { $0.0 == epoch })
        let quietAck = try Self.resume(server.port, topic: "rolling.quiet", epoch: quietEpoch, seq: 0).ack
        #expect(HistoryTests.field("recovered", in: quietAck) == "true", "\(quietAck)")
    }

    /// Issue 15: a pattern follower resumed across a graceful restart gets `recovered: true`
    /// and exactly what it missed, on topics old and new, on both loops; a topic whose
    /// history dropped messages before the restart is still named as lost after it.
    @Test(arguments: ["write", "fsync"])
    func patternResumesAcrossAGracefulRestart(mode: String) throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var server = try Self.server(dir, mode: mode)
        let first = try BusClient(port: server.port)
        var follower = CursorFollower()
        follower.cursor = try #require(PatternResumeTests.cursor(inAck: first.resume("roll.>", #""checkpoints":true"#)))
        let publisher = try BusClient(port: server.port)
        for n in 0..<12 { try publisher.publish("roll.t\(n % 4)", json: String(n)) }
        while follower.received.values.map(\.count).reduce(0, +) < 12 { follower.take(try first.next(timeout: 10)) }
        while let message = try? first.next(timeout: 0.3) { follower.take(message) }  // settle on the last checkpoint
        first.close()
        for n in 12..<20 { try publisher.publish("roll.t\(n % 6)", json: String(n)) }  // two new topics
        publisher.close()
        _ = server.stopAndReadLog()

        server = try Self.server(dir, mode: mode)
        defer { server.stop() }
        let second = try BusClient(port: server.port)
        let ack = try second.resume("roll.>", follower.since)
        #expect(ack.contains(#""recovered":true"#), "\(ack)")
        while follower.received.values.map(\.count).reduce(0, +) < 20 { follower.take(try second.next(timeout: 10)) }
        for (topic, seqs) in follower.received { #expect(seqs == Array(1...UInt64(seqs.count)), "\(topic)") }
        #expect(follower.received.count == 6)
        while let message = try? second.next(timeout: 0.3) {
            if case .message = message { Issue.record("a message too many: \(message)") }
        }
    }

    /// What each mode promises after a crash: `none` nothing (a new epoch), `write` a process
    /// crash but not a power loss, `fsync` both. "Not promised" must show as a new epoch,
    /// never as a silent gap.
    @Test(arguments: [("none", false, false), ("write", false, true), ("write", true, false), ("fsync", false, true), ("fsync", true, true)])
    func crashKeepsWhatTheModePromises(mode: String, powerLoss: Bool, continues: Bool) throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Ten messages that a graceful restart made durable in every mode, then ten more that
        // the crash may take: the files then hold a prefix of what clients saw.
        var server = try Self.server(dir, mode: mode, environment: ["BUS_TEST_TRACK_SYNCS": "1"])
        let epoch = try Self.publishAndSee(server.port, topic: "crash.t", count: 10)
        _ = server.stopAndReadLog()
        server = try Self.server(dir, mode: mode, environment: ["BUS_TEST_TRACK_SYNCS": "1"])
        #expect(try Self.publishAndSee(server.port, topic: "crash.t", from: 11, count: 10) == epoch)
        server.kill()
        var environment = ["BUS_TEST_TRACK_SYNCS": "1"]
        if powerLoss { environment["BUS_TEST_POWER_LOSS"] = "1" }
        server = try Self.server(dir, mode: mode, environment: environment)
        defer { server.stop() }
        let (ack, messages) = try Self.resume(server.port, topic: "crash.t", epoch: epoch, seq: 15)
        if continues {
            #expect(HistoryTests.field("recovered", in: ack) == "true", "\(ack)")
            #expect(messages.map(\.1) == Array(16...20))
            #expect(messages.allSatisfy { $0.0 == epoch })
        } else {
            #expect(HistoryTests.field("recovered", in: ack) == "false", "\(ack)")
            #expect(HistoryTests.field("epoch", in: ack) != "\"\(epoch)\"", "a new epoch: \(ack)")
            #expect(messages.allSatisfy { $0.0 != epoch })
        }
    }

    /// A flipped byte in the middle of a segment: the file is cut at that record, what came
    /// before is served, nothing after it is, and the topic starts a new epoch.
    @Test func corruptSegmentIsCutAtTheFirstBadRecord() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var server = try Self.server(dir, mode: "write")
        let epoch = try Self.publishAndSee(server.port, topic: "cut.t", count: 10)
        _ = server.stopAndReadLog()
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: dir).first { $0.hasSuffix(".hist") })
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))
        // Walk the records to the one holding message 6 and damage its payload.
        var at = RecordCodec.headerSize
        var target: Int?
        while at < bytes.count, target == nil {
            guard case .record(let message, let length) = bytes.withUnsafeBytes({
                RecordCodec.decode(UnsafeRawBufferPointer(rebasing: $0[at...]), maxBodyLength: 1 << 20, limits: .default)
            }) else { break }
            if message.topic.string == "cut.t" && message.seq == 6 { target = at + length - 1 } else { at += length }
        }
        bytes[try #require(target)] ^= 0x20
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))

        server = try Self.server(dir, mode: "write")
        let history = try HTTPResult(port: server.port, "/history/cut.t?limit=100")
        #expect(history.status == 200)
        #expect(history.body.contains(#""messages":[{"seq":1,"data":1},{"seq":2,"data":2},{"seq":3,"data":3},{"seq":4,"data":4},{"seq":5,"data":5}]"#),
                "\(history.body)")
        #expect(!history.body.contains(epoch), "a cut topic starts a new epoch")
        let log = server.stopAndReadLog()
        #expect(log.contains("history segment cut at its first bad record"), "\(log)")
        #expect(log.contains("checksumMismatch"))
    }

    /// A full disk (the seam fails writes with ENOSPC after 4 KiB): publishing and delivery go
    /// on, history degrades to memory with one log line and the metric, and the next start
    /// gives the topic a new epoch.
    @Test(arguments: ["write", "fsync"])
    func fullDiskDoesNotStopPublishing(mode: String) throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var server = try Self.server(dir, mode: mode, environment: ["BUS_TEST_DISK_FULL_AFTER": "4096"])
        let epoch = try Self.publishAndSee(server.port, topic: "full.t", count: 300)
        let metrics = try HTTPResult(port: server.port, "/metrics")
        #expect(metrics.sample("bus_history_store_degraded") == 1)
        let log = server.stopAndReadLog()
        #expect(log.components(separatedBy: "history store degraded to memory").count == 2, "one line: \(log)")
        #expect(log.contains("errno=28"))

        server = try Self.server(dir, mode: mode)
        defer { server.stop() }
        let (ack, _) = try Self.resume(server.port, topic: "full.t", epoch: epoch, seq: 300)
        #expect(HistoryTests.field("recovered", in: ack) == "false", "\(ack)")
        #expect(HistoryTests.field("epoch", in: ack) != "\"\(epoch)\"", "a new epoch: \(ack)")
    }

    /// While deliveries wait for the disk, a resume in the middle of steady publishing still
    /// has no gap and no duplicate at its seam (the hub holds what would observe the topic
    /// until the messages before it are delivered).
    @Test(arguments: [Durability.write, .fsync])
    func resumeWhilePublishingHasNoGapAndNoDuplicateWhenDeliveriesWait(mode: Durability) throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try LiveServer { config in
            config.dataDir = dir
            config.durability = mode
        }
        defer { server.stop() }
        let first = try BusClient(port: server.port)
        guard case .ack(_, _, _, let epoch?, _, _) = try first.subscribe("steady") else { Issue.record("ack"); return }
        let publisher = SteadyPublisher(port: server.port, topic: "steady", interval: 0.0005)
        var seen: [UInt64] = []
        while seen.count < 200 {
            if case .message(_, _, let seq, _) = try first.next() { seen.append(seq) }
        }
        first.close()
        let second = try BusClient(port: server.port)
        let ack = try second.resume("steady", #""since":{"epoch":"\#(epoch)","seq":\#(seen.last!)}"#)
        #expect(HistoryTests.field("recovered", in: ack) == "true", "\(ack)")
        let sent = publisher.stop()
        let rest = try HistoryTests.drain(second)
        let all = seen + rest.map(\.seq)
        #expect(all == Array(1...UInt64(all.count)), "a gap or a duplicate at the seam")
        #expect(all.count == sent, "received \(all.count) of \(sent)")
        second.close()
    }

    /// The same with a real write error: under `ulimit -f` the kernel refuses the append with
    /// EFBIG (SIGXFSZ, which would kill, is ignored).
    @Test func fileSizeLimitDegradesToMemory() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let server = try ServerProcess(["--loops", "2", "--data-dir", dir], fileSizeLimit: 16)  // 8 KiB per file
        _ = try Self.publishAndSee(server.port, topic: "fsize.t", count: 300)
        #expect(try HTTPResult(port: server.port, "/metrics").sample("bus_history_store_degraded") == 1)
        let log = server.stopAndReadLog()
        #expect(server.process.terminationReason == .exit, "killed by a signal: \(log)")
        #expect(log.contains("history store degraded to memory") && log.contains("errno=27"), "\(log)")
    }

    /// A disk already full at start-up: the broker starts and serves what it recovered from
    /// memory (continuity holds in this run), and the next start gives new epochs.
    @Test func fullDiskAtStartUpServesFromMemory() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var server = try Self.server(dir, mode: "write")
        let epoch = try Self.publishAndSee(server.port, topic: "startfull.t", count: 5)
        _ = server.stopAndReadLog()
        server = try Self.server(dir, mode: "write", environment: ["BUS_TEST_DISK_FULL_AFTER": "0"])
        let (ack, messages) = try Self.resume(server.port, topic: "startfull.t", epoch: epoch, seq: 2)
        #expect(HistoryTests.field("recovered", in: ack) == "true", "\(ack)")
        #expect(messages.map(\.1) == [3, 4, 5])
        #expect(try HTTPResult(port: server.port, "/metrics").sample("bus_history_store_degraded") == 1)
        let log = server.stopAndReadLog()
        #expect(log.contains("writing the compacted segment failed"), "\(log)")
        server = try Self.server(dir, mode: "write")
        defer { server.stop() }
        let again = try Self.resume(server.port, topic: "startfull.t", epoch: epoch, seq: 5).ack
        #expect(HistoryTests.field("recovered", in: again) == "false", "\(again)")
    }

    @Test func secondBrokerOnTheSameDirectoryExitsTwo() throws {
        let dir = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try Self.server(dir, mode: "write")
        defer { first.stop() }
        let second = Process()
        second.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("broker-server")
        second.arguments = ["--port", "0", "--data-dir", dir]
        let errors = Pipe()
        second.standardError = errors
        second.standardOutput = FileHandle.nullDevice
        try second.run()
        second.waitUntilExit()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(second.terminationStatus == 2)
        #expect(text.contains("is in use by another broker-server (pid \(first.process.processIdentifier))"), "\(text)")
    }
}

/// The rules deciding, at start-up, whether the files hold everything the last run delivered.
@Suite struct DurableTrustTests {
    static func meta(_ state: StoreMeta.State, _ mode: Durability) -> StoreMeta {
        StoreMeta(serverEpoch: 1, loopCount: 2, durability: mode.code, state: state, bootID: "b")
    }
    static let torn = HistoryRecovery.Cut(validLength: 100, reason: .torn)

    @Test(arguments: [
        // (last run ended, mode, cut in the newest segment, cut in an older one, machine restarted, trusted)
        (StoreMeta.State.clean, Durability.none, false, false, true, true),
        (.clean, .write, true, false, false, false),
        (.running, .none, false, false, false, false),
        (.running, .write, false, false, false, true),
        (.running, .write, true, false, false, true),
        (.running, .write, false, false, true, false),
        (.running, .fsync, true, false, true, true),
        (.running, .fsync, false, true, false, false),
        (.degraded, .fsync, false, false, false, false),
    ])
    func trustFollowsWhatTheModePromised(state: StoreMeta.State, mode: Durability, newestCut: Bool, olderCut: Bool,
                                         bootChanged: Bool, trusted: Bool) {
        var cuts: [(newest: Bool, cut: HistoryRecovery.Cut)] = []
        if newestCut { cuts.append((true, Self.torn)) }
        if olderCut { cuts.append((false, Self.torn)) }
        #expect(DurableStore.trusts(Self.meta(state, mode), cuts: cuts, bootChanged: bootChanged, hasSegments: true) == trusted)
    }

    @Test func noMetaTrustsOnlyAnEmptyDirectory() {
        #expect(DurableStore.trusts(nil, cuts: [], bootChanged: true, hasSegments: false))
        #expect(!DurableStore.trusts(nil, cuts: [], bootChanged: false, hasSegments: true))
    }

    /// The server epoch is kept across a clean stop and start (the cursor code relies on it).
    @Test func serverEpochSurvivesACleanRestart() throws {
        let dir = DurableHistoryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = ServerConfig()
        config.dataDir = dir
        let first = try DurableStore.open(config: config, loopCount: 2, log: .silent)
        #expect(!first.state.continued)
        first.close()
        let second = try DurableStore.open(config: config, loopCount: 3, log: .silent)
        defer { second.close() }
        #expect(second.state.serverEpoch == first.state.serverEpoch && second.state.continued)
        #expect(second.state.recoveredLoopCount == 2 && second.state.loopCount == 3)
        #expect(second.state.serverEpochString.count == 16)
    }
}

/// The files stay within the disk bound however much is written.
@Suite struct SegmentWriterTests {
    @Test func rotationKeepsTheDirectoryWithinTheBound() throws {
        let dir = DurableHistoryTests.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Sys.makePrivateDirectory(dir)
        var config = ServerConfig()
        config.historyBytes = 1 << 20  // the bound uses at least 4 MiB: 1 MiB segments, 9 MiB in all
        let writer = SegmentWriter(directory: dir, lockFD: try Sys.openPrivateFile(dir + "/lock"), config: config)
        try writer.openMeta(StoreMeta(serverEpoch: 1, loopCount: 1, durability: 1, state: .running, bootID: "b"))
        try writer.compact([], replacing: [])
        let topic = try TopicName("disk.bound")
        var seq: UInt64 = 0
        for _ in 0..<1300 {
            var batch: [UInt8] = []
            for _ in 0..<16 {
                seq += 1
                RecordCodec.encode(StoredMessage(topic: topic, epoch: "e", seq: seq, wallNanos: 0, offset: seq, kind: .binary,
                                                 payload: [UInt8](repeating: 7, count: 1000)), into: &batch)
            }
            #expect(writer.append(batch, sync: false) == 0)
        }
        writer.close(clean: true)
        let segments = try writer.existingSegments()
        let total = segments.reduce(0) { $0 + (Sys.fileSize(writer.path(of: $1)) ?? 0) }
        #expect(seq * 1000 > UInt64(2 * writer.diskBudget), "wrote more than twice the bound")
        #expect(total <= writer.diskBudget + writer.segmentBytes, "\(total) bytes on disk")
        #expect(segments.count > 1 && segments.first! > 1, "the oldest segments were deleted")
        // What is left still recovers: the newest messages, contiguous, in a trusted tail.
        var recovery = HistoryRecovery(maxBodyLength: 1 << 20, limits: .default, byteBudget: 1 << 30) { _ in (1_000_000, .max) }
        for number in segments {
            let cut = try Sys.withMappedFile(writer.path(of: number)) { try recovery.scan(segment: $0) }
            #expect(cut == .some(nil))
        }
        let recovered = recovery.finish(trusted: true, nowWall: 0) { "x" }
        #expect(recovered.first?.seq == seq && recovered.first?.continued == true)
    }
}

@Suite struct RestoredTopicTests {
    /// A record whose checksum is right but whose JSON is not (a file written by something
    /// else): it and the messages before it are not served; what follows still is.
    @Test func invalidJSONIsDroppedWithEverythingBeforeIt() throws {
        let topic = try TopicName("json.t")
        func message(_ seq: UInt64, _ text: String) -> StoredMessage {
            StoredMessage(topic: topic, epoch: "e", seq: seq, wallNanos: seq, offset: seq * 10, kind: .json, payload: Array(text.utf8))
        }
        let recovered = HistoryRecovery.Topic(topic: topic, epoch: "e", seq: 4, continued: true,
                                              messages: [message(1, "1"), message(2, "{bad"), message(3, "3"), message(4, #"{"a":4}"#)],
                                              lastWallNanos: 4, lastOffset: 40)
        let restored = RestoredTopic(building: recovered)
        #expect(restored.frames.compactMap { $0.stamp?.position.seq } == [3, 4])
        #expect(restored.wallNanos == [3, 4] && restored.seq == 4 && restored.maxOffset == 40)
    }
}
