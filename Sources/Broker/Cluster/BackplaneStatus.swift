import Synchronization

/// The NATS backplane's state as every loop and HTTP handler sees it: written by the loop that
/// owns the NATS connection (and by owner loops counting what they could not forward), read
/// by `/metrics`, `/healthz`, `/readyz` and by owner loops deciding whether to forward.
/// Relaxed atomics: each value is a counter or a flag on its own, no cross-field invariant.
final class BackplaneStatus: Sendable {
    let url: String
    let nodeName: String
    /// Up, and every SUB in effect again (the handshake's PONG came): what /readyz, /healthz
    /// and `bus_backplane_connected` report.
    let connected = Atomic<Bool>(false)
    /// Up far enough to take publishes (from `INFO` on): what owner loops check before encoding.
    let forwarding = Atomic<Bool>(false)
    let reconnects = Atomic<UInt64>(0)
    /// The server's `max_payload` from its latest `INFO` (0 before the first).
    let serverMaxPayload = Atomic<Int>(0)
    let messagesIn = Atomic<UInt64>(0)
    let bytesIn = Atomic<UInt64>(0)
    let messagesOut = Atomic<UInt64>(0)
    let bytesOut = Atomic<UInt64>(0)
    /// Local publishes not sent to NATS: the backplane was down, or the payload was over the
    /// server's `max_payload`. Local subscribers got them all the same.
    let unforwarded = Atomic<UInt64>(0)
    /// Messages from NATS dropped: invalid topic or JSON, or over our `max_payload`.
    let rejectedIn = Atomic<UInt64>(0)
    /// SUBs in effect at the NATS server (one per distinct pattern subscribed on this node).
    let subscriptions = Atomic<Int>(0)

    init(url: String, nodeName: String) {
        self.url = url
        self.nodeName = nodeName
    }

    var isConnected: Bool { connected.load(ordering: .relaxed) }

    /// `/healthz`'s `backplane` member.
    var healthJSON: String {
        "{\"url\":\"\(url)\",\"node\":\"\(nodeName)\",\"connected\":\(isConnected)"
            + ",\"reconnects\":\(reconnects.load(ordering: .relaxed))"
            + ",\"messages_in\":\(messagesIn.load(ordering: .relaxed)),\"messages_out\":\(messagesOut.load(ordering: .relaxed))"
            + ",\"bytes_in\":\(bytesIn.load(ordering: .relaxed)),\"bytes_out\":\(bytesOut.load(ordering: .relaxed))"
            + ",\"unforwarded\":\(unforwarded.load(ordering: .relaxed))}"
    }
}
