/// Whole numbers a client writes in a URL query (`limit=100`, `since=1207`): ASCII digits
/// only, nothing else.
///
/// `Int(_: String)` and `UInt64(_: String)` accept a sign, so `+5` and `-0` passed as numbers
/// (issue 13). Here a sign, a space, a `0x` or an empty string is not a number; leading zeros
/// are harmless and allowed.
public enum DecimalNumber {
    /// The value, or nil when `text` is not all digits or exceeds `UInt64.max`.
    public static func unsigned(_ text: some StringProtocol) -> UInt64? {
        let digits = text.utf8
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard HTTPSyntax.isDigit(byte) else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }

    /// The same, but a number past `UInt64.max` is `UInt64.max`: for bounds the server caps
    /// anyway (`limit`), where a huge number means "as many as you allow".
    public static func saturating(_ text: some StringProtocol) -> UInt64? {
        let digits = text.utf8
        guard !digits.isEmpty, digits.allSatisfy(HTTPSyntax.isDigit) else { return nil }
        return unsigned(text) ?? .max
    }
}
