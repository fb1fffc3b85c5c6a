// Interop: node's `ws` (Debian's node-ws; a client nobody here wrote) against /echo.
// Usage: NODE_PATH=/usr/share/nodejs node interop/echo_ws.js ws://127.0.0.1:PORT/echo
'use strict';
const WebSocket = require('ws');
const crypto = require('crypto');

const url = process.argv[2];
const cases = [
  ['text', 'hello'], ['text', ''], ['text', 'κόσμε'], ['text', 'y'.repeat(70000)],
  ['binary', crypto.randomBytes(0)], ['binary', crypto.randomBytes(125)],
  ['binary', crypto.randomBytes(126)], ['binary', crypto.randomBytes(65536)],
  ['binary', crypto.randomBytes(500000)],
];
cases.push(['text', JSON.stringify(Array.from({ length: 300 }, (_, i) => ({ user: `u${i % 7}`, text: `line ${i} of a chat`, ts: i })))]);
let passed = 0, failed = 0, index = 0;
// permessage-deflate (issue 17): ws offers it by default (threshold 0: every message compressed
// both ways); `plain` as the second argument turns it off.
const plain = process.argv[3] === 'plain';
const ws = new WebSocket(url, { perMessageDeflate: plain ? false : { threshold: 0 } });
const timer = setTimeout(() => { console.log('FAILED: timeout'); finish(1); }, 20000);

function finish(extra) {
  clearTimeout(timer);
  failed += extra;
  console.log(`interop ws: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
function sendNext() {
  if (index === cases.length) { ws.ping(Buffer.from('p')); return; }
  const [kind, payload] = cases[index];
  ws.send(payload, { binary: kind === 'binary' });
}
ws.on('open', () => {
  const negotiated = ws.extensions.startsWith('permessage-deflate');
  if (negotiated === !plain) passed++; else { failed++; console.log(`FAILED: extensions ${JSON.stringify(ws.extensions)}`); }
  sendNext();
});
ws.on('message', (data, isBinary) => {
  const [kind, payload] = cases[index];
  const ok = (kind === 'binary') === isBinary && Buffer.compare(Buffer.from(data), Buffer.from(payload)) === 0;
  if (ok) passed++; else { failed++; console.log(`FAILED: ${kind} ${payload.length}`); }
  index++;
  sendNext();
});
ws.on('pong', (data) => { if (data.toString() === 'p') passed++; else failed++; ws.close(1000, 'done'); });
ws.on('close', (code) => { if (code === 1000) passed++; else { failed++; console.log(`FAILED: close ${code}`); } finish(0); });
ws.on('error', (e) => { console.log(`FAILED: ${e.message}`); finish(1); });
