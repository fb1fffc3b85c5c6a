// Interop: node's `ws` (Debian's node-ws; a client nobody here wrote) speaking bus.v1 on /bus.
// Usage: NODE_PATH=/usr/share/nodejs node interop/bus_ws.js ws://127.0.0.1:PORT/bus
// Written from Protocol.md alone: subprotocol, welcome, acks, JSON and binary payloads byte for
// byte, sequence numbers, error envelopes with the request's id on a connection that stays open.
// Prints 'interop bus ws: N passed, M failed' and exits non-zero on any failure.
'use strict';
let WebSocket;
try {
  WebSocket = require('ws');
} catch (e) {
  // Skipped with a visible message on a bare machine; a failure under BUS_REQUIRE_ALL=1 (.ci/run).
  if (process.env.BUS_REQUIRE_ALL === '1') {
    console.log("FAILED: node's ws is missing, and BUS_REQUIRE_ALL=1 makes that a failure");
    process.exit(1);
  }
  console.log("SKIPPED: interop bus ws: node's ws is missing (apt-get install node-ws; NODE_PATH=/usr/share/nodejs)");
  process.exit(0);
}
const crypto = require('crypto');

const url = process.argv[2];
// A fresh topic prefix per run, so sequence numbers start at 1 even on a reused server.
const prefix = 'interop.node.' + crypto.randomBytes(4).toString('hex');
let passed = 0, failed = 0;

function check(name, ok, detail) {
  if (ok) { passed++; return; }
  failed++;
  console.log(`FAILED: ${name}${detail === undefined ? '' : ' ' + JSON.stringify(detail).slice(0, 200)}`);
}

// A connection whose frames can be awaited one at a time, in order.
function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'bus.v1', { maxPayload: 0 });
    const frames = [], waiters = [];
    ws.on('message', (data, isBinary) => {
      const frame = { isBinary, data: Buffer.from(data) };
      if (waiters.length) waiters.shift()(frame); else frames.push(frame);
    });
    ws.next = () => new Promise((res, rej) => {
      if (frames.length) return res(frames.shift());
      const timer = setTimeout(() => rej(new Error('timed out waiting for a frame')), 10000);
      waiters.push((frame) => { clearTimeout(timer); res(frame); });
    });
    ws.nextJSON = async () => {
      const frame = await ws.next();
      if (frame.isBinary) throw new Error(`expected text, got ${frame.data.length} binary bytes`);
      return { raw: frame.data.toString('utf8'), value: JSON.parse(frame.data.toString('utf8')) };
    };
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

// Protocol.md "binary publish": 0x01, flags (bit 0: id follows), [id length, id], topic length (2), topic, payload.
function binaryPublish(topic, payload, id) {
  const t = Buffer.from(topic, 'utf8');
  const parts = [Buffer.from([0x01, id ? 0x01 : 0x00])];
  if (id) { const i = Buffer.from(id, 'utf8'); parts.push(Buffer.from([i.length]), i); }
  const length = Buffer.alloc(2);
  length.writeUInt16BE(t.length);
  parts.push(length, t, payload);
  return Buffer.concat(parts);
}

// Protocol.md "binary message": 0x02, epoch length, epoch, seq (8), topic length (2), topic, payload.
function parseBinaryMessage(frame) {
  if (frame[0] !== 0x02) throw new Error('not a binary message');
  let i = 1;
  const epochLength = frame[i++];
  const epoch = frame.subarray(i, i + epochLength).toString('ascii');
  i += epochLength;
  const seq = Number(frame.readBigUInt64BE(i));
  i += 8;
  const topicLength = frame.readUInt16BE(i);
  i += 2;
  const topic = frame.subarray(i, i + topicLength).toString('utf8');
  return { topic, epoch, seq, payload: frame.subarray(i + topicLength) };
}

