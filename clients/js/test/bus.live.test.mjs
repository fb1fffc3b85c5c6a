// bus.js against a live broker-server (a child process on a free port), through a cutting TCP
// proxy where the link has to fail. Run: node --test clients/js/test/ (after `swift build`).
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, afterEach, before, describe, test } from "node:test";

import { connect } from "../bus.js";
import { Broker, CuttingProxy, fastReconnect, freshPrefix, jwt, loadWebSocket, until } from "./support.mjs";

const WebSocket = loadWebSocket();
/** Everything a test opened, closed after it whatever happened (an open bus keeps node running). */
const opened = new Set();
afterEach(() => {
  for (const thing of opened) thing.close();
  opened.clear();
});
function open(url, options = {}) {
  const bus = connect(url, { WebSocket, reconnect: fastReconnect, ...options });
  opened.add(bus);
  return bus;
}
async function startProxy(port) {
  const proxy = await CuttingProxy.start(port);
  opened.add(proxy);
  return proxy;
}
/** A bus that can publish: publishes while not connected fail at once, by design. */
async function connected(url, options) {
  const bus = open(url, options);
  await until(() => bus.connected, `connected to ${url}`);
  return bus;
}

/** Collects a subscription's messages per topic, and its gaps. */
function recorder() {
  const byTopic = new Map(), gaps = [];
  return {
    byTopic, gaps,
    onMessage: (m) => { if (!byTopic.has(m.topic)) byTopic.set(m.topic, []); byTopic.get(m.topic).push(m); },
    onGap: (g) => gaps.push(g),
    seqs: (topic) => (byTopic.get(topic) ?? []).map((m) => m.seq),
    count: (topic) => (byTopic.get(topic) ?? []).length,
  };
}

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function metric(broker, name) {
  const text = await (await fetch(broker.http + "/metrics")).text();
  const line = text.split("\n").find((l) => l.startsWith(name + " ") || l.startsWith(name + "{"));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

describe("bus.js against a live broker", () => {
  /** @type {Broker} */ let broker;
  before(async () => { broker = await Broker.start(["--history-messages", "1000"]); });
  after(async () => { await broker.stop(); });

  test("subscribe, publish JSON, raw JSON and binary, and get each ack", async () => {
    const prefix = freshPrefix("basic");
    const bus = await connected(broker.url);
    const rec = recorder();
    const literal = bus.subscribe(`${prefix}.one`, rec);
    const pattern = bus.subscribe(`${prefix}.many.*`, rec);
    await Promise.all([literal.ready, pattern.ready]);
    assert.equal(bus.welcome.protocol, "bus.v1");
    assert.equal(typeof pattern.cursor, "string", "a pattern asks for its cursor");

    const ack = await bus.publish(`${prefix}.one`, { text: "hi", n: [1, 2] });
    assert.equal(typeof ack.epoch, "string");
    assert.deepEqual([ack.topic, ack.seq, ack.subscribers], [`${prefix}.one`, 1, 1]);
    const raw = await bus.publishJSON(`${prefix}.many.a`, '{"exact":   1.50}');
    assert.deepEqual([raw.seq, raw.subscribers], [1, 1]);
    const bin = await bus.publish(`${prefix}.many.b`, new Uint8Array([0, 255, 7]));
    assert.deepEqual([bin.seq, bin.subscribers], [1, 1]);
    await until(() => rec.count(`${prefix}.many.b`) === 1, "three messages");
    assert.deepEqual(rec.byTopic.get(`${prefix}.one`)[0].data, { text: "hi", n: [1, 2] });
    assert.deepEqual(rec.byTopic.get(`${prefix}.many.a`)[0].data, { exact: 1.5 });
    const b = rec.byTopic.get(`${prefix}.many.b`)[0];
    assert.equal(b.binary, true);
    assert.deepEqual([...b.data], [0, 255, 7]);
    assert.equal(bus.stats.published, 3);
    await assert.rejects(bus.publish(`${prefix}.*`, 1), (e) => e.code === "invalid_topic");
    bus.close();
  });

  test("last: n replays the newest n retained, then live", async () => {
    const prefix = freshPrefix("last");
    const bus = await connected(broker.url);
    for (let i = 1; i <= 5; i++) await bus.publish(`${prefix}.t`, i);
    const rec = recorder();
    await bus.subscribe(`${prefix}.t`, { ...rec, last: 2 }).ready;
    await bus.publish(`${prefix}.t`, 6);
    await until(() => rec.count(`${prefix}.t`) === 3, "two retained and one live");
    assert.deepEqual(rec.byTopic.get(`${prefix}.t`).map((m) => [m.seq, m.data]), [[4, 4], [5, 5], [6, 6]]);
    assert.deepEqual(rec.gaps, []);
  });

  test("connections cut by a proxy while messages keep coming: literal and wildcard get each exactly once, in order", async () => {
    const prefix = freshPrefix("cut");
    const proxy = await startProxy(broker.port);
    const subscriber = open(proxy.url());
    const rec = recorder();
    // Each connection is cut once it has delivered 25 messages (replays included): the link
    // dies again and again in the middle of the stream.
    let sinceConnect = 0, cuts = 0;
    subscriber.on("state", (state) => { if (state === "connected") sinceConnect = 0; });
    const onMessage = (m) => {
      rec.onMessage(m);
      if (++sinceConnect === 25) {
        cuts++;
        setImmediate(() => proxy.cut());
      }
    };
    const literal = subscriber.subscribe(`${prefix}.lit`, { ...rec, onMessage });
    const wildcard = subscriber.subscribe(`${prefix}.w.>`, { ...rec, onMessage });
    await Promise.all([literal.ready, wildcard.ready]);
    const publisher = await connected(broker.url);
    const topics = [`${prefix}.lit`, `${prefix}.w.a`, `${prefix}.w.b.c`];
    const perTopic = 300;
    for (let i = 1; i <= perTopic; i++) {
      for (const topic of topics) await publisher.publish(topic, { i });
    }
    for (const topic of topics) await until(() => rec.count(topic) >= perTopic, `${perTopic} on ${topic}`);
    for (const topic of topics) {
      assert.deepEqual(rec.seqs(topic), range(1, perTopic), topic);
      assert.deepEqual(rec.byTopic.get(topic).map((m) => m.data.i), range(1, perTopic));
    }
    assert.deepEqual(rec.gaps, []);
    assert.ok(cuts >= 3, `cut ${cuts} times`);  // a replay comes in bursts: one read can hold hundreds
    subscriber.close();
    publisher.close();
    proxy.close();
  });

  test("a publish in flight when the link drops ends unknown_outcome and is not resent", async () => {
    const prefix = freshPrefix("inflight");
    const proxy = await startProxy(broker.port);
    const watcher = open(broker.url);
    const rec = recorder();
    await watcher.subscribe(`${prefix}.t`, rec).ready;
    const publisher = open(proxy.url());
    await until(() => publisher.connected, "publisher connected");
    proxy.hold();  // the publish reaches the server; its ack does not come back
    const inFlight = publisher.publish(`${prefix}.t`, "in flight");
    await until(() => rec.count(`${prefix}.t`) === 1, "the server took the publish");
    proxy.cut();
    proxy.release();
    await assert.rejects(inFlight, (e) => e.code === "unknown_outcome");
    await until(() => publisher.connected, "publisher reconnected");
    await publisher.publish(`${prefix}.t`, "after");
    await until(() => rec.count(`${prefix}.t`) === 2, "the next publish");
    assert.deepEqual(rec.byTopic.get(`${prefix}.t`).map((m) => m.data), ["in flight", "after"], "published once, never resent");
    watcher.close();
    publisher.close();
    proxy.close();
  });

  test("a server restart: both subscriptions come back with the epoch change as a gap, then new messages flow", async () => {
    const prefix = freshPrefix("restart");
    const restartable = await Broker.start([]);
    const bus = await connected(restartable.url);
    const rec = recorder();
    await Promise.all([bus.subscribe(`${prefix}.lit`, rec).ready, bus.subscribe(`${prefix}.p.*`, rec).ready]);
    await bus.publish(`${prefix}.lit`, 1);
    await bus.publish(`${prefix}.p.x`, 1);
    await until(() => rec.count(`${prefix}.p.x`) === 1, "before the restart");
    await restartable.restart();
    await until(() => bus.connected && bus.stats.reconnects === 1, "reconnected after the restart");
    await until(() => rec.gaps.length >= 2, "gaps reported");
    assert.deepEqual(rec.gaps.map((g) => [g.topic, g.reason]).sort(), [[`${prefix}.lit`, "epoch"], [`${prefix}.p.*`, "unknown"]]);
    await until(async () => {
      try { await bus.publish(`${prefix}.p.x`, 2); return true; } catch { return false; }
    }, "publish after the restart");
    await bus.publish(`${prefix}.lit`, 2);
    await until(() => rec.count(`${prefix}.lit`) === 2 && rec.count(`${prefix}.p.x`) === 2, "messages after the restart");
    assert.deepEqual(rec.byTopic.get(`${prefix}.lit`).map((m) => [m.seq, m.data]), [[1, 1], [1, 2]]);
    const epochGap = rec.gaps.find((g) => g.topic === `${prefix}.p.x`);
    assert.equal(epochGap?.reason, "epoch", "the pattern's topic shows its new epoch");
    bus.close();
    await restartable.stop();
  });
});

describe("a subscriber that stops reading (4008)", () => {
  /** @type {Broker} */ let broker;
  before(async () => {
    broker = await Broker.start(["--send-queue-messages", "8", "--socket-send-buffer", "4096", "--history-messages", "1000"]);
  });
  after(async () => { await broker.stop(); });

  /**
   * Stalls `subscribers` behind one proxy, publishes 200 messages of 32 KiB per topic (more than
   * every socket buffer on the way holds), waits for the server to drop them, then lets them read.
   */
  async function stallAndRelease(topics, connections, limit = 30000) {
    const proxy = await startProxy(broker.port);
    const closes = [];
    const rec = recorder();
    const subscribers = [];
    for (const patterns of connections) {
      // A 10 s first window: a 4008 that waited for it would show in `closes`.
      const bus = open(proxy.url(), { reconnect: { ...fastReconnect, firstWindow: 10000, maxDelay: 10000 } });
      bus.on("state", (state, info) => { if (state === "reconnecting") closes.push([info.code, info.delay]); });
      await Promise.all(patterns.map((pattern) => bus.subscribe(pattern, rec).ready));
      subscribers.push(bus);
    }
    const drops = await metric(broker, "bus_slow_consumer_drops_total");
    proxy.hold();
    const publisher = await connected(broker.url);
    // Incompressible: `ws` negotiates permessage-deflate, and 32 KiB of one letter compressed to
    // a few hundred bytes, which the socket buffers on the way could absorb without a drop.
    const big = randomBytes(24 * 1024).toString("base64");
    const perTopic = 200;
    for (let i = 1; i <= perTopic; i++) for (const topic of topics) await publisher.publish(topic, { i, big });
    await until(async () => (await metric(broker, "bus_slow_consumer_drops_total")) >= drops + connections.length, "the server dropped the stalled subscribers");
    proxy.release();
    for (const topic of topics) await until(() => rec.count(topic) >= perTopic, `${perTopic} on ${topic}`, limit);
    return { rec, closes, perTopic };
  }

  test("a literal subscription is dropped, resumes at once and loses nothing history held", async () => {
    const prefix = freshPrefix("slow");
    const { rec, closes, perTopic } = await stallAndRelease([`${prefix}.lit`], [[`${prefix}.lit`]]);
    assert.deepEqual(closes[0], [4008, 0], "4008 resumes at once (the 10 s jitter window is not waited)");
    assert.deepEqual(rec.seqs(`${prefix}.lit`), range(1, perTopic));
    assert.deepEqual(rec.gaps, []);
  });

  test("a wildcard subscription is dropped, resumes from its cursor and loses nothing history held", async () => {
    const prefix = freshPrefix("slow");
    const topics = [`${prefix}.p.a`, `${prefix}.p.b`];
    const { rec, closes, perTopic } = await stallAndRelease(topics, [[`${prefix}.p.>`]]);
    assert.deepEqual(closes[0], [4008, 0]);
    for (const topic of topics) assert.deepEqual(rec.seqs(topic), range(1, perTopic), topic);
    assert.deepEqual(rec.gaps, []);
  });

  // Found by this suite: when one connection resumed a literal topic and a pattern at once, the
  // literal's replay stalled (one drain slot per connection on the server); fixed there.
  test("a literal and a wildcard on one connection both resume", async () => {
    const prefix = freshPrefix("slow");
    const topics = [`${prefix}.lit`, `${prefix}.p.q`];
    const { rec } = await stallAndRelease(topics, [[`${prefix}.lit`, `${prefix}.p.>`]]);
    for (const topic of topics) assert.deepEqual(rec.seqs(topic), range(1, 200), topic);
  });
});

describe("history too short", () => {
  /** @type {Broker} */ let broker;
  before(async () => { broker = await Broker.start(["--history-messages", "5"]); });
  after(async () => { await broker.stop(); });

  test("a resume past what history holds is a gap event naming what was lost, literal and wildcard", async () => {
    const prefix = freshPrefix("short");
    const proxy = await startProxy(broker.port);
    const subscriber = open(proxy.url());
    const rec = recorder();
    await Promise.all([subscriber.subscribe(`${prefix}.lit`, rec).ready, subscriber.subscribe(`${prefix}.p.*`, rec).ready]);
    const publisher = await connected(broker.url);
    await publisher.publish(`${prefix}.lit`, 1);
    await publisher.publish(`${prefix}.p.x`, 1);
    await until(() => rec.count(`${prefix}.lit`) === 1 && rec.count(`${prefix}.p.x`) === 1, "first messages");
    proxy.down();
    await until(() => !subscriber.connected, "subscriber cut off");
    for (let i = 2; i <= 21; i++) {
      await publisher.publish(`${prefix}.lit`, i);
      await publisher.publish(`${prefix}.p.x`, i);
    }
    proxy.up();
    await until(() => rec.count(`${prefix}.lit`) === 6 && rec.count(`${prefix}.p.x`) === 6, "the retained messages");
    const epoch = rec.byTopic.get(`${prefix}.lit`)[0].epoch;
    const pEpoch = rec.byTopic.get(`${prefix}.p.x`)[0].epoch;
    assert.deepEqual(rec.gaps.sort((a, b) => a.pattern.localeCompare(b.pattern)), [
      { pattern: `${prefix}.lit`, topic: `${prefix}.lit`, reason: "history", from: { epoch, seq: 1 }, next: { epoch, seq: 17 }, count: 15 },
      { pattern: `${prefix}.p.*`, topic: `${prefix}.p.x`, reason: "history", from: { epoch: pEpoch, seq: 1 }, next: { epoch: pEpoch, seq: 17 }, count: 15 },
    ]);
    assert.deepEqual(rec.seqs(`${prefix}.lit`), [1, 17, 18, 19, 20, 21]);
    assert.deepEqual(rec.seqs(`${prefix}.p.x`), [1, 17, 18, 19, 20, 21]);
    subscriber.close();
    publisher.close();
    proxy.close();
  });
});

describe("tokens", () => {
  const secret = "a-test-secret-of-at-least-32-bytes!!";
  const grant = { bus: { pub: [">"], sub: [">"] } };
  const token = (seconds) => jwt(secret, { sub: "test", exp: Math.floor(Date.now() / 1000) + seconds, ...grant });
  /** @type {Broker} */ let broker;
  before(async () => { broker = await Broker.start(["--auth-jwt-secret", secret, "--auth-leeway", "0"]); });
  after(async () => { await broker.stop(); });

  test("1008 token expired: the callback gives a fresh token and the subscription resumes", async () => {
    const prefix = freshPrefix("expiry");
    const reasons = [];
    const bus = open(broker.url, { token: ({ reason }) => { reasons.push(reason); return token(reasons.length === 1 ? 2 : 3600); } });
    const closes = [];
    bus.on("state", (state, info) => { if (state === "reconnecting") closes.push(info.code); });
    const rec = recorder();
    await bus.subscribe(`${prefix}.t`, rec).ready;
    await bus.publish(`${prefix}.t`, "before");
    await until(() => closes.includes(1008) && bus.connected, "closed by expiry, then reconnected", 15000);
    assert.deepEqual(reasons, ["initial", "expired"]);
    await bus.publish(`${prefix}.t`, "after");
    await until(() => rec.count(`${prefix}.t`) === 2, "both messages");
    assert.deepEqual(rec.byTopic.get(`${prefix}.t`).map((m) => [m.seq, m.data]), [[1, "before"], [2, "after"]]);
    bus.close();
  });

  test("401: the callback is asked once; a good token connects, a bad one again stops the bus", async () => {
    const asked = [];
    const recovering = open(broker.url, { token: ({ reason }) => { asked.push(reason); return reason === "initial" ? "not-a-jwt" : token(3600); } });
    await until(() => recovering.connected, "connected with the fresh token");
    assert.deepEqual(asked, ["initial", "unauthorized"]);
    recovering.close();

    const hopeless = open(broker.url, { token: () => token(-3600) });
    await until(() => hopeless.state === "closed", "gave up");
    assert.equal(hopeless.error.code, "unauthorized");
    assert.equal(hopeless.error.close.status, 401);
  });
});

describe("an overloaded server", () => {
  /** @type {Broker} */ let broker;
  before(async () => { broker = await Broker.start(["--max-connections", "1"]); });
  after(async () => { await broker.stop(); });

  test("a 503 handshake waits the overload floor, then connects once there is room", async () => {
    const first = await connected(broker.url);
    const waits = [];
    const second = open(broker.url, { reconnect: { ...fastReconnect, overloadFloor: 300 } });
    second.on("state", (state, info) => { if (state === "reconnecting") waits.push([info.status, info.delay]); });
    await until(() => waits.length >= 1, "the server refused the second connection");
    assert.equal(waits[0][0], 503);
    assert.ok(waits[0][1] >= 300, `waited ${waits[0][1]} ms, at least the overload floor`);
    first.close();
    await until(() => second.connected, "connected once the first left");
  });
});
