import TestSupport
import Testing
@testable import Frames

/// One step of an incremental HTTP parser, in a shape the chunking helper understands.
enum HTTPFeedStep<Output> {
    case more(consumed: Int)
    case done(Output, consumed: Int)
    case failed(String)
}

/// What feeding a whole input produced, with the end of the parsed item as an offset into
/// the whole input, so results from different chunkings can be compared.
enum HTTPFeedOutcome<Output: Equatable>: Equatable {
    case needMore
    case done(Output, end: Int)
    case failed(String)
}

/// An incremental parser the chunking helper can drive (request, response, body).
protocol HTTPFeedable {
    associatedtype Output: Equatable
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> HTTPFeedStep<Output>
}

extension HTTPRequestParser: HTTPFeedable {
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> HTTPFeedStep<HTTPRequest> {
        switch parse(bytes) {
        case .needMore: .more(consumed: bytes.count)
        case .complete(let request, let consumed): .done(request, consumed: consumed)
        case .failure(let status, let message): .failed("\(status.code) \(message)")
        }
    }
}

extension HTTPResponseParser: HTTPFeedable {
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> HTTPFeedStep<HTTPResponseHead> {
        switch parse(bytes) {
        case .needMore: .more(consumed: bytes.count)
        case .complete(let head, let consumed): .done(head, consumed: consumed)
        case .failure(let message): .failed(message)
        }
    }
}

extension HTTPBodyDecoder: HTTPFeedable {
    mutating func feed(_ bytes: UnsafeRawBufferPointer) -> HTTPFeedStep<[UInt8]> {
        switch decode(bytes) {
        case .needMore(let consumed): .more(consumed: consumed)
        case .complete(let body, let consumed): .done(body, consumed: consumed)
        case .failure(let status, let message): .failed("\(status.code) \(message)")
        }
    }
}

/// Feeds inputs whole, split in two at every point, and one byte at a time (gorilla's
/// `TestFraming`; STYLE.md "Codecs without IO"), and checks every chunking agrees.
enum HTTPFeed {
    /// Chunk sizes for every way we split an input of `count` bytes: whole, two pieces at
    /// every split point (a sample of them past 600 bytes, to keep tests fast), one byte at
    /// a time.
    static func chunkings(_ count: Int) -> [[Int]] {
        var result: [[Int]] = [[count]]
        let stride = max(1, count / 600)
        for split in Swift.stride(from: 1, to: count, by: stride) {
            result.append([split, count - split])
        }
        if count > 1 { result.append(Array(repeating: 1, count: count)) }
        return result
    }

    /// Feeds `bytes` to a fresh parser from `make` in the given chunks, stopping at the
    /// first non-`more` step. Asserts that a `more` step consumed its whole chunk.
    static func run<P: HTTPFeedable>(_ make: () -> P, _ bytes: [UInt8], chunks: [Int],
                                     sourceLocation: SourceLocation = #_sourceLocation) -> HTTPFeedOutcome<P.Output> {
        var parser = make()
        var offset = 0
        for size in chunks {
            let step = bytes[offset..<(offset + size)].withUnsafeBytes { parser.feed($0) }
            switch step {
            case .more(let consumed):
                #expect(consumed == size, "needMore must consume the whole chunk", sourceLocation: sourceLocation)
            case .done(let output, let consumed):
                #expect((0...size).contains(consumed), sourceLocation: sourceLocation)
                return .done(output, end: offset + consumed)
            case .failed(let message):
                return .failed(message)
            }
            offset += size
        }
        return .needMore
    }

    /// Feeds `bytes` in every chunking, expects them all to agree, and returns the outcome.
    @discardableResult
    static func outcome<P: HTTPFeedable>(_ make: () -> P, _ bytes: [UInt8],
                                         sourceLocation: SourceLocation = #_sourceLocation) -> HTTPFeedOutcome<P.Output> {
        let whole = run(make, bytes, chunks: [bytes.count], sourceLocation: sourceLocation)
        for chunks in chunkings(bytes.count).dropFirst() {
            let split = run(make, bytes, chunks: chunks, sourceLocation: sourceLocation)
            if split != whole {
                Issue.record("chunks \(chunks.count == bytes.count ? "one byte each" : "\(chunks)") gave \(split), whole gave \(whole)",
                             sourceLocation: sourceLocation)
                break
            }
        }
        return whole
    }

    /// `outcome` for a string input.
    @discardableResult
    static func outcome<P: HTTPFeedable>(_ make: () -> P, _ text: String,
                                         sourceLocation: SourceLocation = #_sourceLocation) -> HTTPFeedOutcome<P.Output> {
        outcome(make, Array(text.utf8), sourceLocation: sourceLocation)
    }
}

