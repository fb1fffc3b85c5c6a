// A WebSocket stand-in the test drives frame by frame: what bus.js sends is recorded, and the
// test plays the server (open, text and binary frames, handshake failures, closes).
export class FakeWebSocket {
  /** Every socket bus.js opened, oldest first. */
  static sockets = [];

  static reset() { FakeWebSocket.sockets = []; }
  static get last() { return FakeWebSocket.sockets.at(-1); }

  constructor(url, protocol) {
    this.url = url;
    this.protocol = protocol;
    this.readyState = 0;
    this.sent = [];
    this.binaryType = "blob";
    FakeWebSocket.sockets.push(this);
  }

  send(frame) {
    if (this.readyState !== 1) throw new Error("not open");
    this.sent.push(frame);
  }

  close() { this.readyState = 3; }

  /** The JSON envelopes sent so far (binary frames left out). */
  get envelopes() { return this.sent.filter((f) => typeof f === "string").map((f) => JSON.parse(f)); }

  // --- the server's side ---
  open(welcome = true) {
    this.readyState = 1;
    this.onopen?.({});
    if (welcome) this.text({ type: "welcome", protocol: "bus.v1", max_message_size: 1048576 });
  }

  text(value) { this.onmessage?.({ data: typeof value === "string" ? value : JSON.stringify(value) }); }
  binary(bytes) { this.onmessage?.({ data: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) }); }

  /** A handshake refused with an HTTP status, as Node's ws reports it (browsers never say). */
  refuse(status) {
    this.readyState = 3;
    this.onerror?.({ message: `Unexpected server response: ${status}` });
    this.onclose?.({ code: 1006, reason: "" });
  }

  drop(code = 1006, reason = "") {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }

  /** Acks the newest subscribe for `topic` with `fields`. */
  ackSubscribe(topic, fields = {}) {
    const request = this.envelopes.filter((e) => e.type === "subscribe" && e.topic === topic).at(-1);
    this.text({ type: "ack", id: request.id, op: "subscribe", topic, ...fields });
    return request;
  }
}
