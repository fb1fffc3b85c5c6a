/// Which end of the connection *we* are. It decides the masking rule (RFC 6455 §5.1):
/// every client-to-server frame is masked and no server-to-client frame is, so a server's
/// decoder rejects unmasked frames and a client's decoder rejects masked ones (both 1002).
public enum Role: Sendable {
    case server
    case client
}
