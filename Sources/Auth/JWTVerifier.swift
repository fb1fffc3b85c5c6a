import BusProtocol
import Frames
import Topics

/// Verifies JSON Web Tokens signed with HS256 (RFC 7519, RFC 7515 compact form, RFC 7518
/// §3.2) against one shared secret.
///
/// `alg` is pinned: the header must say `HS256`. `none` and every other algorithm are
/// refused before anything else is looked at, so a token can never choose how it is checked
/// (the classic `alg: none` and HS/RS confusion attacks). The signature is compared in
/// constant time and the claims are read only after it verified. `exp` and `nbf` are checked
/// against the caller's clock with a small leeway for clock skew between the issuer and us.
///
/// Permissions come from the claims `bus.pub` and `bus.sub`, arrays of topic patterns, in
/// either of two forms: nested, `{"bus": {"pub": [...], "sub": [...]}}`, or flat keys
/// `{"bus.pub": [...], "bus.sub": [...]}` (some issuers cannot nest). Using both forms in one
/// token is refused as ambiguous. A missing list grants nothing.
public struct JWTVerifier: Sendable {
    /// Longest token accepted, in bytes: far above any real token, and it bounds the work.
    public static let maxTokenLength = 8192

    let secret: [UInt8]
    /// Seconds of clock skew tolerated on `exp` and `nbf`.
    public let leeway: Double

    public init(secret: [UInt8], leeway: Double) {
        self.secret = secret
        self.leeway = leeway
    }

    /// The credential `token` carries at unix time `now` (seconds), or why it is refused.
    public func verify(_ token: String, now: Double) -> Result<Credential, AuthError> {
        let bytes = Array(token.utf8)
        guard bytes.count <= Self.maxTokenLength else { return .failure(.malformed("longer than \(Self.maxTokenLength) bytes")) }
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count == 3 else { return .failure(.malformed("a JWT has three dot-separated segments")) }
        guard let header = Self.decodeSegment(parts[0]), let payload = Self.decodeSegment(parts[1]),
              let signature = Self.decodeSegment(parts[2]) else {
            return .failure(.malformed("a segment is not unpadded base64url"))
        }
        if let problem = header.withUnsafeBytes({ Self.checkHeader($0) }) { return .failure(problem) }
        let signingInput = bytes[..<parts[1].endIndex]
        let expected = HMACSHA256.mac(key: secret, message: signingInput)
        guard ConstantTime.equals(expected, signature) else { return .failure(.badSignature) }
        return payload.withUnsafeBytes { readClaims($0, now: now) }
    }

    /// base64url without padding (RFC 7515 §2); `=` and the standard alphabet are refused.
    static func decodeSegment(_ segment: ArraySlice<UInt8>) -> [UInt8]? {
        guard !segment.contains(UInt8(ascii: "=")) else { return nil }
        return Base64.decode(String(decoding: segment, as: UTF8.self), url: true)
    }

    /// The JOSE header must be an object whose `alg` is exactly `HS256`; `crit` names
    /// extensions we would have to understand (RFC 7515 §4.1.11), so it is refused.
    static func checkHeader(_ header: UnsafeRawBufferPointer) -> AuthError? {
        var alg: String??
        var problem: AuthError?
        do throws(JSONError) {
            try JSON.scanObject(header, maxDepth: 8) { key, range in
                let raw = UnsafeRawBufferPointer(rebasing: header[range])
                if JSON.keyEquals(key, "alg") {
                    if alg != nil { problem = .malformed("duplicate alg") }
                    alg = raw.first == 0x22 ? JSON.decodeString(raw) : .some(nil)
                } else if JSON.keyEquals(key, "crit") {
                    problem = .unsupportedAlgorithm("crit extensions are not supported")
                }
            }
        } catch {
            return .malformed("the header is not a JSON object")
        }
        if let problem { return problem }
        guard let alg else { return .unsupportedAlgorithm("the header has no alg") }
        guard alg == "HS256" else { return .unsupportedAlgorithm("alg must be HS256") }
        return nil
    }

