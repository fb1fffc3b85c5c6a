import Testing
@testable import Frames

@Test func placeholderFrames() { #expect(Bool(true)) }
