import Foundation
@testable import Broker

/// One parsed `text/event-stream` block (up to a blank line), as an `EventSource` sees it:
/// `id` is the last event id in force after the block (ids persist between events).
struct StreamEvent: Equatable {
    var name: String?
    var data: String?
    var id: String?
    var retry: Int?
    /// A block with no data: the browser dispatches nothing, but takes its id.
    var isEmpty: Bool { data == nil }
}

/// A Server-Sent Events client on a raw socket: sends the request, checks nothing, parses
/// blocks as the WHATWG parser would (fields, `data` lines joined with LF).
final class EventStreamClient {
    let socket: RawSocket
    private(set) var head = ""
    private var buffer: [UInt8] = []
    private var lastID: String?
    private(set) var ended = false

    init(port: UInt16, target: String, headers: [(String, String)] = [], receiveBuffer: Int32? = nil) throws {
        socket = try RawSocket(port: port, receiveBuffer: receiveBuffer)
        var request = "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        socket.send(request + "\r\n")
    }

    /// The response head (status line and headers), read once.
    func readHead(timeout: Double = 5) -> String {
        if !head.isEmpty { return head }
        let result = socket.read(timeout: timeout) { bytes in bytes.count >= 4 && Self.headEnd(bytes) != nil }
        buffer = result.bytes
        ended = result.eof
        if let end = Self.headEnd(buffer) {
            head = String(decoding: buffer[..<end], as: UTF8.self)
            buffer.removeFirst(end + 4)
        } else {
            head = String(decoding: buffer, as: UTF8.self)
            buffer = []
        }
        return head
    }

    var status: Int { Int(readHead().split(separator: " ").dropFirst().first ?? "") ?? 0 }

    /// Events (and empty blocks) until `done` holds for what was read, EOF, or the timeout.
    func events(timeout: Double = 5, until done: ([StreamEvent]) -> Bool) -> [StreamEvent] {
        _ = readHead()
        var out = parse()
        while !done(out) && !ended {
            let result = socket.read(timeout: timeout) { $0.contains(UInt8(ascii: "\n")) }
            if result.bytes.isEmpty && !result.eof { break }
            buffer += result.bytes
            ended = result.eof
            out += parse()
        }
        return out
    }

    /// Messages (events with data and no name) until `count` of them, EOF or the timeout.
    func messages(_ count: Int, timeout: Double = 5) -> [StreamEvent] {
        events(timeout: timeout) { $0.filter { $0.name == nil && $0.data != nil }.count >= count }
            .filter { $0.name == nil && $0.data != nil }
    }

    /// Reads until the server ends the stream (or the timeout).
    func untilEnd(timeout: Double = 10) -> [StreamEvent] { events(timeout: timeout) { _ in false } }

    private func parse() -> [StreamEvent] {
        var out: [StreamEvent] = []
        var current = StreamEvent()
        var dataLines: [String] = []
        var consumed = 0
        var lineStart = 0
        var sawField = false
        for index in buffer.indices where buffer[index] == UInt8(ascii: "\n") {
            let line = String(decoding: buffer[lineStart..<index], as: UTF8.self)
            lineStart = index + 1
            if line.isEmpty {
                if sawField {
                    current.data = dataLines.isEmpty ? nil : dataLines.joined(separator: "\n")
                    current.id = lastID
                    out.append(current)
                }
                current = StreamEvent()
                dataLines = []
                sawField = false
                consumed = lineStart
                continue
            }
            if line.hasPrefix(":") { continue }
            sawField = true
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            var value = parts.count > 1 ? String(parts[1]) : ""
            if value.hasPrefix(" ") { value.removeFirst() }
            switch parts[0] {
            case "data": dataLines.append(value)
            case "event": current.name = value
            case "id": lastID = value
            case "retry": current.retry = Int(value)
            default: break
            }
        }
        buffer.removeFirst(consumed)
        return out
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }
}

extension StreamEvent {
    /// The JSON object of `data`, for checks.
    var json: [String: Any]? {
        data.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}
