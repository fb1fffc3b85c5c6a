import TestSupport
import Frames
import Testing

/// A decoder event copied out of its transient pointer, so feeds can be compared.
enum DecodedEvent: Equatable, Sendable, CustomStringConvertible {
    case text([UInt8])
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    case close(CloseCode?, [UInt8])

    init(_ event: FrameDecoder.Event) {
        switch event {
        case .text(let bytes): self = .text(Array(bytes))
        case .binary(let bytes): self = .binary(Array(bytes))
        case .ping(let bytes): self = .ping(Array(bytes))
        case .pong(let bytes): self = .pong(Array(bytes))
        case .close(let code, let reason): self = .close(code, Array(reason))
        }
    }

    static func text(_ string: String) -> DecodedEvent { .text(Array(string.utf8)) }

    var description: String {
        func show(_ bytes: [UInt8]) -> String {
            bytes.count > 16 ? "\(bytes.count) bytes" : bytes.map { String($0, radix: 16) }.joined(separator: " ")
        }
        return switch self {
        case .text(let b): "text(\(show(b)))"
        case .binary(let b): "binary(\(show(b)))"
        case .ping(let b): "ping(\(show(b)))"
        case .pong(let b): "pong(\(show(b)))"
        case .close(let code, let b): "close(\(code.map(\.description) ?? "nil"), \(show(b)))"
        }
    }
}

/// Everything observable after feeding one input: the events, the error (if any), and the
/// decoder's state at the end. It must not depend on how the input was cut.
struct DecodeOutcome: Equatable {
    var events: [DecodedEvent] = []
    var error: FrameError?
    var isIdle = true
    var bufferedByteCount = 0
}

/// Feeds `input` to a fresh decoder, cut at `cuts` (sorted offsets), each piece in its own
/// buffer as separate reads would be. Also checks that a failed decoder keeps failing.
/// With `pausing`, the caller stops after every event and resumes from a copy of the
/// unconsumed rest in a fresh buffer, which only works if the decoder left it untouched.
/// With `compressed`, permessage-deflate was negotiated (the decoder has an inflater).
func decodeFrames(_ input: [UInt8], cuts: [Int], role: Role = .server, maxMessageSize: Int = 1 << 20,
                  pausing: Bool = false, compressed: Bool = false) -> DecodeOutcome {
    var decoder = FrameDecoder(role: role, maxMessageSize: maxMessageSize, inflater: compressed ? Inflater() : nil)
    var outcome = DecodeOutcome()
    let bounds = [0] + cuts + [input.count]
    do {
        for (start, end) in zip(bounds, bounds.dropFirst()) {
            var piece = Array(input[start..<end])
            while !piece.isEmpty {
                piece = try piece.withUnsafeMutableBytes { bytes in
                    var rest = bytes
                    while let event = try decoder.next(&rest) {
                        outcome.events.append(DecodedEvent(event))
                        if pausing { break }
                    }
                    return Array(rest)
                }
            }
        }
    } catch let error as FrameError {
        outcome.error = error
        var more: [UInt8] = [0x81]
        #expect(throws: error) { try more.withUnsafeMutableBytes { try drain(&decoder, $0) } }
        #expect(decoder.bufferedByteCount == 0, "a failed decoder frees its buffer")
    } catch {
        Issue.record("unexpected error \(error)")
    }
    outcome.isIdle = decoder.isIdle
    outcome.bufferedByteCount = decoder.bufferedByteCount
    return outcome
}

/// Pulls every event out of `bytes`, copied, and returns them.
@discardableResult
func drain(_ decoder: inout FrameDecoder, _ bytes: UnsafeMutableRawBufferPointer) throws(FrameError) -> [DecodedEvent] {
    var rest = bytes
    var events: [DecodedEvent] = []
    while let event = try decoder.next(&rest) { events.append(DecodedEvent(event)) }
    return events
}

/// Decodes `input` whole, in two halves at every split point (spread samples for long
/// inputs) and one byte at a time, and expects identical outcomes (gorilla `TestFraming`).
@discardableResult
func decodeEveryWay(_ input: [UInt8], role: Role = .server, maxMessageSize: Int = 1 << 20, compressed: Bool = false,
                    sourceLocation: SourceLocation = #_sourceLocation) -> DecodeOutcome {
    let whole = decodeFrames(input, cuts: [], role: role, maxMessageSize: maxMessageSize, compressed: compressed)
    let splits: [Int] = input.count <= 600
        ? Array(0...input.count)
        : Array(0...20) + stride(from: 21, to: input.count - 20, by: input.count / 50) + Array(input.count - 20...input.count)
    for split in splits {
        let halves = decodeFrames(input, cuts: [split], role: role, maxMessageSize: maxMessageSize, compressed: compressed)
        #expect(halves == whole, "split at \(split)", sourceLocation: sourceLocation)
        if halves != whole { break }
    }
    let bytewise = decodeFrames(input, cuts: input.indices.count > 1 ? Array(1..<input.count) : [],
                          role: role, maxMessageSize: maxMessageSize, compressed: compressed)
    #expect(bytewise == whole, "one byte at a time", sourceLocation: sourceLocation)
    let paused = decodeFrames(input, cuts: [], role: role, maxMessageSize: maxMessageSize, pausing: true, compressed: compressed)
    #expect(paused == whole, "stopping after each event and resuming", sourceLocation: sourceLocation)
    return whole
}

/// Builds a frame byte by byte, including frames the encoder refuses to make: any first
/// byte (FIN, RSV, opcode), a forced length encoding, masked or not.
func rawFrame(_ first: UInt8, _ payload: [UInt8], mask: MaskKey? = MaskKey(0x37, 0xFA, 0x21, 0x3D),
              lengthBytes: Int? = nil, claimedLength: UInt64? = nil) -> [UInt8] {
    let length = claimedLength ?? UInt64(payload.count)
    let maskBit: UInt8 = mask == nil ? 0 : 0x80
    var frame: [UInt8] = [first]
    switch lengthBytes ?? (length <= 125 ? 0 : length <= 0xFFFF ? 2 : 8) {
    case 0: frame.append(maskBit | UInt8(length))
    case 2: frame += [maskBit | 126, UInt8(length >> 8), UInt8(length & 0xFF)]
    default: frame += [maskBit | 127] + (0..<8).map { UInt8(truncatingIfNeeded: length >> (56 - 8 * UInt64($0))) }
    }
    var body = payload
    if let mask {
        frame += [mask.bytes.0, mask.bytes.1, mask.bytes.2, mask.bytes.3]
        for index in body.indices { body[index] ^= [mask.bytes.0, mask.bytes.1, mask.bytes.2, mask.bytes.3][index % 4] }
    }
    return frame + body
}

