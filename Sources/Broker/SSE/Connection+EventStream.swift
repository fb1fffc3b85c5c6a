import BusProtocol
import Frames

/// A connection's event-stream phase (`GET /sse/…`, Protocol.md "Server-Sent Events").
///
/// Its own rules, not the WebSocket's: no request deadline and no idle rule (an `EventSource`
/// never sends anything after its request); liveness comes from the heartbeat written every
/// `--sse-heartbeat` seconds and from `TCP_USER_TIMEOUT` (set to `--idle-timeout`), which
/// ends a connection whose written bytes go unacknowledged that long. Input is still read, to
/// see EOF, and discarded, at most `maxInput` bytes of it. The send queue has the WebSocket's
/// bounds and slow-consumer rule (a delivery counts as one message though it is two entries).
/// A class the connection makes only when it becomes a stream (`Connection.eventStream`).
final class EventStreamState {
    var stream: EventStream?
    var nextHeartbeat: UInt64 = 0
    /// Loop time at which the token presented with the request expires.
    var tokenExpiry: UInt64?
    /// Bytes received after the request.
    var input = 0
}

extension Connection {
    /// Bytes a client may send after its event-stream request (it has no reason to send any).
    static let maxEventStreamInput = 64 << 10

    /// Answers the request with `head` (the response head and the first `retry:`) and turns
    /// the connection into the stream `stream` speaks on.
    func beginEventStream(_ stream: EventStream, head: OutboundBytes, tokenExpiry: UInt64?) {
        let head = http.crossOrigin.map { CrossOrigin.splice($0, into: head) } ?? head
        guard enqueue(head) else { return }
        becomeEventStream()
        eventStream.stream = stream
        eventStream.tokenExpiry = tokenExpiry
        eventStream.nextHeartbeat = loop.now + Self.nanos(config.sseHeartbeat)
        endpoint = stream
        Sys.setUserTimeout(fd, milliseconds: UInt32(min(config.idleTimeout * 1000, Double(UInt32.max))))
        loop.eventStreams += 1
        loop.metrics.eventStreamsOpened &+= 1
        rescheduleTimer()
    }

    /// Queues one delivery: the message's shared data lines, then this stream's id tail.
    /// False when it was not queued (the stream ended, or was dropped as slow).
    func enqueueEvent(_ data: OutboundBytes, tail: OutboundBytes) -> Bool {
        phase == .streaming && enqueue(data, countingMessages: true) && enqueue(tail, countingMessages: true)
    }

    /// Queues bytes of the stream's own (an empty id event, a `recovered` event).
    func enqueueStreamBytes(_ bytes: [UInt8]) {
        guard phase == .streaming else { return }
        enqueue(OutboundBytes.copying(bytes))
    }

    func discardStreamInput(_ count: Int) {
        eventStream.input += count
        guard eventStream.input > Self.maxEventStreamInput else { return }
        log.info("event stream closed: input after the request", peerFields + [("id", String(id)),
                                                                  ("bytes", String(eventStream.input))])
        closeNow(reason: "input after an event-stream request")
    }

    var streamDeadline: UInt64 {
        var deadline = min(eventStream.nextHeartbeat, eventStream.tokenExpiry ?? .max)
        if queuedMessages > 0 { deadline = min(deadline, lastWritten &+ Self.nanos(config.idleTimeout)) }
        return deadline
    }

    /// The stream's timer; true when the stream ended.
    func streamTimerFired(now: UInt64) -> Bool {
        if queuedMessages > 0 && now &- lastWritten >= Self.nanos(config.idleTimeout) {
            // Nothing of its queue went out for the idle timeout: the client stopped reading.
            dropSlowEventStream(overflowing: nil, cause: "stalled: nothing read for \(Int(config.idleTimeout)) s")
            return true
        }
        if let expiry = eventStream.tokenExpiry, now >= expiry {
            log.info("token expired: ending event stream", peerFields + [("id", String(id))])
            endStream(with: eventStream.stream?.tokenExpiredEvent())
            return true
        }
        if now >= eventStream.nextHeartbeat {
            // A write keeps NAT and proxy state alive and, unacknowledged, ends the connection
            // through TCP_USER_TIMEOUT; a queue already waiting to be written does both.
            if queuedMessages == 0, let heartbeat = eventStream.stream?.heartbeat() { enqueueStreamBytes(heartbeat) }
            eventStream.nextHeartbeat = now + Self.nanos(config.sseHeartbeat)
        }
        return false
    }

    /// Sends `final` (a named event), then ends the stream: close-delimited, so closing the
    /// connection is the end of the response. `grace` bounds how long the rest may take.
    func endStream(with final: [UInt8]?, grace: Double? = nil) {
        guard phase == .streaming else { return }
        if let final { enqueueFinal(OutboundBytes.copying(final)) }
        enterClosingPhase(.closingAfterFlush, timeout: grace)
    }

    /// Like a WebSocket slow consumer: the queue is released (but for an event already partly
    /// written, which is completed), a named `slow_consumer` event says per topic the last
    /// position sent and carries the id to resume from, and the stream ends, with
    /// `--slow-consumer-grace` to read it.
    func dropSlowEventStream(overflowing frame: OutboundBytes?, cause: String) {
        guard phase == .streaming, let stream = eventStream.stream else { return }
        let (messages, bytes) = (queuedMessages, queuedBytes)
        var lost: [DeliveryStamp] = []
        forEachUnstartedFrame { if let stamp = $0.stamp { lost.append(stamp) } }
        if let stamp = frame?.stamp { lost.append(stamp) }
        let started = partlyWritten
        dropUnstartedFrames()
        let notice = stream.slowConsumerEvent(lost: lost, completing: started?.stamp != nil,
                                              message: "\(cause) (\(messages / 2) messages, \(bytes) bytes queued)")
        endStream(with: notice, grace: max(config.closeTimeout, config.slowConsumerGrace))
        markDroppedSlow()
        loop.metrics.slowConsumerDrops &+= 1
        log.info("slow consumer dropped", peerFields + [("id", String(id)), ("cause", cause), ("stream", "sse"),
                                           ("queued_messages", String(messages / 2)), ("queued_bytes", String(bytes)),
                                           ("completed_event", String(started?.stamp != nil))])
    }

    /// The stream is over (closing or gone): its subscriptions go.
    func endEventStream() {
        guard let stream = eventStream.stream else { return }
        eventStream.stream = nil
        loop.eventStreams -= 1
        stream.closed()
    }
}
