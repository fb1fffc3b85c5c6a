/// libFuzzer target for the bus envelope parsers (built with the BusProtocol sources; see
/// fuzz/run.sh): `EnvelopeParser` for text frames and `BinaryLayout.parsePublish` for binary
/// frames, both fed every input.
///
/// The input is copied into an exactly sized allocation, so ASan reports any read past the
/// frame. Beyond that, it checks what the broker relies on: every range handed back lies
/// inside the frame; a publish's `data` is one valid JSON value and is accepted again,
/// unchanged, inside a fresh envelope; an id is a valid id; parsing is deterministic; a
/// well-formed binary header re-encodes to the same bytes.

func inside(_ range: Range<Int>?, _ count: Int) -> Bool {
    guard let range else { return true }
    return range.lowerBound >= 0 && range.upperBound <= count && !range.isEmpty
}

func checkText(_ frame: UnsafeRawBufferPointer, maxDepth: Int) {
    let result = EnvelopeParser.parse(frame, maxDepth: maxDepth)
    precondition(result == EnvelopeParser.parse(frame, maxDepth: maxDepth), "parse is not deterministic")
    switch result {
    case .success(let request):
        precondition(inside(request.id, frame.count) && inside(request.data, frame.count), "range outside the frame")
        if let id = request.id {
            precondition(EnvelopeParser.isIDValid(UnsafeRawBufferPointer(rebasing: frame[id])), "invalid id accepted")
        }
        precondition((request.kind == .publish) == (request.data != nil), "data present iff publish")
        guard let dataRange = request.data else { return }
        let data = UnsafeRawBufferPointer(rebasing: frame[dataRange])
        precondition(JSON.validateValue(data, maxDepth: maxDepth), "accepted data is not one JSON value")
        // The same data must be accepted, byte for byte, inside a plain envelope.
        var wrapped = Array(#"{"type":"publish","topic":"t","data":"#.utf8)
        let offset = wrapped.count
        wrapped += data
        wrapped.append(0x7D)
        wrapped.withUnsafeBytes { again in
            guard case .success(let second) = EnvelopeParser.parse(again, maxDepth: maxDepth),
                  let secondData = second.data else { preconditionFailure("re-wrapped data refused") }
            precondition(secondData == offset ..< offset + data.count, "re-wrapped data range moved")
        }
    case .failure(let error):
        precondition(inside(error.id, frame.count), "error id outside the frame")
        if let id = error.id {
            precondition(EnvelopeParser.isIDValid(UnsafeRawBufferPointer(rebasing: frame[id])), "invalid id echoed")
        }
        precondition(!error.message.isEmpty, "error without a message")
    }
}

func checkBinary(_ frame: UnsafeRawBufferPointer) {
    switch BinaryLayout.parsePublish(frame) {
    case .success(let publish):
        precondition(inside(publish.id, frame.count) && inside(publish.topic, frame.count), "range outside the frame")
        precondition(publish.payload.upperBound == frame.count, "payload does not run to the end")
        precondition(publish.topic.upperBound == publish.payload.lowerBound, "gap between topic and payload")
        let topicBytes = UnsafeRawBufferPointer(rebasing: frame[publish.topic])
        guard let topic = String(validating: topicBytes, as: UTF8.self) else { return }
        let id = publish.id.map { String(decoding: UnsafeRawBufferPointer(rebasing: frame[$0]), as: UTF8.self) }
        let encoded = BinaryLayout.encodePublish(topic: topic, id: id, payload: UnsafeRawBufferPointer(rebasing: frame[publish.payload]))
        precondition(encoded.elementsEqual(frame), "binary publish does not round-trip")
    case .failure(let error):
        precondition(error.code == .badRequest, "binary header error is not bad_request")
        precondition(inside(error.id, frame.count), "error id outside the frame")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEnvelope(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let frame = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 1)
    defer { frame.deallocate() }
    frame.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size))
    let bytes = UnsafeRawBufferPointer(frame)
    checkText(bytes, maxDepth: JSON.defaultMaxDepth)
    checkText(bytes, maxDepth: 2)
    checkBinary(bytes)
    return 0
}
