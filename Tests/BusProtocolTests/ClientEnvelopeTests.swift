import BusProtocol
import Testing

/// Client requests are exact, and the server's parser reads them back.
struct ClientEnvelopeTests {
    @Test func subscribeAndUnsubscribeAreExact() throws {
        let subscribe = ClientEnvelope.subscribe(topic: "chat.>", id: "1")
        #expect(String(decoding: subscribe, as: UTF8.self) == #"{"type":"subscribe","id":"1","topic":"chat.>"}"#)
        let unsubscribe = ClientEnvelope.unsubscribe(topic: "chat.>", id: nil)
        #expect(String(decoding: unsubscribe, as: UTF8.self) == #"{"type":"unsubscribe","topic":"chat.>"}"#)
        #expect(try parseEnvelope(subscribe).get() == ClientRequest(kind: .subscribe, id: 25 ..< 28, topic: "chat.>"))
        #expect(try parseEnvelope(unsubscribe).get() == ClientRequest(kind: .unsubscribe, topic: "chat.>"))
    }

    @Test func publishRoundTripsThroughTheParser() throws {
        let data = utf8(#"{"from":"ann","text":"hi \"there\""}"#)
        let bytes = ClientEnvelope.publish(topic: "météo.\"paris\"", dataJSON: data, id: "p-\n1")
        #expect(validate(bytes))
        let request = try parseEnvelope(bytes).get()
        #expect(request.kind == .publish)
        #expect(request.topic == "météo.\"paris\"")
        #expect(request.id.map { decodeString(Array(bytes[$0])) } == "p-\n1")
        #expect(request.data.map { Array(bytes[$0]) } == data)
    }
}
