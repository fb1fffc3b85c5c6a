/// libFuzzer target for history segment files (built with the Topics and HistoryStore sources
/// as one module; see fuzz/run.sh): the input is a segment after a valid header.
///
/// Checks: recovery never reads past the input nor traps; a cut is inside the input and
/// scanning only the kept bytes finds no cut and the same topics; every record decoded
/// re-encodes to exactly its bytes; recovered topics are contiguous up to their seq.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHistoryStore(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var segment = RecordCodec.header()
    segment.append(contentsOf: UnsafeRawBufferPointer(start: data, count: size))
    let limits = TopicLimits(maxLength: 64, maxDepth: 8)
    func recovery() -> HistoryRecovery {
        HistoryRecovery(maxBodyLength: 2048, limits: limits, byteBudget: 512) { topic in (topic.utf8Count % 4, 1_000_000_000) }
    }
    var whole = recovery()
    let cut: HistoryRecovery.Cut?
    do { cut = try segment.withUnsafeBytes { try whole.scan(segment: $0) } } catch {
        preconditionFailure("only a later version throws, and the header here is ours")
    }
    let kept = cut?.validLength ?? segment.count
    precondition(kept >= RecordCodec.headerSize && kept <= segment.count, "cut outside the segment")
    var again = recovery()
    let recut: HistoryRecovery.Cut?
    do { recut = try Array(segment[0..<kept]).withUnsafeBytes { try again.scan(segment: $0) } } catch {
        preconditionFailure("the kept bytes throw")
    }
    precondition(recut == nil, "the kept bytes were cut again")
    precondition(again.records == whole.records, "the kept bytes hold other records")

    // Every record re-encodes to its own bytes.
    var at = RecordCodec.headerSize
    while at < kept {
        let decoded = segment.withUnsafeBytes {
            RecordCodec.decode(UnsafeRawBufferPointer(rebasing: $0[at..<kept]), maxBodyLength: 2048, limits: limits)
        }
        guard case .record(let message, let length) = decoded else { preconditionFailure("kept bytes do not decode") }
        var out: [UInt8] = []
        RecordCodec.encode(message, into: &out)
        precondition(out[...] == segment[at..<(at + length)], "re-encoding differs")
        at += length
    }

    for trusted in [true, false] {
        var epochs = 0
        for topic in whole.finish(trusted: trusted, nowWall: 0, newEpoch: { epochs += 1; return "n\(epochs)" }) {
            let seqs = topic.messages.map(\.seq)
            if let last = seqs.last {
                precondition(last == topic.seq, "retained messages do not reach the topic's seq")
                precondition(seqs == Array((last - UInt64(seqs.count) + 1)...last), "retained messages are not contiguous")
            }
            precondition(topic.messages.allSatisfy { $0.epoch == topic.epoch && $0.kind != .position }, "a message of another epoch")
            precondition(trusted || !topic.continued, "continuity claimed on an untrusted tail")
        }
    }
    return 0
}
