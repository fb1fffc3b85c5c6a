/// libFuzzer target for topic and pattern parsing and the subscription trie (built with the
/// Topics sources; see fuzz/run.sh).
///
/// Input: byte 0 picks the limits, the rest is lines (`\n`), each tried as a topic and as a
/// pattern. Checks the rules against each other: a valid topic is a valid literal pattern
/// that matches it; the String and byte initialisers agree; the trie (with its cache, asked
/// twice, and after removals) matches exactly what `TopicPattern.matches` says pattern by
/// pattern; `isSubset(of:)` is sound on every topic of the input.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTopics(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let limitChoices = [TopicLimits.default, TopicLimits(maxLength: 8, maxDepth: 3), TopicLimits(maxLength: 32, maxDepth: 1)]
    let limits = limitChoices[Int(input[0]) % limitChoices.count]

    var topics: [TopicName] = []
    var patterns: [TopicPattern] = []
    // At most 64 lines: the cross-checks below are quadratic, and more lines add no new paths.
    for line in input[1...].split(separator: 0x0A, maxSplits: 64, omittingEmptySubsequences: false).prefix(64) {
        // An exactly sized copy, so ASan sees any read past the line.
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: line.count, alignment: 1)
        defer { bytes.deallocate() }
        bytes.copyMemory(from: UnsafeRawBufferPointer(rebasing: line))
        let raw = UnsafeRawBufferPointer(bytes)
        let name = try? TopicName(validating: raw, limits: limits)
        let pattern = try? TopicPattern(validating: raw, limits: limits)
        if let text = String(validating: raw, as: UTF8.self) {
            precondition((try? TopicName(text, limits: limits)) == name, "TopicName: String and bytes disagree")
            precondition((try? TopicPattern(text, limits: limits)) == pattern, "TopicPattern: String and bytes disagree")
        } else {
            precondition(name == nil && pattern == nil, "accepted invalid UTF-8")
        }
        if let name {
            guard let pattern else { preconditionFailure("valid topic \(name) is not a valid pattern") }
            precondition(pattern.isLiteral && pattern.literal == name, "topic's pattern is not its literal")
            precondition(pattern.matches(name), "literal pattern does not match its topic")
            precondition(name.utf8Count <= limits.maxLength && name.segmentCount <= limits.maxDepth, "limits ignored")
            precondition(name.segments.count == name.segmentCount, "segment count wrong")
            topics.append(name)
        }
        if let pattern {
            precondition(pattern.isSubset(of: pattern), "pattern not a subset of itself")
            precondition(pattern.isLiteral == (pattern.literal != nil), "isLiteral disagrees with literal")
            precondition(pattern.utf8Count <= limits.maxLength && pattern.segmentCount <= limits.maxDepth, "limits ignored")
            patterns.append(pattern)
        }
    }

    var index: [TopicPattern: Int] = [:]
    for pattern in patterns where index[pattern] == nil { index[pattern] = index.count }
    let trie = SubscriptionTrie<Int>(cacheCapacity: 4)
    for (pattern, value) in index { precondition(trie.insert(value, for: pattern), "fresh insert refused") }
    precondition(trie.count == index.count, "trie count wrong")

    func checkMatches(_ live: [TopicPattern: Int]) {
        for topic in topics {
            let expected = live.filter { $0.key.matches(topic) }.map(\.value).sorted()
            precondition(trie.match(topic).values.sorted() == expected, "trie disagrees with matches() for \(topic)")
            precondition(trie.match(topic).values.sorted() == expected, "cached match differs for \(topic)")
        }
    }
    checkMatches(index)
    var live = index
    for (pattern, value) in index where value % 2 == 0 {
        precondition(trie.remove(value, for: pattern), "remove of a held value failed")
        live[pattern] = nil
    }
    checkMatches(live)

    // Cubic, so on a small sample.
    for p in patterns.prefix(16) {
        for q in patterns.prefix(16) where p.isSubset(of: q) {
            for topic in topics.prefix(16) where p.matches(topic) {
                precondition(q.matches(topic), "\(p) ⊂ \(q) but \(topic) matches only \(p)")
            }
        }
    }
    return 0
}
