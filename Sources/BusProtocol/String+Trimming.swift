extension StringProtocol where SubSequence == Substring {
    /// The text without leading and trailing spaces and tabs: the blanks of HTTP's OWS
    /// (RFC 9110 §5.6.3), of NATS control lines and of comma-separated option values. The one
    /// trimmer of the server side, which carries no Foundation (so no `trimmingCharacters`).
    public var trimmingWhitespace: Substring {
        var text = self[...]
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
