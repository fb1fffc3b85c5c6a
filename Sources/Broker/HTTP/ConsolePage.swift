/// The browser console served at `GET /`: connect to `/bus`, subscribe to topics and
/// patterns, watch messages arrive, publish text, JSON or binary, see the connection's state
/// and the server's stats.
///
/// One self-contained page (no CDN, no external script, nothing fetched but this server's
/// `/bus` and `/healthz`), so it works offline and behind any firewall. Every payload is shown
/// through `textContent`, never `innerHTML`: a message is data, not markup. Elements carry
/// stable ids and `data-` attributes because the browser test (interop/browser_console.py)
/// reads them.
enum ConsolePage {
    static let html = #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bus console</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d232b; }
  header { display: flex; gap: .6em; align-items: center; padding: .6em 1em; background: #1d232b; color: #fff; flex-wrap: wrap; }
  header h1 { font-size: 1.1em; margin: 0 1em 0 0; }
  input, select, textarea, button { font: inherit; }
  #url { width: 22em; }
  #state { padding: .1em .6em; border-radius: 1em; background: #888; }
  #state[data-state="open"] { background: #2e8b57; }
  #state[data-state="connecting"] { background: #c58a00; }
  #state[data-state="closed"] { background: #b22222; }
  main { display: grid; grid-template-columns: 22em 1fr; gap: 1em; padding: 1em; }
  section { background: #fff; border: 1px solid #d8dce2; border-radius: 6px; padding: .8em; margin-bottom: 1em; }
  h2 { font-size: 1em; margin: 0 0 .5em; }
  .row { display: flex; gap: .4em; margin-bottom: .4em; }
  .row input, .row select { flex: 1; min-width: 0; }
  textarea { width: 100%; box-sizing: border-box; height: 5em; }
  ul { list-style: none; margin: 0; padding: 0; }
  #subscriptions li { display: flex; justify-content: space-between; padding: .2em 0; }
  #stats dl { display: grid; grid-template-columns: auto 1fr; gap: .1em .8em; margin: 0; }
  #stats dd { margin: 0; font-family: ui-monospace, monospace; }
  #messages { max-height: 60vh; overflow-y: auto; }
  .message { border-bottom: 1px solid #eceef1; padding: .3em 0; }
  .message .meta { color: #5b6573; font-size: .85em; }
  .message .topic { font-weight: 600; color: #1d232b; }
  .payload, .hex, .base64 { font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; }
  .hex, .base64 { color: #5b6573; }
  #log { max-height: 20vh; overflow-y: auto; font-family: ui-monospace, monospace; font-size: .85em; }
  #log .error { color: #b22222; }
</style>
</head>
<body>
<header>
  <h1>bus console</h1>
  <input id="url" aria-label="WebSocket URL">
  <input id="token" placeholder="token (optional)" aria-label="token">
  <button id="connect">Connect</button>
  <button id="disconnect" disabled>Disconnect</button>
  <span id="state" data-state="closed">closed</span>
</header>
<main>
<div>
  <section>
    <h2>Subscribe</h2>
    <form id="subscribe-form" class="row">
      <input id="sub-topic" placeholder="chat.> or chat.room1" required>
      <button id="subscribe" type="submit">Subscribe</button>
    </form>
    <ul id="subscriptions"></ul>
  </section>
  <section>
    <h2>Publish</h2>
    <form id="publish-form">
      <div class="row">
        <input id="pub-topic" placeholder="chat.room1" required>
        <select id="pub-kind" aria-label="payload kind">
          <option value="text">text</option>
          <option value="json">JSON</option>
          <option value="binary">binary (hex)</option>
        </select>
      </div>
      <textarea id="pub-payload" placeholder="hello / {&quot;a&quot;:1} / 00ff10"></textarea>
      <button id="publish" type="submit">Publish</button>
    </form>
  </section>
  <section id="stats">
    <h2>Stats</h2>
    <dl>
      <dt>received</dt><dd id="stat-received">0</dd>
      <dt>published</dt><dd id="stat-published">0</dd>
      <dt>server connections</dt><dd id="stat-connections">?</dd>
      <dt>server loops</dt><dd id="stat-loops">?</dd>
      <dt>backplane</dt><dd id="stat-backplane">?</dd>
      <dt>max message size</dt><dd id="stat-max-message">?</dd>
    </dl>
  </section>
</div>
<div>
  <section>
    <h2>Messages <button id="clear" type="button">clear</button></h2>
    <div id="messages" aria-live="polite"></div>
  </section>
  <section>
    <h2>Events</h2>
    <ul id="log"></ul>
  </section>
</div>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const maxShown = 500;  // older messages leave the page so a busy topic cannot eat the tab
let ws = null;
let nextId = 1;
let received = 0, published = 0;
const subscriptions = new Map();  // pattern -> <li>

const scheme = location.protocol === "https:" ? "wss://" : "ws://";
$("url").value = scheme + (location.host || "127.0.0.1:8080") + "/bus";

function setState(state) {
  $("state").dataset.state = state;
  $("state").textContent = state;
  $("connect").disabled = state !== "closed";
  $("disconnect").disabled = state === "closed";
}

function log(text, isError) {
  const li = document.createElement("li");
  li.textContent = new Date().toLocaleTimeString() + " " + text;
  if (isError) li.className = "error";
  $("log").prepend(li);
  while ($("log").children.length > 200) $("log").lastChild.remove();
}

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

function base64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

function show(topic, epoch, seq, kind, payloadText, bytes) {
  received++;
  $("stat-received").textContent = received;
  const div = document.createElement("div");
  div.className = "message";
  div.dataset.topic = topic;
  div.dataset.seq = String(seq);
  div.dataset.kind = kind;
  const meta = document.createElement("div");
  meta.className = "meta";
  const t = document.createElement("span");
  t.className = "topic";
  t.textContent = topic;
  meta.append(t, " #" + seq + " · " + new Date().toLocaleTimeString() + " · " + kind);
  div.append(meta);
  if (bytes) {
    const h = document.createElement("div");
    h.className = "hex";
    h.textContent = "hex " + hex(bytes);
    const b = document.createElement("div");
    b.className = "base64";
    b.textContent = "base64 " + base64(bytes);
    div.append(h, b);
  } else {
    const p = document.createElement("div");
    p.className = "payload";
    p.textContent = payloadText;
    div.append(p);
  }
  $("messages").prepend(div);
  while ($("messages").children.length > maxShown) $("messages").lastChild.remove();
}

// Protocol.md "binary message": 0x02, epoch length, epoch, seq (8 bytes), topic length (2), topic, payload.
function onBinary(buffer) {
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  if (bytes.length < 2 || bytes[0] !== 0x02) { log("unknown binary frame", true); return; }
  let i = 1;
  const epochLength = bytes[i++];
  const epoch = new TextDecoder().decode(bytes.subarray(i, i + epochLength));
  i += epochLength;
  const seq = Number(view.getBigUint64(i));
  i += 8;
  const topicLength = view.getUint16(i);
  i += 2;
  const topic = new TextDecoder().decode(bytes.subarray(i, i + topicLength));
  i += topicLength;
  show(topic, epoch, seq, "binary", null, bytes.subarray(i));
}

function onText(text) {
  let m;
  try { m = JSON.parse(text); } catch (e) { log("unparsable frame: " + text, true); return; }
  switch (m.type) {
    case "welcome":
      $("stat-max-message").textContent = m.max_message_size;
      log("welcome: protocol " + m.protocol);
      break;
    case "message":
      if (typeof m.data === "string") show(m.topic, m.epoch, m.seq, "text", m.data, null);
      else show(m.topic, m.epoch, m.seq, "json", JSON.stringify(m.data), null);
      break;
    case "ack":
      log("ack " + m.op + " " + (m.topic || "") + (m.seq !== undefined ? " seq " + m.seq : ""));
      if (m.op === "subscribe") markSubscribed(m.topic);
      break;
    case "error":
      log("error " + m.code + ": " + m.message + (m.topic ? " (" + m.topic + ")" : ""), true);
      if (m.topic && subscriptions.has(m.topic) && subscriptions.get(m.topic).dataset.state === "pending") {
        subscriptions.get(m.topic).remove();
        subscriptions.delete(m.topic);
      }
      break;
    default:
      log("unknown envelope: " + text, true);
  }
}

function connect() {
  let url = $("url").value.trim();
  const token = $("token").value.trim();
  if (token) url += (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
  setState("connecting");
  try {
    ws = new WebSocket(url, "bus.v1");
  } catch (e) {
    log("cannot connect: " + e.message, true);
    setState("closed");
    return;
  }
  ws.binaryType = "arraybuffer";
  ws.onopen = () => {
    setState("open");
    log("connected to " + $("url").value.trim());
    // Subscriptions survive a reconnect of the page.
    for (const pattern of subscriptions.keys()) send({ type: "subscribe", topic: pattern }, pattern);
  };
  ws.onclose = (e) => {
    setState("closed");
    log("closed: " + e.code + (e.reason ? " " + e.reason : ""), e.code !== 1000);
    for (const li of subscriptions.values()) li.dataset.state = "pending";
    ws = null;
  };
  ws.onerror = () => log("connection error", true);
  ws.onmessage = (e) => {
    if (typeof e.data === "string") onText(e.data); else onBinary(e.data);
  };
}

function send(envelope) {
  if (!ws || ws.readyState !== WebSocket.OPEN) { log("not connected", true); return false; }
  envelope.id = nextId++;
  ws.send(JSON.stringify(envelope));
  return true;
}

function markSubscribed(pattern) {
  const li = subscriptions.get(pattern);
  if (li) li.dataset.state = "active";
}

function subscribe(pattern) {
  if (!pattern || subscriptions.has(pattern)) return;
  const li = document.createElement("li");
  li.dataset.pattern = pattern;
  li.dataset.state = "pending";
  const name = document.createElement("span");
  name.textContent = pattern;
  const button = document.createElement("button");
  button.textContent = "unsubscribe";
  button.className = "unsubscribe";
  button.onclick = () => {
    send({ type: "unsubscribe", topic: pattern });
    li.remove();
    subscriptions.delete(pattern);
  };
  li.append(name, button);
  $("subscriptions").append(li);
  subscriptions.set(pattern, li);
  send({ type: "subscribe", topic: pattern });
}

function parseHex(text) {
  const digits = text.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) return null;
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.substr(2 * i, 2), 16);
  return bytes;
}

// Protocol.md "binary publish": 0x01, flags (bit 0: id follows), id length, id, topic length (2), topic, payload.
function binaryPublish(topic, id, payload) {
  const enc = new TextEncoder();
  const t = enc.encode(topic), i = enc.encode(String(id));
  const frame = new Uint8Array(3 + i.length + 2 + t.length + payload.length);
  let k = 0;
  frame[k++] = 0x01;
  frame[k++] = 0x01;
  frame[k++] = i.length;
  frame.set(i, k); k += i.length;
  frame[k++] = t.length >> 8;
  frame[k++] = t.length & 0xff;
  frame.set(t, k); k += t.length;
  frame.set(payload, k);
  return frame;
}

function publish() {
  if (!ws || ws.readyState !== WebSocket.OPEN) { log("not connected", true); return; }
  const topic = $("pub-topic").value.trim();
  const kind = $("pub-kind").value;
  const payload = $("pub-payload").value;
  const id = nextId++;
  if (kind === "binary") {
    const bytes = parseHex(payload);
    if (!bytes) { log("binary payload must be hex digits, e.g. 00ff10", true); return; }
    ws.send(binaryPublish(topic, id, bytes));
  } else if (kind === "json") {
    try { JSON.parse(payload); } catch (e) { log("not JSON: " + e.message, true); return; }
    // Sent as typed: the server passes data on byte for byte.
    ws.send('{"type":"publish","id":' + id + ',"topic":' + JSON.stringify(topic) + ',"data":' + payload + "}");
  } else {
    ws.send(JSON.stringify({ type: "publish", id: id, topic: topic, data: payload }));
  }
  published++;
  $("stat-published").textContent = published;
}

async function refreshStats() {
  try {
    const response = await fetch("/healthz", { cache: "no-store" });
    const health = await response.json();
    $("stat-connections").textContent = health.connections;
    $("stat-loops").textContent = health.loops;
    $("stat-backplane").textContent =
      typeof health.backplane === "string" ? health.backplane : JSON.stringify(health.backplane);
  } catch (e) {
    $("stat-connections").textContent = "?";
  }
}

$("connect").onclick = connect;
$("disconnect").onclick = () => { if (ws) ws.close(1000, "bye"); };
$("subscribe-form").onsubmit = (e) => { e.preventDefault(); subscribe($("sub-topic").value.trim()); };
$("publish-form").onsubmit = (e) => { e.preventDefault(); publish(); };
$("clear").onclick = () => { $("messages").replaceChildren(); };
setState("closed");
refreshStats();
setInterval(refreshStats, 2000);
connect();
</script>
</body>
</html>
"""#
}
