/// Base64 and base64url (RFC 4648 §4 and §5).
///
/// Used for the RFC 6455 §4.2.1 `Sec-WebSocket-Key` check (it must decode to 16 bytes), the
/// §4.2.2 accept value, and later for JWT segments (RFC 7515 §2 uses base64url without
/// padding). Written here because Frames avoids Foundation.
public enum Base64 {
    /// The alphabets as literals: read in place, without the once-check and retain of an array.
    private static let standardCharacters: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    private static let urlCharacters: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    private static var standardAlphabet: UnsafeBufferPointer<UInt8> { alphabet(standardCharacters) }
    private static var urlAlphabet: UnsafeBufferPointer<UInt8> { alphabet(urlCharacters) }
    private static func alphabet(_ characters: StaticString) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: characters.utf8Start, count: characters.utf8CodeUnitCount)
    }
    private static let padByte = UInt8(ascii: "=")
    /// Marks a byte outside the alphabet in the decoding tables.
    private static let invalid: UInt8 = 0xFF

    private static let standardTable = table(for: standardAlphabet)
    private static let urlTable = table(for: urlAlphabet)

    private static func table(for alphabet: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var table = [UInt8](repeating: invalid, count: 256)
        for (value, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(value) }
        return table
    }

    /// Encodes `bytes` with the standard alphabet, or the URL- and filename-safe one when
    /// `url` is true (RFC 4648 §5). `padding: false` drops the trailing `=` (RFC 4648 §3.2
    /// allows this when the specification referring to it says so, as JWT does).
    public static func encode(_ bytes: some Collection<UInt8>, url: Bool = false, padding: Bool = true) -> String {
        String(decoding: encodedBytes(bytes, url: url, padding: padding), as: UTF8.self)
    }

    /// `encode` as ASCII bytes, for callers that write them straight into a message.
    static func encodedBytes(_ bytes: some Collection<UInt8>, url: Bool = false, padding: Bool = true) -> [UInt8] {
        let input = Array(bytes)
        return input.withUnsafeBytes { input in
            [UInt8](unsafeUninitializedCapacity: (input.count + 2) / 3 * 4) { out, count in
                count = encode(input, into: UnsafeMutableRawBufferPointer(out), url: url, padding: padding)
            }
        }
    }

    /// Writes the encoding of `bytes` to the start of `out`, which has room for
    /// `(bytes.count + 2) / 3 * 4` bytes, and returns how many it wrote: the handshake's accept
    /// value goes straight into its response.
    static func encode(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer,
                       url: Bool = false, padding: Bool = true) -> Int {
        precondition(out.count >= (bytes.count + 2) / 3 * 4)
        let alphabet = url ? urlAlphabet : standardAlphabet
        var (from, to) = (0, 0)
        func put(_ group: UInt32, _ shift: UInt32) {
            out[to] = alphabet[Int(group &>> shift & 0x3F)]
            to += 1
        }
        // Whole groups: four characters stored as one word.
        func character(_ group: UInt32, _ shift: UInt32) -> UInt32 { UInt32(alphabet[Int(group &>> shift & 0x3F)]) }
        while bytes.count - from >= 3 {
            let group = UInt32(bytes[from]) << 16 | UInt32(bytes[from + 1]) << 8 | UInt32(bytes[from + 2])
            let word = character(group, 18) | character(group, 12) << 8 | character(group, 6) << 16 | character(group, 0) << 24
            out.storeBytes(of: word.littleEndian, toByteOffset: to, as: UInt32.self)
            to += 4
            from += 3
        }
        // The last one or two bytes: two or three characters, then padding to four.
        let rest = bytes.count - from
        guard rest > 0 else { return to }
        let group = UInt32(bytes[from]) << 16 | (rest == 2 ? UInt32(bytes[from + 1]) << 8 : 0)
        put(group, 18)
        put(group, 12)
        if rest == 2 { put(group, 6) }
        if padding {
            for _ in rest..<3 {
                out[to] = padByte
                to += 1
            }
        }
        return to
    }

    /// Whether `text` is the canonical base64 of exactly 16 bytes, as `decode(text)?.count == 16`
    /// answers, without building the bytes: 22 alphabet characters whose unused last 4 bits are
    /// zero, then `==` (RFC 4648 §3.5). A WebSocket key must be one (RFC 6455 §4.2.1 item 5).
    public static func decodesTo16Bytes(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { decodesTo16Bytes(UnsafeRawBufferPointer($0)) }
    }

    /// `decodesTo16Bytes` of the bytes of a header value, read in place.
    static func decodesTo16Bytes(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == 24, bytes[22] == padByte, bytes[23] == padByte else { return false }
        return standardTable.withUnsafeBufferPointer { table in
            for i in 0..<22 where table[Int(bytes[i])] == invalid { return false }
            return table[Int(bytes[21])] & 0x0F == 0
        }
    }

    /// Decodes `text`, or returns nil when it is not canonical base64.
    ///
    /// Strict (RFC 4648 §3.3, §3.5): any byte outside the alphabet (whitespace included), a
    /// `=` anywhere but the end, a length that is not a whole number of quanta, and non-zero
    /// pad bits in the last character are all rejected, so every input has one decoding and
    /// one encoding. With `url: true` the base64url alphabet is used and the padding may be
    /// omitted (JWT, RFC 7515 §2); padding that is present must still be correct.
    public static func decode(_ text: some StringProtocol, url: Bool = false) -> [UInt8]? {
        let table = url ? urlTable : standardTable
        var input = Array(text.utf8)
        // Strip at most two pad characters; their count must match the final quantum.
        var pads = 0
        while pads < 2, input.last == padByte {
            input.removeLast()
            pads += 1
        }
        let remainder = input.count % 4
        if pads > 0 {
            // Padding completes the final quantum to 4 characters exactly.
            guard remainder != 0, remainder + pads == 4 else { return nil }
        } else if !url {
            guard remainder == 0 else { return nil }
        }
        // One leftover character carries only 6 bits: never a whole byte.
        guard remainder != 1 else { return nil }

        var out: [UInt8] = []
        out.reserveCapacity(input.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in input {
            let value = table[Int(byte)]
            guard value != invalid else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits are padding and must be zero (RFC 4648 §3.5) for a canonical input.
        guard accumulator == 0 else { return nil }
        return out
    }
}
