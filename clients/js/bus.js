// bus.js: the client for a bus broker (Protocol.md, bus.v1), for browsers and Node.
// One ES module, no dependencies. The broker serves this exact file at GET /bus.js; its source
// of truth is clients/js/bus.js in the bus repository (clients/js/README.md).
//
// What it does for you: reconnects with backoff and full jitter, resubscribes and resumes every
// subscription from the last position it delivered (literal topics from their {epoch, seq},
// patterns from their cursor and the positions after the last checkpoint), reports every loss
// as an explicit "gap" event, drops duplicate and backward sequence numbers, correlates publish
// acks, and never resends a publish whose outcome is unknown.
//
// Usage:
//   import { connect } from "./bus.js";
//   const bus = connect("ws://127.0.0.1:8080/bus");
//   bus.subscribe("chat.>", { onMessage: (m) => console.log(m.topic, m.data) });
//   const ack = await bus.publish("chat.room1", { text: "hi" });   // {epoch, seq, subscribers}
//
// In Node 20 (no global WebSocket) pass a class: connect(url, { WebSocket: require("ws") }).

/** The subprotocol this client speaks (Protocol.md "Connecting"). */
export const PROTOCOL = "bus.v1";

/**
 * Reconnection timing, in milliseconds. The same rules as the Swift BusClient:
 * - after a drop (1001 going away, 1006 cut, any other close) the n-th retry (n from 0) waits a
 *   uniformly random time in [0, min(maxDelay, firstWindow * 2^n)) ("full jitter"), so 1,000
 *   clients dropped by one restart spread their reconnections over the first window instead of
 *   arriving together;
 * - when the server says it is overloaded (close 1013; HTTP 503 or 429 where the WebSocket
 *   implementation reports it) the wait is overloadFloor plus that jittered window;
 * - after a slow-consumer close (4008) the client resumes at once, but a second 4008 before the
 *   connection was stable backs off as above;
 * - the retry count (and the 4008 streak) reset once a connection stayed open stableAfter.
 * @type {Readonly<{firstWindow: number, maxDelay: number, overloadFloor: number, stableAfter: number}>}
 */
export const DEFAULT_RECONNECT = Object.freeze({ firstWindow: 3000, maxDelay: 30000, overloadFloor: 5000, stableAfter: 20000 });

/** How long a publish waits for its ack by default, in milliseconds. */
export const DEFAULT_PUBLISH_TIMEOUT = 10000;

/** At most this many per-topic positions are kept per subscription for duplicate detection. */
export const DEFAULT_MAX_TRACKED_TOPICS = 10000;

/** Protocol.md "Resuming a pattern": at most 1,000 positions in a resume. */
const MAX_RESUME_POSITIONS = 1000;

/**
 * An error with a stable code. Codes: every server error code of Protocol.md ("forbidden",
 * "invalid_topic", "rate_limited", …) plus these client ones:
 * - "not_connected": publish while the link is down (nothing was sent; publish again later);
 * - "unknown_outcome": the link dropped, or the bus was closed, before the ack: the message may
 *   or may not have been published. It is never resent (the protocol has no idempotency key);
 * - "timeout": no ack within the publish timeout (outcome unknown as well);
 * - "unauthorized": the server refused the token (HTTP 401) again after a fresh one was asked for;
 * - "token_expired": close 1008 "token expired" and no token callback to ask for a fresh one;
 * - "refused": the handshake was refused for good (HTTP 400, 403 or 404);
 * - "closed": the subscription or bus was closed before it was acked;
 * - "bad_frame": the server sent something this client cannot read (reported, never thrown).
 */
export class BusError extends Error {
  /**
   * @param {string} code @param {string} message
   * @param {{topic?: string, positions?: object[], close?: object, cause?: unknown}} [details]
   *   close: the close code, reason and HTTP status that ended the bus
   */
  constructor(code, message, details = {}) {
    super(message);
    this.name = "BusError";
    /** @type {string} */
    this.code = code;
    for (const key of ["topic", "positions", "close", "cause"]) if (details[key] !== undefined) this[key] = details[key];
  }
}

