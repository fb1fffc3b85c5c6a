@testable import BusBench
import BusProtocol
import Foundation
import Frames
import Testing

/// The pure pieces of `bus-cli bench`: the histogram, the payload codec, the /proc parsers and
/// the report. The scenarios themselves run in bench/smoke.sh against a live server.
struct LatencyHistogramTests {
    @Test func everyValueFallsInABucketWhoseBoundsHoldIt() {
        var value: UInt64 = 0
        while value < 1 << 40 {
            let bucket = LatencyHistogram.bucket(value)
            #expect(value <= LatencyHistogram.upperBound(bucket))
            if bucket > 0 { #expect(value > LatencyHistogram.upperBound(bucket - 1)) }
            value = value < 100 ? value + 1 : value + value / 7 + 1
        }
        #expect(LatencyHistogram.upperBound(LatencyHistogram.bucket(.max)) == .max)
    }

    @Test func quantilesAreWithinThreePercentAndMaxIsExact() {
        var histogram = LatencyHistogram()
        for value in 1...100_000 { histogram.record(UInt64(value) * 1000) }
        for (q, exact) in [(0.5, 50_000_000.0), (0.99, 99_000_000.0), (0.999, 99_900_000.0)] {
            let reported = Double(histogram.quantile(q))
            #expect(abs(reported - exact) / exact < 0.03, "q=\(q): \(reported) vs \(exact)")
        }
        #expect(histogram.max == 100_000_000)
        #expect(histogram.count == 100_000)
    }

    @Test func mergeAddsCountsAndKeepsTheLargerMax() {
        var a = LatencyHistogram(), b = LatencyHistogram()
        a.record(10)
        b.record(5000)
        b.record(7)
        a.merge(b)
        #expect(a.count == 3)
        #expect(a.max == 5000)
        #expect(a.quantile(0.5) == 10)
    }

    @Test func emptyHistogramReportsZero() {
        #expect(LatencyHistogram().quantile(0.99) == 0)
    }
}

struct BenchPayloadTests {
    /// Unmasks a client frame the way the server would, returning its payload.
    func serverView(_ frame: [UInt8]) throws -> (Opcode, [UInt8]) {
        var decoder = FrameDecoder(role: .server, maxMessageSize: 1 << 20)
        var bytes = frame
        var result: (Opcode, [UInt8])?
        try bytes.withUnsafeMutableBytes { buffer in
            var rest = buffer
            while let event = try decoder.next(&rest) {
                switch event {
                case .binary(let p): result = (.binary, Array(p))
                case .text(let p): result = (.text, Array(p))
                default: break
                }
            }
        }
        return try #require(result)
    }

    @Test func binaryPublishCarriesTheSendTimeBackThroughAMessageHeader() throws {
        let frame = BenchPayload.publishFrame(topic: "bench.t", size: 128, json: false, sentAt: 0x0102_0304_0506_0708)
        let (opcode, publish) = try serverView(frame)
        #expect(opcode == .binary)
        let parsed = try publish.withUnsafeBytes { try BinaryLayout.parsePublish($0).get() }
        let payload = Array(publish[parsed.payload])
        #expect(payload.count == 128)
        // The server's message: its header, then the payload exactly as published.
        var message = [UInt8](repeating: 0, count: BinaryLayout.messageHeaderSize(epochLength: 4, topicLength: 7))
        _ = message.withUnsafeMutableBytes { BinaryLayout.writeMessageHeader(epoch: "e123", seq: 42, topic: "bench.t", to: $0.baseAddress!) }
        message += payload
        let delivery = message.withUnsafeBytes { BenchPayload.parseBinary($0) }
        #expect(delivery == BenchPayload.Delivery(seq: 42, sentAt: 0x0102_0304_0506_0708))
    }

