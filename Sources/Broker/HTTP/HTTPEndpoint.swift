import BusProtocol
import Frames

/// A plain HTTP path. It serves one request on the connection that read it, answering through
/// the connection's HTTP exchange (`Connection+HTTP`): at once (`reply`), after reading the
/// body it asked for (`readBody`), or once other loops have answered (`awaitReply`).
protocol HTTPEndpoint: AnyObject {
    /// It reaches topics: the origin policy and the token (when auth is on) apply, as on `/bus`.
    var isGuarded: Bool { get }
    /// Of a guarded endpoint: the token is checked too (a CORS preflight carries none).
    var needsToken: Bool { get }
    func serve(_ request: HTTPRequest, on connection: Connection)
    /// The body `serve` asked for.
    func received(body: [UInt8], of request: HTTPRequest, on connection: Connection)
}

extension HTTPEndpoint {
    var isGuarded: Bool { false }
    var needsToken: Bool { isGuarded }
    func received(body: [UInt8], of request: HTTPRequest, on connection: Connection) {}

    /// `{"code":…,"message":…}` with `status`: the errors of the JSON endpoints.
    /// For a read-only endpoint: refuses (and answers) anything but a bodiless GET; true when
    /// it did. A body closes the connection (it cannot be skipped safely).
    func refusedUnlessPlainGet(_ request: HTTPRequest, on connection: Connection) -> Bool {
        if Connection.hasBody(request) {
            connection.replyAndClose(Self.jsonError(.badRequest, .badRequest, "a GET has no body"))
            return true
        }
        guard request.method == "GET" else {
            connection.reply(Self.jsonError(.methodNotAllowed, "method_not_allowed", "use GET", headers: [("Allow", "GET")]), to: request)
            return true
        }
        return false
    }

    static func jsonError(_ status: HTTPStatus, _ code: ErrorCode, _ message: String, headers: [(String, String)] = []) -> [UInt8] {
        jsonError(status, code.rawValue, message, headers: headers)
    }

    static func jsonError(_ status: HTTPStatus, _ code: String, _ message: String, headers: [(String, String)] = []) -> [UInt8] {
        HTTPResponseHead.simple(status, bytes: HTTPBody.error(code: code, message: message), contentType: "application/json",
                                headers: headers, keepAlive: true)
    }
}

/// A page answered at once from what the loop knows (`/`, `/healthz`, `/readyz`, not found),
/// to `GET` and `HEAD` (the same head, no body: RFC 9110 §9.3.2).
final class PageEndpoint: HTTPEndpoint {
    /// nil: any method (the not-found page).
    private let readOnly: Bool
    private let page: (_ head: Bool) -> OutboundBytes

    init(readOnly: Bool = true, _ page: @escaping (_ head: Bool) -> OutboundBytes) {
        self.readOnly = readOnly
        self.page = page
    }

    /// A page whose bytes never change: built once, queued by reference however often it is
    /// asked for (its queue still counts every byte).
    convenience init(fixed body: String, contentType: String) {
        let get = OutboundBytes.copying(Router.response(.ok, body, contentType: contentType, head: false))
        let head = OutboundBytes.copying(Router.response(.ok, body, contentType: contentType, head: true))
        self.init { $0 ? head : get }
    }

    func serve(_ request: HTTPRequest, on connection: Connection) {
        let head = request.method == "HEAD"
        guard !readOnly || request.method == "GET" || head else {
            return connection.reply(Router.methodNotAllowed("GET, HEAD"), to: request)
        }
        connection.reply(page(head), to: request)
    }
}
