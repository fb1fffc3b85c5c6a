/// When a loop gives its free heap back to the system (`Sys.returnFreeHeap`): once its open
/// connections, or the bytes its queues and partial messages hold, have fallen under a quarter
/// of their peak since the last release, at the next quiet turn, when the closing storm (or
/// the flood) is over and nothing waits on the loop.
///
/// Small peaks are left alone (their memory is reused by the next connections anyway), and so
/// is a loop under steady load: it is never quiet, and what it frees it soon allocates again.
struct HeapRelease {
    /// Open connections below which a peak is not worth a release.
    static let minimumPeak = 512
    /// Bytes held below which a peak is not worth a release.
    static let minimumBytePeak = 1 << 20
    /// The most connections open at once since the last release.
    private(set) var peak = 0
    /// The most bytes queued and reassembled at once since the last release.
    private(set) var bytePeak = 0
    private(set) var isDue = false

    /// Once per turn: the loop's queues and partial messages hold `bytes`.
    mutating func bytesHeld(_ bytes: Int) {
        if bytes > bytePeak { bytePeak = bytes }
        if bytePeak >= Self.minimumBytePeak && bytes < bytePeak / 4 { isDue = true }
    }

    /// The loop's open connections changed to `count`.
    mutating func connectionsChanged(to count: Int) {
        if count > peak { peak = count }
        if peak >= Self.minimumPeak && count < peak / 4 { isDue = true }
    }

    /// A turn without events, with `count` connections open: true when the heap should be
    /// released now. The peak starts again from `count`.
    mutating func quietTurn(connections count: Int) -> Bool {
        guard isDue else { return false }
        isDue = false
        peak = count
        bytePeak = 0
        return true
    }
}
