import Frames

/// Why the server ends a WebSocket, and the close code and reason text each one sends: one
/// switch, so a code means the same thing everywhere (Protocol.md "Close codes"). Protocol
/// violations map through `FrameError.closeCode`; a close the peer started is echoed.
enum CloseReason: Equatable, CaseIterable {
    case shuttingDown
    /// The connection's JWT expired (`exp` plus the leeway).
    case tokenExpired
    /// Its send queue overflowed, did not move, or the server's budget needed the room.
    case slowConsumer
    /// It went on past `rate_limited` errors (see `FloodPolicy`).
    case rateLimitExceeded
    /// It went on sending requests that were refused (see `FloodPolicy`).
    case tooManyRefusedRequests

    var code: CloseCode {
        switch self {
        case .shuttingDown: .goingAway
        case .tokenExpired, .rateLimitExceeded, .tooManyRefusedRequests: .policyViolation
        case .slowConsumer: .slowConsumer
        }
    }

    var text: String {
        switch self {
        case .shuttingDown: "server shutting down"
        case .tokenExpired: "token expired"
        case .slowConsumer: "slow consumer"
        case .rateLimitExceeded: "rate limit exceeded"
        case .tooManyRefusedRequests: "too many refused requests"
        }
    }
}
