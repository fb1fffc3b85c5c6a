import BusClient

// A backend that publishes a few readings and reads them back through a pattern.
// Usage: swift-publisher [ws://HOST:PORT/bus] [COUNT]
let arguments = CommandLine.arguments
let url = arguments.count > 1 ? arguments[1] : "ws://127.0.0.1:8080/bus"
let count = arguments.count > 2 ? Int(arguments[2]) ?? 3 : 3

let bus = try BusClient(url: url)
let readings = try await bus.subscribe("sensors.>")
let reader = Task {
    var seen = 0
    for try await event in readings {
        switch event {
        case .message(let message):
            print("received \(message.topic) #\(message.seq): \(message.jsonText ?? "(binary)")")
            seen += 1
            if seen == count { return }
        case .gap(let gap):
            print("lost messages on \(gap.lost.map(\.topic))")
        }
    }
}
for n in 1...count {
    let ack = try await bus.publish("sensors.room\(n)", json: #"{"celsius":\#(20 + n)}"#)
    print("published sensors.room\(n) as #\(ack.seq) to \(ack.subscribers) subscriber(s)")
}
try await reader.value
bus.close()
