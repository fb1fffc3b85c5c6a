import TestSupport
import BusProtocol

/// UTF-8 bytes of a string literal.
func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The text of a byte range of `bytes`, for readable expectations.
func text(_ bytes: [UInt8], _ range: Range<Int>?) -> String? {
    range.map { String(decoding: bytes[$0], as: UTF8.self) }
}

/// Hex dump for failure messages.
func hex(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16, uppercase: true) }.joined(separator: " ")
}

func validate(_ bytes: [UInt8], maxDepth: Int = 64) -> Bool {
    bytes.withUnsafeBytes { JSON.validateValue($0, maxDepth: maxDepth) }
}

func validate(_ text: String, maxDepth: Int = 64) -> Bool {
    validate(utf8(text), maxDepth: maxDepth)
}

func parseEnvelope(_ bytes: [UInt8], maxDepth: Int = 64) -> Result<ClientRequest, RequestError> {
    bytes.withUnsafeBytes { EnvelopeParser.parse($0, maxDepth: maxDepth) }
}

func parseServer(_ bytes: [UInt8]) -> ServerMessage? {
    bytes.withUnsafeBytes { ServerMessage.parse($0) }
}

func decodeString(_ bytes: [UInt8]) -> String? {
    bytes.withUnsafeBytes { JSON.decodeString($0) }
}

/// Every member `scanObject` reports, as (unescaped-as-is key text, value text), or the error.
func scanMembers(_ input: String, maxDepth: Int = 64) -> Result<[(key: String, value: String, range: Range<Int>)], JSONError> {
    let bytes = utf8(input)
    var members: [(key: String, value: String, range: Range<Int>)] = []
    let error = bytes.withUnsafeBytes { buffer -> JSONError? in
        do throws(JSONError) {
            try JSON.scanObject(buffer, maxDepth: maxDepth) { key, value in
                members.append((String(decoding: key, as: UTF8.self), String(decoding: bytes[value], as: UTF8.self), value))
            }
            return nil
        } catch {
            return error
        }
    }
    return error.map { .failure($0) } ?? .success(members)
}

