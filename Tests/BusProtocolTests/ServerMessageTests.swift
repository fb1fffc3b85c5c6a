import BusProtocol
import Testing

/// `ServerMessage.parse` is strict: what a correct server never sends yields nil.
struct ServerMessageTests {
    static let refused: [String] = [
        "", "[]", #"{"type":"message"}"#, #"{"type":"nope"}"#, #"{"topic":"a"}"#, #"{"type":1}"#,
        #"{"type":"ack","op":"subscribe"}"#, #"{"type":"ack","op":"subscribe","topic":"a","seq":-1}"#,
        #"{"type":"ack","op":"subscribe","topic":"a","seq":1.5}"#, #"{"type":"ack","op":"subscribe","topic":"a","epoch":7}"#,
        #"{"type":"ack","op":"publish","topic":"a","subscribers":"3"}"#,
        #"{"type":"message","topic":"a","epoch":"e","seq":"1","data":1}"#,
        #"{"type":"message","topic":"a","epoch":"e","seq":1}"#,
        #"{"type":"error","code":"bad_json"}"#, #"{"type":"error","code":"x","message":"m","topic":1}"#,
        #"{"type":"ack","type":"ack","op":"subscribe","topic":"a"}"#,
        #"{"type":"message","topic":"a","epoch":"e","seq":1,"data":[1,]}"#,
    ]

    @Test(arguments: refused)
    func malformedServerEnvelopesAreNil(_ input: String) {
        #expect(parseServer(utf8(input)) == nil)
    }

    @Test func messageDataIsKeptRaw() {
        let input = utf8("{ \"data\" : [ 1 , \"\\u00e9\" ] , \"seq\":7,\"epoch\":\"e\",\"topic\":\"t\",\"type\":\"message\",\"extra\":0}")
        #expect(parseServer(input) == .message(topic: "t", epoch: "e", seq: 7, data: utf8("[ 1 , \"\\u00e9\" ]")))
    }
}
