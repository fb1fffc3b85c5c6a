import Testing
@testable import Topics

@Test func placeholderTopics() { #expect(Bool(true)) }
