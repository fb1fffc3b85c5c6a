/// Small appenders shared by the envelope encoders. Numbers are written digit by digit into
/// the output, never through `String(describing:)`, so an encoder allocates only its result.
extension Array where Element == UInt8 {
    /// Appends the bytes of a literal (keys, fixed fragments of an envelope).
    @inline(__always)
    mutating func appendLiteral(_ literal: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Appends `value` in decimal, as a JSON number.
    mutating func appendDecimal(_ value: UInt64) {
        appendWritten { $0.decimal(value) }
    }

    /// Appends `value` in decimal, with a `-` when negative.
    mutating func appendDecimal(_ value: Int) {
        appendWritten { $0.decimal(value) }
    }

    /// `,"recovered":bool` and, when given, `,"earliest":{"epoch":…,"seq":N}` (see
    /// `EnvelopeWriter.recovery`).
    mutating func appendRecovery(recovered: Bool, earliest: (epoch: String, seq: UInt64)?) {
        appendWritten { $0.recovery(recovered: recovered, earliest: earliest) }
    }

    /// `{"topic":…,"epoch":…,"seq":N}`: a topic position, as resumes and notices carry them.
    mutating func appendPosition(topic: String, epoch: String, seq: UInt64) {
        appendLiteral(#"{"topic":"#)
        appendQuoted(topic)
        appendLiteral(#","epoch":"#)
        appendQuoted(epoch)
        appendLiteral(#","seq":"#)
        appendDecimal(seq)
        append(0x7D)
    }

    /// Appends a string as a JSON string token.
    @inline(__always)
    mutating func appendQuoted(_ text: String) {
        JSONText.appendQuoted(text, to: &self)
    }
}
