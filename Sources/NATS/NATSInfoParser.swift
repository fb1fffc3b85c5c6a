/// Reads the few `INFO` fields we need without a JSON library: `INFO` is produced by the
/// server in a fixed flat shape (`"max_payload":1048576`, `"headers":true`), so a key scan is
/// enough and keeps this module free of Foundation.
enum NATSInfoParser {
    static func parse(_ json: String) -> NATSInfo {
        NATSInfo(maxPayload: integer(after: "\"max_payload\"", in: json) ?? 1_048_576,
                 headers: literal(after: "\"headers\"", in: json) == "true",
                 serverName: string(after: "\"server_name\"", in: json))
    }

    /// The raw value text after `"key":`, up to `,` or `}` (strings are not expected to hold either here).
    private static func rawValue(after key: String, in json: String) -> Substring? {
        guard let range = json.firstRange(of: key) else { return nil }
        var rest = json[range.upperBound...].drop { $0 == " " }
        guard rest.first == ":" else { return nil }
        rest = rest.dropFirst().drop { $0 == " " }
        return rest.prefix { $0 != "," && $0 != "}" }
    }

    private static func integer(after key: String, in json: String) -> Int? {
        rawValue(after: key, in: json).flatMap { Int($0.trimmingSpaces) }
    }

    private static func literal(after key: String, in json: String) -> String? {
        rawValue(after: key, in: json).map { String($0.trimmingSpaces) }
    }

    private static func string(after key: String, in json: String) -> String? {
        guard let value = rawValue(after: key, in: json)?.trimmingSpaces, value.count >= 2,
              value.first == "\"", value.last == "\"" else { return nil }
        return String(value.dropFirst().dropLast())
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var value = self
        while value.first == " " { value = value.dropFirst() }
        while value.last == " " { value = value.dropLast() }
        return value
    }
}
