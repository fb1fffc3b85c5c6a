import BusProtocol

/// Reads the few `INFO` fields we need with BusProtocol's JSON scanner, member by member at
/// the top level only: a key name inside a string value (`"version":"\"max_payload\":1"`) or
/// inside a nested object (`"cluster":{"headers":false}`) is never taken for the field.
/// A duplicated key takes its last value, as Go's `encoding/json` (nats.go) reads INFO.
/// INFO that is not one valid JSON object, or a field of the wrong type, leaves the
/// defaults: 1 MiB payloads (the NATS server's default), no headers, no name.
enum NATSInfoParser {
    static let defaultMaxPayload = 1_048_576

    static func parse(_ json: String) -> NATSInfo {
        var maxPayload: Int?, headers: Bool?, serverName: String?
        let valid = Array(json.utf8).withUnsafeBytes { text -> Bool in
            do throws(JSONError) {
                try JSON.scanObject(text) { key, range throws(JSONError) in
                    let value = UnsafeRawBufferPointer(rebasing: text[range])
                    if JSON.keyEquals(key, "max_payload") {
                        maxPayload = JSON.decodeInteger(value).flatMap { Int(exactly: $0) }
                    } else if JSON.keyEquals(key, "headers") {
                        headers = value.elementsEqual("true".utf8) ? true : value.elementsEqual("false".utf8) ? false : nil
                    } else if JSON.keyEquals(key, "server_name") {
                        serverName = JSON.decodeString(value)
                    }
                }
                return true
            } catch {
                return false
            }
        }
        guard valid else { return NATSInfo(maxPayload: defaultMaxPayload, headers: false, serverName: nil) }
        return NATSInfo(maxPayload: maxPayload ?? defaultMaxPayload, headers: headers ?? false, serverName: serverName)
    }
}
