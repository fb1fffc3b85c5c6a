import Frames
import Testing

/// Query numbers are digits only (issue 13: `Int(String)` accepted `+5` and `-0`).
struct DecimalNumberTests {
    @Test(arguments: [
        ("0", 0 as UInt64?), ("7", 7), ("0042", 42), ("18446744073709551615", .max),
        ("18446744073709551616", nil), ("99999999999999999999999", nil), ("", nil), ("+5", nil), ("-0", nil), ("-1", nil),
        (" 5", nil), ("5 ", nil), ("0x10", nil), ("1e3", nil), ("1.0", nil), ("١", nil), ("5_000", nil),
    ])
    func unsignedIsDigitsOnly(text: String, value: UInt64?) {
        #expect(DecimalNumber.unsigned(text) == value)
    }

    @Test(arguments: [
        ("100", 100 as UInt64?), ("18446744073709551616", .max), ("99999999999999999999999", .max),
        ("", nil), ("+5", nil), ("-0", nil), ("1 ", nil),
    ])
    func saturatingCapsHugeNumbers(text: String, value: UInt64?) {
        #expect(DecimalNumber.saturating(text) == value)
    }
}
