/// libFuzzer target for the HTTP request-head parser and the WebSocket handshake checks
/// (built with the Frames sources; see fuzz/run.sh).
///
/// Input: byte 0 picks the head-size limit, bytes 1–3 give chunk sizes, the rest is the
/// connection's byte stream (pipelined heads allowed). Checks that parsing in one call and
/// in fuzzer-chosen chunks gives the same requests and the same failure, that `consumed`
/// never exceeds what was fed, and that every complete head runs through the handshake
/// validation, query decoding and the 101 answer without trapping.

enum Parsed: Equatable {
    case request(HTTPRequest)
    case failure(HTTPStatus, String)
}

/// Parses `stream` fed in pieces of the sizes `chunkSizes` cycles through (0 = whole);
/// after each complete head the rest of the piece is fed again, as the connection does.
func parseAll(_ stream: [UInt8], maxHeadSize: Int, chunkSizes: [Int]) -> [Parsed] {
    var parser = HTTPRequestParser(maxHeadSize: maxHeadSize)
    var results: [Parsed] = []
    var start = 0, turn = 0
    while start < stream.count {
        let size = chunkSizes[turn % chunkSizes.count]
        turn += 1
        let end = size == 0 ? stream.count : min(stream.count, start + size)
        var pieceStart = start
        while pieceStart < end {
            // An exactly sized copy, so ASan sees any read past the piece.
            let piece = UnsafeMutableRawBufferPointer.allocate(byteCount: end - pieceStart, alignment: 1)
            defer { piece.deallocate() }
            stream[pieceStart..<end].withUnsafeBytes { piece.copyMemory(from: $0) }
            switch parser.parse(UnsafeRawBufferPointer(piece)) {
            case .needMore:
                pieceStart = end
            case .complete(let request, let consumed):
                precondition(consumed > 0 && consumed <= piece.count, "consumed \(consumed) of \(piece.count)")
                results.append(.request(request))
                pieceStart += consumed
            case .failure(let status, let message):
                results.append(.failure(status, message))
                // A failed parser stays failed.
                let again = [UInt8]("GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8).withUnsafeBytes { parser.parse($0) }
                precondition(again == .failure(status, message), "failed parser recovered")
                return results
            }
        }
        start = end
    }
    return results
}

/// What the connection does with a complete head; nothing here may trap.
func exercise(_ request: HTTPRequest) {
    _ = request.queryItems()
    _ = request.headers.tokens("Connection")
    switch Result(catching: { () throws(HandshakeError) in try ServerHandshake.validate(request) }) {
    case .success(let upgrade):
        precondition(Base64.decode(upgrade.key)?.count == 16, "accepted a key that is not 16 bytes")
        let chosen = upgrade.selectSubprotocol(from: ["bus.v1"])
        precondition(chosen == nil || upgrade.offeredSubprotocols.contains(chosen!), "chose an unoffered subprotocol")
        let answer = ServerHandshake.response(key: upgrade.key, subprotocol: chosen)
        precondition(answer.starts(with: Array("HTTP/1.1 101 ".utf8)), "101 answer malformed")
    case .failure(let error):
        precondition((400...599).contains(error.status.code), "handshake error status \(error.status)")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzHTTPRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 4 else { return 0 }
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let limits = [8192, 64, 256, 1024]
    let maxHeadSize = limits[Int(input[0]) % limits.count]
    let chunkSizes = input[1...3].map { Int($0 % 64) + 1 }
    let stream = Array(input[4...])

    let whole = parseAll(stream, maxHeadSize: maxHeadSize, chunkSizes: [0])
    let chunked = parseAll(stream, maxHeadSize: maxHeadSize, chunkSizes: chunkSizes)
    precondition(whole == chunked, "whole and chunked parsing differ:\n\(whole)\n\(chunked)")
    for case .request(let request) in whole { exercise(request) }
    return 0
}
