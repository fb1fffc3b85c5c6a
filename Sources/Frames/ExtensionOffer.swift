/// One element of a `Sec-WebSocket-Extensions` header (RFC 6455 §9.1): an extension name and
/// its parameters, in order, as the client wrote them.
///
/// ```
/// extension-list = 1#extension
/// extension      = extension-token *( ";" extension-param )
/// extension-param = token [ "=" (token | quoted-string) ]
/// ```
/// A quoted value is unquoted here (§9.1: "the value MUST conform to the token ABNF" once
/// unquoted), so `server_max_window_bits="10"` and `server_max_window_bits=10` are equal.
public struct ExtensionOffer: Sendable, Equatable {
    public let name: String
    /// `(name, value)`; the value is nil for a bare parameter (`server_no_context_takeover`).
    public let parameters: [Parameter]

    public struct Parameter: Sendable, Equatable {
        public let name: String
        public let value: String?
        public init(_ name: String, _ value: String? = nil) {
            self.name = name
            self.value = value
        }
    }

    public init(name: String, parameters: [Parameter] = []) {
        self.name = name
        self.parameters = parameters
    }

    /// The offers of every `Sec-WebSocket-Extensions` line, in order (lines are joined as
    /// one comma list, RFC 9110 §5.3). Nil when any element breaks the grammar: a malformed
    /// header then offers nothing, and the handshake goes on without extensions rather than
    /// guessing what was meant.
    public static func parse(_ headerValues: [String]) -> [ExtensionOffer]? {
        var offers: [ExtensionOffer] = []
        for value in headerValues {
            guard let parsed = parseList(Array(value.utf8)) else { return nil }
            offers += parsed
        }
        return offers
    }

    private static func parseList(_ bytes: [UInt8]) -> [ExtensionOffer]? {
        var index = 0
        var offers: [ExtensionOffer] = []
        func skipSpace() { while index < bytes.count, HTTPSyntax.isWhitespace(bytes[index]) { index += 1 } }
        func token() -> String? {
            let start = index
            while index < bytes.count, HTTPSyntax.isTokenChar(bytes[index]) { index += 1 }
            return index > start ? String(decoding: bytes[start..<index], as: UTF8.self) : nil
        }
        func quoted() -> String? {
            index += 1  // opening quote
            var out: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                if byte == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
                if byte == UInt8(ascii: "\\") {
                    guard index < bytes.count else { return nil }
                    out.append(bytes[index])
                    index += 1
                } else {
                    out.append(byte)
                }
            }
            return nil
        }
        while true {
            skipSpace()
            // Empty list elements (`a, , b`) are allowed and ignored (RFC 9110 §5.6.1.2).
            if index < bytes.count, bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if index == bytes.count { break }
            guard let name = token() else { return nil }
            var parameters: [Parameter] = []
            skipSpace()
            while index < bytes.count, bytes[index] == UInt8(ascii: ";") {
                index += 1
                skipSpace()
                guard let parameter = token() else { return nil }
                skipSpace()
                var value: String?
                if index < bytes.count, bytes[index] == UInt8(ascii: "=") {
                    index += 1
                    skipSpace()
                    if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
                        guard let unquoted = quoted(), HTTPSyntax.isToken(Array(unquoted.utf8)) else { return nil }
                        value = unquoted
                    } else {
                        guard let plain = token() else { return nil }
                        value = plain
                    }
                    skipSpace()
                }
                parameters.append(Parameter(parameter, value))
            }
            offers.append(ExtensionOffer(name: name, parameters: parameters))
            if index == bytes.count { break }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index += 1
        }
        return offers
    }
}
