// bus.js against a scripted server (FakeWebSocket): the decisions of the state machine, frame by
// frame, with no network and no clock. Run: node --test clients/js/test/
import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";

import { BusError, connect, decodeBinaryMessage, encodeBinaryPublish, isPattern, matches, reconnectDelay } from "../bus.js";
import { FakeWebSocket } from "./fake-websocket.mjs";

const tick = () => new Promise((r) => setImmediate(r));
/** Runs the reconnect timer (delays are tiny here) until bus.js opened socket number `n`. */
async function socketNumber(n) {
  for (let i = 0; i < 500 && FakeWebSocket.sockets.length < n; i++) await new Promise((r) => setTimeout(r, 2));
  assert.equal(FakeWebSocket.sockets.length, n, `socket ${n} opened`);
  return FakeWebSocket.sockets[n - 1];
}

function newBus(options = {}) {
  const bus = connect("ws://bus.test/bus", { WebSocket: FakeWebSocket, reconnect: { firstWindow: 4, maxDelay: 8, overloadFloor: 2 }, ...options });
  const states = [];
  bus.on("state", (state, info) => states.push({ state, ...info }));
  const errors = [];
  bus.on("error", (e) => errors.push(e));
  return { bus, states, errors };
}

async function opened(options) {
  const made = newBus(options);
  await tick();
  FakeWebSocket.last.open();
  return { ...made, ws: FakeWebSocket.last };
}

function binaryMessage(topic, epoch, seq, payload) {
  const t = new TextEncoder().encode(topic);
  const out = new Uint8Array(2 + epoch.length + 8 + 2 + t.length + payload.length);
  const view = new DataView(out.buffer);
  let i = 0;
  out[i++] = 0x02;
  out[i++] = epoch.length;
  for (const c of epoch) out[i++] = c.charCodeAt(0);
  view.setBigUint64(i, BigInt(seq)); i += 8;
  view.setUint16(i, t.length); i += 2;
  out.set(t, i); i += t.length;
  out.set(payload, i);
  return out;
}

beforeEach(() => FakeWebSocket.reset());

describe("reconnect delays", () => {
  const o = { firstWindow: 3000, maxDelay: 30000, overloadFloor: 5000 };
  test("full jitter over a window that doubles per retry up to the cap", () => {
    assert.equal(reconnectDelay("normal", 0, o, () => 0), 0);
    assert.equal(reconnectDelay("normal", 0, o, () => 0.5), 1500);
    assert.equal(reconnectDelay("normal", 1, o, () => 0.5), 3000);
    assert.equal(reconnectDelay("normal", 3, o, () => 0.5), 12000);
    assert.equal(reconnectDelay("normal", 4, o, () => 0.5), 15000, "window capped at 30 s");
    assert.equal(reconnectDelay("normal", 1000, o, () => 0.5), 15000, "no overflow on a long outage");
  });
  test("overloaded waits the floor on top of the jitter; 'now' waits nothing", () => {
    assert.equal(reconnectDelay("overloaded", 0, o, () => 0), 5000);
    assert.equal(reconnectDelay("overloaded", 0, o, () => 0.5), 6500);
    assert.equal(reconnectDelay("now", 7, o, () => 0.5), 0);
  });
});

test("patterns match as Protocol.md says", () => {
  const cases = [["chat.*", "chat.room1", true], ["chat.*", "chat", false], ["chat.*", "chat.a.b", false],
    ["chat.>", "chat.room1", true], ["chat.>", "chat.room1.typing", true], ["chat.>", "chat", false],
    ["*.b", "a.b", true], ["a.b", "a.b", true], ["a.b", "a.c", false], [">", "x", true]];
  for (const [pattern, topic, expected] of cases) assert.equal(matches(pattern, topic), expected, `${pattern} ~ ${topic}`);
  assert.equal(isPattern("a.*"), true);
  assert.equal(isPattern("a.>"), true);
  assert.equal(isPattern("a.b*"), false);
});