    /// Reads `exp`, `nbf` and the permission claims of a verified payload.
    func readClaims(_ payload: UnsafeRawBufferPointer, now: Double) -> Result<Credential, AuthError> {
        var claims = ClaimMembers()
        do throws(JSONError) {
            try JSON.scanObject(payload) { key, range in claims.record(key: key, range: range) }
        } catch {
            return .failure(.malformed("the payload is not a JSON object"))
        }
        if let duplicate = claims.duplicate { return .failure(.invalidClaims("duplicate claim \(duplicate)")) }
        let exp = claims.exp.map { Self.numericDate(UnsafeRawBufferPointer(rebasing: payload[$0])) }
        let nbf = claims.nbf.map { Self.numericDate(UnsafeRawBufferPointer(rebasing: payload[$0])) }
        if exp == .some(nil) { return .failure(.invalidClaims("exp must be a number of seconds")) }
        if nbf == .some(nil) { return .failure(.invalidClaims("nbf must be a number of seconds")) }
        // Written so that a NaN anywhere (a caller's clock or leeway) refuses the token.
        if let exp = exp ?? nil, !(now < exp + leeway) { return .failure(.expired) }
        if let nbf = nbf ?? nil, !(now >= nbf - leeway) { return .failure(.notYetValid) }

        var pub = claims.flatPub, sub = claims.flatSub
        if let nested = claims.bus {
            guard pub == nil && sub == nil else { return .failure(.invalidClaims("use either \"bus\" or \"bus.pub\"/\"bus.sub\", not both")) }
            let object = UnsafeRawBufferPointer(rebasing: payload[nested])
            var inner = ClaimMembers()
            do throws(JSONError) {
                try JSON.scanObject(object) { key, range in inner.recordNested(key: key, range: range) }
            } catch {
                return .failure(.invalidClaims("bus must be an object"))
            }
            if let duplicate = inner.duplicate { return .failure(.invalidClaims("duplicate claim bus.\(duplicate)")) }
            pub = inner.flatPub.map { $0.lowerBound + nested.lowerBound ..< $0.upperBound + nested.lowerBound }
            sub = inner.flatSub.map { $0.lowerBound + nested.lowerBound ..< $0.upperBound + nested.lowerBound }
        }
        let publish: Result<[TopicPattern], AuthError> = pub.map { Grant.patterns(UnsafeRawBufferPointer(rebasing: payload[$0])) } ?? .success([])
        let subscribe: Result<[TopicPattern], AuthError> = sub.map { Grant.patterns(UnsafeRawBufferPointer(rebasing: payload[$0])) } ?? .success([])
        switch (publish, subscribe) {
        case (.failure(let error), _), (_, .failure(let error)):
            return .failure(error)
        case (.success(let publish), .success(let subscribe)):
            return .success(Credential(kind: .jwt, grant: Grant(publish: publish, subscribe: subscribe),
                                       expiresAt: (exp ?? nil).map { $0 + leeway }))
        }
    }

    /// A NumericDate (RFC 7519 §2): a JSON number of seconds, fractions allowed, finite.
    static func numericDate(_ raw: UnsafeRawBufferPointer) -> Double? {
        guard let first = raw.first, first == 0x2D || (0x30...0x39).contains(first),
              let value = Double(String(decoding: raw, as: UTF8.self)), value.isFinite else { return nil }
        return value
    }
}

/// The claims `JWTVerifier` reads, as byte ranges of the payload; the first duplicate seen.
struct ClaimMembers {
    var exp: Range<Int>?
    var nbf: Range<Int>?
    var bus: Range<Int>?
    var flatPub: Range<Int>?
    var flatSub: Range<Int>?
    var duplicate: String?

    mutating func record(key: UnsafeRawBufferPointer, range: Range<Int>) {
        if JSON.keyEquals(key, "exp") { Self.put(&exp, range, "exp", &duplicate) }
        else if JSON.keyEquals(key, "nbf") { Self.put(&nbf, range, "nbf", &duplicate) }
        else if JSON.keyEquals(key, "bus") { Self.put(&bus, range, "bus", &duplicate) }
        else if JSON.keyEquals(key, "bus.pub") { Self.put(&flatPub, range, "bus.pub", &duplicate) }
        else if JSON.keyEquals(key, "bus.sub") { Self.put(&flatSub, range, "bus.sub", &duplicate) }
    }

    /// Inside `"bus": {...}`: `pub` and `sub`.
    mutating func recordNested(key: UnsafeRawBufferPointer, range: Range<Int>) {
        if JSON.keyEquals(key, "pub") { Self.put(&flatPub, range, "pub", &duplicate) }
        else if JSON.keyEquals(key, "sub") { Self.put(&flatSub, range, "sub", &duplicate) }
    }

    private static func put(_ slot: inout Range<Int>?, _ range: Range<Int>, _ name: String, _ duplicate: inout String?) {
        if slot != nil { duplicate = duplicate ?? name }
        slot = range
    }
}
