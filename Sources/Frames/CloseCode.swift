/// A close status code (RFC 6455 §7.4).
///
/// A struct rather than an enum because any `UInt16` can arrive on the wire and the
/// application range 4000–4999 is ours to assign; the named statics are the ones we send
/// or must recognise.
public struct CloseCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16

    @inlinable
    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// §7.4.1: the purpose of the connection has been fulfilled.
    public static let normalClosure = CloseCode(rawValue: 1000)
    /// §7.4.1: server going down or browser navigating away.
    public static let goingAway = CloseCode(rawValue: 1001)
    /// §7.4.1: the peer broke the framing rules.
    public static let protocolError = CloseCode(rawValue: 1002)
    /// §7.4.1: a data type we cannot accept (e.g. binary where only text is understood).
    public static let unsupportedData = CloseCode(rawValue: 1003)
    /// §7.4.1: never sent; reported locally when a close frame carried no code.
    public static let noStatusReceived = CloseCode(rawValue: 1005)
    /// §7.4.1: never sent; reported locally when the connection dropped without a close frame.
    public static let abnormalClosure = CloseCode(rawValue: 1006)
    /// §7.4.1: message data inconsistent with its type, e.g. non-UTF-8 in a text message.
    public static let invalidPayload = CloseCode(rawValue: 1007)
    /// §7.4.1: generic policy violation when no more specific code fits.
    public static let policyViolation = CloseCode(rawValue: 1008)
    /// §7.4.1: a message exceeded the configured maximum size.
    public static let messageTooBig = CloseCode(rawValue: 1009)
    /// §7.4.1: (client only) the server did not negotiate a required extension.
    public static let mandatoryExtension = CloseCode(rawValue: 1010)
    /// §7.4.1: the server hit an unexpected condition.
    public static let internalError = CloseCode(rawValue: 1011)
    /// IANA registry (not in RFC 6455 itself): overloaded, reconnect later.
    public static let tryAgainLater = CloseCode(rawValue: 1013)
    /// Application range (§7.4.2, 4000–4999): the subscriber could not keep up and its send
    /// queue overflowed. 4008 mirrors 1008 (policy violation) in the private range.
    public static let slowConsumer = CloseCode(rawValue: 4008)

    /// Whether a peer may put this code in a close frame (§7.4.1, §7.4.2, IANA registry).
    ///
    /// Accepted: 1000–1003, 1007–1011, 1012–1014 (registered by IANA after the RFC), and
    /// 3000–4999 (libraries and applications). Rejected: below 1000 (unused), 1004
    /// (reserved), 1005/1006/1015 (must never be sent: they describe the absence of a close
    /// frame or a TLS failure), 1016–2999 (reserved for future protocol use) and 5000 up.
    @inlinable
    public var isAllowedOnWire: Bool {
        switch rawValue {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }

    public var description: String {
        let name: String? = switch self {
        case .normalClosure: "normal closure"
        case .goingAway: "going away"
        case .protocolError: "protocol error"
        case .unsupportedData: "unsupported data"
        case .noStatusReceived: "no status received"
        case .abnormalClosure: "abnormal closure"
        case .invalidPayload: "invalid payload"
        case .policyViolation: "policy violation"
        case .messageTooBig: "message too big"
        case .mandatoryExtension: "mandatory extension"
        case .internalError: "internal error"
        case .tryAgainLater: "try again later"
        case .slowConsumer: "slow consumer"
        default: nil
        }
        return name.map { "\(rawValue) (\($0))" } ?? "\(rawValue)"
    }
}
