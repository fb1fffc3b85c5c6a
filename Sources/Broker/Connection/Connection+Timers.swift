import Auth
import Frames

/// A connection's deadlines, all on the loop's timing wheel (one entry per connection): the
/// request deadline of the HTTP phase, pings, the idle and stall rules and the token's expiry
/// of the WebSocket phase, and the wait for the peer's close.
extension Connection {
    func didOpen() {
        http.parser = HTTPRequestParser(maxHeadSize: loop.maxHandshakeSize, storage: onLoop { $0.takeSpareHeaders() })
        phaseDeadline = loop.now + loop.handshakeTimeoutNanos
        rescheduleTimer()
        log.debug("connection opened", peerFields + [("id", String(id))])
    }

    /// Saturating: `UInt64(Double)` traps on a huge or non-finite value.
    static func nanos(_ seconds: Double) -> UInt64 { ExpiryDeadline.nanoseconds(seconds) }

    /// A new request head has the whole handshake timeout to arrive.
    func restartHandshakeDeadline() {
        phaseDeadline = loop.now + loop.handshakeTimeoutNanos
        rescheduleTimer()
    }

    // MARK: timers

    func timerFired(tick: UInt64) {
        guard tick == timerTick, phase != .closed else { return }
        let now = loop.now
        switch phase {
        case .http:
            if now >= phaseDeadline { return closeNow(reason: "handshake timeout") }
        case .open:
            let idle = loop.idleTimeoutNanos
            // Time the server spent not reading the peer is not the peer's silence.
            let silent = !readPaused && now &- lastReceived >= idle
            if queuedMessages > 0 && (silent || now &- lastWritten >= idle) {
                // Nothing of its queue went out for the idle timeout, or it went silent with
                // messages unread: it stopped reading. It is told where to resume.
                return dropSlowConsumer(overflowing: nil, cause: "stalled: nothing read for \(Int(config.idleTimeout)) s")
            }
            if silent { return closeNow(reason: "idle timeout") }
            if let expiry = webSocket.authExpiry, now >= expiry {
                log.info("token expired: closing", peerFields + [("id", String(id))])
                return close(.tokenExpired)
            }
            if now >= webSocket.nextPing {
                releaseIdleStorage()
                // Ping only a quiet peer: anything received already proves it is alive.
                if !readPaused && now &- lastReceived >= loop.pingIntervalNanos {
                    enqueue(WireFrame.make(opcode: .ping, payload: []))
                }
                webSocket.nextPing = now + loop.pingIntervalNanos
            }
        case .streaming:
            if streamTimerFired(now: now) { return }
        case .closeSent, .failing, .lingering, .closingAfterFlush:
            if now >= phaseDeadline { return closeNow(reason: "close timeout") }
        case .closed:
            return
        }
        rescheduleTimer()
    }

    /// Whether the wheel's entry for `tick` is this connection's live one (not stale).
    func holdsTimer(tick: UInt64) -> Bool { tick == timerTick && phase != .closed }

    func rescheduleTimer() {
        let deadline: UInt64
        switch phase {
        case .open:
            deadline = min(webSocket.nextPing, readPaused ? .max : lastReceived &+ loop.idleTimeoutNanos, webSocket.authExpiry ?? .max)
        case .streaming: deadline = streamDeadline
        case .closed: return
        default: deadline = phaseDeadline
        }
        timerTick = onLoop { $0.schedule(id, atNanos: deadline) }
    }
}
