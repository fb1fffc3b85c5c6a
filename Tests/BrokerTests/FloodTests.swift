import BusProtocol
import Foundation
import Frames
import Glibc
import Testing
@testable import Broker

/// Issue 13, defect 1: a client that sends requests faster than it reads the answers. Every
/// byte queued for it counts against its send queue; the server stops reading it once half its
/// queue is waiting, so the storm stays in the client's own socket, not in the server's memory.
/// Each flood runs against a server in a child process and is judged by its resident memory.
@Suite(.serialized) struct FloodTests {
    /// The default send-queue bound (`--send-queue-bytes`), which a flood may hold, plus 1 MiB.
    static let allowance = (4 << 20) + (1 << 20)

    @Test func pipelinedConsoleRequestsFromAClientThatNeverReadsHoldAtMostOneSendQueue() throws {
        let server = try ServerProcess(["--loops", "1"])
        defer { server.stop() }
        let baseline = try server.warmedResidentBytes { _ = try HTTPResult(port: server.port, "/") }
        let flooder = try RawSocket(port: server.port, receiveBuffer: 4096)
        let request = Array("GET / HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n\r\n".utf8)
        let total = 100_000 * request.count
        let sent = flooder.sendUntilRefused(request, times: 100_000, stall: 2)
        let peak = server.peakResidentBytes(over: 2)
        print("console flood: \(sent) of \(total) bytes taken; server RSS \(baseline >> 10) KiB → \(peak >> 10) KiB")
        // What the server did not read waits in the kernel's buffers, not in its memory.
        let pauses = try HTTPResult(port: server.port, "/metrics").sample("bus_backlog_pauses_total")
        #expect(pauses.map { $0 >= 1 } == true, "the server never stopped reading it")
        #expect(peak - baseline <= Self.allowance, "RSS grew \(peak - baseline) bytes")
        flooder.abort()
        #expect(server.settles(atMost: baseline + baseline / 10), "RSS \(server.residentBytes) after the flood, baseline \(baseline)")
    }

    @Test func invalidEnvelopesFromAClientThatNeverReadsAreRefusedThenClosed() throws {
        let server = try ServerProcess(["--loops", "1"])
        defer { server.stop() }
        let baseline = try server.warmedResidentBytes { try BusClient(port: server.port).close() }
        let flooder = try RawSocket(port: server.port, receiveBuffer: 4096)
        #expect(flooder.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101"))
        // `[]` in a masked text frame, 8 bytes each: 32 MiB of them.
        let frame = FrameEncoder.encode(opcode: .text, payload: Array("[]".utf8), maskKey: .random())
        let total = 4 << 20
        let sent = flooder.sendUntilRefused(frame, times: total, stall: 2)
        let peak = server.peakResidentBytes(over: 2)
        print("bad-envelope flood: \(sent) of \(total * frame.count) bytes taken; server RSS \(baseline >> 10) KiB → \(peak >> 10) KiB")
        #expect(peak - baseline <= Self.allowance, "RSS grew \(peak - baseline) bytes")
        flooder.abort()
        // Refusals in a row past the flood tolerance end the connection with 1008 (seen on a
        // connection that stops sending then: the flooder may outlast the close timeout, and
        // the reset that ends it discards what it had not read).
        let probe = try RawSocket(port: server.port)
        #expect(probe.upgrade(path: "/bus").hasPrefix("HTTP/1.1 101"))
        probe.send(Array((0..<(FloodPolicy.tolerance + 20)).map { _ in frame }.joined()))
        let tail = probe.read(timeout: 10) { SlowConsumerTests.frames($0).contains { $0.0 == .close } }
        let frames = SlowConsumerTests.frames(tail.bytes)
        #expect(frames.last.map { $0.0 == .close && $0.1 == [0x03, 0xF0] } == true, "close 1008")
        // One error per refusal up to the tolerance, then the close.
        let errors = frames.filter { $0.0 == .text && String(decoding: $0.1, as: UTF8.self).contains("\"bad_json\"") }
        #expect(errors.count == FloodPolicy.tolerance)
        #expect(server.settles(atMost: baseline + baseline / 10), "RSS \(server.residentBytes) after the flood, baseline \(baseline)")
    }

