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
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0) // 24 bytes ≥ the 20 digits of UInt64.max
        Swift.withUnsafeMutableBytes(of: &digits) { buffer in
            var remaining = value
            var start = buffer.count
            repeat {
                start -= 1
                buffer[start] = UInt8(truncatingIfNeeded: remaining % 10) &+ 0x30
                remaining /= 10
            } while remaining != 0
            self.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[start...]))
        }
    }

    /// Appends `value` in decimal, with a `-` when negative.
    mutating func appendDecimal(_ value: Int) {
        if value < 0 { append(0x2D) }
        appendDecimal(UInt64(value.magnitude))
    }

    /// `,"recovered":bool` and, when given, `,"earliest":{"epoch":…,"seq":N}`: how complete
    /// a resume or a history answer is (Protocol.md "History and resume").
    mutating func appendRecovery(recovered: Bool, earliest: (epoch: String, seq: UInt64)?) {
        appendLiteral(recovered ? #","recovered":true"# : #","recovered":false"#)
        guard let earliest else { return }
        appendLiteral(#","earliest":{"epoch":"#)
        appendQuoted(earliest.epoch)
        appendLiteral(#","seq":"#)
        appendDecimal(earliest.seq)
        append(0x7D)
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
