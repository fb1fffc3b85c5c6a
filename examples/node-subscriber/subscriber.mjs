// A Node subscriber on bus.js: prints every message of a pattern as one JSON line, and every
// gap (messages lost while away) on stderr. It reconnects and resumes by itself.
//
//   node examples/node-subscriber/subscriber.mjs [ws://127.0.0.1:8080/bus] [pattern] [--count N]
//
// Node 22+ has a global WebSocket; Node 20 needs the `ws` package (Debian: node-ws, found
// through NODE_PATH=/usr/share/nodejs, which `import` ignores, hence createRequire).
// In your own project, copy bus.js next to your script (or curl http://BROKER/bus.js).
import { createRequire } from "node:module";
import { connect } from "../../clients/js/bus.js";

const args = process.argv.slice(2);
const countAt = args.indexOf("--count");
const count = countAt >= 0 ? Number(args.splice(countAt, 2)[1]) : Infinity;
const [url = "ws://127.0.0.1:8080/bus", pattern = ">"] = args;
const WebSocket = globalThis.WebSocket ?? createRequire(import.meta.url)("ws");

const bus = connect(url, { WebSocket, token: process.env.BUS_TOKEN });
bus.on("state", (state, info) => console.error(`# ${state}${info.code ? ` (close ${info.code})` : ""}`));
let received = 0;
const subscription = bus.subscribe(pattern, {
  onMessage: (m) => {
    console.log(JSON.stringify({ topic: m.topic, seq: m.seq, data: m.binary ? Buffer.from(m.data).toString("base64") : m.data }));
    if (++received >= count) bus.close();
  },
  onGap: (gap) => console.error(`# gap on ${gap.topic}: ${gap.count ?? "unknown number of"} message(s) lost (${gap.reason})`),
});
subscription.ready.then(() => console.error(`# subscribed to ${pattern}`), (e) => {
  console.error(`# cannot subscribe to ${pattern}: ${e.code} ${e.message}`);
  process.exitCode = 1;
  bus.close();
});
process.on("SIGINT", () => bus.close());
