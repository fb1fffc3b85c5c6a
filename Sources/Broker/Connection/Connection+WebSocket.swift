import Frames

extension Connection {
    /// Runs the frame decoder over freshly read bytes (unmasking them in place) and acts on
    /// each complete message or control frame, until the bytes are used up or an event
    /// ended the connection (the rest is then dropped unread).
    func consumeFrames(_ bytes: UnsafeMutableRawBufferPointer) {
        guard webSocket.decoding else { return }
        // Taken out while decoding, so handlers never see a half-updated copy; a partial
        // frame's decoder is swapped out of its box, so its buffer stays uniquely referenced.
        webSocket.decoding = false
        var frames = FrameDecoder(role: .server, maxMessageSize: loop.maxMessageSize,
                                  inflater: webSocket.inflates ? loop.compression.inflater : nil)
        let box = webSocket.partial
        webSocket.partial = nil
        if let box { swap(&frames, &box.decoder) }
        let heldBefore = frames.bufferedByteCount
        // A compressed message is inflated whole, next to every partly received message the
        // loop holds: together they stay within the reassembly budget.
        if frames.inflater != nil { frames.inflateLimit = onLoop { max(0, $0.reassemblyBytesBudget - $0.reassemblyBytes) } }
        var rest = bytes
        do {
            while let event = try frames.next(&rest) {
                handle(event)
                if phase != .open && phase != .closeSent { break }
            }
            let held = frames.bufferedByteCount
            let reassembling = onLoop { loop in
                loop.reassemblyBytes += held - heldBefore
                return loop.reassemblyBytes
            }
            if held > heldBefore && reassembling > onLoop({ $0.reassemblyBytesBudget }) {
                // Every partly received message together is past the server's budget: this
                // one, growing, fails as too big rather than letting memory run out.
                onLoop { $0.reassemblyBytes -= held }
                fail(.messageTooBig)
                return
            }
            guard phase == .open || phase == .closeSent else {
                onLoop { $0.reassemblyBytes -= held }
                return
            }
            webSocket.decoding = true
            // Between messages nothing needs keeping: the next read starts a fresh decoder.
            guard !frames.isIdle else { return }
            if let box {
                swap(&frames, &box.decoder)
                webSocket.partial = box
            } else {
                webSocket.partial = PartialFrame(frames)
            }
        } catch {
            loop.reassemblyBytes -= heldBefore
            fail(error)
        }
    }

    private func handle(_ event: FrameDecoder.Event) {
        switch event {
        case .text(let payload):
            if phase == .open { webSocket.service?.received(.text, payload, on: self) }
        case .binary(let payload):
            if phase == .open { webSocket.service?.received(.binary, payload, on: self) }
        case .ping(let payload):
            if phase == .open { enqueue(WireFrame.make(opcode: .pong, payload: payload)) }
        case .pong:
            break  // its arrival already refreshed the liveness clock
        case .close(let code, _):
            receivedClose(code: code)
        }
    }

    /// RFC 6455 §5.5.1: answer a close with a close echoing its code, then (as the server)
    /// close TCP first. A close answering ours ends the connection at once.
    private func receivedClose(code: CloseCode?) {
        switch phase {
        case .open:
            closeCode = code?.rawValue ?? CloseCode.noStatusReceived.rawValue
            enqueueFinal(Connection.closeFrame(code: code, reason: ""))
            closeAfterFlush()
        case .closeSent:
            closeNow(reason: "close handshake complete")
        default:
            break
        }
    }
}
