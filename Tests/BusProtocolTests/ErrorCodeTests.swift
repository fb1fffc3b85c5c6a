import BusProtocol
import Testing

/// The codes of Protocol.md "Error codes" are stable: a table test pins every row.
struct ErrorCodeTests {
    @Test func everyCodeHasItsDocumentedString() {
        #expect(ErrorCode.allCases.map(\.rawValue) == [
            "bad_json", "bad_request", "unknown_type", "invalid_topic", "not_subscribed",
            "too_many_subscriptions", "payload_too_large", "slow_consumer", "internal_error",
        ])
    }

    @Test func jsonErrorsAreAllBadJSON() {
        for error in [JSONError.syntax(offset: 0), .tooDeep(offset: 1, maxDepth: 64), .notObject] {
            #expect(error.code == .badJSON)
        }
    }
}
