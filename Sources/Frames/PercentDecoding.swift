/// Percent-decoding of a URL path segment (RFC 3986 §2.1), as bytes.
///
/// `%` followed by exactly two hex digits is one byte; anything else (a lone `%`, one digit,
/// a sign as in `%+1`, which `UInt8(_:radix:)` would have read as 0x01) stays literal, like
/// WHATWG URL's percent-decode. `+` is not a space here (that is form encoding, for queries).
/// The result is bytes, not a `String`: a topic made from it goes through the topic
/// validator, which refuses malformed UTF-8 instead of repairing it.
public enum PercentDecoding {
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8] {
        let input = Array(text)
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        var i = 0
        while i < input.count {
            if input[i] == UInt8(ascii: "%"), i + 2 < input.count,
               let high = HTTPSyntax.hexValue(input[i + 1]), let low = HTTPSyntax.hexValue(input[i + 2]) {
                out.append(UInt8(high << 4 | low))
                i += 3
            } else {
                out.append(input[i])
                i += 1
            }
        }
        return out
    }
}
