import Auth
import BusProtocol
import Frames

extension Connection {
    /// Checks the token of a request that needs one (a WebSocket upgrade, POST /publish,
    /// GET /history) when auth is configured. On success the credential's grant is kept: for
    /// the WebSocket's whole life, or for this one HTTP request. On failure the client gets
    /// 401 with `WWW-Authenticate: Bearer` and the connection closes; returns false.
    func authenticate(_ request: HTTPRequest, webSocket: Bool) -> Bool {
        guard let authenticator = loop.context.authenticator else {
            grant = nil
            return true
        }
        let now = Sys.wallClockSeconds()
        switch authenticator.authenticate(Self.presentedToken(request), now: now) {
        case .success(let credential):
            grant = credential.grant
            if let expiresAt = credential.expiresAt {
                let deadline = ExpiryDeadline.monotonicNanos(expiresAt: expiresAt, wallNow: now, monotonicNow: loop.now)
                // An event stream, like a WebSocket, lives past its request: it ends at expiry.
                if webSocket { self.webSocket.authExpiry = deadline } else { http.tokenExpiry = deadline }
            }
            return true
        case .failure(let error):
            loop.metrics.authFailures &+= 1
            log.info("authentication failed", peerFields + [("reason", error.reason),
                                               ("target", RequestTarget.redacted(request.target))])
            // RFC 6750 §3: no error code when no token came, invalid_token when one did.
            let challenge = error == .missing ? "Bearer realm=\"bus\"" : "Bearer realm=\"bus\", error=\"invalid_token\""
            let headers = [("WWW-Authenticate", challenge)]
            if webSocket {
                replyAndClose(HTTPResponseHead.simple(.unauthorized, body: error.message + "\n", headers: headers))
            } else {
                replyAndClose(HTTPResponseHead.simple(
                    .unauthorized, body: "{\"code\":\"\(ErrorCode.unauthorized.rawValue)\",\"message\":\(JSONText.quoted(error.message))}\n",
                    contentType: "application/json", headers: headers))
            }
            return false
        }
    }

    /// `Authorization: Bearer <token>` (RFC 6750 §2.1), else the `token` query parameter
    /// (§2.3), which browsers need: their WebSocket API cannot set headers.
    static func presentedToken(_ request: HTTPRequest) -> String? {
        if let authorization = request.headers["Authorization"] {
            let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                return String(parts[1].drop(while: { $0 == " " || $0 == "\t" }))
            }
            return ""  // some other scheme: presented, but not a token of ours
        }
        return request.queryItem("token")
    }

    /// Counts and answers a subscribe or publish the connection's grant does not cover.
    func permissionDenied(_ what: String, _ topic: String) {
        loop.metrics.permissionDenied &+= 1
        log.debug("permission denied", peerFields + [("op", what), ("topic", topic)])
    }
}

/// Request targets as logs may show them: the value of every `token` query parameter is
/// replaced, so a browser's token never reaches a log line.
enum RequestTarget {
    static func redacted(_ target: String) -> String {
        guard let question = target.firstIndex(of: "?") else { return target }
        let query = target[target.index(after: question)...]
        let pairs = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> String in
            let name = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            return HTTPRequest.formDecode(name.utf8) == "token" ? "\(name)=REDACTED" : String(pair)
        }
        return String(target[...question]) + pairs.joined(separator: "&")
    }
}
