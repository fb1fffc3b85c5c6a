import BusProtocol
import Frames
import Topics

extension Connection {
    /// Queues a topic message for this subscriber, or drops the subscriber if it would
    /// overflow its queue: a slow consumer costs only itself, never the publisher.
    ///
    /// At the bound the queue is first written out: a burst delivered within one loop turn
    /// (hundreds of small publishes in one read) must not count against a subscriber whose
    /// socket would take it. Only a socket that refuses the bytes makes a slow consumer.
    /// Returns whether the frame was queued.
    /// Past the server's budget (--max-queued-bytes) the largest queues give way first.
    @discardableResult
    func deliver(_ frame: OutboundBytes) -> Bool {
        isOpen && enqueue(frame, countingMessages: true)
    }

    /// Frees the queue at once (but for a frame already partly written), tells the client
    /// per topic the last position it was sent, and closes with 4008.
    /// A resuming subscriber read its replay so slowly that history moved past it.
    func dropBehindReplay(topic: TopicName, lastSent: TopicPosition) {
        let firstLost = DeliveryStamp(topic: topic, position: TopicPosition(epoch: lastSent.epoch, seq: lastSent.seq + 1),
                                      kind: .json, payload: 0..<0, arrival: 0)
        dropSlowConsumer(overflowing: nil, cause: "replay fell behind history", firstLost: firstLost)
    }

    /// A bus subscriber is told, per topic, the last position it was sent; any WebSocket is
    /// closed with 4008 and given `--slow-consumer-grace` (not the close timeout) to read it.
    func dropSlowConsumer(overflowing frame: OutboundBytes?, cause: String, firstLost extra: DeliveryStamp? = nil) {
        guard isOpen else { return }
        let (messages, bytes) = (queuedMessages, queuedBytes)
        var firstLost: [String: DeliveryStamp] = [:]
        var order: [String] = []
        func note(_ stamp: DeliveryStamp?) {
            guard let stamp else { return }
            if let known = firstLost[stamp.topic.string], known.position.seq <= stamp.position.seq { return }
            if firstLost[stamp.topic.string] == nil { order.append(stamp.topic.string) }
            firstLost[stamp.topic.string] = stamp
        }
        forEachUnstartedFrame { note($0.stamp) }
        note(frame?.stamp)
        note(extra)
        dropUnstartedFrames()
        let positions = order.prefix(Self.maxReportedPositions).map { topic in
            let stamp = firstLost[topic]!
            return (topic: topic, epoch: stamp.position.epoch, seq: stamp.position.seq - 1)
        }
        let message = "\(cause) (\(messages) messages, \(bytes) bytes queued)"
        if busSession != nil {
            enqueueFinal(WireFrame.make(opcode: .text, payload: ServerEnvelope.slowConsumer(message: message, positions: positions)))
        }
        close(code: .slowConsumer, reason: "slow consumer", timeout: max(config.closeTimeout, config.slowConsumerGrace))
        markDroppedSlow()
        loop.metrics.slowConsumerDrops &+= 1
        log.info("slow consumer dropped", peerFields + [("id", String(id)), ("cause", cause),
                                           ("queued_messages", String(messages)), ("queued_bytes", String(bytes))])
    }

    /// The error envelope before a 4008 close stays small whatever the client subscribed to.
    static let maxReportedPositions = 100
}
