import NATS

extension ServerConfig {
    /// The parsed `natsURL` (validated by `validated()`).
    var nats: NATSServerURL? { natsURL.flatMap(NATSServerURL.init) }

    /// `nodeName`, or `bus-HOSTNAME-PID` so two nodes on one host differ.
    var effectiveNodeName: String {
        if let nodeName { return nodeName }
        let host = Sys.hostName() ?? "host"
        let safe = String(host.unicodeScalars.filter { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == "." }.map(Character.init))
        return "bus-\(safe)-\(Sys.processID())"
    }
}
