import BusProtocol

/// A JSON config file: one object whose keys are the option names of the flags
/// (`{"port": 9000, "max-message-size": 2097152, "host": ["127.0.0.1", "::1"]}`), with nested
/// objects for sections (`{"auth": {...}}`, for options declared `in: "auth"`). Unknown and
/// repeated keys are errors, so a misspelt option never passes silently.
///
/// Read with BusProtocol's JSON scanner, the one that checks envelopes: the server carries no
/// Foundation (its libraries were most of the process's memory), and one parser serves both.
/// Every error names the file, the line and column, and what was expected there.
public struct ConfigFile: Sendable {
    public let path: String
    public let contents: [UInt8]

    public init(path: String, contents: [UInt8]) {
        self.path = path
        self.contents = contents
    }

    /// Reads the file; a missing or unreadable file is a configuration error.
    init(readingPath path: String) throws(ConfigError) {
        do throws(Sys.FileReadFailure) {
            self.init(path: path, contents: try Sys.readWholeFile(path))
        } catch {
            throw ConfigError(option: ServerOptions.configFlag, message: "'\(path)' \(error)")
        }
    }

    /// One setting of the file: the option, its value in flag form, and where the value is.
    struct Setting {
        let option: ServerOptions.Option
        let value: String
        let position: TextPosition
    }

    /// The file's settings, in the order the file gives them.
    func settings(for options: [ServerOptions.Option]) throws(ConfigError) -> [Setting] {
        let sections = Set(options.compactMap(\.section))
        var settings: [Setting] = []
        for member in try members(of: nil) {
            if sections.contains(member.name) {
                guard contents[member.value.lowerBound] == 0x7B else {
                    throw error(member.name, at: member.value.lowerBound, "must be an object")
                }
                for inner in try members(of: member) {
                    let key = "\(member.name).\(inner.name)"
                    guard let option = options.first(where: { $0.section == member.name && $0.key == inner.name }) else {
                        throw error(key, at: inner.nameOffset, "unknown option")
                    }
                    settings.append(Setting(option: option, value: try text(inner.value, for: option), position: position(inner.value.lowerBound)))
                }
            } else if let option = options.first(where: { $0.section == nil && $0.key == member.name }) {
                settings.append(Setting(option: option, value: try text(member.value, for: option), position: position(member.value.lowerBound)))
            } else {
                let message = member.name == ServerOptions.configFlag ? "a config file cannot name another" : "unknown option"
                throw error(member.name, at: member.nameOffset, message)
            }
        }
        return settings
    }

    /// A member of the file's object (or of a section's), with byte offsets into `contents`.
    private struct Member {
        let name: String
        let nameOffset: Int
        let value: Range<Int>
    }

    /// The members of the file's object (`section` nil) or of a section's object, in file
    /// order. The whole file is checked before any member is looked at, so a typo at the end
    /// is reported as a typo, not as whatever the first members said.
    private func members(of section: Member?) throws(ConfigError) -> [Member] {
        let base = section?.value.lowerBound ?? 0
        let range = section?.value ?? 0 ..< contents.count
        var members: [Member] = []
        var failure: JSONError?
        contents.withUnsafeBytes { file in
            let bytes = UnsafeRawBufferPointer(rebasing: file[range])
            do throws(JSONError) {
                try JSON.scanObject(bytes) { key, value in
                    // The key's bytes sit between quotes inside `bytes`.
                    let nameOffset = base + (key.baseAddress.map { $0 - bytes.baseAddress! } ?? 0) - 1
                    var name = ""
                    if let decoded = JSON.decodeString(UnsafeRawBufferPointer(rebasing: file[nameOffset ..< nameOffset + key.count + 2])) {
                        name = decoded
                    }
                    members.append(Member(name: name, nameOffset: nameOffset, value: base + value.lowerBound ..< base + value.upperBound))
                }
            } catch {
                failure = error
            }
        }
        if let failure { throw syntaxError(failure) }
        var seen: [String: Int] = [:]
        for member in members {
            let key = section.map { "\($0.name).\(member.name)" } ?? member.name
            if let first = seen[member.name] {
                throw error(key, at: member.nameOffset, "set twice (first at \(position(first)))")
            }
            seen[member.name] = member.nameOffset
        }
        return members
    }

