/// What both ends agreed for `permessage-deflate` (RFC 7692 §7.1), as seen by either side.
public struct DeflateAgreement: Sendable, Equatable {
    /// LZ77 window the server compresses with (`server_max_window_bits`, §7.1.2.1): 15
    /// unless the client asked for less. Never 8: see `PerMessageDeflate.smallestWindowBits`.
    public let serverWindowBits: Int
    /// The server starts each message with an empty window (§7.1.1.1). Our server always
    /// answers it: one compressed encoding of a message is then valid for every subscriber
    /// that shares its window size, whatever each one was sent before.
    public let serverNoContextTakeover: Bool
    /// The client starts each message with an empty window (§7.1.1.2). Our server always
    /// answers it too: one inflater per loop then serves every connection (reset per
    /// message) instead of a 32 KiB window plus about 7 KiB of state per publishing
    /// connection.
    public let clientNoContextTakeover: Bool
    /// LZ77 window the client compresses with (`client_max_window_bits`, §7.1.2.2); 15 when
    /// the server set no limit.
    public let clientWindowBits: Int

    public init(serverWindowBits: Int = 15, serverNoContextTakeover: Bool = true, clientNoContextTakeover: Bool = true,
                clientWindowBits: Int = 15) {
        self.serverWindowBits = serverWindowBits
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.clientWindowBits = clientWindowBits
    }
}

/// Negotiation of the `permessage-deflate` extension (RFC 7692 §7.1), both sides. Pure: header
/// values in, the agreement and the header to answer out.
public enum PerMessageDeflate {
    public static let name = "permessage-deflate"

    /// zlib cannot deflate raw data with a 256-byte window: `deflateInit2` refuses
    /// `windowBits` -8 (zlib 1.2.9 and later; earlier ones silently used 9). A compressor
    /// with a 512-byte window may emit distances a 256-byte inflater cannot resolve, so an
    /// offer of `server_max_window_bits=8` is declined (§7.1.2.1 lets the server decline an
    /// offer it cannot honour), and the client's next offer, if any, is tried.
    public static let smallestWindowBits = 9

    /// What the client offers (§7.1): permessage-deflate, and that it can honour a
    /// `client_max_window_bits` the server picks (§7.1.2.2).
    public static let clientOffer = "permessage-deflate; client_max_window_bits"

    /// The server's answer to a handshake's `Sec-WebSocket-Extensions` lines.
    public struct Negotiation: Sendable, Equatable {
        /// The accepted offer, nil when none was (or none was made).
        public let agreement: DeflateAgreement?
        /// The `Sec-WebSocket-Extensions` value to answer with, when an offer was accepted.
        public let response: String?
        /// Why each permessage-deflate offer before the accepted one (or every one) was declined.
        public let declined: [String]
    }

    /// Picks the first `permessage-deflate` offer the server can honour (§7.1: "the server
    /// ... accepts one of the offers"), declining the others with a reason instead of
    /// failing the handshake (§5.1: a server that declines answers without the extension).
    /// Other extensions are ignored: we implement none.
    public static func negotiate(_ headerValues: [String]) -> Negotiation {
        guard !headerValues.isEmpty else { return Negotiation(agreement: nil, response: nil, declined: []) }
        guard let offers = ExtensionOffer.parse(headerValues) else {
            return Negotiation(agreement: nil, response: nil, declined: ["malformed Sec-WebSocket-Extensions header"])
        }
        var declined: [String] = []
        for offer in offers where offer.name.lowercased() == name {
            switch evaluate(offer) {
            case .success(let (agreement, response)):
                return Negotiation(agreement: agreement, response: response, declined: declined)
            case .failure(let reason):
                declined.append(reason.text)
            }
        }
        return Negotiation(agreement: nil, response: nil, declined: declined)
    }

    private struct Declined: Error { let text: String }