    @Test func pipelinedHistoryRequestsHoldAtMostOneSendQueue() throws {
        let server = try ServerProcess(["--loops", "2"])
        defer { server.stop() }
        // 100 retained messages of 200 KB: one answer with all of them would be 20 MB.
        let publisher = try BusClient(port: server.port)
        let body = "\"" + String(repeating: "h", count: 200_000) + "\""
        for _ in 0..<100 { try publisher.publish("big.history", json: body, ack: false) }
        _ = try publisher.publish("big.history", json: "1")
        let baseline = try server.warmedResidentBytes { _ = try HTTPResult(port: server.port, "/history/big.history?limit=1") }
        let flooder = try RawSocket(port: server.port, receiveBuffer: 4096)
        let request = Array("GET /history/big.history?limit=1000 HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\n\r\n".utf8)
        _ = flooder.sendUntilRefused(request, times: 12, stall: 2)
        let peak = server.peakResidentBytes(over: 3)
        print("history flood: server RSS \(baseline >> 10) KiB → \(peak >> 10) KiB")
        #expect(peak - baseline <= Self.allowance, "RSS grew \(peak - baseline) bytes")
        flooder.abort()
        #expect(server.settles(atMost: baseline + baseline / 10), "RSS \(server.residentBytes) after the flood, baseline \(baseline)")
        publisher.close()
    }

    @Test func aLongHistoryIsAnsweredInPagesThatFitTheSendQueue() throws {
        let server = try LiveServer { $0.maxMessageSize = 64 << 10; $0.sendQueueBytes = 256 << 10 }
        defer { server.stop() }
        let publisher = try BusClient(port: server.port)
        let body = "\"" + String(repeating: "p", count: 40_000) + "\""
        for _ in 0..<20 { try publisher.publish("paged", json: body, ack: false) }
        _ = try publisher.publish("paged", json: "1")
        // 21 messages, 800 KB: more than half the 256 KiB queue, so the answer is cut.
        let first = try HTTPResult(port: server.port, "/history/paged?limit=1000")
        #expect(first.status == 200)
        #expect(first.body.count <= 128 << 10 + 50_000, "\(first.body.count) bytes")
        let cut = first.body.contains("\"more\":true")
        #expect(cut, "the answer does not say more messages follow")
        // Paging forward with since reaches the end, each message once.
        var seqs = Self.seqs(first.body)
        let epoch = try #require(first.body.firstMatch(of: /"epoch":"([^"]+)"/)?.1)
        while let last = seqs.last, last < 21 {
            let page = try HTTPResult(port: server.port, "/history/paged?since=\(last)&epoch=\(epoch)&limit=1000")
            let more = Self.seqs(page.body)
            #expect(!more.isEmpty)
            if more.isEmpty { break }
            seqs += more
        }
        #expect(seqs == Array(1...21))
        publisher.close()
    }

