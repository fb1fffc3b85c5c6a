import TestSupport
import BusProtocol
import Testing

/// Seeded random mutations of valid envelopes (the inputs a fuzzer starts from): the scanner
/// must agree with the independent reference validator, and nothing may crash or report a
/// range outside its input. Seeds are fixed so any failure replays.
struct RandomizedTests {
    static let seeds: [String] = [
        #"{"type":"publish","id":4,"topic":"chat.room1","data":{"from":"ann","text":"hi"}}"#,
        #"{"type":"subscribe","id":"a\"b","topic":"chat.>"}"#,
        #"{"type":"publish","topic":"t","data":[1,-2.5e+3,true,false,null,"\u00e9\n",{"k":[]}]}"#,
        #" { "type" : "unsubscribe" , "id" : -17 , "topic" : "météo.paris" } "#,
        #"{"type":"publish","topic":"x","data":"\ud83d\ude00 😀 \\ \/"}"#,
        #"[{"a":[[0.0e0]]},"",0,{}]"#,
    ]

    /// Bytes that matter to the grammar, so mutations reach interesting states often.
    static let alphabet: [UInt8] = Array(#"{}[]:,"\/ubfnrt0123456789-+.eE ntrufalse"#.utf8) + [0x00, 0x09, 0x0A, 0x1F, 0x7F, 0xC3, 0xA9, 0xE2, 0x80, 0xFF]

    static func mutate(_ input: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0 ..< Int.random(in: 1 ... 4, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0 ..< bytes.count, using: &rng)
            switch Int.random(in: 0 ..< 6, using: &rng) {
            case 0 where !bytes.isEmpty: bytes[position] = alphabet.randomElement(using: &rng)!
            case 1: bytes.insert(alphabet.randomElement(using: &rng)!, at: position)
            case 2 where !bytes.isEmpty: bytes.remove(at: position)
            case 3 where !bytes.isEmpty: bytes[position] = UInt8.random(in: 0 ... 255, using: &rng)
            case 4 where !bytes.isEmpty:
                let end = min(bytes.count, position + Int.random(in: 1 ... 8, using: &rng))
                bytes.insert(contentsOf: bytes[position ..< end], at: position)
            default:
                bytes = Array(bytes.prefix(position))
            }
        }
        return bytes
    }

    @Test(arguments: Array(seeds.indices))
    func mutationsAgreeWithReferenceAndNeverCrash(_ seedIndex: Int) {
        var rng = SplitMix64(seed: 0xB05 &+ UInt64(seedIndex))
        let original = utf8(Self.seeds[seedIndex])
        #expect(validate(original))
        var validCount = 0
        for _ in 0 ..< 4000 {
            let bytes = Self.mutate(original, using: &rng)
            let ours = validate(bytes)
            let reference = ReferenceJSON.isValid(bytes)
            #expect(ours == reference, "\(hex(bytes))")
            if ours { validCount += 1 }
            switch parseEnvelope(bytes) {
            case .success(let request):
                #expect(ours)
                for range in [request.id, request.data].compactMap({ $0 }) {
                    #expect(range.lowerBound >= 0 && range.upperBound <= bytes.count)
                    #expect(validate(Array(bytes[range])))
                }
            case .failure(let error):
                if let id = error.id { #expect(id.upperBound <= bytes.count) }
                if !ours { #expect(error.code == .badJSON) }
            }
            _ = parseServer(bytes)
            _ = bytes.withUnsafeBytes { BinaryLayout.parsePublish($0) }
            _ = bytes.withUnsafeBytes { BinaryLayout.parseMessage($0) }
        }
        #expect(validCount > 0, "mutations should sometimes stay valid")
    }

    /// Random short token soups: mostly invalid, which the mutation test rarely explores.
    @Test func randomTokenSoupsAgreeWithReference() {
        var rng = SplitMix64(seed: 42)
        let tokens = ["{", "}", "[", "]", ":", ",", "\"a\"", "\"\\u00", "1", "-0", "0.5", "1e5", "true", "null", " ", "\"", "\\", "e", "."]
        for _ in 0 ..< 20_000 {
            let count = Int.random(in: 0 ... 12, using: &rng)
            let bytes = utf8((0 ..< count).map { _ in tokens.randomElement(using: &rng)! }.joined())
            #expect(validate(bytes) == ReferenceJSON.isValid(bytes), "\(String(decoding: bytes, as: UTF8.self))")
            #expect(validate(bytes, maxDepth: 2) == ReferenceJSON.isValid(bytes, maxDepth: 2))
        }
    }

    @Test func randomBinaryPublishHeadersNeverEscapeTheirFrame() {
        var rng = SplitMix64(seed: 7)
        for _ in 0 ..< 20_000 {
            var bytes = (0 ..< Int.random(in: 0 ... 12, using: &rng)).map { _ in UInt8.random(in: 0 ... 255, using: &rng) }
            if !bytes.isEmpty, Bool.random(using: &rng) { bytes[0] = BinaryLayout.publishKind }
            if bytes.count > 1, Bool.random(using: &rng) { bytes[1] &= 1 }
            if case .success(let publish) = bytes.withUnsafeBytes({ BinaryLayout.parsePublish($0) }) {
                #expect(publish.topic.upperBound <= publish.payload.lowerBound)
                #expect(publish.payload.upperBound == bytes.count)
                #expect(!publish.topic.isEmpty)
            }
        }
    }
}
