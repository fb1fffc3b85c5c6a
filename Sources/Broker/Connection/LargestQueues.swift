/// Something whose send queue `LargestQueues` keeps track of: the index's two words live in
/// the holder itself, so moving it between classes allocates nothing.
protocol QueueHolder: AnyObject {
    /// 0: not indexed (under `LargestQueues.minimumBytes`); else the queue's size class.
    var queueClass: UInt8 { get set }
    /// Where the holder stands in its class's list.
    var queueClassSlot: Int32 { get set }
}

/// A loop's index of its largest send queues, for the server's send-queue budget
/// (`--max-queued-bytes`): when it runs short, the connections holding the most give way, not
/// whoever asks next, and finding them costs no scan of the loop's connections.
///
/// Queues are filed by power-of-two size class, from `minimumBytes` up; smaller ones are not
/// filed (they are never worth dropping for the budget). `largest` answers with one of the
/// largest holders, within a factor of two of the very largest. Updating a holder whose class
/// did not change is one comparison, so every queue change can afford it.
struct LargestQueues<Holder: QueueHolder> {
    /// Queues under 64 KiB are not filed.
    static var minimumShift: Int { 16 }
    static var minimumBytes: Int { 1 << minimumShift }
    private static var classCount: Int { 48 }

    private var classes: [[Holder]] = []

    /// Number of holders filed (tests and metrics).
    private(set) var count = 0

    static func sizeClass(of bytes: Int) -> UInt8 {
        guard bytes >= minimumBytes else { return 0 }
        return UInt8(min(Int.bitWidth - bytes.leadingZeroBitCount - minimumShift, classCount - 1))
    }

    /// `holder`'s queue now holds `bytes`.
    mutating func update(_ holder: Holder, bytes: Int) {
        let sizeClass = Self.sizeClass(of: bytes)
        guard sizeClass != holder.queueClass else { return }
        if holder.queueClass != 0 { remove(holder) }
        if sizeClass != 0 { insert(holder, into: sizeClass) }
    }

    /// One of the largest holders other than `excluded`, and its class; nil when no other
    /// queue is filed.
    func largest(excluding excluded: Holder) -> Holder? {
        var sizeClass = classes.count - 1
        while sizeClass > 0 {
            for holder in classes[sizeClass] where holder !== excluded { return holder }
            sizeClass -= 1
        }
        return nil
    }

    private mutating func insert(_ holder: Holder, into sizeClass: UInt8) {
        if classes.isEmpty { classes = Array(repeating: [], count: Self.classCount) }
        holder.queueClass = sizeClass
        holder.queueClassSlot = Int32(classes[Int(sizeClass)].count)
        classes[Int(sizeClass)].append(holder)
        count += 1
    }

    private mutating func remove(_ holder: Holder) {
        let sizeClass = Int(holder.queueClass), slot = Int(holder.queueClassSlot)
        let last = classes[sizeClass].removeLast()
        if last !== holder {
            classes[sizeClass][slot] = last
            last.queueClassSlot = Int32(slot)
        }
        holder.queueClass = 0
        count -= 1
        // A burst's lists give their storage back once the loop's large queues are gone.
        if count == 0 { classes = [] }
    }
}
