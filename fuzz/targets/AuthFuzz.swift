/// libFuzzer target for the auth path: JWT verification and the static-token config parser
/// (built with the Auth sources and those it uses; see fuzz/run.sh).
///
/// Everything here reads attacker bytes before anyone is authenticated. Checks: nothing
/// crashes; the raw input verifies only if it carries the genuine MAC of its own first two
/// segments (no forgery); an input split at its first 0x00 into a header and claims, then
/// signed with the secret, verifies only when the header's `alg` is HS256, and then grants no
/// more patterns than allowed.

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
            if let expiresAt = credential.expiresAt { precondition(expiresAt > now, "accepted an expired token") }
        }
    }

    if let tokens = try? StaticTokens(json: input) {
        precondition(tokens.count <= input.count / StaticTokens.minimumLength, "more tokens than the input can hold")
    }
    return 0
}