    @Test func jsonPublishDataHasTheRequestedSizeAndParsesBack() throws {
        let frame = BenchPayload.publishFrame(topic: "bench.t", size: 64, json: true, sentAt: 987_654_321_012)
        let (opcode, envelope) = try serverView(frame)
        #expect(opcode == .text)
        let text = String(decoding: envelope, as: UTF8.self)
        let data = try #require(text.range(of: #""data":"#)).upperBound
        let value = String(text[data...].dropLast())  // the closing brace
        #expect(value.utf8.count == 64)
        let message = Array(#"{"type":"message","topic":"bench.t","epoch":"e1","seq":7,"data":\#(value)}"#.utf8)
        let delivery = message.withUnsafeBytes { BenchPayload.parseText($0) }
        #expect(delivery == BenchPayload.Delivery(seq: 7, sentAt: 987_654_321_012))
    }

    @Test func corpusMessagesArePublishedInTurnAndParseBack() throws {
        let corpus = BenchCorpus(messages: [Array(#"{"a":1}"#.utf8), Array(#"[2,{"b":"c"}]"#.utf8)])
        var values: [String] = []
        for index in 0..<3 {
            let frame = BenchPayload.publishFrame(topic: "bench.t", size: 64, json: false, corpus: corpus, sentAt: 1_000 + UInt64(index))
            let (opcode, envelope) = try serverView(frame)
            #expect(opcode == .text)
            let text = String(decoding: envelope, as: UTF8.self)
            let data = try #require(text.range(of: #""data":"#)).upperBound
            let value = String(text[data...].dropLast())
            values.append(value)
            let message = Array(#"{"type":"message","topic":"bench.t","epoch":"e1","seq":\#(index + 1),"data":\#(value)}"#.utf8)
            #expect(message.withUnsafeBytes { BenchPayload.parseText($0) } == BenchPayload.Delivery(seq: UInt64(index + 1), sentAt: 1_000 + UInt64(index)))
        }
        #expect(values == [#"{"sent":"00000000000000001000","msg":{"a":1}}"#, #"{"sent":"00000000000000001001","msg":[2,{"b":"c"}]}"#,
                           #"{"sent":"00000000000000001002","msg":{"a":1}}"#])
    }

    @Test func otherEnvelopesAreNotDeliveries() {
        for text in [#"{"type":"ack","id":"s1","op":"subscribe","topic":"a"}"#, #"{"type":"welcome","protocol":"bus.v1"}"#, "{}"] {
            #expect(Array(text.utf8).withUnsafeBytes { BenchPayload.parseText($0) } == nil)
        }
        #expect([UInt8]([0x02, 0x00]).withUnsafeBytes { BenchPayload.parseBinary($0) } == nil)
        #expect([UInt8]([0x01, 0x00, 0x00, 0x01, 0x74]).withUnsafeBytes { BenchPayload.parseBinary($0) } == nil)
    }
}

struct ProcParsingTests {
    @Test func cpuTicksAreFieldsFourteenAndFifteenEvenWithSpacesInTheName() {
        let stat = "4242 (broker server) S 1 4242 4242 0 -1 4194560 1200 0 0 0 1500 250 0 0 20 0 3 0 100 0 0"
        #expect(ProcessFigures.parseCPUTicks(stat) == 1750)
        #expect(ProcessFigures.parseCPUTicks("garbage") == nil)
    }

    @Test func rssIsReadInKilobytes() {
        #expect(ProcessFigures.parseRSS("Name:\tbroker-server\nVmRSS:\t   23076 kB\nThreads:\t3\n") == 23076 * 1024)
        #expect(ProcessFigures.parseRSS("Name:\tx\n") == 0)
    }

    @Test func listeningPortComesFromTheServersLogLine() throws {
        let path = NSTemporaryDirectory() + "bench-test-\(getpid()).log"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "ts=2026-11-30T03:00:00.000Z level=info msg=listening addresses=127.0.0.1:40123 loops=2 max_connections=19936\n"
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(ServerUnderTest.listeningPort(logPath: path) == 40123)
        try #"{"ts":"x","level":"info","msg":"listening","addresses":"127.0.0.1:5555,[::1]:5555"}"#
            .write(toFile: path, atomically: true, encoding: .utf8)
        #expect(ServerUnderTest.listeningPort(logPath: path) == 5555)
    }

    @Test func slowConsumerPositionGivesTheLastSeqSent() {
        let error = #"{"type":"error","code":"slow_consumer","message":"m","positions":[{"topic":"a","epoch":"e","seq":1207}]}"#
        #expect(SlowBench.positionSeq(error) == 1207)
        #expect(SlowBench.positionSeq(#"{"type":"error"}"#) == nil)
    }
}

struct BenchReportTests {
    @Test func jsonLineHoldsEveryFigureAndTheVerdict() {
        var report = BenchReport(scenario: "fanout")
        report.add("subscribers", "subscribers", .int(1000))
        report.add("p99", "p99", .number(1.5, digits: 3), "ms")
        report.add("note", "note", .text("a \"quoted\"\nline"))
        report.add("dropped", "dropped", .flag(true))
        #expect(report.jsonLine() == #"{"scenario":"fanout","ok":true,"subscribers":1000,"p99":1.500,"note":"a \"quoted\"\nline","dropped":true,"failures":[]}"#)
        report.fail("3 missing")
        #expect(report.jsonLine().contains(#""ok":false"#))
        #expect(report.jsonLine().hasSuffix(#""failures":["3 missing"]}"#))
        #expect(report.table().contains("FAILED: 3 missing"))
    }

    @Test func largeNumbersAreGroupedInTheTable() {
        #expect(BenchReport.Value.int(1_234_567).display == "1,234,567")
        #expect(BenchReport.Value.int(-1000).display == "-1,000")
        #expect(BenchReport.Value.int(12).display == "12")
    }
}
