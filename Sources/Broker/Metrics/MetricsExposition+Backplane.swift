/// `/metrics` families for the NATS backplane (cluster mode only; nothing on a lone node).
extension MetricsExposition {
    static func render(backplane status: BackplaneStatus?) -> String {
        guard let status else { return "" }
        var out = ""
        func family(_ name: String, _ type: String, _ help: String, _ value: UInt64) {
            out += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n\(name) \(value)\n"
        }
        family("bus_backplane_connected", "gauge", "1 while the NATS backplane connection is up.", status.isConnected ? 1 : 0)
        family("bus_backplane_reconnects_total", "counter", "Times the NATS connection was re-established.",
               status.reconnects.load(ordering: .relaxed))
        family("bus_backplane_subscriptions", "gauge", "SUBs held at the NATS server (distinct patterns subscribed on this node).",
               UInt64(status.subscriptions.load(ordering: .relaxed)))
        family("bus_backplane_messages_in_total", "counter", "Messages from other nodes accepted from NATS.",
               status.messagesIn.load(ordering: .relaxed))
        family("bus_backplane_bytes_in_total", "counter", "Payload bytes of the messages accepted from NATS.",
               status.bytesIn.load(ordering: .relaxed))
        family("bus_backplane_messages_out_total", "counter", "Local publishes sent to NATS.", status.messagesOut.load(ordering: .relaxed))
        family("bus_backplane_bytes_out_total", "counter", "Bytes written to NATS for local publishes (protocol lines included).",
               status.bytesOut.load(ordering: .relaxed))
        family("bus_backplane_unforwarded_total", "counter",
               "Local publishes not sent to NATS (backplane down, or over its max_payload); local subscribers still got them.",
               status.unforwarded.load(ordering: .relaxed))
        family("bus_backplane_rejected_total", "counter", "Messages from NATS dropped: invalid topic or JSON, or over max_payload.",
               status.rejectedIn.load(ordering: .relaxed))
        return out
    }
}
