import BusProtocol
import Topics

/// Tokens listed in the server's configuration, each with its own grant: for backends and
/// fixed deployments that have no token issuer.
///
/// Only the SHA-256 of each token is kept. A presented token is hashed once and compared
/// with every entry in constant time, without stopping at a match, so neither the timing
/// nor the position of a match says anything about the configured tokens.
public struct StaticTokens: Sendable {
    /// Shortest token accepted in the configuration: a guessable token is no protection.
    public static let minimumLength = 16

    struct Entry: Sendable {
        let digest: [UInt8]
        let grant: Grant
    }

    let entries: [Entry]

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    public init() { entries = [] }

    /// Tokens and their grants; fails on a short or repeated token.
    public init(_ tokens: [(token: String, grant: Grant)]) throws(AuthConfigError) {
        var seen = Set<[UInt8]>()
        var entries: [Entry] = []
        for (index, item) in tokens.enumerated() {
            guard item.token.utf8.count >= Self.minimumLength else {
                throw AuthConfigError("tokens[\(index)]: a token needs at least \(Self.minimumLength) characters")
            }
            let digest = SHA256.hash(item.token.utf8)
            guard seen.insert(digest).inserted else { throw AuthConfigError("tokens[\(index)]: the same token appears twice") }
            entries.append(Entry(digest: digest, grant: item.grant))
        }
        self.entries = entries
    }

    /// Parses the config file's list: `[{"token": "…", "publish": [patterns], "subscribe":
    /// [patterns]}, …]`. A missing list grants nothing; unknown keys are errors, as
    /// everywhere in the config file.
    public init(json: [UInt8]) throws(AuthConfigError) {
        var items: [(token: String, grant: Grant)] = []
        var problem: AuthConfigError?
        let scanned = json.withUnsafeBytes { bytes -> Bool in
            var index = 0
            do throws(JSONError) {
                try JSON.scanArray(bytes, maxDepth: 3) { range in
                    defer { index += 1 }
                    guard problem == nil else { return }
                    switch Self.entry(UnsafeRawBufferPointer(rebasing: bytes[range])) {
                    case .success(let item): items.append(item)
                    case .failure(let why): problem = AuthConfigError("tokens[\(index)]: \(why.message)")
                    }
                }
                return true
            } catch {
                return false
            }
        }
        guard scanned else { throw AuthConfigError("tokens must be a JSON array of objects") }
        if let problem { throw problem }
        try self.init(items)
    }

    private static func entry(_ object: UnsafeRawBufferPointer) -> Result<(token: String, grant: Grant), AuthConfigError> {
        var token: String?
        var lists: [String: [TopicPattern]] = [:]
        var problem: String?
        do throws(JSONError) {
            try JSON.scanObject(object, maxDepth: 2) { key, range in
                guard problem == nil else { return }
                let raw = UnsafeRawBufferPointer(rebasing: object[range])
                if JSON.keyEquals(key, "token") {
                    guard token == nil, raw.first == 0x22, let text = JSON.decodeString(raw) else {
                        problem = "token must be one string"
                        return
                    }
                    token = text
                } else if JSON.keyEquals(key, "publish") || JSON.keyEquals(key, "subscribe") {
                    let name = JSON.keyEquals(key, "publish") ? "publish" : "subscribe"
                    guard lists[name] == nil else { problem = "\(name) appears twice"; return }
                    switch Grant.patterns(raw) {
                    case .success(let patterns): lists[name] = patterns
                    case .failure(let error): problem = "\(name): \(error.message)"
                    }
                } else {
                    problem = "unknown key \(JSONText.quoted(String(decoding: key, as: UTF8.self))) (token, publish, subscribe)"
                }
            }
        } catch {
            return .failure(AuthConfigError("each token must be a JSON object"))
        }
        if let problem { return .failure(AuthConfigError(problem)) }
        guard let token else { return .failure(AuthConfigError("missing \"token\"")) }
        return .success((token, Grant(publish: lists["publish"] ?? [], subscribe: lists["subscribe"] ?? [])))
    }

    /// The grant of `token`, if it is one of ours. Every entry is compared, match or not.
    public func grant(for token: String) -> Grant? {
        let digest = SHA256.hash(token.utf8)
        var found: Grant?
        for entry in entries where ConstantTime.equals(entry.digest, digest) {
            found = entry.grant
        }
        return found
    }
}

/// A problem in the auth configuration, said in one line.
public struct AuthConfigError: Error, Equatable, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}
