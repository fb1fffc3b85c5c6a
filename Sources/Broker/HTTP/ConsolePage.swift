/// The browser console served at `GET /`: connect to `/bus`, subscribe to topics and
/// patterns, watch messages arrive, publish text, JSON or binary, see the connection's state
/// and the server's stats.
///
/// One page and the client it imports (no CDN, nothing fetched but this server's `/bus.js`,
/// `/bus` and `/healthz`, all by relative URLs), so it works offline, behind any firewall and
/// behind a proxy that adds a path prefix. It uses bus.js, so it reconnects and resumes its
/// subscriptions by itself after a drop or a server restart, and reports every gap. Every payload is shown
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
<link rel="icon" href="data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAYAAAAf8/9hAAAAPklEQVR42mNgoDaQVdb+jw9TpBmvIcRqxmoIqZoxDMEmqdcdjoJJMgBdMy5DhrMBFAciXdIC9ZMyVTITOQAAMqUH6HJMiHcAAAAASUVORK5CYII=">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d232b; }
  header { display: flex; gap: .6em; align-items: center; padding: .6em 1em; background: #1d232b; color: #fff; flex-wrap: wrap; }
  header h1 { font-size: 1.1em; margin: 0 1em 0 0; }
  input, select, textarea, button { font: inherit; }
  #url { width: 22em; }
  #state { padding: .1em .6em; border-radius: 1em; background: #888; }
  #state[data-state="open"] { background: #2e8b57; }
  #state[data-state="connecting"], #state[data-state="reconnecting"] { background: #c58a00; }
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
  #log .gap { color: #8a5a00; font-weight: 600; }
  main > div { min-width: 0; }
  /* Narrow screens (a phone, a side panel): one column, nothing wider than the window. */
  @media (max-width: 760px) {
    main { grid-template-columns: 1fr; padding: .5em; }
    header input, #url { flex: 1 1 100%; width: auto; min-width: 0; }
  }
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
<script type="module">
// The console is a client of bus.js like any other: served next to this page (GET /bus.js)
// and imported by a relative path, so the page also works behind a proxy that adds a prefix.
// bus.js reconnects and resumes by itself; this page only shows what it reports.
import { connect } from "./bus.js";

const $ = (id) => document.getElementById(id);
const maxShown = 500;  // older messages leave the page so a busy topic cannot eat the tab
let bus = null;
let received = 0, published = 0;
let lastShown = null;  // a message matching two patterns reaches both: show it once
const subscriptions = new Map();  // pattern -> <li>

// ws(s)://<this page's directory>bus: right behind a path-prefixing proxy too.
const busURL = new URL("bus", location.href);
busURL.protocol = location.protocol === "https:" ? "wss:" : "ws:";
busURL.search = "";
busURL.hash = "";
$("url").value = busURL.href;

function setState(state, detail) {
  $("state").dataset.state = state;
  $("state").textContent = detail ? state + " " + detail : state;
  $("connect").disabled = state !== "closed";
  $("disconnect").disabled = state === "closed";
}

function log(text, kind) {
  const li = document.createElement("li");
  li.textContent = new Date().toLocaleTimeString() + " " + text;
  if (kind) li.className = kind;
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

function show(message) {
  if (message === lastShown) return;
  lastShown = message;
  received++;
  $("stat-received").textContent = received;
  const kind = message.binary ? "binary" : typeof message.data === "string" ? "text" : "json";
  const div = document.createElement("div");
  div.className = "message";
  div.dataset.topic = message.topic;
  div.dataset.seq = String(message.seq);
  div.dataset.kind = kind;
  const meta = document.createElement("div");
  meta.className = "meta";
  const t = document.createElement("span");
  t.className = "topic";
  t.textContent = message.topic;
  meta.append(t, " #" + message.seq + " · " + new Date().toLocaleTimeString() + " · " + kind);
  div.append(meta);
  if (message.binary) {
    const h = document.createElement("div");
    h.className = "hex";
    h.textContent = "hex " + hex(message.data);
    const b = document.createElement("div");
    b.className = "base64";
    b.textContent = "base64 " + base64(message.data);
    div.append(h, b);
  } else {
    const p = document.createElement("div");
    p.className = "payload";
    p.textContent = kind === "text" ? message.data : JSON.stringify(message.data);
    div.append(p);
  }
  $("messages").prepend(div);
  while ($("messages").children.length > maxShown) $("messages").lastChild.remove();
}

function describeGap(gap) {
  const what = gap.count !== undefined ? gap.count + " message(s)" : "messages";
  const reasons = { history: "no longer in history", epoch: "the topic started a new epoch (server restart?)",
                    seq: "skipped", unknown: "the server could not say which" };
  return "gap on " + gap.topic + ": " + what + " lost, " + (reasons[gap.reason] || gap.reason);
}

function startSubscription(pattern) {
  const li = subscriptions.get(pattern);
  li.dataset.state = "pending";
  const sub = bus.subscribe(pattern, {
    onMessage: show,
    onGap: (gap) => log(describeGap(gap), "gap"),
    onError: (e) => {
      log("error " + e.code + ": " + e.message + " (" + pattern + ")", "error");
      li.remove();
      subscriptions.delete(pattern);
    },
  });
  sub.on("ack", (ack) => {
    li.dataset.state = "active";
    log("ack subscribe " + pattern + (ack.seq !== undefined ? " seq " + ack.seq : "") +
        (ack.recovered === true ? " (resumed)" : ""));
  });
  li.sub = sub;
}

function connectBus() {
  let url = $("url").value.trim();
  const token = $("token").value.trim();
  try {
    bus = connect(url, token ? { token } : {});
  } catch (e) {
    log("cannot connect: " + e.message, "error");
    setState("closed");
    return;
  }
  const current = bus;
  setState("connecting");
  current.on("state", (state, info) => {
    if (current !== bus) return;
    if (state === "connected") {
      setState("open");
      log("connected to " + url);
    } else if (state === "reconnecting") {
      const seconds = (info.delay / 1000).toFixed(1);
      setState("reconnecting", "in " + seconds + " s");
      log("closed: " + info.code + (info.reason ? " " + info.reason : "") + "; reconnecting in " + seconds + " s", "error");
      for (const li of subscriptions.values()) li.dataset.state = "pending";
    } else if (state === "closed") {
      setState("closed");
      log("closed" + (info.error ? ": " + info.error.code + " " + info.error.message : ""), info.error ? "error" : "");
      for (const li of subscriptions.values()) li.dataset.state = "pending";
    }
  });
  current.on("welcome", (w) => {
    $("stat-max-message").textContent = w.max_message_size;
    log("welcome: protocol " + w.protocol);
  });
  current.on("error", (e) => log("error " + e.code + ": " + e.message, "error"));
  for (const pattern of subscriptions.keys()) startSubscription(pattern);
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
  button.type = "button";
  button.onclick = () => {
    if (li.sub) li.sub.unsubscribe();
    li.remove();
    subscriptions.delete(pattern);
  };
  li.append(name, button);
  $("subscriptions").append(li);
  subscriptions.set(pattern, li);
  if (bus && bus.state !== "closed") startSubscription(pattern);
}

function parseHex(text) {
  const digits = text.replace(/\s+/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(digits)) return null;
  const bytes = new Uint8Array(digits.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(digits.substr(2 * i, 2), 16);
  return bytes;
}

async function publish() {
  if (!bus) { log("not connected", "error"); return; }
  const topic = $("pub-topic").value.trim();
  const kind = $("pub-kind").value;
  const payload = $("pub-payload").value;
  let sending;
  if (kind === "binary") {
    const bytes = parseHex(payload);
    if (!bytes) { log("binary payload must be hex digits, e.g. 00ff10", "error"); return; }
    sending = bus.publish(topic, bytes);
  } else if (kind === "json") {
    sending = bus.publishJSON(topic, payload);  // as typed: the server passes data on byte for byte
  } else {
    sending = bus.publish(topic, payload);
  }
  try {
    const ack = await sending;
    // Counted once the server acked it: a publish refused or lost on the way is not "published".
    published++;
    $("stat-published").textContent = published;
    log("ack publish " + ack.topic + " seq " + ack.seq + " (" + ack.subscribers + " subscriber(s))");
  } catch (e) {
    log("publish failed: " + e.code + ": " + e.message, "error");
  }
}

async function refreshStats() {
  try {
    const response = await fetch(new URL("healthz", location.href), { cache: "no-store" });
    const health = await response.json();
    $("stat-connections").textContent = health.connections;
    $("stat-loops").textContent = health.loops;
    $("stat-backplane").textContent =
      typeof health.backplane === "string" ? health.backplane : JSON.stringify(health.backplane);
  } catch (e) {
    for (const id of ["stat-connections", "stat-loops", "stat-backplane"]) $(id).textContent = "?";
  }
}

$("connect").onclick = connectBus;
$("disconnect").onclick = () => { if (bus) { bus.close(); } };
$("subscribe-form").onsubmit = (e) => { e.preventDefault(); subscribe($("sub-topic").value.trim()); };
$("publish-form").onsubmit = (e) => { e.preventDefault(); publish(); };
$("clear").onclick = () => { $("messages").replaceChildren(); };
setState("closed");
refreshStats();
setInterval(refreshStats, 2000);
connectBus();
</script>
</body>
</html>
"""#
}