/**
 * The wait before the next connection attempt.
 * @param {"now"|"normal"|"overloaded"} kind
 * @param {number} attempt retries already made since the last stable connection (0 for the first)
 * @param {Partial<typeof DEFAULT_RECONNECT>} [options]
 * @param {() => number} [random] uniform in [0, 1)
 * @returns {number} milliseconds
 */
export function reconnectDelay(kind, attempt, options = {}, random = Math.random) {
  if (kind === "now") return 0;
  const o = { ...DEFAULT_RECONNECT, ...options };
  const window = Math.min(o.maxDelay, o.firstWindow * 2 ** Math.min(attempt, 30));
  const jitter = random() * window;
  return kind === "overloaded" ? o.overloadFloor + jitter : jitter;
}

/** @param {string} pattern */
export function isPattern(pattern) {
  return pattern.split(".").some((s) => s === "*" || s === ">");
}

/**
 * Whether a topic matches a pattern (Protocol.md "Topics": `*` one segment, `>` one or more
 * trailing segments).
 * @param {string} pattern @param {string} topic
 */
export function matches(pattern, topic) {
  const p = pattern.split("."), t = topic.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return t.length > i;
    if (i >= t.length) return false;
    if (p[i] !== "*" && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

const utf8 = new TextEncoder();

/**
 * Protocol.md "binary publish": 0x01, flags (bit 0: an id follows), id length, id, topic
 * length (2 bytes, big-endian), topic, payload.
 * @param {string} topic @param {string | undefined} id @param {Uint8Array} payload
 */
export function encodeBinaryPublish(topic, id, payload) {
  const t = utf8.encode(topic);
  const i = id === undefined ? new Uint8Array(0) : utf8.encode(id);
  if (t.length > 0xffff) throw new BusError("invalid_topic", "topic longer than 65535 bytes");
  if (i.length > 64) throw new BusError("bad_request", "id longer than 64 bytes");
  const head = id === undefined ? 2 : 3 + i.length;
  const frame = new Uint8Array(head + 2 + t.length + payload.length);
  frame[0] = 0x01;
  frame[1] = id === undefined ? 0x00 : 0x01;
  if (id !== undefined) { frame[2] = i.length; frame.set(i, 3); }
  frame[head] = t.length >> 8;
  frame[head + 1] = t.length & 0xff;
  frame.set(t, head + 2);
  frame.set(payload, head + 2 + t.length);
  return frame;
}

/**
 * Protocol.md "binary message": 0x02, epoch length, epoch (ASCII), seq (8 bytes, big-endian),
 * topic length (2), topic (UTF-8), payload. Returns null for anything malformed.
 * @param {Uint8Array} bytes
 * @returns {{topic: string, epoch: string, seq: number, data: Uint8Array} | null}
 */
export function decodeBinaryMessage(bytes) {
  if (bytes.length < 2 || bytes[0] !== 0x02) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = 1;
  const epochLength = bytes[i++];
  if (i + epochLength + 10 > bytes.length) return null;
  const epoch = String.fromCharCode(...bytes.subarray(i, i + epochLength));
  i += epochLength;
  const seq = view.getUint32(i) * 2 ** 32 + view.getUint32(i + 4);
  i += 8;
  if (!Number.isSafeInteger(seq)) return null;
  const topicLength = view.getUint16(i);
  i += 2;
  if (i + topicLength > bytes.length || topicLength === 0) return null;
  let topic;
  try {
    topic = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(i, i + topicLength));
  } catch {
    return null;
  }
  return { topic, epoch, seq, data: bytes.subarray(i + topicLength) };
}

/** @param {unknown} p */
function isPosition(p) {
  return !!p && typeof p === "object" && typeof p.epoch === "string" && Number.isSafeInteger(p.seq);
}

/** A tiny event emitter whose listeners cannot hurt each other: a throwing one is reported. */
class Emitter {
  constructor() {
    /** @type {Map<string, Set<Function>>} */
    this._listeners = new Map();
  }

  /**
   * @param {string} event @param {Function} listener
   * @returns {() => void} removes the listener
   */
  on(event, listener) {
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(listener);
    return () => this._listeners.get(event)?.delete(listener);
  }

  /** @param {string} event @param {...unknown} args */
  _emit(event, ...args) {
    const listeners = this._listeners.get(event);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener(...args);
      } catch (error) {
        this._listenerFailed(event, error);
      }
    }
  }

  /** @param {string} event @param {unknown} error */
  _listenerFailed(event, error) {
    console.error(`bus.js: a "${event}" listener threw`, error);
  }
}

