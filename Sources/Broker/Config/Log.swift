import BusProtocol

/// Structured logging: one line per event, logfmt (`time=… level=info msg="…" key=value`) or
/// JSON, to standard error. Never called per message at the default level.
public struct Log: Sendable {
    public enum Level: Int, Sendable, Comparable, CaseIterable {
        case debug, info, warn, error
        public static func < (a: Level, b: Level) -> Bool { a.rawValue < b.rawValue }
        public var name: String { ["debug", "info", "warn", "error"][rawValue] }
        public init?(name: String) {
            guard let level = Level.allCases.first(where: { $0.name == name.lowercased() }) else { return nil }
            self = level
        }
    }
    public enum Format: String, Sendable { case logfmt, json }

    public var level: Level
    public var format: Format

    public init(level: Level = .info, format: Format = .logfmt) {
        self.level = level
        self.format = format
    }

    /// A logger that prints nothing (tests).
    public static let silent = Log(level: .init(rawValue: 99) ?? .error, format: .logfmt)

    public func debug(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [(String, String)] = []) {
        if level <= .debug { emit(.debug, message(), fields()) }
    }
    public func info(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [(String, String)] = []) {
        if level <= .info { emit(.info, message(), fields()) }
    }
    public func warn(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [(String, String)] = []) {
        if level <= .warn { emit(.warn, message(), fields()) }
    }
    public func error(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [(String, String)] = []) {
        if level <= .error { emit(.error, message(), fields()) }
    }

    private func emit(_ level: Level, _ message: String, _ fields: [(String, String)]) {
        let time = Sys.wallClockISO8601()
        var line: String
        switch format {
        case .logfmt:
            line = "time=\(time) level=\(level.name) msg=\(Self.logfmtValue(message))"
            for (key, value) in fields { line += " \(key)=\(Self.logfmtValue(value))" }
        case .json:
            line = "{\"time\":\"\(time)\",\"level\":\"\(level.name)\",\"msg\":\(JSONText.quoted(message))"
            for (key, value) in fields { line += ",\(JSONText.quoted(key)):\(JSONText.quoted(value))" }
            line += "}"
        }
        Sys.writeStandardError(line + "\n")
    }

    static func logfmtValue(_ value: String) -> String {
        let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0.isNewline }
        guard needsQuotes else { return value }
        return JSONText.quoted(value)
    }
}
