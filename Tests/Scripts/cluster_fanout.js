// Quick cross-node fan-out measurement (not a test): N subscribers spread over the given
// nodes, one publisher on the first URL; messages go out in windows of W, and the next window
// starts once every subscriber has every message of the last one (so nobody is dropped as a
// slow consumer). Prints deliveries per second and publish-to-delivery latency percentiles.
//
//   NODE_PATH=/usr/share/nodejs node Tests/Scripts/cluster_fanout.js \
//     --pub ws://127.0.0.1:8081/bus --sub ws://127.0.0.1:8081/bus,ws://127.0.0.1:8082/bus \
//     --subscribers 100 --messages 2000 --window 100 --size 100
const WebSocket = require('ws');

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, value, i, all) =>
  (i % 2 === 0 ? pairs.concat([[value.replace(/^--/, ''), all[i + 1]]]) : pairs), []));
const pubURL = args.pub;
const subURLs = (args.sub || pubURL).split(',');
const subscribers = Number(args.subscribers || 100);
const messages = Number(args.messages || 2000);
const windowSize = Number(args.window || 100);
const size = Number(args.size || 100);
const topic = 'bench.fanout.' + process.pid;

function open(url) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, ['bus.v1']);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function reply(ws, id) {
  return new Promise((resolve) => {
    const listener = (data) => {
      const message = JSON.parse(data.toString());
      if (message.id === id) { ws.off('message', listener); resolve(message); }
    };
    ws.on('message', listener);
  });
}

(async () => {
  const latencies = [];
  let received = 0;
  let windowTarget = 0;
  let windowDone = null;
  const subs = [];
  for (let i = 0; i < subscribers; i++) {
    const ws = await open(subURLs[i % subURLs.length]);
    const acked = reply(ws, 1);
    ws.send(JSON.stringify({ type: 'subscribe', id: 1, topic }));
    await acked;
    ws.on('message', (data, binary) => {
      const text = data.toString();
      if (!text.startsWith('{"type":"message"')) return;
      const sent = Number(JSON.parse(text).data.t);
      latencies.push(Number(process.hrtime.bigint() - BigInt(sent)) / 1e3);
      received++;
      if (received === windowTarget && windowDone) windowDone();
    });
    subs.push(ws);
  }
  const publisher = await open(pubURL);
  const pad = 'x'.repeat(Math.max(0, size - 40));
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < messages; sent += windowSize) {
    const count = Math.min(windowSize, messages - sent);
    windowTarget += count * subscribers;
    const done = new Promise((resolve) => { windowDone = resolve; });
    for (let i = 0; i < count; i++) {
      publisher.send(`{"type":"publish","topic":"${topic}","data":{"t":"${process.hrtime.bigint()}","p":"${pad}"}}`);
    }
    await done;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))].toFixed(0);
  console.log(JSON.stringify({
    nodes: subURLs.length, subscribers, messages, window: windowSize, size,
    deliveries: received, seconds: Number(seconds.toFixed(3)),
    deliveries_per_second: Math.round(received / seconds),
    latency_us: { p50: pct(0.5), p90: pct(0.9), p99: pct(0.99), max: latencies[latencies.length - 1].toFixed(0) },
  }));
  for (const ws of subs.concat([publisher])) ws.terminate();
})().catch((error) => { console.error(error); process.exit(1); });