/**
 * One subscription, keyed by its exact pattern (as on the server). It survives reconnections:
 * the bus resubscribes it and resumes from what it delivered last.
 *
 * Events: "message" (Message), "gap" (Gap), "ack" (the server's ack envelope), "error" (BusError:
 * the server refused the subscription, which is then gone).
 */
export class Subscription extends Emitter {
  /** @param {Bus} bus @param {string} pattern @param {SubscribeOptions} options */
  constructor(bus, pattern, options) {
    super();
    this.bus = bus;
    /** @type {string} */
    this.pattern = pattern;
    /** Whether the pattern has a wildcard (it then resumes from a cursor). */
    this.isPattern = isPattern(pattern);
    /** "pending" until the server acks, "active" after, "closed" once unsubscribed or refused. */
    this.state = "pending";
    /** The newest cursor (patterns), or undefined. */
    this.cursor = undefined;
    /** @type {Map<string, {epoch: string, seq: number}>} last position delivered, per topic */
    this._last = new Map();
    /** @type {Map<string, {epoch: string, seq: number}>} positions delivered after the cursor's checkpoint */
    this._held = new Map();
    this._first = { since: options.since, last: options.last };
    this._resuming = false;
    this._maxTopics = options.maxTrackedTopics ?? bus._maxTrackedTopics;
    /** @type {Promise<Subscription>} resolves at the first ack, rejects if refused or closed first */
    this.ready = new Promise((resolve, reject) => { this._resolveReady = resolve; this._rejectReady = reject; });
    this.ready.catch(() => {});  // never an unhandled rejection when nobody waits
  }

  /** The last position delivered on `topic` (the pattern itself for a literal), if any. */
  position(topic = this.pattern) {
    const p = this._last.get(topic);
    return p && { ...p };
  }

  /** Stops the subscription, here and on the server. */
  unsubscribe() {
    if (this.state === "closed") return;
    this._close(new BusError("closed", "unsubscribed before the server acked"));
    this.bus._unsubscribe(this);
  }

  /** @param {BusError} error */
  _close(error) {
    this.state = "closed";
    this._rejectReady(error);
  }

  _listenerFailed(event, error) {
    this.bus._reportListenerError(event, error);
  }

  /** The subscribe envelope for a (re)connection. */
  _subscribeEnvelope(id) {
    const envelope = { type: "subscribe", id, topic: this.pattern };
    if (this.isPattern) envelope.checkpoints = true;
    this._resuming = false;
    this._askedLast = undefined;
    if (this.isPattern && this.cursor !== undefined) {
      const positions = [...this._held].slice(-MAX_RESUME_POSITIONS).map(([topic, p]) => ({ topic, epoch: p.epoch, seq: p.seq }));
      envelope.since = { cursor: this.cursor, positions };
      this._resuming = true;
    } else if (!this.isPattern && this._last.has(this.pattern)) {
      envelope.since = { ...this._last.get(this.pattern) };
      this._resuming = true;
    } else if (this._first.since !== undefined) {
      envelope.since = this._first.since;
      this._resuming = true;
    } else if (this._first.last !== undefined) {
      envelope.last = this._first.last;
      this._askedLast = this._first.last;
    }
    this.state = "pending";
    return envelope;
  }