    /// The JSON value at `range` in the form the flag takes, or an error saying what JSON was expected.
    private func text(_ range: Range<Int>, for option: ServerOptions.Option) throws(ConfigError) -> String {
        let raw = String(decoding: contents[range], as: UTF8.self)
        let first = contents[range.lowerBound]
        switch option.kind {
        case .integer, .seconds:
            guard first == 0x2D || (0x30...0x39).contains(first) else {
                throw error(option, at: range.lowerBound, option.kind == .integer ? "must be a whole number" : "must be a number of seconds")
            }
            // 2.0 or 1e3 is a whole number; 1.5 is not, and the option's parser says so.
            if option.kind == .integer, raw.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }), let double = Double(raw) {
                if double == double.rounded(), abs(double) < 9e15 { return String(Int64(double)) }
                return String(double)
            }
            return raw
        case .text:
            return try string(range, for: option, "must be a string")
        case .list:
            if first == 0x22 { return try string(range, for: option, "must be a string or an array of strings") }
            guard first == 0x5B else { throw error(option, at: range.lowerBound, "must be a string or an array of strings") }
            var elements: [Range<Int>] = []
            contents.withUnsafeBytes { file in
                try? JSON.scanArray(UnsafeRawBufferPointer(rebasing: file[range])) { element in
                    elements.append(range.lowerBound + element.lowerBound ..< range.lowerBound + element.upperBound)
                }
            }
            var strings: [String] = []
            for element in elements {
                strings.append(try string(element, for: option, "must be a string or an array of strings"))
            }
            return strings.joined(separator: ",")
        case .json:
            return raw
        }
    }

    /// The string at `range`, unescaped; `message` if it is another kind of value.
    private func string(_ range: Range<Int>, for option: ServerOptions.Option, _ message: String) throws(ConfigError) -> String {
        guard contents[range.lowerBound] == 0x22 else { throw error(option, at: range.lowerBound, message) }
        let decoded = contents.withUnsafeBytes { JSON.decodeString(UnsafeRawBufferPointer(rebasing: $0[range])) }
        // Only a `\u` escape of a lone surrogate gets here: valid JSON, but no text.
        guard let decoded else { throw error(option, at: range.lowerBound, "must be Unicode text (a \\u escape names half a surrogate pair)") }
        return decoded
    }

    /// The scanner's refusal as a message that says where and what was expected.
    private func syntaxError(_ failure: JSONError) -> ConfigError {
        switch failure {
        case .syntax(let offset, let expected) where offset >= contents.count:
            return error("", at: offset, "the file ends too early: expected \(expected.description)")
        case .syntax(let offset, let expected):
            return error("", at: offset, "expected \(expected.description), found \(Self.describe(contents[offset]))")
        case .tooDeep(let offset, let maxDepth):
            return error("", at: offset, "nested deeper than \(maxDepth) levels")
        case .notObject:
            let start = contents.firstIndex { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } ?? contents.count
            guard start < contents.count else { return error("", at: nil, "is empty: expected one JSON object ('{')") }
            return error("", at: start, "expected one JSON object ('{'), found \(Self.describe(contents[start]))")
        }
    }

    /// A byte as an error message quotes it.
    static func describe(_ byte: UInt8) -> String {
        switch byte {
        case 0x0A, 0x0D: "the end of the line"
        case 0x09: "a tab"
        case 0x20: "a space"
        case 0x21..<0x7F: "'\(Character(Unicode.Scalar(byte)))'"
        case ..<0x20, 0x7F: "control character \(byte)"
        default: "a non-ASCII character"
        }
    }

    private func position(_ offset: Int) -> TextPosition { TextPosition(offset: offset, in: contents) }

    private func error(_ option: ServerOptions.Option, at offset: Int, _ message: String) -> ConfigError {
        ConfigError(option: option.name, message: message, source: .file(path: path, key: option.fileKey, at: position(offset)))
    }

    /// An error about `key` (empty: the file as a whole) at byte `offset`.
    private func error(_ key: String, at offset: Int?, _ message: String) -> ConfigError {
        ConfigError(option: key.isEmpty ? ServerOptions.configFlag : key, message: message,
                    source: .file(path: path, key: key.isEmpty ? nil : key, at: offset.map(position)))
    }
}
