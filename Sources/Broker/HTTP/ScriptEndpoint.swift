import Auth
import BusProtocol
import Frames

/// `GET /bus.js`: the JavaScript client (`BusScript`, embedded from clients/js/bus.js), open to
/// everyone like the console that imports it.
///
/// - `text/javascript; charset=utf-8`: the type RFC 9239 names, and one browsers accept for
///   module scripts (they refuse a module served with a non-JavaScript type).
/// - A strong `ETag` (the first 16 bytes of the script's SHA-256) and `Cache-Control: no-cache`:
///   a browser revalidates on every load and gets `304 Not Modified` while the bytes are the
///   same, so a new server version is picked up at once without re-downloading an unchanged one.
/// - `Access-Control-Allow-Origin: *`: a module script from another origin is fetched in CORS
///   mode and refused without it. The script is public and carries no credentials, so any
///   origin may load it.
final class ScriptEndpoint: HTTPEndpoint {
    private static let notModified = HTTPStatus(code: 304, reason: "Not Modified")

    /// `"…"`, a strong validator (RFC 9110 §8.8.3): it changes whenever a byte does.
    let etag: String
    private let get: OutboundBytes
    private let head: OutboundBytes
    private let unchanged: OutboundBytes

    init(source: String = BusScript.source) {
        let bytes = Array(source.utf8)
        etag = "\"" + SHA256.hash(bytes).prefix(16).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined() + "\""
        let headers = [("ETag", etag), ("Cache-Control", "no-cache"), ("Access-Control-Allow-Origin", "*")]
        let contentType = "text/javascript; charset=utf-8"
        get = OutboundBytes.copying(Router.response(.ok, bytes, contentType: contentType, headers: headers, head: false))
        head = OutboundBytes.copying(Router.response(.ok, bytes, contentType: contentType, headers: headers, head: true))
        // RFC 9110 §15.4.5: a 304 carries the validators and cache headers, and no body (nor a
        // Content-Length, which would have to be the 200's).
        var notModified = HTTPResponseHead(status: Self.notModified)
        for (name, value) in headers { notModified.headers.add(name, value) }
        unchanged = OutboundBytes.copying(notModified.serialized())
    }

    func serve(_ request: HTTPRequest, on connection: Connection) {
        guard request.method == "GET" || request.method == "HEAD" else {
            return connection.reply(Router.methodNotAllowed("GET, HEAD"), to: request)
        }
        if let condition = request.headers["If-None-Match"], Self.matches(condition, etag) {
            return connection.reply(unchanged, to: request)
        }
        connection.reply(request.method == "HEAD" ? head : get, to: request)
    }

    /// RFC 9110 §13.1.2: `*`, or a list of entity tags compared weakly (a `W/` prefix ignored).
    static func matches(_ condition: String, _ etag: String) -> Bool {
        condition.split(separator: ",").contains { member in
            var tag = member.trimmingWhitespace
            if tag == "*" { return true }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            return tag == etag[...]
        }
    }
}