  /** @param {any} ack */
  _onAck(ack) {
    if (this.state === "closed") return;
    if (this.isPattern) {
      if (typeof ack.cursor === "string") this.cursor = ack.cursor;  // positions held stay: they are past it
      if (this._resuming && ack.recovered === false) {
        const lost = Array.isArray(ack.lost) ? ack.lost.filter((l) => l && typeof l.topic === "string") : [];
        for (const l of lost) {
          const from = this._last.get(l.topic);
          const next = isPosition(l.earliest) ? { epoch: l.earliest.epoch, seq: l.earliest.seq } : undefined;
          if (next) this._remember(l.topic, { epoch: next.epoch, seq: next.seq - 1 }); else this._last.delete(l.topic);
          this._gap({ topic: l.topic, reason: "history", from, next });
        }
        if (lost.length === 0) this._gap({ topic: this.pattern, reason: "unknown" });
      }
    } else if (typeof ack.epoch === "string" && Number.isSafeInteger(ack.seq)) {
      const from = this._last.get(this.pattern);
      const current = { epoch: ack.epoch, seq: ack.seq };
      if (this._resuming && ack.recovered === false) {
        let next;
        if (from && from.epoch === ack.epoch && from.seq > ack.seq) next = { epoch: ack.epoch, seq: ack.seq + 1 };
        else if (isPosition(ack.earliest)) next = { epoch: ack.earliest.epoch, seq: ack.earliest.seq };
        else next = { epoch: ack.epoch, seq: ack.seq + 1 };
        this._last.set(this.pattern, { epoch: next.epoch, seq: next.seq - 1 });
        this._gap({ topic: this.pattern, reason: from && from.epoch !== ack.epoch ? "epoch" : "history", from, next });
      } else if (!this._resuming && (!from || from.epoch !== current.epoch)) {
        // `last: n` replays from n before the ack's position (or from what history still
        // holds); a plain subscribe starts after it. Messages may come before a plain
        // subscribe's ack: a position already past the ack's stays.
        let start = current.seq + 1;
        if (this._askedLast !== undefined) {
          if (ack.recovered !== false) start = Math.max(1, current.seq - this._askedLast + 1);
          else if (isPosition(ack.earliest) && ack.earliest.epoch === current.epoch) start = ack.earliest.seq;
        }
        this._last.set(this.pattern, { epoch: current.epoch, seq: start - 1 });
      }
    }
    this._resuming = false;
    this.state = "active";
    this._emit("ack", ack);
    this._resolveReady(this);
  }

  /** @param {string} cursor */
  _onCheckpoint(cursor) {
    this.cursor = cursor;
    this._held.clear();
  }

  /** @param {Message} message */
  _deliver(message) {
    if (this.state === "closed") return;
    const prev = this._last.get(message.topic);
    if (prev) {
      if (prev.epoch === message.epoch) {
        if (message.seq <= prev.seq) { this.bus.stats.duplicates++; return; }
        if (message.seq > prev.seq + 1) this._gap({ topic: message.topic, reason: "seq", from: prev, next: { epoch: message.epoch, seq: message.seq } });
      } else {
        this._gap({ topic: message.topic, reason: "epoch", from: prev, next: { epoch: message.epoch, seq: message.seq } });
      }
    }
    const position = { epoch: message.epoch, seq: message.seq };
    this._remember(message.topic, position);
    if (this.isPattern) {
      this._held.delete(message.topic);
      this._held.set(message.topic, position);
    }
    this._emit("message", message);
  }

  _remember(topic, position) {
    this._last.delete(topic);
    this._last.set(topic, position);
    if (this._last.size > this._maxTopics) this._last.delete(this._last.keys().next().value);
  }

  /** @param {{topic: string, reason: string, from?: any, next?: any}} gap */
  _gap(gap) {
    const event = { pattern: this.pattern, topic: gap.topic, reason: gap.reason };
    if (gap.from) event.from = { ...gap.from };
    if (gap.next) event.next = { ...gap.next };
    if (gap.from && gap.next && gap.from.epoch === gap.next.epoch) event.count = Math.max(0, gap.next.seq - gap.from.seq - 1);
    this.bus.stats.gaps++;
    this._emit("gap", event);
  }
}

/**
 * A connection to a bus server that stays up by itself. Create it with `connect`.
 *
 * Events: "state" (state, info), "welcome" (the server's welcome envelope), "error" (a BusError
 * worth knowing: a refused request without a waiting promise, an unreadable frame, a listener
 * that threw, a slow-consumer notice).
 */