    /// One offer's parameters (§7.1.1, §7.1.2): each at most once, with the value its
    /// definition allows; an unknown one declines the offer (§7.1: "the server MUST decline").
    private static func evaluate(_ offer: ExtensionOffer) -> Result<(DeflateAgreement, String), Declined> {
        var seen: Set<String> = []
        var serverBits: Int?
        for parameter in offer.parameters {
            let key = parameter.name.lowercased()
            guard seen.insert(key).inserted else { return .failure(Declined(text: "\(key) given twice")) }
            switch key {
            case "server_no_context_takeover", "client_no_context_takeover":
                if parameter.value != nil { return .failure(Declined(text: "\(key) takes no value")) }
            case "server_max_window_bits":
                guard let bits = parameter.value.flatMap(windowBits) else {
                    return .failure(Declined(text: "server_max_window_bits must be 8 to 15"))
                }
                if bits < smallestWindowBits {
                    return .failure(Declined(text: "server_max_window_bits=\(bits): zlib cannot deflate with a window under 512 bytes"))
                }
                serverBits = bits
            case "client_max_window_bits":
                // Bare: the client can honour a limit we set. We set none; inflating with a
                // 32 KiB window accepts every smaller one.
                if let value = parameter.value, windowBits(value) == nil {
                    return .failure(Declined(text: "client_max_window_bits must be 8 to 15"))
                }
            default:
                return .failure(Declined(text: "unknown parameter \(parameter.name)"))
            }
        }
        var response = "\(name); server_no_context_takeover; client_no_context_takeover"
        if let serverBits { response += "; server_max_window_bits=\(serverBits)" }
        return .success((DeflateAgreement(serverWindowBits: serverBits ?? 15), response))
    }

    /// `%x38-39 / "1" %x30-35` (§7.1.2.1): 8 to 15, no sign, no leading zero.
    static func windowBits(_ text: String) -> Int? {
        guard let bits = Int(text), (8...15).contains(bits), String(bits) == text else { return nil }
        return bits
    }

    /// The client's check of the server's answer (§7.1: the client fails the connection on a
    /// response it did not offer or cannot honour). Nil when the server accepted no
    /// extension; a description of the problem when the answer is invalid.
    public static func accept(response headerValues: [String]) -> Result<DeflateAgreement?, DeflateResponseError> {
        guard !headerValues.isEmpty else { return .success(nil) }
        guard let offers = ExtensionOffer.parse(headerValues) else { return .failure(DeflateResponseError("malformed Sec-WebSocket-Extensions")) }
        guard offers.count == 1, offers[0].name.lowercased() == name else {
            return .failure(DeflateResponseError("server selected extensions that were not offered: \(offers.map(\.name).joined(separator: ", "))"))
        }
        var seen: Set<String> = []
        var serverBits = 15, clientBits = 15
        var serverReset = false, clientReset = false
        for parameter in offers[0].parameters {
            let key = parameter.name.lowercased()
            guard seen.insert(key).inserted else { return .failure(DeflateResponseError("\(key) given twice")) }
            switch key {
            case "server_no_context_takeover" where parameter.value == nil: serverReset = true
            case "client_no_context_takeover" where parameter.value == nil: clientReset = true
            case "server_max_window_bits":
                guard let bits = parameter.value.flatMap(windowBits) else { return .failure(DeflateResponseError("bad server_max_window_bits")) }
                serverBits = bits
            case "client_max_window_bits":
                guard let bits = parameter.value.flatMap(windowBits) else { return .failure(DeflateResponseError("bad client_max_window_bits")) }
                clientBits = bits
            default:
                return .failure(DeflateResponseError("unexpected permessage-deflate parameter \(parameter.name)"))
            }
        }
        return .success(DeflateAgreement(serverWindowBits: serverBits, serverNoContextTakeover: serverReset,
                                         clientNoContextTakeover: clientReset, clientWindowBits: clientBits))
    }
}

/// A server's `Sec-WebSocket-Extensions` answer the client cannot accept.
public struct DeflateResponseError: Error, Equatable, Sendable {
    public let message: String
    init(_ message: String) { self.message = message }
}
