import BusProtocol
import Testing

/// Where config file errors point: lines and columns from 1, columns in characters.
@Suite struct TextPositionTests {
    @Test(arguments: [
        ("", 0, 1, 1), ("abc", 0, 1, 1), ("abc", 2, 1, 3), ("abc", 3, 1, 4),
        ("a\nb", 2, 2, 1), ("a\n\nbc", 5, 3, 3), ("é!", 2, 1, 2), ("日本x", 6, 1, 3), ("\té", 3, 1, 3),
    ])
    func offsetsBecomeLineAndColumn(text: String, offset: Int, line: Int, column: Int) {
        #expect(TextPosition(offset: offset, in: Array(text.utf8)) == TextPosition(line: line, column: column))
    }

    @Test func describesItselfForMessages() {
        #expect(TextPosition(line: 3, column: 12).description == "line 3, column 12")
    }
}

/// The server side's one trimmer (no Foundation there): spaces and tabs, both ends only.
@Suite struct TrimmingTests {
    @Test(arguments: [("", ""), ("  ", ""), (" a ", "a"), ("\ta b\t ", "a b"), ("a", "a"), ("\na\n", "\na\n"), ("\u{A0}a", "\u{A0}a")])
    func trimsSpacesAndTabs(text: String, trimmed: String) {
        #expect(text.trimmingWhitespace == trimmed[...])
        #expect(text[...].trimmingWhitespace == trimmed[...])
    }
}