export class Bus extends Emitter {
  /** @param {string} url @param {BusOptions} [options] */
  constructor(url, options = {}) {
    super();
    const WS = options.WebSocket ?? globalThis.WebSocket;
    if (typeof WS !== "function") {
      throw new TypeError("bus.js: no WebSocket class: pass one as options.WebSocket (in Node 20: require(\"ws\"))");
    }
    this.url = url;
    this._WebSocket = WS;
    this._token = options.token;
    this._reconnect = { ...DEFAULT_RECONNECT, ...(options.reconnect ?? {}) };
    this._random = options.random ?? Math.random;
    this._publishTimeout = options.publishTimeout ?? DEFAULT_PUBLISH_TIMEOUT;
    this._maxTrackedTopics = options.maxTrackedTopics ?? DEFAULT_MAX_TRACKED_TOPICS;
    /** "connecting" | "connected" | "reconnecting" | "closed" */
    this.state = "connecting";
    /** The server's welcome envelope (limits in force), once received. */
    this.welcome = undefined;
    /** Counters: messages delivered, duplicates dropped, gaps reported, publishes acked, reconnections. */
    this.stats = { received: 0, duplicates: 0, gaps: 0, published: 0, reconnects: 0 };
    /** Why the bus closed for good, when it did. @type {BusError | undefined} */
    this.error = undefined;
    /** @type {Map<string, Subscription>} */
    this._subscriptions = new Map();
    /** @type {Map<string, Subscription>} subscribe id -> subscription, this connection */
    this._pendingSubscribes = new Map();
    /** @type {Map<string, {resolve: Function, reject: Function, timer: any}>} */
    this._pendingPublishes = new Map();
    this._nextId = 1;
    this._ws = null;
    this._timer = null;
    this._attempt = 0;
    this._streak4008 = 0;
    this._expiredStreak = 0;
    this._authFailures = 0;
    this._closed = false;
    this._open("initial");
  }

  /** Whether publishes can go out now. */
  get connected() {
    return this.state === "connected";
  }

  /**
   * Subscribes to a topic or pattern; subscribing again to the same pattern returns the same
   * subscription (with the new listeners added).
   * @param {string} pattern
   * @param {SubscribeOptions} [options]
   * @returns {Subscription}
   */
  subscribe(pattern, options = {}) {
    if (this._closed) throw new BusError("closed", "the bus is closed");
    let sub = this._subscriptions.get(pattern);
    const fresh = !sub;
    if (fresh) sub = new Subscription(this, pattern, options);
    if (options.onMessage) sub.on("message", options.onMessage);
    if (options.onGap) sub.on("gap", options.onGap);
    if (options.onError) sub.on("error", options.onError);
    if (fresh) {
      this._subscriptions.set(pattern, sub);
      if (this.connected) this._sendSubscribe(sub);
    }
    return sub;
  }

  /**
   * Publishes JSON (any value JSON.stringify accepts) or binary (a Uint8Array, another typed
   * array view or an ArrayBuffer). Resolves with the server's ack; rejects with a BusError:
   * "not_connected" at once while the link is down (nothing sent), "unknown_outcome" if the link
   * drops before the ack, "timeout", or the server's error code. Never resent.
   * @param {string} topic
   * @param {unknown} data
   * @param {{timeout?: number}} [options]
   * @returns {Promise<PublishAck>}
   */
  publish(topic, data, options = {}) {
    let bytes;
    if (data instanceof Uint8Array) bytes = data;
    else if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (bytes) return this._publish((id) => encodeBinaryPublish(topic, String(id), bytes), options);
    const json = JSON.stringify(data);
    if (json === undefined) return Promise.reject(new BusError("bad_request", "data is not JSON-serializable"));
    return this.publishJSON(topic, json, options);
  }

  /**
   * Publishes JSON text as it is: the server passes it on byte for byte (Protocol.md "publish").
   * @param {string} topic @param {string} json @param {{timeout?: number}} [options]
   * @returns {Promise<PublishAck>}
   */
  publishJSON(topic, json, options = {}) {
    try {
      JSON.parse(json);
    } catch (error) {
      return Promise.reject(new BusError("bad_json", "not JSON: " + error.message));
    }
    return this._publish((id) => `{"type":"publish","id":${id},"topic":${JSON.stringify(topic)},"data":${json}}`, options);
  }

  /** Closes the connection for good: no reconnection; unacked publishes end "unknown_outcome". */
  close() {
    if (this._closed) return;
    this._finish(undefined);
  }

