/// HMAC-SHA256 (RFC 2104, with SHA-256 as in RFC 4231), the MAC of JWT HS256 (RFC 7518 §3.2).
/// Tested with RFC 4231 test cases 1–7.
public enum HMACSHA256 {
    /// The 32-byte MAC of `message` under `key`. A key longer than the block is hashed first;
    /// any key length is accepted here (RFC 7518 §3.2 asks for at least 32 bytes: the
    /// configuration enforces that, not the primitive).
    public static func mac(key: some Collection<UInt8>, message: some Sequence<UInt8>) -> [UInt8] {
        var block = key.count > SHA256.blockSize ? SHA256.hash(key) : Array(key)
        block += [UInt8](repeating: 0, count: SHA256.blockSize - block.count)
        var inner = SHA256()
        inner.update(block.map { $0 ^ 0x36 })
        inner.update(message)
        var outer = SHA256()
        outer.update(block.map { $0 ^ 0x5c })
        outer.update(inner.finalize())
        return outer.finalize()
    }
}