    static func seqs(_ body: String) -> [UInt64] {
        body.matches(of: /\{"seq":(\d+),/).compactMap { UInt64($0.1) }
    }

    /// Defect 4: under the server's queue budget, the connections holding the most go first,
    /// not whoever asks next.
    @Test func theBudgetDropsTheLargestHoldersNotAReaderThatKeepsUp() throws {
        // One loop with a 10 MiB budget; small kernel buffers so the queues stay in user space.
        let server = try ServerProcess(["--loops", "1", "--max-queued-bytes", "\(10 << 20)",
                                        "--socket-send-buffer", "4096", "--close-timeout", "60"])
        defer { server.stop() }
        let stalled = try (0..<3).map { _ in try RawSocket.stalledSubscriber(port: server.port, topic: "stall") }
        let reader = try BusClient(port: server.port)
        _ = try reader.subscribe("other")
        let publisher = try BusClient(port: server.port)
        // 13 × 256 KB to each stalled subscriber: 3.3 MB held by each, 10.0 MB in all.
        let quarter = "\"" + String(repeating: "s", count: 256_000) + "\""
        for _ in 0..<13 { try publisher.publish("stall", json: quarter, ack: false) }
        _ = try publisher.publish("stall", json: "1")
        // A 1 MiB message to a reader with an empty queue: over the budget, someone must go.
        let big = "\"" + String(repeating: "b", count: 1_000_000) + "\""
        _ = try publisher.publish("other", json: big)
        guard case .message(let topic, _, _, let data) = try reader.next(timeout: 10) else {
            Issue.record("the reader did not get its message"); return
        }
        #expect(topic == "other" && data.count == big.utf8.count)
        // One of the stalled ones was dropped, with its notice and 4008.
        let drops = try HTTPResult(port: server.port, "/metrics").sample("bus_slow_consumer_drops_total")
        #expect(drops.map { $0 >= 1 } == true, "drops \(String(describing: drops))")
        var told = 0
        for socket in stalled {
            let tail = socket.read(timeout: 3) { SlowConsumerTests.frames($0).contains { $0.0 == .close } }
            let frames = SlowConsumerTests.frames(tail.bytes)
            if frames.contains(where: { $0.0 == .close && $0.1 == [0x0F, 0xA8] }) { told += 1 }
        }
        #expect(told >= 1)
        reader.close()
        publisher.close()
    }
}

extension ServerProcess {
    /// Resident memory once `warmUp` has run (so code and one-time tables are paged in) and
    /// the figure has stopped moving.
    func warmedResidentBytes(_ warmUp: () throws -> Void) throws -> Int {
        try warmUp()
        var last = residentBytes
        for _ in 0..<20 {
            usleep(100_000)
            let now = residentBytes
            if now == last { break }
            last = now
        }
        return last
    }

    /// The most resident memory seen in `seconds` of sampling (the server may still be working
    /// through what it read).
    func peakResidentBytes(over seconds: Double) -> Int {
        var peak = residentBytes
        let end = Sys.monotonicNanos() + UInt64(seconds * 1e9)
        while Sys.monotonicNanos() < end {
            usleep(50_000)
            peak = max(peak, residentBytes)
        }
        return peak
    }

    /// Whether resident memory comes down to `limit` within `timeout` seconds.
    func settles(atMost limit: Int, timeout: Double = 10) -> Bool {
        eventually(timeout: timeout) { residentBytes <= limit }
    }
}

extension RawSocket {
    /// Sends `unit` up to `times` times as fast as the server takes it, never blocking; stops
    /// when the server has taken nothing for `stall` seconds (it stopped reading) or the
    /// connection fails. Returns the bytes the kernel accepted.
    func sendUntilRefused(_ unit: [UInt8], times: Int, stall: Double) -> Int {
        let perChunk = max(1, min(times, (64 << 10) / unit.count))
        var chunk: [UInt8] = []
        for _ in 0..<perChunk { chunk += unit }
        let total = times * unit.count
        var sent = 0
        var offset = 0
        var lastProgress = Sys.monotonicNanos()
        while sent < total {
            let want = min(chunk.count - offset, total - sent)
            let n = chunk.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, want, Int32(MSG_DONTWAIT | MSG_NOSIGNAL)) }
            if n > 0 {
                sent += n
                offset = (offset + n) % chunk.count
                lastProgress = Sys.monotonicNanos()
                continue
            }
            if n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR { break }
            if Sys.monotonicNanos() - lastProgress > UInt64(stall * 1e9) { break }
            _ = Sys.poll(fd, events: Int16(POLLOUT), timeoutMs: 50)
        }
        return sent
    }
}
