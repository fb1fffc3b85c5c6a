import Frames
import Testing

/// Pins the close code table (RFC 6455 §7.4 and the IANA registry) and the one mapping from
/// frame errors to the code we answer with.
struct CloseCodeTests {
    @Test(arguments: [
        (0, false), (999, false), (1000, true), (1001, true), (1002, true), (1003, true),
        (1004, false), (1005, false), (1006, false), (1007, true), (1008, true), (1009, true),
        (1010, true), (1011, true), (1012, true), (1013, true), (1014, true), (1015, false),
        (1016, false), (2000, false), (2999, false), (3000, true), (3999, true), (4000, true),
        (4008, true), (4999, true), (5000, false), (65_535, false),
    ] as [(UInt16, Bool)])
    func closeCodeIsAllowedOnWireOnlyInRegisteredAndPrivateRanges(code: UInt16, allowed: Bool) {
        #expect(CloseCode(rawValue: code).isAllowedOnWire == allowed)
    }

    @Test func namedCodesHaveTheirRegisteredValues() {
        let table: [(CloseCode, UInt16)] = [
            (.normalClosure, 1000), (.goingAway, 1001), (.protocolError, 1002), (.unsupportedData, 1003),
            (.noStatusReceived, 1005), (.abnormalClosure, 1006), (.invalidPayload, 1007),
            (.policyViolation, 1008), (.messageTooBig, 1009), (.mandatoryExtension, 1010),
            (.internalError, 1011), (.tryAgainLater, 1013), (.slowConsumer, 4008),
        ]
        for (code, raw) in table {
            #expect(code.rawValue == raw)
        }
    }

    @Test func descriptionNamesKnownCodes() {
        #expect(CloseCode.messageTooBig.description == "1009 (message too big)")
        #expect(CloseCode(rawValue: 4321).description == "4321")
    }

    @Test(arguments: [
        (.reservedBitsSet, 1002), (.unknownOpcode(3), 1002), (.unmaskedClientFrame, 1002),
        (.maskedServerFrame, 1002), (.controlFrameTooLong, 1002), (.fragmentedControlFrame, 1002),
        (.continuationWithoutMessage, 1002), (.dataFrameInsideFragmentedMessage, 1002),
        (.lengthTooLarge, 1002), (.messageTooBig, 1009), (.invalidUTF8, 1007),
        (.invalidClosePayload, 1002), (.invalidCloseCode(1005), 1002), (.invalidCloseReason, 1002),
        (.compressedControlFrame, 1002), (.compressedContinuation, 1002), (.invalidCompressedData, 1007),
        (.dataAfterFinalBlock, 1007),
    ] as [(FrameError, UInt16)])
    func frameErrorMapsToOneCloseCode(error: FrameError, code: UInt16) {
        #expect(error.closeCode.rawValue == code)
        #expect(!error.reason.isEmpty && error.reason.utf8.count <= 123)
    }
}
