/// An independent, deliberately naive recursive-descent JSON validator, written straight from
/// the RFC 8259 grammar, used as an oracle for `JSON.validateValue` on shallow inputs.
/// It shares no code with the module: strings are checked for UTF-8 with the standard
/// library, numbers by the grammar's productions one by one.
struct ReferenceJSON {
    let bytes: [UInt8]
    let maxDepth: Int
    var index = 0

    static func isValid(_ bytes: [UInt8], maxDepth: Int = 64) -> Bool {
        var parser = ReferenceJSON(bytes: bytes, maxDepth: maxDepth)
        parser.whitespace()
        guard parser.value(depth: 0) else { return false }
        parser.whitespace()
        return parser.index == bytes.count
    }

    var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    mutating func whitespace() {
        while let byte = current, [0x20, 0x09, 0x0A, 0x0D].contains(byte) { index += 1 }
    }

    mutating func consume(_ byte: UInt8) -> Bool {
        guard current == byte else { return false }
        index += 1
        return true
    }

    mutating func value(depth: Int) -> Bool {
        switch current {
        case UInt8(ascii: "{"): return object(depth: depth + 1)
        case UInt8(ascii: "["): return array(depth: depth + 1)
        case UInt8(ascii: "\""): return string()
        case UInt8(ascii: "t"): return literal("true")
        case UInt8(ascii: "f"): return literal("false")
        case UInt8(ascii: "n"): return literal("null")
        default: return number()
        }
    }

    mutating func literal(_ word: String) -> Bool {
        for byte in word.utf8 { guard consume(byte) else { return false } }
        return true
    }

    mutating func object(depth: Int) -> Bool {
        guard depth <= maxDepth else { return false }
        index += 1
        whitespace()
        if consume(UInt8(ascii: "}")) { return true }
        while true {
            whitespace()
            guard current == UInt8(ascii: "\""), string() else { return false }
            whitespace()
            guard consume(UInt8(ascii: ":")) else { return false }
            whitespace()
            guard value(depth: depth) else { return false }
            whitespace()
            if consume(UInt8(ascii: "}")) { return true }
            guard consume(UInt8(ascii: ",")) else { return false }
        }
    }

    mutating func array(depth: Int) -> Bool {
        guard depth <= maxDepth else { return false }
        index += 1
        whitespace()
        if consume(UInt8(ascii: "]")) { return true }
        while true {
            whitespace()
            guard value(depth: depth) else { return false }
            whitespace()
            if consume(UInt8(ascii: "]")) { return true }
            guard consume(UInt8(ascii: ",")) else { return false }
        }
    }

    mutating func string() -> Bool {
        let start = index + 1
        index += 1
        while let byte = current {
            if byte == UInt8(ascii: "\"") {
                index += 1
                return String(validating: bytes[start ..< index - 1], as: UTF8.self) != nil
            }
            if byte < 0x20 { return false }
            if byte == UInt8(ascii: "\\") {
                index += 1
                guard let escape = current else { return false }
                index += 1
                if escape == UInt8(ascii: "u") {
                    for _ in 0 ..< 4 {
                        guard let digit = current, "0123456789abcdefABCDEF".utf8.contains(digit) else { return false }
                        index += 1
                    }
                } else if !"\"\\/bfnrt".utf8.contains(escape) {
                    return false
                }
            } else {
                index += 1
            }
        }
        return false
    }

    mutating func digits() -> Int {
        var count = 0
        while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            index += 1
            count += 1
        }
        return count
    }

    mutating func number() -> Bool {
        _ = consume(UInt8(ascii: "-"))
        if consume(UInt8(ascii: "0")) {
            // a leading zero stands alone
        } else if let byte = current, byte >= UInt8(ascii: "1"), byte <= UInt8(ascii: "9") {
            _ = digits()
        } else {
            return false
        }
        if consume(UInt8(ascii: ".")) { guard digits() > 0 else { return false } }
        if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            guard digits() > 0 else { return false }
        }
        return true
    }
}
