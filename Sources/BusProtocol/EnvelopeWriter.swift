/// Writes the pieces of an envelope at a pointer, or, given none, only counts them: the same
/// calls run twice, once to size the destination and once to fill it, so an envelope goes
/// straight into the memory that is sent (the server's frame) with no array in between.
struct EnvelopeWriter {
    private let base: UnsafeMutableRawPointer?
    /// Bytes written (or counted) so far.
    private(set) var count = 0
    /// Some string so far needed escapes.
    private(set) var escaped = false
    /// The counting pass of the same calls found no string to escape: strings are copied
    /// between their quotes without being scanned again.
    private let plain: Bool

    /// Writes at `base`, which must hold what a counting pass of the same calls counted
    /// (`plain`: that pass's `escaped` was false); nil counts only.
    init(_ base: UnsafeMutableRawPointer?, plain: Bool = false) {
        self.base = base
        self.plain = plain && base != nil
    }

    mutating func literal(_ literal: StaticString) {
        base?.advanced(by: count).copyMemory(from: literal.utf8Start, byteCount: literal.utf8CodeUnitCount)
        count += literal.utf8CodeUnitCount
    }

    mutating func byte(_ byte: UInt8) {
        base?.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Bytes copied verbatim (a request's raw JSON id).
    mutating func raw(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { source in
            if let base, let from = source.baseAddress { base.advanced(by: count).copyMemory(from: from, byteCount: source.count) }
            count += source.count
        }
    }

    /// `text` as a JSON string token (see `JSONText`).
    mutating func quoted(_ text: String) {
        // Read where it lies: the `var` copy `withUTF8` needs retained and released the
        // string's storage, twice per string of every ack (a counting and a writing pass).
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { quoted(utf8: UnsafeRawBufferPointer($0)) }
        guard done == nil else { return }
        var text = text
        text.withUTF8 { quoted(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// UTF-8 bytes as a JSON string token (see `JSONText.appendQuoted(utf8:to:)`).
    mutating func quoted(utf8: UnsafeRawBufferPointer) {
        if plain, let base {
            base.storeBytes(of: 0x22, toByteOffset: count, as: UInt8.self)
            if let from = utf8.baseAddress { base.advanced(by: count + 1).copyMemory(from: from, byteCount: utf8.count) }
            base.storeBytes(of: 0x22, toByteOffset: count + 1 + utf8.count, as: UInt8.self)
            count += utf8.count + 2
            return
        }
        let written = JSONText.writeQuoted(utf8: utf8, to: base?.advanced(by: count))
        if written != utf8.count + 2 { escaped = true }
        count += written
    }

    /// `value` in decimal, as a JSON number, digit by digit (never through `String`).
    mutating func decimal(_ value: UInt64) {
        var digits = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        if let base {
            rest = value
            for offset in stride(from: count + digits - 1, through: count, by: -1) {
                base.storeBytes(of: UInt8(truncatingIfNeeded: rest % 10) &+ 0x30, toByteOffset: offset, as: UInt8.self)
                rest /= 10
            }
        }
        count += digits
    }

    /// `value` in decimal, with a `-` when negative.
    mutating func decimal(_ value: Int) {
        if value < 0 { byte(0x2D) }
        decimal(UInt64(value.magnitude))
    }

    /// `,"recovered":bool` and, when given, `,"earliest":{"epoch":…,"seq":N}`: how complete
    /// a resume or a history answer is (Protocol.md "History and resume").
    mutating func recovery(recovered: Bool, earliest: (epoch: String, seq: UInt64)?) {
        literal(recovered ? #","recovered":true"# : #","recovered":false"#)
        guard let earliest else { return }
        literal(#","earliest":{"epoch":"#)
        quoted(earliest.epoch)
        literal(#","seq":"#)
        decimal(earliest.seq)
        byte(0x7D)
    }
}

extension Array where Element == UInt8 {
    /// Appends what `write` writes: measured by a counting pass first, then written in place.
    mutating func appendWritten(_ write: (inout EnvelopeWriter) -> Void) {
        var counter = EnvelopeWriter(nil)
        write(&counter)
        let start = count
        append(contentsOf: repeatElement(0, count: counter.count))
        withUnsafeMutableBytes { bytes in
            var writer = EnvelopeWriter(bytes.baseAddress! + start, plain: !counter.escaped)
            write(&writer)
        }
    }
}

/// An ack envelope (`ServerEnvelope.ack`: its fields, in its order) that knows its length and
/// writes itself into memory of that length: the server makes one for every subscribe,
/// straight into the frame it sends (issue 18). `ServerEnvelope.ack` is these bytes as an array.
public struct AckEnvelope {
    private let id: [UInt8]?
    private let op: String
    private let topic: String
    private let epoch: String?
    private let seq: UInt64?
    private let subscribers: Int?
    private let recovered: Bool?
    private let earliest: (epoch: String, seq: UInt64)?
    /// The envelope's length in bytes.
    public private(set) var count = 0
    /// No string in it needs escaping (found while counting).
    private var plain = false

    public init(id: [UInt8]?, op: String, topic: String, epoch: String? = nil, seq: UInt64? = nil, subscribers: Int? = nil,
                recovered: Bool? = nil, earliest: (epoch: String, seq: UInt64)? = nil) {
        self.id = id
        self.op = op
        self.topic = topic
        self.epoch = epoch
        self.seq = seq
        self.subscribers = subscribers
        self.recovered = recovered
        self.earliest = earliest
        var counter = EnvelopeWriter(nil)
        encode(&counter)
        count = counter.count
        plain = !counter.escaped
    }

    /// Writes the envelope's `count` bytes at `destination`.
    public func write(to destination: UnsafeMutableRawPointer) {
        var writer = EnvelopeWriter(destination, plain: plain)
        encode(&writer)
    }

    private func encode(_ writer: inout EnvelopeWriter) {
        writer.literal(#"{"type":"ack""#)
        if let id {
            writer.literal(#","id":"#)
            writer.raw(id)
        }
        writer.literal(#","op":"#)
        writer.quoted(op)
        writer.literal(#","topic":"#)
        writer.quoted(topic)
        if let epoch {
            writer.literal(#","epoch":"#)
            writer.quoted(epoch)
        }
        if let seq {
            writer.literal(#","seq":"#)
            writer.decimal(seq)
        }
        if let subscribers {
            writer.literal(#","subscribers":"#)
            writer.decimal(subscribers)
        }
        if let recovered { writer.recovery(recovered: recovered, earliest: earliest) }
        writer.byte(0x7D)
    }
}
