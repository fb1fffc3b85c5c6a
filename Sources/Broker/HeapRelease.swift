/// When a loop gives its free heap back to the system (`Sys.returnFreeHeap`): once its open
/// connections have fallen under a quarter of their peak since the last release, at the next
/// quiet turn, when the closing storm is over and nothing waits on the loop.
///
/// Small peaks are left alone (their memory is reused by the next connections anyway), and so
/// is a loop under steady load: it is never quiet, and what it frees it soon allocates again.
struct HeapRelease {
    /// Open connections below which a peak is not worth a release.
    static let minimumPeak = 512
    /// The most connections open at once since the last release.
    private(set) var peak = 0
    private(set) var isDue = false

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
        return true
    }
}