test("binary frames: the publish layout, and every truncation of a message is refused, not thrown", () => {
  const frame = encodeBinaryPublish("t.é", "7", new Uint8Array([0, 255]));
  assert.deepEqual([...frame], [0x01, 0x01, 1, 0x37, 0, 4, 0x74, 0x2e, 0xc3, 0xa9, 0, 255]);
  assert.deepEqual([...encodeBinaryPublish("t", undefined, new Uint8Array([9]))], [0x01, 0x00, 0, 1, 0x74, 9]);
  const message = binaryMessage("a.b", "ep", 2 ** 40 + 3, new Uint8Array([1, 2, 3]));
  const decoded = decodeBinaryMessage(message);
  assert.deepEqual({ ...decoded, data: [...decoded.data] }, { topic: "a.b", epoch: "ep", seq: 2 ** 40 + 3, data: [1, 2, 3] });
  const headerLength = message.length - 3;
  for (let n = 0; n < headerLength; n++) assert.equal(decodeBinaryMessage(message.subarray(0, n)), null, `truncated at ${n}`);
  const badTopic = binaryMessage("ab", "ep", 1, new Uint8Array());
  badTopic[badTopic.length - 1] = 0xff;
  assert.equal(decodeBinaryMessage(badTopic), null, "a topic that is not UTF-8");
});

test("malformed frames never throw out of onmessage, and what follows is still delivered", async () => {
  const { bus, ws, errors } = await opened();
  const got = [];
  bus.subscribe("t", { onMessage: (m) => got.push(m) });
  ws.ackSubscribe("t", { epoch: "e", seq: 0 });
  for (const bad of ["not json", "[1]", "null", "42", '{"type":"message"}', '{"type":"message","topic":"t","epoch":"e","seq":"1"}',
    '{"type":"ack","op":"publish","id":999}', '{"type":"checkpoint"}', '{"type":"from-the-future","x":1}']) {
    assert.doesNotThrow(() => ws.text(bad), bad);
  }
  assert.doesNotThrow(() => ws.binary(new Uint8Array([0x02, 200, 1])));
  assert.doesNotThrow(() => ws.binary(new Uint8Array([0x07])));
  ws.text({ type: "message", topic: "t", epoch: "e", seq: 1, data: { ok: true }, extra: "ignored" });
  ws.binary(binaryMessage("t", "e", 2, new Uint8Array([0xca, 0xfe])));
  assert.deepEqual(got.map((m) => [m.seq, m.binary]), [[1, false], [2, true]]);
  assert.deepEqual(got[0].data, { ok: true });
  assert.ok(got[1].data instanceof Uint8Array);
  assert.deepEqual([...got[1].data], [0xca, 0xfe]);
  assert.ok(errors.filter((e) => e.code === "bad_frame").length >= 8, `bad frames reported: ${errors.map((e) => e.message)}`);
  bus.close();
});

test("one throwing listener does not stop the others", async () => {
  const { bus, ws, errors } = await opened();
  const seen = [];
  const sub = bus.subscribe("t", { onMessage: () => { throw new Error("app bug"); } });
  sub.on("message", (m) => seen.push(m.seq));
  ws.ackSubscribe("t", { epoch: "e", seq: 0 });
  ws.text({ type: "message", topic: "t", epoch: "e", seq: 1, data: 1 });
  ws.text({ type: "message", topic: "t", epoch: "e", seq: 2, data: 2 });
  assert.deepEqual(seen, [1, 2]);
  assert.equal(errors.filter((e) => e.code === "listener_failed").length, 2);
  bus.close();
});

test("a duplicate or backward seq is dropped; a skipped one is a gap", async () => {
  const { bus, ws } = await opened();
  const seqs = [], gaps = [];
  bus.subscribe("t", { onMessage: (m) => seqs.push(m.seq), onGap: (g) => gaps.push(g) });
  ws.ackSubscribe("t", { epoch: "e", seq: 4 });
  for (const seq of [5, 6, 6, 5, 7, 9]) ws.text({ type: "message", topic: "t", epoch: "e", seq, data: null });
  assert.deepEqual(seqs, [5, 6, 7, 9]);
  assert.equal(bus.stats.duplicates, 2);
  assert.deepEqual(gaps, [{ pattern: "t", topic: "t", reason: "seq", from: { epoch: "e", seq: 7 }, next: { epoch: "e", seq: 9 }, count: 1 }]);
  bus.close();
});

