import Topics

/// Whoever on a loop waits for the hub's answer to a request: a `/bus` session, or a plain
/// HTTP request (a publish's outcome, a history page). The hub finds it by connection id
/// (`EventLoop.endpoint(_:)`), never by asking what kind of connection it is; an answer for a
/// connection that has gone, or that no longer waits, finds nothing and is dropped.
protocol HubEndpoint: AnyObject {
    /// A subscribe is active (a literal topic's ack carries the topic's position).
    func subscribed(requestID: [UInt8]?, pattern: TopicPattern, position: TopicPosition?)
    /// A publish made here was sequenced by its topic's owner.
    func published(requestID: [UInt8]?, outcome: PublishOutcome)
    /// A page of the replay `replay` asked for. Returns true to receive the next page: the
    /// hub asks for it once the page has been written out (`LoopHub.askForPage`).
    func received(_ page: ReplayPage, of replay: ReplayProgress) -> Bool
}

extension HubEndpoint {
    func subscribed(requestID: [UInt8]?, pattern: TopicPattern, position: TopicPosition?) {}
    func published(requestID: [UInt8]?, outcome: PublishOutcome) {}
    func received(_ page: ReplayPage, of replay: ReplayProgress) -> Bool { false }
}
