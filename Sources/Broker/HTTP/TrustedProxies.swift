import BusProtocol

/// The reverse proxies whose `X-Forwarded-For` header is believed (`--trusted-proxy`), and the
/// rule that finds a request's real client address from it.
///
/// Anyone can send `X-Forwarded-For`, so it is read only from a trusted peer, and only as far as
/// the chain stays trusted: walking the list from the right (the hop nearest to us), the first
/// address that is not a trusted proxy is the client. A malformed entry ends the walk at the
/// last address we could vouch for. Pure: addresses in, address out.
struct TrustedProxies: Sendable, Equatable {
    /// An address block: `10.0.0.0/8`, `::1/128`, or one address (a full-length prefix).
    struct Block: Sendable, Equatable {
        let bytes: [UInt8]
        let prefixLength: Int

        init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard let address = TrustedProxies.parse(parts[0]) else { return nil }
            let bits = address.count * 8
            if parts.count == 2 {
                guard let length = Int(parts[1]), (0...bits).contains(length) else { return nil }
                prefixLength = length
            } else {
                prefixLength = bits
            }
            bytes = address
        }

        func contains(_ address: [UInt8]) -> Bool {
            guard address.count == bytes.count else { return false }
            var bitsLeft = prefixLength
            for (mine, theirs) in zip(bytes, address) where bitsLeft > 0 {
                let mask: UInt8 = bitsLeft >= 8 ? 0xFF : ~(0xFF >> UInt8(bitsLeft))
                if mine & mask != theirs & mask { return false }
                bitsLeft -= 8
            }
            return true
        }
    }

    let blocks: [Block]

    /// Parses `--trusted-proxy` entries; the error names the first that is not an address or block.
    init(_ entries: [String]) throws(ConfigError) {
        var blocks: [Block] = []
        for entry in entries {
            guard let block = Block(entry) else {
                throw ConfigError(option: "trusted-proxy", message: "\(entry) is not an IP address or CIDR block")
            }
            blocks.append(block)
        }
        self.blocks = blocks
    }

    static let none = TrustedProxies(blocks: [])
    private init(blocks: [Block]) { self.blocks = blocks }

    var isEmpty: Bool { blocks.isEmpty }

    func trusts(_ address: String) -> Bool {
        guard !blocks.isEmpty, let bytes = Self.parse(address) else { return false }
        return blocks.contains { $0.contains(bytes) }
    }

    /// The client's address for a request from `peer` carrying `forwardedFor` (every
    /// `X-Forwarded-For` header, comma-joined), in the form the peer's address would have.
    func clientAddress(peer: String, forwardedFor: String?) -> String {
        guard let forwardedFor, trusts(peer) else { return peer }
        var client = peer
        for hop in forwardedFor.split(separator: ",").reversed() {
            let address = Self.stripPort(String(hop.trimmingWhitespace))
            guard let bytes = Self.parse(address) else { return client }
            client = Self.format(bytes)
            if !blocks.contains(where: { $0.contains(bytes) }) { return client }
        }
        return client
    }

    /// `203.0.113.7`, `2001:db8::1`, also `[2001:db8::1]` → the address's bytes (4 or 16).
    static func parse(_ text: String) -> [UInt8]? {
        var text = text
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        guard let bytes = Sys.ipAddressBytes(text) else { return nil }
        // An IPv4-mapped address (::ffff:a.b.c.d) is that IPv4 address.
        if bytes.count == 16 && bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
            return Array(bytes[12...])
        }
        return bytes
    }

    static func format(_ bytes: [UInt8]) -> String { Sys.ipAddressText(bytes) }

    /// Proxies may append a port: `203.0.113.7:51000`, `[2001:db8::1]:51000`.
    private static func stripPort(_ hop: String) -> String {
        if hop.hasPrefix("["), let close = hop.firstIndex(of: "]") { return String(hop[hop.index(after: hop.startIndex)..<close]) }
        if hop.filter({ $0 == ":" }).count == 1, let colon = hop.firstIndex(of: ":") { return String(hop[..<colon]) }
        return hop
    }
}
