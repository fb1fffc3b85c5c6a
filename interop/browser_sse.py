"""Browser test of GET /sse: a real EventSource in Debian's chromium, headless, via Selenium.

Usage: python3 interop/browser_sse.py http://127.0.0.1:PORT

The page and its EventSource reach the server through a TCP relay this script runs, so the
script can cut the stream from the server's side (both sockets closed, as a server restart
or a proxy timeout would). The browser reconnects on its own after the stream's `retry:`
(1 to 10 s) and sends `Last-Event-ID`. Messages are published over POST /publish before, during
and after the cut; the page must receive every one exactly once, in order, on a literal topic
and on a stream of two topics, with a `recovered: true` event after the reconnect.

When selenium or chromium is missing it prints SKIPPED and exits 0, unless BUS_REQUIRE_ALL=1
(what .ci/run sets), which makes that a failure. Prints 'browser sse: N passed, M failed' and
exits non-zero on any failure.
"""
import json
import os
import socket
import sys
import threading
import urllib.request

import browser
from tally import Tally

browser.require("browser sse test")


class Relay:
    """Forwards 127.0.0.1:<port> to the server; cut() closes every connection in flight."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.pairs = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.target)
            with self.lock:
                self.pairs.append((client, server))
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    @staticmethod
    def pump(source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
        return len(pairs)


# Each stream records what the page saw: messages (topic, seq, lastEventId), named events,
# opens and errors.
OPEN_STREAM = """
const [name, url] = arguments;
window.streams = window.streams || {};
const s = {messages: [], recovered: [], opens: 0, errors: 0};
window.streams[name] = s;
const source = new EventSource(url);
source.onopen = () => { s.opens += 1; };
source.onerror = () => { s.errors += 1; };
source.onmessage = (e) => {
  const m = JSON.parse(e.data);
  s.messages.push({topic: m.topic, seq: m.seq, data: m.data, id: e.lastEventId});
};
source.addEventListener('recovered', (e) => { s.recovered.push(JSON.parse(e.data)); });
"""


def main(base):
    host, port = base.replace("http://", "").split(":")
    relay = Relay(host, int(port))
    relayed = f"http://127.0.0.1:{relay.port}"
    root = "sse." + os.urandom(3).hex()
    tally = Tally("browser sse")
    check = tally.check

    def publish(topic, value):
        request = urllib.request.Request(f"{base}/publish/{topic}", data=json.dumps(value).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read())

    driver = browser.start()
    until = browser.waiter(driver, check, seconds=40)

    def stream(name):
        return driver.execute_script("return window.streams[arguments[0]];", name)

    try:
        # A page of the server's own origin (through the relay): the EventSource is same-origin.
        driver.get(relayed + "/healthz")
        single, pair = f"{root}.one", [f"{root}.a", f"{root}.b"]
        driver.execute_script(OPEN_STREAM, "single", f"/sse/{single}")
        driver.execute_script(OPEN_STREAM, "pair", f"/sse/{pair[0]}?topic={pair[1]}")
        until("both streams open", lambda _: stream("single")["opens"] == 1 and stream("pair")["opens"] == 1)

        sent_single, sent_pair = [], []

        def send(count):
            for _ in range(count):
                n = len(sent_single) + 1
                sent_single.append(publish(single, {"n": n})["seq"])
                topic = pair[n % 2]
                sent_pair.append((topic, publish(topic, {"n": n})["seq"]))

        send(5)
        until("live messages arrive", lambda _: len(stream("single")["messages"]) == 5 and len(stream("pair")["messages"]) == 5)

        cut = relay.cut()
        check("relay cut the streams", cut >= 2, f"{cut} connections")
        # Published while the browser is away (it waits 1 to 10 s, the stream's retry).
        send(5)
        until("browser reconnects by itself", lambda _: stream("single")["opens"] == 2 and stream("pair")["opens"] == 2)
        until("missed messages arrive", lambda _: len(stream("single")["messages"]) >= 10 and len(stream("pair")["messages"]) >= 10)
        send(2)
        until("live again", lambda _: len(stream("single")["messages"]) >= 12 and len(stream("pair")["messages"]) >= 12)

        single_seen = stream("single")
        seqs = [m["seq"] for m in single_seen["messages"]]
        check("single topic: every message once, in order", seqs == sent_single, f"{seqs} != {sent_single}")
        check("single topic: resumed with recovered true",
              [r["recovered"] for r in single_seen["recovered"]] == [True], json.dumps(single_seen["recovered"]))
        ids = [m["id"] for m in single_seen["messages"]]
        check("ids are positions", all(i.startswith("t:") and len(i) <= 256 for i in ids), repr(ids[:3]))

        pair_seen = stream("pair")
        got = [(m["topic"], m["seq"]) for m in pair_seen["messages"]]
        check("two topics: every message once", sorted(got) == sorted(sent_pair), f"{got} != {sent_pair}")
        for topic in pair:
            mine = [seq for t, seq in got if t == topic]
            check(f"two topics: {topic} in order", mine == sorted(mine), repr(mine))
        check("two topics: resumed with recovered true",
              [r["recovered"] for r in pair_seen["recovered"]] == [True], json.dumps(pair_seen["recovered"]))
    finally:
        driver.quit()
    return tally.report()


if __name__ == "__main__":
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(1 if main(sys.argv[1].rstrip("/")) else 0)
