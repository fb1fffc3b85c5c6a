import BusProtocol
import Foundation

/// A JSON config file: one object whose keys are the option names of the flags
/// (`{"port": 9000, "max-message-size": 2097152, "host": ["127.0.0.1", "::1"]}`), with nested
/// objects for sections (`{"auth": {...}}`, for options declared `in: "auth"`). Unknown keys
/// are errors, so a misspelt option never passes silently.
///
/// Read with Foundation's `JSONSerialization`: start-up only, never on the data path.
public struct ConfigFile: Sendable {
    public let path: String
    public let contents: [UInt8]

    public init(path: String, contents: [UInt8]) {
        self.path = path
        self.contents = contents
    }

    /// Reads the file; a missing or unreadable file is a configuration error.
    init(readingPath path: String) throws(ConfigError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"
            throw ConfigError(option: ServerOptions.configFlag, message: "'\(path)' \(reason)")
        }
        self.init(path: path, contents: [UInt8](data))
    }

    /// The file's settings as (option, value in flag form), in a stable order (sorted keys).
    func settings(for options: [ServerOptions.Option]) throws(ConfigError) -> [(ServerOptions.Option, String)] {
        let root: Any
        do { root = try JSONSerialization.jsonObject(with: Data(contents)) } catch {
            throw fileError("", "is not valid JSON" + (Self.whereInvalid(contents).map { ": \($0)" } ?? ""))
        }
        guard let object = root as? [String: Any] else { throw fileError("", "must hold one JSON object") }
        let sections = Set(options.compactMap(\.section))
        var settings: [(ServerOptions.Option, String)] = []
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            if sections.contains(key) {
                guard let members = value as? [String: Any] else { throw fileError(key, "must be an object") }
                for (inner, innerValue) in members.sorted(by: { $0.key < $1.key }) {
                    guard let option = options.first(where: { $0.section == key && $0.key == inner }) else {
                        throw fileError("\(key).\(inner)", "unknown option")
                    }
                    settings.append((option, try text(innerValue, for: option)))
                }
            } else if let option = options.first(where: { $0.section == nil && $0.key == key }) {
                settings.append((option, try text(value, for: option)))
            } else {
                throw fileError(key, key == ServerOptions.configFlag ? "a config file cannot name another" : "unknown option")
            }
        }
        return settings
    }

    /// The JSON value in the form the flag takes, or an error saying what JSON was expected.
    private func text(_ value: Any, for option: ServerOptions.Option) throws(ConfigError) -> String {
        let isBoolean = (value as? NSNumber).map { String(cString: $0.objCType) == "c" } ?? false
        switch option.kind {
        case .integer, .seconds:
            guard let number = value as? NSNumber, !isBoolean else {
                throw fileError(option, option.kind == .integer ? "must be a whole number" : "must be a number of seconds")
            }
            let type = String(cString: number.objCType)
            if type == "d" || type == "f" {
                let double = number.doubleValue
                // 2.0 or 1e3 is a whole number; 1.5 is not, and the option's parser says so.
                if option.kind == .integer, double == double.rounded(), abs(double) < 9e15 { return String(Int64(double)) }
                return String(double)
            }
            return number.stringValue
        case .text:
            guard let string = value as? String else { throw fileError(option, "must be a string") }
            return string
        case .list:
            if let string = value as? String { return string }
            guard let array = value as? [Any], let strings = array as? [String] else {
                throw fileError(option, "must be a string or an array of strings")
            }
            return strings.joined(separator: ",")
        case .json:
            guard let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys]) else {
                throw fileError(option, "must be JSON")
            }
            return String(decoding: data, as: UTF8.self)
        }
    }

    private func fileError(_ option: ServerOptions.Option, _ message: String) -> ConfigError {
        ConfigError(option: option.name, message: message, source: .file(path: path, key: option.fileKey))
    }

    /// `line L, column C` (1-based, columns in bytes) of the first byte our JSON scanner
    /// refuses, so an operator can find a typo in a long file.
    static func whereInvalid(_ contents: [UInt8]) -> String? {
        let offset: Int
        switch contents.withUnsafeBytes({ JSON.valueError($0) }) {
        case .syntax(let at)?, .tooDeep(let at, _)?: offset = at
        default: return nil
        }
        let before = contents.prefix(offset)
        let line = before.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
        let column = before.count - (before.lastIndex(of: 0x0A).map { $0 + 1 } ?? 0) + 1
        return offset >= contents.count ? "the file ends too early (line \(line), column \(column))" : "line \(line), column \(column)"
    }

    private func fileError(_ key: String, _ message: String) -> ConfigError {
        ConfigError(option: key.isEmpty ? ServerOptions.configFlag : key, message: message,
                    source: .file(path: path, key: key.isEmpty ? nil : key))
    }
}
