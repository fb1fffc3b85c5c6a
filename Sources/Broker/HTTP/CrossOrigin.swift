import BusProtocol
import Frames

/// Cross-origin resource sharing (the Fetch standard's CORS protocol) for the plain HTTP
/// paths a web page calls: `/sse/…`, `/publish/…` and `/history/…`. One component, so the
/// three answer alike.
///
/// Who may call is not decided here: `OriginPolicy` (same host, or `--allowed-origin`)
/// already refuses every other origin with 403 on these paths. CORS only tells the browser
/// what the policy allowed: an allowed `Origin` is echoed in `Access-Control-Allow-Origin`
/// (never `*`, and never with `Access-Control-Allow-Credentials`: tokens travel in the
/// `Authorization` header or `?token=`, not cookies), with `Vary: Origin` so a cache keeps the
/// answers to different origins apart. With no `--allowed-origin` configured only same-host
/// origins pass, which browsers treat as same-origin anyway: cross-origin use is opt-in.
enum CrossOrigin {
    /// The request headers a page may send: a token, a JSON body's type, and the resume
    /// position an `EventSource` sends on its own reconnects.
    static let allowedHeaders = "authorization, content-type, last-event-id"
    /// How long a browser may cache a preflight's answer (seconds).
    static let maxAge = 600

    /// The methods a cross-origin page may use on `path`; nil for a path CORS does not open.
    static func methods(forPath path: String) -> String? {
        if path.hasPrefix(PublishEndpoint.prefix) { return "POST" }
        if path.hasPrefix(HistoryEndpoint.prefix) || path.hasPrefix(EventStreamEndpoint.prefix) { return "GET" }
        return nil
    }

    /// The header lines (each ending CRLF) added to every answer to a request from `origin`
    /// that the origin policy allowed.
    static func responseLines(origin: String) -> [UInt8] {
        // Serialized through HTTPResponseHead, which turns CR, LF and NUL in the echoed
        // value into spaces: an Origin can never inject a header line.
        var head = HTTPResponseHead(status: .ok)
        head.headers.add("Access-Control-Allow-Origin", origin)
        head.headers.add("Vary", "Origin")
        let bytes = head.serialized()
        let statusLine = bytes.firstIndex(of: UInt8(ascii: "\n"))! + 1
        return Array(bytes[statusLine..<(bytes.count - 2)])
    }

    /// `response` (a whole HTTP answer, or the head of a stream) with `lines` inserted after
    /// its status line. A copy, made only for requests that carried an allowed `Origin`.
    static func splice(_ lines: [UInt8], into response: OutboundBytes) -> OutboundBytes {
        response.withUnsafeBytes { bytes in
            guard bytes.starts(with: "HTTP/".utf8), let lf = bytes.firstIndex(of: UInt8(ascii: "\n")) else { return response }
            return OutboundBytes.make(count: bytes.count + lines.count, stamp: response.stamp) { out in
                let cut = lf + 1
                out.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[..<cut]))
                lines.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: out[cut...]).copyMemory(from: $0) }
                UnsafeMutableRawBufferPointer(rebasing: out[(cut + lines.count)...])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[cut...]))
            }
        }
    }

    /// `204` to an `OPTIONS` preflight: the methods of the path, the allowed headers, the
    /// origin echoed. No `Content-Length` (RFC 9110 §8.6: a 204 must not send one).
    static func preflight(origin: String?, methods: String) -> [UInt8] {
        var head = HTTPResponseHead(status: .noContent)
        if let origin {
            head.headers.add("Access-Control-Allow-Origin", origin)
            head.headers.add("Access-Control-Allow-Methods", methods + ", OPTIONS")
            head.headers.add("Access-Control-Allow-Headers", allowedHeaders)
            head.headers.add("Access-Control-Max-Age", String(maxAge))
            head.headers.add("Vary", "Origin")
        }
        head.headers.add("Allow", methods + ", OPTIONS")
        return head.serialized()
    }
}

/// `OPTIONS` on a path CORS opens (`CrossOrigin.methods(forPath:)`): the browser's preflight
/// before a cross-origin JSON `POST`, or a `GET` with `Authorization` or `Last-Event-ID`.
/// Unguarded by the token (a preflight never carries one), but not by the origin policy: a
/// preflight from an origin it refuses is 403 (the connection's guard answers it).
final class PreflightEndpoint: HTTPEndpoint {
    var isGuarded: Bool { true }
    var needsToken: Bool { false }

    func serve(_ request: HTTPRequest, on connection: Connection) {
        guard !Connection.hasBody(request) else {
            return connection.replyAndClose(Self.jsonError(.badRequest, .badRequest, "a preflight has no body"))
        }
        let methods = CrossOrigin.methods(forPath: request.path) ?? "GET"
        connection.reply(CrossOrigin.preflight(origin: request.headers["Origin"], methods: methods), to: request)
    }
}
