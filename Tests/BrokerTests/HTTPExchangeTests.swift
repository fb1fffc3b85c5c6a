import Frames
import Testing
@testable import Broker

/// Guards the reuse of an upgraded connection's exchange by a later connection: `reset`
/// leaves nothing of the last request behind.
@Suite struct HTTPExchangeTests {
    @Test func resetLeavesAFreshExchange() {
        let exchange = HTTPExchange(pendingInput: [1, 2, 3])
        exchange.parser = HTTPRequestParser()
        exchange.request = HTTPRequest(method: "GET", target: "/bus")
        exchange.body = HTTPBodyDecoder(framing: .none, maxBodySize: 10)
        exchange.bodyRead = true
        exchange.awaitingOutcome = true
        exchange.crossOrigin = [0x41]
        exchange.tokenExpiry = 5
        exchange.reset()
        #expect(exchange.parser == nil && exchange.request == nil && exchange.endpoint == nil && exchange.body == nil)
        #expect(!exchange.bodyRead && !exchange.awaitingOutcome)
        #expect(exchange.pendingInput.isEmpty && exchange.crossOrigin == nil && exchange.tokenExpiry == nil)
    }
}
