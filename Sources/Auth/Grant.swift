import BusProtocol
import Topics

/// What one credential may do: the patterns it may publish to and subscribe to.
///
/// Publish is allowed when the topic matches one of `publish`. Subscribe is allowed only when
/// the requested pattern is a subset of one of `subscribe` (`TopicPattern.isSubset`): every
/// topic the subscription could ever deliver must be readable, so `a.>` allows `a.b` and
/// `a.*` but never `>` or `*.b`.
public struct Grant: Sendable, Equatable {
    public let publish: [TopicPattern]
    public let subscribe: [TopicPattern]

    public init(publish: [TopicPattern], subscribe: [TopicPattern]) {
        self.publish = publish
        self.subscribe = subscribe
    }

    public func allowsPublish(to topic: TopicName) -> Bool {
        publish.contains { $0.matches(topic) }
    }

    public func allowsSubscribe(to pattern: TopicPattern) -> Bool {
        subscribe.contains { pattern.isSubset(of: $0) }
    }

    /// Most patterns one list may hold: a token is checked on every subscribe and publish.
    public static let maxPatterns = 256

    /// A JSON array of pattern strings (`["chat.>", "news.*"]`), each a valid `TopicPattern`
    /// under the default limits; nil with a reason otherwise.
    static func patterns(_ json: UnsafeRawBufferPointer) -> Result<[TopicPattern], AuthError> {
        var patterns: [TopicPattern] = []
        var problem: AuthError?
        do throws(JSONError) {
            try JSON.scanArray(json, maxDepth: 1) { range throws(JSONError) in
                guard problem == nil else { return }
                let raw = UnsafeRawBufferPointer(rebasing: json[range])
                guard raw.first == 0x22, let text = JSON.decodeString(raw) else {
                    problem = .invalidClaims("a pattern list must hold strings only")
                    return
                }
                guard patterns.count < maxPatterns else {
                    problem = .invalidClaims("more than \(maxPatterns) patterns")
                    return
                }
                do throws(TopicError) { patterns.append(try TopicPattern(text)) } catch {
                    problem = .invalidClaims("invalid pattern \(JSONText.quoted(text)): \(error.message)")
                }
            }
        } catch {
            return .failure(.invalidClaims("a pattern list must be a JSON array of strings"))
        }
        if let problem { return .failure(problem) }
        return .success(patterns)
    }
}
