
extension Connection {
    /// Queues a topic message for this subscriber, or drops the subscriber if it would
    /// overflow its queue: a slow consumer costs only itself, never the publisher.
    ///
    /// At the bound the queue is first written out: a burst delivered within one loop turn
    /// (hundreds of small publishes in one read) must not count against a subscriber whose
    /// socket would take it. Only a socket that refuses the bytes makes a slow consumer.
    /// Returns whether the frame was queued.
    /// Past the server's budget (--max-queued-bytes) the largest queues give way first.
    /// A connection that negotiated permessage-deflate gets the message's shared compressed
    /// encoding instead (`wireEncoding(of:)`).
    @discardableResult
    func deliver(_ frame: OutboundBytes) -> Bool {
        guard isOpen else { return false }
        // Without permessage-deflate the frame goes as it is: `wireEncoding` returning it
        // cost a retain and a release per delivery.
        guard webSocket.deflateWindowBits != 0 else { return enqueue(frame, countingMessages: true) }
        return enqueue(wireEncoding(of: frame), countingMessages: true)
    }

    /// Frees the queue at once (but for a frame already partly written), sends the
    /// service's notice (a bus subscriber is told, per topic, the last position it was sent)
    /// and closes with 4008, giving the client `--slow-consumer-grace` (not the close timeout)
    /// to read them.
    func dropSlowConsumer(overflowing frame: OutboundBytes?, cause: String) {
        guard isOpen else { return }
        let (messages, bytes) = (queuedMessages, queuedBytes)
        let notice = webSocket.service?.slowConsumerNotice(on: self, cause: cause, overflowing: frame)
        dropUnstartedFrames()
        if let notice { enqueueFinal(notice) }
        close(.slowConsumer)
        markDroppedSlow()
        loop.metrics.slowConsumerDrops &+= 1
        log.info("slow consumer dropped", peerFields + [("id", String(id)), ("cause", cause),
                                           ("queued_messages", String(messages)), ("queued_bytes", String(bytes))])
    }
}