test("last: n delivers the replay the ack announces, then resumes from what it delivered", async () => {
  const { bus, ws } = await opened();
  const seqs = [];
  bus.subscribe("t", { last: 3, onMessage: (m) => seqs.push(m.seq) });
  assert.equal(ws.envelopes.at(-1).last, 3);
  ws.ackSubscribe("t", { epoch: "e", seq: 10, recovered: true, earliest: { epoch: "e", seq: 1 } });
  for (const seq of [8, 9, 10, 11]) ws.text({ type: "message", topic: "t", epoch: "e", seq, data: null });
  assert.deepEqual(seqs, [8, 9, 10, 11]);
  ws.drop(1006);
  const next = await socketNumber(2);
  next.open();
  const again = next.envelopes.at(-1);
  assert.deepEqual([again.last, again.since], [undefined, { epoch: "e", seq: 11 }], "not the newest 3 again");
  bus.close();
});

test("last: n with less history starts where history does", async () => {
  const { bus, ws } = await opened();
  const seqs = [];
  bus.subscribe("t", { last: 50, onMessage: (m) => seqs.push(m.seq) });
  ws.ackSubscribe("t", { epoch: "e", seq: 100, recovered: false, earliest: { epoch: "e", seq: 98 } });
  for (const seq of [98, 99, 100]) ws.text({ type: "message", topic: "t", epoch: "e", seq, data: null });
  assert.deepEqual(seqs, [98, 99, 100]);
  bus.close();
});

test("overlapping patterns each get the message once", async () => {
  const { bus, ws } = await opened();
  const a = [], b = [];
  bus.subscribe("chat.*", { onMessage: (m) => a.push(m.seq) });
  bus.subscribe("chat.>", { onMessage: (m) => b.push(m.seq) });
  ws.text({ type: "message", topic: "chat.x", epoch: "e", seq: 1, data: 0 });
  ws.text({ type: "message", topic: "chat.x.y", epoch: "e", seq: 1, data: 0 });
  assert.deepEqual([a, b], [[1], [1, 1]]);
  bus.close();
});

test("after a drop, a literal resumes from its last position and a pattern from its cursor and the positions after it", async () => {
  const { bus, ws } = await opened();
  bus.subscribe("news");
  bus.subscribe("chat.>");
  const first = ws.envelopes.filter((e) => e.type === "subscribe");
  assert.deepEqual(first.map((e) => [e.topic, e.checkpoints, e.since]), [["news", undefined, undefined], ["chat.>", true, undefined]]);
  ws.ackSubscribe("news", { epoch: "n", seq: 10 });
  ws.ackSubscribe("chat.>", { cursor: "c.1.0" });
  ws.text({ type: "message", topic: "news", epoch: "n", seq: 11, data: 0 });
  ws.text({ type: "message", topic: "chat.a", epoch: "a", seq: 3, data: 0 });
  ws.text({ type: "checkpoint", topic: "chat.>", cursor: "c.2.0" });
  ws.text({ type: "message", topic: "chat.b", epoch: "b", seq: 8, data: 0 });
  ws.text({ type: "message", topic: "chat.a", epoch: "a", seq: 4, data: 0 });
  ws.drop(1006);
  const next = await socketNumber(2);
  next.open();
  const again = Object.fromEntries(next.envelopes.filter((e) => e.type === "subscribe").map((e) => [e.topic, e]));
  assert.deepEqual(again.news.since, { epoch: "n", seq: 11 });
  assert.deepEqual(again["chat.>"].since, { cursor: "c.2.0", positions: [{ topic: "chat.b", epoch: "b", seq: 8 }, { topic: "chat.a", epoch: "a", seq: 4 }] });
  assert.equal(again["chat.>"].checkpoints, true);
  bus.close();
});

