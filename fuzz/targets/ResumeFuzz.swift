/// libFuzzer target for the numbers of a resuming subscribe (`since`, `last`), built with the
/// BusProtocol sources (see fuzz/run.sh). Issue 13 found a wrap on `since.seq` = 2^64−1 in
/// the broker; this target keeps the parser's side of those numbers honest.
///
/// Each input is tried four ways: as the `seq` of `since`, as `last`, as the whole `since`
/// object, and as a whole envelope. Checks: nothing traps; an accepted `seq` or `last` is the
/// exact value of its JSON token (digits only, no sign, no leading zero, no fraction or
/// exponent, in range: `seq` to 2^64−1, `last` to Int.max); an accepted resume encodes back to
/// an envelope that parses to the same request; `since` and `last` never come together.

/// The JSON whitespace RFC 8259 allows around a value.
func trimmedJSONWhitespace(_ bytes: [UInt8]) -> [UInt8] {
    let space: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
    return Array(bytes.drop(while: space.contains).reversed().drop(while: space.contains).reversed())
}

func parse(_ bytes: [UInt8]) -> Result<ClientRequest, RequestError> {
    bytes.withUnsafeBytes { EnvelopeParser.parse($0) }
}

/// The canonical envelope for a resume, parsed again: it must give the same resume.
func checkRoundTrip(_ request: ClientRequest) {
    guard let resume = request.resume else { return }
    precondition(request.kind == .subscribe, "a resume on a \(request.kind)")
    var text = #"{"type":"subscribe","topic":"# + JSONText.quoted(request.topic) + ","
    switch resume {
    case .since(let epoch, let seq): text += #""since":{"epoch":"# + JSONText.quoted(epoch) + #","seq":\#(seq)}}"#
    case .last(let count):
        precondition(count >= 0, "negative last")
        text += #""last":\#(count)}"#
    case .cursor(let cursor, let positions):
        precondition(Cursor(parsing: cursor.text) == cursor, "a cursor's text does not parse back: \(cursor.text)")
        precondition(positions.count <= ClientRequest.maxResumePositions, "too many positions")
        let held = positions.map { #"{"topic":"# + JSONText.quoted($0.topic) + #","epoch":"# + JSONText.quoted($0.epoch) + #","seq":\#($0.seq)}"# }
        text += #""since":{"cursor":"# + JSONText.quoted(cursor.text) + #","positions":["# + held.joined(separator: ",") + "]}}"
    }
    guard case .success(let again) = parse(Array(text.utf8)) else { preconditionFailure("re-encoded resume refused: \(text)") }
    precondition(again.resume == resume && again.topic == request.topic, "resume does not round-trip: \(text)")
}

/// `slot` was accepted as a number: when it is one token (it may also close the value and
/// add members, as `1,"x":2` does), it must be the canonical decimal text of `value`.
func checkExact(_ slot: [UInt8], _ value: String) {
    guard !slot.contains(where: { Array(#",:{}[]""#.utf8).contains($0) }) else { return }
    precondition(trimmedJSONWhitespace(slot) == Array(value.utf8), "accepted \(slot) as \(value)")
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResume(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))

    let seqEnvelope = Array(#"{"type":"subscribe","topic":"t","since":{"epoch":"e","seq":"#.utf8) + input + Array("}}".utf8)
    if case .success(let request) = parse(seqEnvelope) {
        guard case .since(let epoch, let seq) = request.resume else { preconditionFailure("since lost") }
        precondition(epoch == "e", "epoch changed")
        checkExact(input, String(seq))
        checkRoundTrip(request)
    }

    let lastEnvelope = Array(#"{"type":"subscribe","topic":"t","last":"#.utf8) + input + Array("}".utf8)
    if case .success(let request) = parse(lastEnvelope) {
        guard case .last(let count) = request.resume else { preconditionFailure("last lost") }
        checkExact(input, String(count))
        checkRoundTrip(request)
    }

    let sinceEnvelope = Array(#"{"type":"subscribe","topic":"t","since":"#.utf8) + input + Array("}".utf8)
    if case .success(let request) = parse(sinceEnvelope) {
        switch request.resume {
        case .since?, .cursor?: break  // a topic position, or a pattern's cursor
        default: preconditionFailure("since lost")
        }
        checkRoundTrip(request)
    }

    switch parse(input) {
    case .success(let request): checkRoundTrip(request)
    case .failure(let error): precondition(!error.message.isEmpty, "error without a message")
    }
    return 0
}
