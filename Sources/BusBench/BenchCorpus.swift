import SystemCalls

/// Realistic JSON messages for the benchmark (`--payloads`, bench/payloads/): one JSON value
/// a line, from a `.jsonl` file or every `.jsonl` file of a directory, published in turn,
/// round-robin. The files are interleaved in proportion to their lengths, so every stretch of
/// a run sees the same mix (one file after another made the large documents arrive in a
/// burst, which measured the burst rather than the mix).
package final class BenchCorpus {
    package let messages: [[UInt8]]
    private var next = 0

    package init(messages: [[UInt8]]) {
        precondition(!messages.isEmpty, "an empty corpus")
        self.messages = messages
    }

    /// Reads `path`: a `.jsonl` file, or a directory of them. Blank lines are skipped.
    package convenience init(path: String) throws {
        var files: [String] = []
        if let names = BenchSys.directoryEntries(path) {
            files = names.filter { $0.hasSuffix(".jsonl") }.sorted().map { path + "/" + $0 }
        } else {
            files = [path]
        }
        var keyed: [(key: Double, file: Int, message: [UInt8])] = []
        for (number, file) in files.enumerated() {
            guard let bytes = BenchSys.readFile(file) else { throw BenchFailure("cannot read \(file)") }
            let lines = bytes.split(separator: UInt8(ascii: "\n")).filter { !$0.isEmpty }
            for (index, line) in lines.enumerated() {
                keyed.append(((Double(index) + 0.5) / Double(lines.count), number, Array(line)))
            }
        }
        guard !keyed.isEmpty else { throw BenchFailure("no JSON lines in \(path)") }
        keyed.sort { ($0.key, $0.file) < ($1.key, $1.file) }
        self.init(messages: keyed.map(\.message))
    }

    /// The next message, round-robin.
    func take() -> [UInt8] {
        defer { next = (next + 1) % messages.count }
        return messages[next]
    }

    /// Mean bytes per message.
    package var meanSize: Double { Double(messages.reduce(0) { $0 + $1.count }) / Double(messages.count) }
}
