/// libFuzzer target for the auth path: JWT verification and the static-token config parser
/// (built with the Auth sources and those it uses; see fuzz/run.sh).
///
/// Everything here reads attacker bytes before anyone is authenticated. Checks: nothing
/// crashes; the raw input verifies only if it carries the genuine MAC of its own first two
/// segments (no forgery); an input split at its first 0x00 into a header and claims, then
/// signed with the secret, verifies only when the header's `alg` is HS256, and then grants no
/// more patterns than allowed. The whole input is also read as a verified payload (claims
/// reader, then `ExpiryDeadline`), so every numeric shape of `exp` and `nbf` (integers,
/// fractions, exponents, negatives, 1e308, -0, long digit strings) reaches the expiry
/// arithmetic, under several wall and monotonic clocks: it must never trap, and the deadline
/// is never before the monotonic now, and equal to it once the credential has expired.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAuth(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let secret = Array("fuzz-secret-0123456789abcdef0123".utf8)
    let verifier = JWTVerifier(secret: secret, leeway: 5)
    let now = 1_800_000_000.0

    let raw = String(decoding: input, as: UTF8.self)
    if case .success = verifier.verify(raw, now: now) {
        let bytes = Array(raw.utf8)
        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") }
        precondition(dots.count == 2, "verified a token without three segments")
        let mac = JWTSigner.segment(HMACSHA256.mac(key: secret, message: bytes[..<dots[1]]))
        precondition(String(decoding: bytes[(dots[1] + 1)...], as: UTF8.self) == mac, "verified a forged signature")
    }

    if let zero = input.firstIndex(of: 0) {
        let header = String(decoding: input[..<zero], as: UTF8.self)
        let claims = String(decoding: input[(zero + 1)...], as: UTF8.self)
        let token = JWTSigner.sign(claims: claims, secret: secret, header: header)
        if case .success(let credential) = verifier.verify(token, now: now) {
            precondition(header.contains("HS256") || header.contains("\\u"), "accepted a header without HS256")
            precondition(credential.grant.publish.count <= Grant.maxPatterns && credential.grant.subscribe.count <= Grant.maxPatterns)
            if let expiresAt = credential.expiresAt {
                precondition(expiresAt > now, "accepted an expired token")
                checkDeadline(expiresAt: expiresAt, wall: now)
            }
        }
    }

    input.withUnsafeBytes { payload in
        for wall in [now, 0, -1e308, 1e308, 4e18] {
            guard case .success(let credential) = verifier.readClaims(payload, now: wall),
                  let expiresAt = credential.expiresAt else { continue }
            precondition(expiresAt > wall, "accepted an expired token")
            checkDeadline(expiresAt: expiresAt, wall: wall)
        }
    }

    if let tokens = try? StaticTokens(json: input) {
        precondition(tokens.count <= input.count / StaticTokens.minimumLength, "more tokens than the input can hold")
    }
    return 0
}

/// The deadline of a credential valid until `expiresAt`, from several monotonic clocks.
func checkDeadline(expiresAt: Double, wall: Double) {
    for monotonic: UInt64 in [0, 1_000_000_000, UInt64.max / 2, UInt64.max - 1] {
        let deadline = ExpiryDeadline.monotonicNanos(expiresAt: expiresAt, wallNow: wall, monotonicNow: monotonic)
        precondition(deadline >= monotonic, "deadline before now")
        if !(expiresAt > wall) { precondition(deadline == monotonic, "an expired credential got a later deadline") }
        let nanos = ExpiryDeadline.nanoseconds(expiresAt - wall)
        precondition(deadline == (UInt64.max - monotonic < nanos ? UInt64.max : monotonic + nanos), "deadline is not now + remaining")
    }
}