test("recovered:false is a gap naming what was lost, for a topic and for a pattern", async () => {
  const { bus, ws } = await opened();
  const gaps = [];
  bus.subscribe("news", { onGap: (g) => gaps.push(g) });
  bus.subscribe("chat.>", { onGap: (g) => gaps.push(g) });
  ws.ackSubscribe("news", { epoch: "n", seq: 1 });
  ws.ackSubscribe("chat.>", { cursor: "c.1.0" });
  ws.text({ type: "message", topic: "chat.a", epoch: "a", seq: 2, data: 0 });
  ws.drop(1006);
  let next = await socketNumber(2);
  next.open();
  next.ackSubscribe("news", { epoch: "n", seq: 30, recovered: false, earliest: { epoch: "n", seq: 21 } });
  next.ackSubscribe("chat.>", { cursor: "c.1.0", recovered: false, lost: [{ topic: "chat.a", earliest: { epoch: "a", seq: 9 } }, { topic: "chat.z" }] });
  assert.deepEqual(gaps, [
    { pattern: "news", topic: "news", reason: "history", from: { epoch: "n", seq: 1 }, next: { epoch: "n", seq: 21 }, count: 19 },
    { pattern: "chat.>", topic: "chat.a", reason: "history", from: { epoch: "a", seq: 2 }, next: { epoch: "a", seq: 9 }, count: 6 },
    { pattern: "chat.>", topic: "chat.z", reason: "history" },
  ]);
  // The replay starting at `earliest` is not a second gap.
  next.text({ type: "message", topic: "news", epoch: "n", seq: 21, data: 0 });
  next.text({ type: "message", topic: "chat.a", epoch: "a", seq: 9, data: 0 });
  assert.equal(gaps.length, 3);
  // A server restart: another epoch, and a cursor the new life cannot place.
  gaps.length = 0;
  next.drop(1001, "going away");
  next = await socketNumber(3);
  next.open();
  next.ackSubscribe("news", { epoch: "m", seq: 0, recovered: false });
  next.ackSubscribe("chat.>", { cursor: "d.0.0", recovered: false });
  next.text({ type: "message", topic: "chat.a", epoch: "d", seq: 1, data: 0 });
  assert.deepEqual(gaps.map((g) => [g.topic, g.reason]), [["news", "epoch"], ["chat.>", "unknown"], ["chat.a", "epoch"]]);
  assert.deepEqual(gaps[0].from, { epoch: "n", seq: 21 });
  assert.deepEqual(gaps[0].next, { epoch: "m", seq: 1 });
  bus.close();
});

test("4008 resumes at once; a second 4008 before the link was stable backs off", async () => {
  const { bus, ws, states } = await opened({ random: () => 0.5 });
  ws.drop(4008, "slow consumer");
  assert.deepEqual(states.at(-1), { state: "reconnecting", code: 4008, reason: "slow consumer", status: undefined, delay: 0 });
  const next = await socketNumber(2);
  next.open();
  next.drop(4008, "slow consumer");
  assert.equal(states.at(-1).state, "reconnecting");
  assert.equal(states.at(-1).delay, 2, "half of the 4 ms first window");
  bus.close();
});

test("1013 and a 503 handshake wait the overload floor on top of the jitter", async () => {
  const { bus, ws, states } = await opened({ random: () => 0 });
  ws.drop(1013, "try again later");
  assert.equal(states.at(-1).delay, 2);
  (await socketNumber(2)).refuse(503);
  assert.deepEqual([states.at(-1).status, states.at(-1).delay], [503, 2]);
  bus.close();
});

test("a publish in flight when the link drops ends unknown_outcome and is never resent", async () => {
  const { bus, ws } = await opened();
  const inFlight = bus.publish("t", { n: 1 });
  assert.equal(ws.envelopes.filter((e) => e.type === "publish").length, 1);
  ws.drop(1006);
  await assert.rejects(inFlight, (e) => e instanceof BusError && e.code === "unknown_outcome");
  await assert.rejects(bus.publish("t", 2), (e) => e.code === "not_connected", "while reconnecting: at once, nothing sent");
  const next = await socketNumber(2);
  next.open();
  assert.equal(next.sent.filter((f) => typeof f !== "string" || JSON.parse(f).type === "publish").length, 0, "nothing resent");
  const acked = bus.publish("t", new Uint8Array([1]));
  const frame = next.sent.at(-1);
  assert.ok(frame instanceof Uint8Array && frame[0] === 0x01);
  const id = new TextDecoder().decode(frame.subarray(3, 3 + frame[2]));
  next.text({ type: "ack", id, op: "publish", topic: "t", epoch: "e", seq: 5, subscribers: 2 });
  assert.deepEqual(await acked, { topic: "t", epoch: "e", seq: 5, subscribers: 2 });
  assert.equal(bus.stats.published, 1);
  const refused = bus.publish("t", 3);
  next.text({ type: "error", id: next.envelopes.at(-1).id, code: "forbidden", message: "no", topic: "t" });
  await assert.rejects(refused, (e) => e.code === "forbidden" && e.topic === "t");
  bus.close();
});