async function main() {
  const sub = await open(), pub = await open();
  check('subprotocol bus.v1 selected', sub.protocol === 'bus.v1' && pub.protocol === 'bus.v1', [sub.protocol, pub.protocol]);
  // ws offers permessage-deflate by default (issue 17): negotiated, so messages of 1 KiB and
  // more go both ways compressed.
  check('permessage-deflate negotiated', [sub, pub].every((ws) => ws.extensions.startsWith('permessage-deflate')),
        [sub.extensions, pub.extensions]);
  let maxPayload = 0;
  for (const ws of [sub, pub]) {
    const { value } = await ws.nextJSON();
    check('welcome', value.type === 'welcome' && value.protocol === 'bus.v1', value);
    maxPayload = value.max_payload;
  }

  sub.send(JSON.stringify({ type: 'subscribe', id: 's1', topic: `${prefix}.*` }));
  let { value: ack } = await sub.nextJSON();
  check('subscribe ack', ack.type === 'ack' && ack.id === 's1' && ack.op === 'subscribe' && ack.topic === `${prefix}.*`, ack);

  // Text: JSON data passed through byte for byte, acks with consecutive seq.
  const datas = ['{"a" : [1,{"b":null}] ,"s":"\\u00e9κόσμε"}', '"plain text"', ' 3.25e-1', '"' + 'z'.repeat(70000) + '"'];
  let epoch = null;
  for (let n = 0; n < datas.length; n++) {
    pub.send(`{"type":"publish","id":${n},"topic":"${prefix}.text","data":${datas[n]}}`);
    ({ value: ack } = await pub.nextJSON());
    epoch = epoch || ack.epoch;
    check(`publish ack ${n}`, ack.id === n && ack.op === 'publish' && ack.seq === n + 1 && ack.epoch === epoch && ack.subscribers === 1, ack);
  }
  for (let n = 0; n < datas.length; n++) {
    const { raw, value } = await sub.nextJSON();
    check(`message ${n} envelope`, value.type === 'message' && value.topic === `${prefix}.text` && value.seq === n + 1 && value.epoch === epoch, value.seq);
    // The server removes nothing but the whitespace around the value.
    check(`message ${n} data byte-exact`, raw.endsWith(`"data":${datas[n].trim()}}`), raw.slice(-60));
  }

  // Binary payloads of every length class, acked by string id, delivered byte for byte.
  const payloads = [0, 1, 125, 126, 65535, 65536, 300000, maxPayload].map((size) => crypto.randomBytes(size));
  for (let n = 0; n < payloads.length; n++) {
    pub.send(binaryPublish(`${prefix}.bin`, payloads[n], `bin-${n}`));
    ({ value: ack } = await pub.nextJSON());
    check(`binary ack ${n}`, ack.id === `bin-${n}` && ack.seq === n + 1 && ack.subscribers === 1, ack);
  }
  for (let n = 0; n < payloads.length; n++) {
    const frame = await sub.next();
    check(`binary message ${n} is binary`, frame.isBinary);
    const message = parseBinaryMessage(frame.data);
    check(`binary message ${n} header`, message.topic === `${prefix}.bin` && message.seq === n + 1, [message.topic, message.seq]);
    check(`binary message ${n} byte-exact (${payloads[n].length} bytes)`, Buffer.compare(message.payload, payloads[n]) === 0);
  }

  // Bad requests: error envelopes naming the request, connection kept.
  const bad = [
    ['bad json', '[1,2]', { code: 'bad_json' }],
    ['unknown type', '{"type":"nope","id":"u","topic":"a"}', { code: 'unknown_type', id: 'u' }],
    ['invalid topic', '{"type":"subscribe","id":5,"topic":"a..b"}', { code: 'invalid_topic', id: 5, topic: 'a..b' }],
    ['duplicate key', '{"type":"subscribe","type":"subscribe","id":6,"topic":"a"}', { code: 'bad_request', id: 6 }],
    ['reserved binary flags', Buffer.from([0x01, 0x02, 0x00, 0x01, 0x61]), { code: 'bad_request' }],
    ['unknown binary kind', Buffer.from([0x07, 0x00]), { code: 'bad_request' }],
  ];
  for (const [name, request, expected] of bad) {
    pub.send(request);
    const { value } = await pub.nextJSON();
    const matches = Object.entries(expected).every(([k, v]) => value[k] === v);
    check(`error envelope: ${name}`, value.type === 'error' && matches && typeof value.message === 'string'
      && ('id' in expected || !('id' in value)), value);
  }
  pub.send(`{"type":"publish","id":"last","topic":"${prefix}.text","data":true}`);
  ({ value: ack } = await pub.nextJSON());
  check('still open after errors', ack.id === 'last' && ack.seq === datas.length + 1, ack);
  const { value: last } = await sub.nextJSON();
  check('message after errors', last.seq === datas.length + 1 && last.data === true, last);

  const closed = new Promise((resolve) => sub.once('close', resolve));
  sub.close(1000, 'done');
  check('close code echoed', (await closed) === 1000);
  pub.close(1000);
}

const timer = setTimeout(() => { console.log('FAILED: timeout'); failed++; finish(); }, 60000);
function finish() {
  clearTimeout(timer);
  console.log(`interop bus ws: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
main().then(finish, (e) => { console.log(`FAILED: ${e.stack || e}`); failed++; finish(); });
