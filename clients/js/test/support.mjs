// Test support for bus.js: a live broker-server child process on a free port, a cutting TCP
// proxy, JWTs, and polling (never sleeping) until a condition holds.
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, "../../..");

/**
 * Node 20 has no global WebSocket: Debian's `ws` (node-ws) lives in /usr/share/nodejs, which
 * NODE_PATH names but ESM `import` ignores, so it comes through `require`.
 */
export function loadWebSocket() {
  if (globalThis.WebSocket) return globalThis.WebSocket;
  const require = createRequire(import.meta.url);
  for (const name of ["ws", "/usr/share/nodejs/ws"]) {
    try {
      return require(name);
    } catch { /* next */ }
  }
  throw new Error("no WebSocket: install node-ws (apt-get install node-ws) or use Node 22+");
}

/** The broker-server binary: $BUS_BROKER_SERVER, else the debug build, else the release one. */
export function brokerBinary() {
  const candidates = [process.env.BUS_BROKER_SERVER, resolve(repo, ".build/debug/broker-server"), resolve(repo, ".build/release/broker-server")];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) throw new Error("no broker-server: run `swift build` first (or set BUS_BROKER_SERVER)");
  return found;
}

/**
 * A broker-server child process. `restart()` stops it and starts it again on the same port
 * with the same options (a fresh server life: new epochs, empty history).
 */
export class Broker {
  static async start(args = []) {
    const broker = new Broker(args);
    await broker.#launch(0);
    return broker;
  }

  constructor(args) {
    this.args = args;
    this.port = 0;
  }

  get url() { return `ws://127.0.0.1:${this.port}/bus`; }
  get http() { return `http://127.0.0.1:${this.port}`; }

  async #launch(port) {
    const child = spawn(brokerBinary(), ["--port", String(port), "--log-level", "info", ...this.args], { stdio: ["ignore", "ignore", "pipe"] });
    this.child = child;
    // A test file that ends early (a failure, a timeout) must not leave servers behind.
    const reap = () => child.kill("SIGKILL");
    process.once("exit", reap);
    child.once("exit", () => process.removeListener("exit", reap));
    let log = "";
    this.port = await new Promise((resolvePort, reject) => {
      child.stderr.on("data", (chunk) => {
        log += chunk;
        const m = /msg=listening addresses=127\.0\.0\.1:(\d+)/.exec(log);
        if (m) resolvePort(Number(m[1]));
      });
      child.once("exit", (code) => reject(new Error(`broker-server exited (${code}): ${log}`)));
    });
    this.log = () => log;
  }

  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }

  async restart() {
    const port = this.port;
    await this.stop();
    // The port was ours a moment ago; another process could take it, so retry a few times.
    for (let i = 0; ; i++) {
      try {
        await this.#launch(port);
        return;
      } catch (error) {
        if (i >= 50) throw error;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

/**
 * A TCP proxy in front of the broker that tests drive: `cut()` resets every connection through
 * it, `down()` refuses new ones until `up()`, `hold()` stops reading from the server (so the
 * server's send queue fills, as with a client that stopped reading) until `release()`.
 */
export class CuttingProxy {
  static async start(targetPort) {
    const proxy = new CuttingProxy(targetPort);
    await new Promise((r) => proxy.server.listen(0, "127.0.0.1", r));
    proxy.port = proxy.server.address().port;
    return proxy;
  }

  constructor(targetPort) {
    this.targetPort = targetPort;
    this.pairs = new Set();
    this.refusing = false;
    this.holding = false;
    this.connections = 0;
    this.server = net.createServer((client) => {
      if (this.refusing) return client.destroy();
      this.connections++;
      const upstream = net.connect(this.targetPort, "127.0.0.1");
      const pair = { client, upstream };
      this.pairs.add(pair);
      client.pipe(upstream);
      upstream.pipe(client);
      if (this.holding) upstream.pause();
      const end = () => { this.pairs.delete(pair); client.destroy(); upstream.destroy(); };
      client.on("error", end).on("close", end);
      upstream.on("error", end).on("close", end);
    });
  }

  url(path = "/bus") { return `ws://127.0.0.1:${this.port}${path}`; }

  /** Resets every connection through the proxy (both sides see the TCP connection die). */
  cut() {
    for (const { client, upstream } of this.pairs) { client.resetAndDestroy?.() ?? client.destroy(); upstream.destroy(); }
    this.pairs.clear();
  }

  down() { this.refusing = true; this.cut(); }
  up() { this.refusing = false; }

  hold() {
    this.holding = true;
    for (const { upstream } of this.pairs) { upstream.unpipe(); upstream.pause(); }
  }

  release() {
    this.holding = false;
    for (const { client, upstream } of this.pairs) { upstream.pipe(client); upstream.resume(); }
  }

  close() {
    this.cut();
    this.server.close();
  }
}

/** Polls `condition` every 10 ms until it is truthy; fails after `limit` ms (a hang guard, not a timing assertion). */
export async function until(condition, what, limit = 30000) {
  const start = Date.now();
  for (;;) {
    const value = await condition();
    if (value) return value;
    if (Date.now() - start > limit) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** An HS256 JWT (RFC 7519) signed with `secret`. */
export function jwt(secret, claims) {
  const part = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const body = `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}`;
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`;
}

/** A fresh topic prefix, so sequence numbers start at 1 even on a reused server. */
export function freshPrefix(name) {
  return `${name}.${Math.random().toString(16).slice(2, 10)}`;
}

/** Reconnection fast enough for tests (the rules are the same; only the windows shrink). */
export const fastReconnect = { firstWindow: 50, maxDelay: 200, overloadFloor: 50, stableAfter: 60000 };