  // --- connection ---

  async _open(reason) {
    this._timer = null;
    let token = this._token;
    if (typeof token === "function") {
      try {
        token = await token({ reason });
      } catch (error) {
        this._report(new BusError("token_failed", "the token callback failed: " + (error?.message ?? error)));
        return this._retry("normal", { reason: "token callback failed" });
      }
      if (this._closed) return;
    }
    let url = this.url;
    if (token) url += (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
    let ws;
    try {
      ws = new this._WebSocket(url, PROTOCOL);
    } catch (error) {
      return this._finish(new BusError("refused", "cannot open " + this.url + ": " + (error?.message ?? error)));
    }
    ws.binaryType = "arraybuffer";
    this._ws = ws;
    let opened = 0;
    let status;
    ws.onopen = () => {
      if (this._ws !== ws) return;
      opened = Date.now();
      this._authFailures = 0;
      if (reason !== "initial") this.stats.reconnects++;
      this._setState("connected", {});
      for (const sub of this._subscriptions.values()) this._sendSubscribe(sub);
    };
    ws.onerror = (event) => {
      // Browsers never say why a handshake failed; Node's ws says "Unexpected server response: 401".
      const match = /Unexpected server response: (\d{3})/.exec(String(event?.message ?? event?.error?.message ?? ""));
      if (match) status = Number(match[1]);
    };
    ws.onmessage = (event) => {
      if (this._ws !== ws) return;
      try {
        this._onFrame(event.data);
      } catch (error) {
        this._report(new BusError("bad_frame", "could not handle a frame: " + (error?.message ?? error)));
      }
    };
    ws.onclose = (event) => {
      if (this._ws !== ws) return;
      this._ws = null;
      this._onClose(opened, status, event?.code ?? 1006, String(event?.reason ?? ""));
    };
  }

  _onClose(opened, status, code, reason) {
    this._failInFlight("unknown_outcome", "the connection dropped before the ack: the message may or may not have been published");
    this._pendingSubscribes.clear();
    for (const sub of this._subscriptions.values()) if (sub.state === "active") sub.state = "pending";
    if (this._closed) return;
    if (opened && Date.now() - opened >= this._reconnect.stableAfter) {
      this._attempt = 0;
      this._streak4008 = 0;
      this._expiredStreak = 0;
    }
    const info = { code, reason, status };
    const canAsk = typeof this._token === "function";
    if (!opened && status === 401) {
      this._authFailures++;
      if (canAsk && this._authFailures === 1) return this._retry("now", info, "unauthorized");
      return this._finish(new BusError("unauthorized", "the server refused the token (401)", { close: info }));
    }
    if (!opened && (status === 400 || status === 403 || status === 404)) {
      return this._finish(new BusError("refused", `the server refused the connection (${status})`, { close: info }));
    }
    if (!opened && (status === 429 || status === 503)) return this._retry("overloaded", info);
    if (code === 1008 && /token expired/i.test(reason)) {
      if (!canAsk) return this._finish(new BusError("token_expired", "the token expired and no token callback gives a fresh one", { close: info }));
      // A fresh token at once; a 401 for it then ends the bus (the callback was asked once).
      // Fresh tokens that keep expiring before the link is stable back off like 4008s.
      this._authFailures++;
      this._expiredStreak++;
      return this._retry(this._expiredStreak === 1 ? "now" : "normal", info, "expired");
    }
    if (code === 1013) return this._retry("overloaded", info);
    if (code === 4008) {
      this._streak4008++;
      if (this._streak4008 === 1) return this._retry("now", info);
    }
    return this._retry("normal", info);
  }

  _retry(kind, info, tokenReason = "reconnect") {
    const delay = reconnectDelay(kind, this._attempt, this._reconnect, this._random);
    if (kind !== "now") this._attempt++;
    this._setState("reconnecting", { ...info, delay });
    this._timer = setTimeout(() => this._open(tokenReason), delay);
  }

  /** @param {BusError | undefined} error */
  _finish(error) {
    this._closed = true;
    this.error = error;
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
    const ws = this._ws;
    this._ws = null;
    if (ws) {
      try { ws.close(1000, "bye"); } catch { /* already closing */ }
    }
    this._failInFlight("unknown_outcome", "the bus closed before the ack: the message may or may not have been published");
    for (const sub of this._subscriptions.values()) sub._close(error ?? new BusError("closed", "the bus was closed"));
    this._setState("closed", error ? { error } : {});
    if (error) this._report(error);
  }

  _failInFlight(code, message) {
    const pending = [...this._pendingPublishes.values()];
    this._pendingPublishes.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      p.reject(new BusError(code, message));
    }
  }

