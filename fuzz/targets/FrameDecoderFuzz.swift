/// libFuzzer target for `FrameDecoder` (built with the Frames sources; see fuzz/run.sh).
///
/// Input: byte 0 picks the role, the message-size limit and (bit 7) whether permessage-deflate
/// was negotiated (RSV1 messages are inflated, RFC 7692), bytes 1–3 give chunk sizes,
/// the rest is the byte stream. Beyond "no crash", it checks that decoding the stream in
/// one call, in fuzzer-chosen chunks and byte by byte gives the same events and the same
/// error (the decoder's zero-copy and buffered paths must agree), and that every event
/// keeps the decoder's promises: text is UTF-8, messages fit the limit, control payloads
/// fit 125 bytes, the internal buffer stays bounded, and after each event the rest of the
/// chunk is untouched (a caller may stop pulling there and resume later).

enum Decoded: Equatable {
    case text([UInt8]), binary([UInt8]), ping([UInt8]), pong([UInt8])
    case close(UInt16?, [UInt8])
}

struct Outcome: Equatable {
    var events: [Decoded] = []
    var error: FrameError?
}

func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
    String(validating: bytes, as: UTF8.self) != nil
}

/// Decodes `stream` fed in pieces of the sizes `chunkSizes` cycles through (0 = whole).
func decode(_ stream: [UInt8], role: Role, limit: Int, chunkSizes: [Int], compressed: Bool) -> Outcome {
    var decoder = FrameDecoder(role: role, maxMessageSize: limit, inflater: compressed ? Inflater() : nil)
    let held = compressed ? limit + FrameDecoder.compressedSlack(limit) : limit
    var outcome = Outcome()
    var copy = stream  // the decoder unmasks in place
    copy.withUnsafeMutableBytes { all in
        var start = 0, turn = 0
        while start < all.count {
            let size = chunkSizes[turn % chunkSizes.count]
            turn += 1
            let end = size == 0 ? all.count : min(all.count, start + size)
            // An exactly sized copy, so ASan sees any read past this chunk.
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: end - start, alignment: 1)
            defer { chunk.deallocate() }
            chunk.copyMemory(from: UnsafeRawBufferPointer(rebasing: all[start..<end]))
            do throws(FrameError) {
                var rest = chunk
                while let event = try decoder.next(&rest) {
                    switch event {
                    case .text(let p):
                        precondition(isUTF8(p), "text event is not UTF-8")
                        precondition(p.count <= limit, "text message over the limit")
                        outcome.events.append(.text(Array(p)))
                    case .binary(let p):
                        precondition(p.count <= limit, "binary message over the limit")
                        outcome.events.append(.binary(Array(p)))
                    case .ping(let p):
                        precondition(p.count <= 125, "ping payload over 125")
                        outcome.events.append(.ping(Array(p)))
                    case .pong(let p):
                        precondition(p.count <= 125, "pong payload over 125")
                        outcome.events.append(.pong(Array(p)))
                    case .close(let code, let reason):
                        precondition(isUTF8(reason), "close reason is not UTF-8")
                        precondition(reason.count <= 123, "close reason over 123")
                        outcome.events.append(.close(code?.rawValue, Array(reason)))
                    }
                    // A caller may stop here and resume later: the rest must be as it arrived.
                    precondition(rest.elementsEqual(all[(end - rest.count)..<end]), "next touched the rest")
                }
                precondition(rest.isEmpty, "next returned nil before using up the bytes")
            } catch {
                outcome.error = error
                // A failed decoder must keep failing with the same error.
                var again: UInt8 = 0
                withUnsafeMutableBytes(of: &again) { byte in
                    do throws(FrameError) {
                        var more = byte
                        while try decoder.next(&more) != nil {}
                        preconditionFailure("failed decoder accepted more bytes")
                    } catch {
                        precondition(error == outcome.error, "failed decoder changed its error")
                    }
                }
                return
            }
            // Held bytes: at most one message plus one control frame and a header.
            precondition(decoder.bufferedByteCount <= held + 125 + 14, "decoder buffer unbounded")
            start = end
        }
    }
    return outcome
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrameDecoder(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 4 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let role: Role = input[0] & 1 == 0 ? .server : .client
    let limits = [0, 1, 16, 125, 200, 1 << 16, 1 << 20]
    let limit = limits[Int(input[0] >> 1) % limits.count]
    let chunkSizes = input[1...3].map { Int($0 % 32) + 1 }
    let stream = Array(input[4...])
    let compressed = input[0] & 0x80 != 0

    let whole = decode(stream, role: role, limit: limit, chunkSizes: [0], compressed: compressed)
    let chunked = decode(stream, role: role, limit: limit, chunkSizes: chunkSizes, compressed: compressed)
    precondition(whole == chunked, "whole and chunked decoding differ: \(whole) vs \(chunked)")
    if stream.count <= 1024 {
        let bytewise = decode(stream, role: role, limit: limit, chunkSizes: [1], compressed: compressed)
        precondition(whole == bytewise, "whole and byte-by-byte decoding differ: \(whole) vs \(bytewise)")
    }
    return 0
}
