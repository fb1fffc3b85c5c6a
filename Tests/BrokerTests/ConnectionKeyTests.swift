import Testing
@testable import Broker

/// `ConnectionKey` replaces SipHash with a short mix for the loop's connection table (issue 18):
/// it must still spread ids over the buckets a dictionary picks with its low bits, including
/// ids that differ only in their high bits (the loop number sits at bit 48).
@Suite struct ConnectionKeyTests {
    private func buckets(_ ids: some Sequence<UInt64>, seed: Int, bits: Int) -> Int {
        Set(ids.map { ConnectionKey($0)._rawHashValue(seed: seed) & (1 << bits - 1) }).count
    }

    @Test(arguments: [0, 1, -1, 0x5DEE_CE66_D1CE_4E5B])
    func idsSpreadOverTheLowBits(seed: Int) {
        // A loop's serials, one after another: about as many buckets as a random hash fills
        // (1 - 1/e of 4,096 is 2,589).
        #expect(buckets((1...4096).map { UInt64(2) << 48 | $0 }, seed: seed, bits: 12) > 2400)
        // The same serial on 256 loops: an identity hash would put them all in one bucket.
        #expect(buckets((1...256).map { UInt64($0) << 48 | 7 }, seed: seed, bits: 8) > 140)
    }

    @Test func equalIdsAreEqualKeysWithEqualHashes() {
        let id: UInt64 = 3 << 48 | 12_345
        #expect(ConnectionKey(id) == ConnectionKey(id))
        #expect(ConnectionKey(id)._rawHashValue(seed: 42) == ConnectionKey(id)._rawHashValue(seed: 42))
        #expect(ConnectionKey(id).hashValue == ConnectionKey(id).hashValue)
        var table = [ConnectionKey(id): "a", ConnectionKey(id + 1): "b"]
        table[ConnectionKey(id)] = nil
        #expect(table == [ConnectionKey(id + 1): "b"])
    }
}