  _setState(state, info) {
    this.state = state;
    this._emit("state", state, info);
  }

  _send(frame) {
    this._ws.send(frame);
  }

  _sendSubscribe(sub) {
    const id = this._nextId++;
    this._pendingSubscribes.set(String(id), sub);
    this._send(JSON.stringify(sub._subscribeEnvelope(id)));
  }

  _unsubscribe(sub) {
    if (this._subscriptions.get(sub.pattern) !== sub) return;
    this._subscriptions.delete(sub.pattern);
    if (this.connected) this._send(JSON.stringify({ type: "unsubscribe", id: this._nextId++, topic: sub.pattern }));
  }

  _publish(frameFor, options) {
    return new Promise((resolve, reject) => {
      if (!this.connected || !this._ws) {
        return reject(new BusError("not_connected", `not connected (${this.state}): nothing was sent`));
      }
      const id = this._nextId++;
      const key = String(id);
      let frame;
      try {
        frame = frameFor(id);
      } catch (error) {
        return reject(error);
      }
      const timeout = options.timeout ?? this._publishTimeout;
      const timer = setTimeout(() => {
        if (this._pendingPublishes.delete(key)) reject(new BusError("timeout", `no ack within ${timeout} ms: the message may or may not have been published`));
      }, timeout);
      this._pendingPublishes.set(key, {
        resolve: (ack) => { this.stats.published++; resolve(ack); },
        reject,
        timer,
      });
      try {
        this._send(frame);
      } catch (error) {
        clearTimeout(timer);
        this._pendingPublishes.delete(key);
        reject(new BusError("unknown_outcome", "send failed: " + (error?.message ?? error)));
      }
    });
  }

  // --- frames ---

  _onFrame(data) {
    if (typeof data === "string") return this._onText(data);
    let bytes;
    if (data instanceof ArrayBuffer) bytes = new Uint8Array(data);
    else if (ArrayBuffer.isView(data)) bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    else return this._report(new BusError("bad_frame", "a frame of an unknown kind"));
    const message = decodeBinaryMessage(bytes);
    if (!message) return this._report(new BusError("bad_frame", `an unreadable binary frame (${bytes.length} bytes)`));
    this._dispatch({ ...message, binary: true });
  }

  _onText(text) {
    let m;
    try {
      m = JSON.parse(text);
    } catch {
      return this._report(new BusError("bad_frame", "a text frame that is not JSON: " + text.slice(0, 80)));
    }
    if (!m || typeof m !== "object" || Array.isArray(m)) return this._report(new BusError("bad_frame", "a text frame that is not an object"));
    const id = m.id === undefined || m.id === null ? undefined : String(m.id);
    switch (m.type) {
      case "welcome":
        this.welcome = m;
        this._emit("welcome", m);
        return;
      case "message":
        if (typeof m.topic !== "string" || typeof m.epoch !== "string" || !Number.isSafeInteger(m.seq)) {
          return this._report(new BusError("bad_frame", "a message without topic, epoch or seq"));
        }
        return this._dispatch({ topic: m.topic, epoch: m.epoch, seq: m.seq, data: m.data, binary: false });
      case "checkpoint": {
        const sub = typeof m.topic === "string" ? this._subscriptions.get(m.topic) : undefined;
        if (sub && typeof m.cursor === "string") sub._onCheckpoint(m.cursor);
        return;
      }
      case "ack":
        if (m.op === "publish" && id !== undefined) {
          const p = this._pendingPublishes.get(id);
          if (!p) return;
          this._pendingPublishes.delete(id);
          clearTimeout(p.timer);
          return p.resolve({ topic: m.topic, epoch: m.epoch, seq: m.seq, subscribers: m.subscribers });
        }
        if (m.op === "subscribe" && id !== undefined) {
          const sub = this._pendingSubscribes.get(id);
          if (!sub) return;
          this._pendingSubscribes.delete(id);
          return sub._onAck(m);
        }
        return;
      case "error":
        return this._onError(m, id);
      default:
        return;  // a type this client does not know: ignored (Protocol.md "Text envelopes")
    }
  }

