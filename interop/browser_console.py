"""Browser test of the console at GET /: Debian's chromium, headless, driven by Selenium.

Usage: python3 interop/browser_console.py http://127.0.0.1:PORT BUS_CLI [SCREENSHOT]
  BUS_CLI     path of the built bus-cli (publishes from outside the page); the broker-server
              next to it (or $BUS_BROKER_SERVER) runs the restart check
  SCREENSHOT  where to save a PNG of the page (default test-output/console.png; the 400 px
              wide view goes next to it as *-narrow.png)

Subscribes in the page, publishes with `bus-cli pub` (text, --json, --binary) and from the
page itself, and checks that each message shows in the page's DOM (binary as hex and
base64), that payloads are shown as text (never as markup), that a bad pattern shows the
server's error, that "published" counts acked publishes only, that the page fits 400 px and
that the browser logged no error (a missing favicon would be a 404). Then, against a
broker-server of its own on a free port: subscribes, restarts the server, and checks that the
page reconnects and shows a message published after the restart without any click. The
browser and its driver are named explicitly (/usr/bin/chromium, /usr/bin/chromedriver), so
Selenium never downloads anything and the test runs offline.

When selenium or chromium is missing it prints SKIPPED and exits 0, unless BUS_REQUIRE_ALL=1
(what .ci/run sets), which makes that a failure. Prints 'browser console: N passed, M failed'
and exits non-zero on any failure.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import browser
from tally import Tally

browser.require("browser console test")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402


class BrokerProcess:
    """A broker-server of the test's own on a free port, restartable on the same port."""

    def __init__(self, binary):
        self.binary = binary
        self.port = 0
        self.process = None

    def start(self):
        for _ in range(50):  # the port was ours a moment ago; retry if it is not free yet
            self.log = tempfile.TemporaryFile()
            self.process = subprocess.Popen([self.binary, "--port", str(self.port), "--log-level", "info"],
                                            stdout=subprocess.DEVNULL, stderr=self.log)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.process.poll() is None:
                self.log.seek(0)
                found = re.search(rb"msg=listening addresses=127\.0\.0\.1:(\d+)", self.log.read())
                if found:
                    self.port = int(found.group(1))
                    return
                time.sleep(0.05)
            self.stop()
            time.sleep(0.1)
        raise RuntimeError("broker-server did not start")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)


def restart_check(driver, broker_server, bus_cli, tally):
    """The console reconnects and resumes by itself after a server restart."""
    check = tally.check
    until = browser.waiter(driver, check, seconds=15)
    broker = BrokerProcess(broker_server)
    broker.start()
    try:
        base = f"http://127.0.0.1:{broker.port}"
        topic = "restart." + os.urandom(3).hex() + ".t"

        def state(d):
            return d.find_element(By.ID, "state").get_attribute("data-state")

        def pub(text):
            result = subprocess.run([bus_cli, "pub", "--url", base.replace("http://", "ws://") + "/bus", topic, text],
                                    capture_output=True, text=True, timeout=30)
            check(f"bus-cli pub {text}", result.returncode == 0, result.stderr.strip())

        def shown(text):
            return lambda d: any(e.text == text for e in d.find_elements(
                By.CSS_SELECTOR, f'.message[data-topic="{topic}"] .payload'))

        driver.get(base + "/")
        until("restart: page connects", lambda d: state(d) == "open")
        driver.find_element(By.ID, "sub-topic").send_keys(topic)
        driver.find_element(By.ID, "subscribe").click()
        active = f'#subscriptions li[data-pattern="{topic}"][data-state="active"]'
        until("restart: subscribe acked", lambda d: d.find_elements(By.CSS_SELECTOR, active))
        pub("before the restart")
        until("restart: message before the restart shows", shown("before the restart"))

        broker.stop()
        until("restart: page sees the server go", lambda d: state(d) in ("reconnecting", "connecting"))
        broker.start()
        # No click from here on: bus.js reconnects (full jitter over 3 s, doubling) and resumes.
        until("restart: page reconnects by itself", lambda d: state(d) == "open", seconds=60)
        until("restart: subscription active again", lambda d: d.find_elements(By.CSS_SELECTOR, active))
        pub("after the restart")
        until("restart: message after the restart shows without a click", shown("after the restart"))
        until("restart: the new epoch is reported as a gap", lambda d: any(
            "gap on " + topic in e.text for e in d.find_elements(By.CSS_SELECTOR, "#log li.gap")))
    finally:
        broker.stop()