test("1008 token expired asks the token callback, and a 401 right after stops the bus", async () => {
  const reasons = [];
  const { bus, ws, states } = await opened({ token: ({ reason }) => { reasons.push(reason); return "tok-" + reasons.length; } });
  assert.match(ws.url, /\?token=tok-1$/);
  ws.drop(1008, "token expired");
  const next = await socketNumber(2);
  assert.match(next.url, /\?token=tok-2$/);
  next.refuse(401);
  assert.deepEqual(reasons, ["initial", "expired"]);
  assert.equal(bus.state, "closed");
  assert.equal(bus.error.code, "unauthorized");
  assert.equal(states.at(-1).state, "closed");
});

test("tokens that keep expiring before the link is stable back off instead of looping", async () => {
  const { bus, ws, states } = await opened({ token: () => "t", random: () => 0.5 });
  ws.drop(1008, "token expired");
  assert.equal(states.at(-1).delay, 0, "the first expiry reconnects at once");
  const next = await socketNumber(2);
  next.open();
  next.drop(1008, "token expired");
  assert.equal(states.at(-1).state, "reconnecting");
  assert.equal(states.at(-1).delay, 2, "the second backs off");
  bus.close();
});

test("a 401 asks the token callback once, and a good token carries on", async () => {
  const reasons = [];
  const { bus } = newBus({ token: ({ reason }) => { reasons.push(reason); return "t"; } });
  await tick();
  FakeWebSocket.last.refuse(401);
  (await socketNumber(2)).open();
  assert.deepEqual(reasons, ["initial", "unauthorized"]);
  assert.equal(bus.state, "connected");
  bus.close();
});

test("without a token callback, 1008 token expired closes the bus with token_expired", async () => {
  const { bus, ws } = await opened({ token: "fixed" });
  ws.drop(1008, "token expired");
  assert.equal(bus.state, "closed");
  assert.equal(bus.error.code, "token_expired");
});

test("a refused subscription rejects ready, emits error and is gone", async () => {
  const { bus, ws } = await opened();
  const errors = [];
  const sub = bus.subscribe("secret.>", { onError: (e) => errors.push(e.code) });
  const request = ws.envelopes.at(-1);
  ws.text({ type: "error", id: request.id, code: "forbidden", message: "no", topic: "secret.>" });
  await assert.rejects(sub.ready, (e) => e.code === "forbidden");
  assert.deepEqual(errors, ["forbidden"]);
  assert.equal(sub.state, "closed");
  assert.notEqual(bus.subscribe("secret.>"), sub, "subscribing again makes a new subscription");
  bus.close();
});

test("1,000 clients dropped by one restart spread their reconnections over the first window", async () => {
  const buses = [];
  const delays = [];
  for (let i = 0; i < 1000; i++) {
    const bus = connect("ws://bus.test/bus", { WebSocket: FakeWebSocket });  // default windows: 3 s first
    bus.on("state", (state, info) => { if (state === "reconnecting") delays.push(info.delay); });
    buses.push(bus);
  }
  await tick();
  for (const ws of FakeWebSocket.sockets) ws.open();
  for (const ws of [...FakeWebSocket.sockets]) ws.drop(1001, "going away");
  for (const bus of buses) bus.close();
  assert.equal(delays.length, 1000);
  assert.ok(delays.every((d) => d >= 0 && d < 3000), "all within the 3 s window");
  // Uniform over the window: each tenth holds about 100 (a bucket outside 50..150 is a
  // five-sigma event for a uniform draw; a herd or a fixed delay fails it at once).
  const buckets = Array(10).fill(0);
  for (const d of delays) buckets[Math.floor(d / 300)]++;
  assert.ok(buckets.every((n) => n >= 50 && n <= 150), `per 300 ms: ${buckets}`);
});