  _onError(m, id) {
    const error = new BusError(typeof m.code === "string" ? m.code : "unknown", typeof m.message === "string" ? m.message : "", {
      topic: m.topic, positions: m.positions,
    });
    if (id !== undefined && this._pendingPublishes.has(id)) {
      const p = this._pendingPublishes.get(id);
      this._pendingPublishes.delete(id);
      clearTimeout(p.timer);
      return p.reject(error);
    }
    if (id !== undefined && this._pendingSubscribes.has(id)) {
      const sub = this._pendingSubscribes.get(id);
      this._pendingSubscribes.delete(id);
      if (this._subscriptions.get(sub.pattern) === sub) this._subscriptions.delete(sub.pattern);
      sub._close(error);
      sub._emit("error", error);
      return;
    }
    // slow_consumer and the like: the close that follows does the work; say it all the same.
    this._report(error);
  }

  /** @param {Message} message */
  _dispatch(message) {
    let delivered = false;
    for (const sub of this._subscriptions.values()) {
      if (sub.isPattern ? matches(sub.pattern, message.topic) : sub.pattern === message.topic) {
        const before = this.stats.duplicates;
        sub._deliver(message);
        if (this.stats.duplicates === before) delivered = true;
      }
    }
    if (delivered) this.stats.received++;
  }

  _report(error) {
    if (this._listeners.get("error")?.size) this._emit("error", error);
  }

  _reportListenerError(event, error) {
    const wrapped = new BusError("listener_failed", `a "${event}" listener threw: ${error?.message ?? error}`, { cause: error });
    if (this._listeners.get("error")?.size) this._emit("error", wrapped);
    else console.error("bus.js:", wrapped.message, error);
  }

  _listenerFailed(event, error) {
    if (event === "error") console.error("bus.js: an \"error\" listener threw", error);
    else this._reportListenerError(event, error);
  }
}

/**
 * Opens a bus that reconnects by itself. `url` is the WebSocket URL of /bus
 * (ws://host:8080/bus, or wss:// behind a TLS proxy).
 * @param {string} url @param {BusOptions} [options] @returns {Bus}
 */
export function connect(url, options) {
  return new Bus(url, options);
}

/**
 * @typedef {{epoch: string, seq: number}} Position
 * @typedef {{topic: string, epoch: string, seq: number, data: any, binary: boolean}} Message
 *   data: the JSON value as published, or a Uint8Array when binary is true
 * @typedef {{topic: string, epoch: string, seq: number, subscribers: number}} PublishAck
 * @typedef {{pattern: string, topic: string, reason: "history"|"epoch"|"seq"|"unknown",
 *   from?: Position, next?: Position, count?: number}} Gap
 *   reason "history": history no longer held the messages after `from`; "epoch": the topic's
 *   epoch changed (server restart, eviction), so everything after `from` may be lost; "seq": a
 *   sequence number was skipped; "unknown": the server could not name what a pattern lost.
 *   next: the first position that follows, when known; count: how many, when computable.
 * @typedef {{
 *   WebSocket?: any,
 *   token?: string | ((context: {reason: "initial"|"reconnect"|"expired"|"unauthorized"}) => string | Promise<string>),
 *   reconnect?: Partial<typeof DEFAULT_RECONNECT>,
 *   publishTimeout?: number,
 *   maxTrackedTopics?: number,
 *   random?: () => number,
 * }} BusOptions
 * @typedef {{
 *   onMessage?: (message: Message) => void,
 *   onGap?: (gap: Gap) => void,
 *   onError?: (error: BusError) => void,
 *   since?: Position | {cursor: string, positions?: Array<Position & {topic: string}>},
 *   last?: number,
 *   maxTrackedTopics?: number,
 * }} SubscribeOptions
 */