def main(base, bus_cli, screenshot):
    # A fresh topic prefix per run, so sequence numbers start at 1 even on a reused server.
    root = "console." + os.urandom(3).hex()
    ws_url = base.replace("http://", "ws://") + "/bus"
    tally = Tally("browser console")
    check = tally.check

    def pub(*args):
        result = subprocess.run([bus_cli, "pub", "--url", ws_url, *args], capture_output=True, text=True, timeout=30)
        check(f"bus-cli pub {' '.join(args)}", result.returncode == 0, result.stderr.strip())

    driver = browser.start("--window-size=1280,900")
    until = browser.waiter(driver, check, seconds=15)

    def message(topic):
        """The payload element(s) of the newest message on `topic`, once it shows."""
        def find(d):
            found = d.find_elements(By.CSS_SELECTOR, f'#messages .message[data-topic="{topic}"]')
            return found[0] if found else False
        return until(f"message on {topic} shows", find)

    try:
        driver.get(base + "/")
        check("title", driver.title == "bus console", driver.title)
        until("page connects", lambda d: d.find_element(By.ID, "state").get_attribute("data-state") == "open")
        until("stats from /healthz", lambda d: d.find_element(By.ID, "stat-loops").text not in ("", "?"))
        until("welcome read", lambda d: d.find_element(By.ID, "stat-max-message").text.isdigit())

        # Subscribe in the page; the ack marks the subscription active.
        driver.find_element(By.ID, "sub-topic").send_keys(root + ".>")
        driver.find_element(By.ID, "subscribe").click()
        until("subscribe acked", lambda d: d.find_elements(
            By.CSS_SELECTOR, f'#subscriptions li[data-pattern="{root}.>"][data-state="active"]'))

        text = "hello from bus-cli, κόσμε"
        pub(root + ".text", text)
        element = message(root + ".text")
        if element:
            check("text kind", element.get_attribute("data-kind") == "text")
            payload = element.find_element(By.CLASS_NAME, "payload").text
            check("text payload", payload == text, repr(payload))
            check("text seq", element.get_attribute("data-seq") == "1", element.get_attribute("data-seq"))

        value = {"n": 1, "s": "κόσμε", "list": [True, None, 2.5]}
        pub("--json", root + ".json", json.dumps(value, ensure_ascii=False))
        element = message(root + ".json")
        if element:
            check("json kind", element.get_attribute("data-kind") == "json")
            payload = element.find_element(By.CLASS_NAME, "payload").text
            check("json payload", json.loads(payload) == value, repr(payload))

        blob = bytes([0x00, 0xFF, 0x10, 0x80, 0x7F, 0x0A])
        with tempfile.NamedTemporaryFile(delete=False) as f:
            f.write(blob)
        try:
            pub(root + ".bin", "--binary", f.name)
        finally:
            os.unlink(f.name)
        element = message(root + ".bin")
        if element:
            check("binary kind", element.get_attribute("data-kind") == "binary")
            hex_text = element.find_element(By.CLASS_NAME, "hex").text
            b64_text = element.find_element(By.CLASS_NAME, "base64").text
            check("binary hex", hex_text == "hex 00 ff 10 80 7f 0a", repr(hex_text))
            check("binary base64", b64_text == "base64 AP8QgH8K", repr(b64_text))

        # permessage-deflate (issue 17): Chromium offers it on every WebSocket, the console's
        # included. A socket of the page's own negotiates it and a 60 KB JSON text comes back
        # through /echo intact (compressed both ways).
        result = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            const ws = new WebSocket(arguments[0]);
            const text = JSON.stringify(Array.from({length: 1000}, (_, i) => ({i, user: 'u' + (i % 7), text: 'κόσμε line ' + i})));
            ws.onopen = () => ws.send(text);
            ws.onmessage = (event) => { done({extensions: ws.extensions, intact: event.data === text, size: text.length}); ws.close(); };
            ws.onerror = () => done({extensions: ws.extensions, intact: false, size: 0});
        """, base.replace("http://", "ws://") + "/echo")
        check("chromium negotiates permessage-deflate", (result or {}).get("extensions", "").startswith("permessage-deflate"), result)
        check("chromium: compressed echo intact", (result or {}).get("intact") is True, result)

        # A payload that looks like markup is shown as text, never parsed.
        markup = '<img src=x onerror="document.title=\'owned\'">'
        pub(root + ".markup", markup)
        element = message(root + ".markup")
        if element:
            check("markup shown as text", element.find_element(By.CLASS_NAME, "payload").text == markup)
            check("markup not parsed", not driver.find_elements(By.CSS_SELECTOR, "#messages img"))
            check("no script ran", driver.title == "bus console")

        # Publish from the page: text, then binary typed as hex; both come back to it.
        driver.find_element(By.ID, "pub-topic").send_keys(root + ".page")
        driver.find_element(By.ID, "pub-payload").send_keys("typed in the page")
        driver.find_element(By.ID, "publish").click()
        until("page text publish arrives", lambda d: any(
            e.text == "typed in the page"
            for e in d.find_elements(By.CSS_SELECTOR, f'.message[data-topic="{root}.page"] .payload')))
        Select(driver.find_element(By.ID, "pub-kind")).select_by_value("binary")
        box = driver.find_element(By.ID, "pub-payload")
        box.clear()
        box.send_keys("ca fe 00")
        driver.find_element(By.ID, "publish").click()
        until("page binary publish arrives", lambda d: any(
            e.text == "hex ca fe 00"
            for e in d.find_elements(By.CSS_SELECTOR, f'.message[data-topic="{root}.page"] .hex')))

        # A bad pattern gets the server's error envelope in the event log.
        box = driver.find_element(By.ID, "sub-topic")
        box.clear()
        box.send_keys(root + "..bad")
        driver.find_element(By.ID, "subscribe").click()
        until("invalid pattern shows an error", lambda d: any(
            "invalid_topic" in e.text for e in d.find_elements(By.CSS_SELECTOR, "#log li.error")))

        received = driver.find_element(By.ID, "stat-received").text
        check("received counter", received == "6", repr(received))

        # "published" counts acked publishes: the two above, not one the server refuses.
        until("published counter after two acks", lambda d: d.find_element(By.ID, "stat-published").text == "2")
        Select(driver.find_element(By.ID, "pub-kind")).select_by_value("text")
        box = driver.find_element(By.ID, "pub-topic")
        box.clear()
        box.send_keys(root + ".*")
        driver.find_element(By.ID, "publish").click()
        until("refused publish shows its error", lambda d: any(
            "publish failed: invalid_topic" in e.text for e in d.find_elements(By.CSS_SELECTOR, "#log li.error")))
        published = driver.find_element(By.ID, "stat-published").text
        check("a refused publish is not counted", published == "2", repr(published))

        logged = browser.errors(driver)  # reading the log empties it: once
        check("no error in the browser console (favicon, scripts)", not logged, logged)

        os.makedirs(os.path.dirname(screenshot) or ".", exist_ok=True)
        check("screenshot", driver.save_screenshot(screenshot))
        print(f"screenshot: {screenshot}")

        # 400 px wide (a phone): one column, nothing wider than the screen.
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 400, "height": 900, "deviceScaleFactor": 1, "mobile": True})
        width = driver.execute_script("return document.documentElement.scrollWidth")
        check("fits 400 px without scrolling sideways", width <= 400, width)
        narrow = re.sub(r"(\.png)?$", "-narrow.png", screenshot, count=1)
        check("narrow screenshot", driver.save_screenshot(narrow))
        print(f"screenshot: {narrow}")
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})

        broker_server = os.environ.get("BUS_BROKER_SERVER") or os.path.join(os.path.dirname(bus_cli), "broker-server")
        if os.access(broker_server, os.X_OK):
            restart_check(driver, broker_server, bus_cli, tally)
        else:
            check(f"broker-server for the restart check at {broker_server}", False)
        # While the server was down, connection attempts failed (expected); nothing else may.
        unexpected = [e for e in browser.errors(driver)
                      if "ERR_CONNECTION_REFUSED" not in e and "WebSocket connection to" not in e]
        check("no error in the browser console across the restart", not unexpected, unexpected)
    finally:
        driver.quit()
    return tally.report()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    shot = sys.argv[3] if len(sys.argv) > 3 else "test-output/console.png"
    sys.exit(1 if main(sys.argv[1].rstrip("/"), sys.argv[2], shot) else 0)
