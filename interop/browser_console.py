"""Browser test of the console at GET /: Debian's chromium, headless, driven by Selenium.

Usage: python3 interop/browser_console.py http://127.0.0.1:PORT BUS_CLI [SCREENSHOT]
  BUS_CLI     path of the built bus-cli (publishes from outside the page)
  SCREENSHOT  where to save a PNG of the page (default test-output/console.png)

Subscribes in the page, publishes with `bus-cli pub` (text, --json, --binary) and from the
page itself, and checks that each message shows in the page's DOM (binary as hex and
base64), that payloads are shown as text (never as markup) and that a bad pattern shows the
server's error. The browser and its driver are named explicitly (/usr/bin/chromium,
/usr/bin/chromedriver), so Selenium never downloads anything and the test runs offline.

When selenium or chromium is missing it prints SKIPPED and exits 0, unless BUS_REQUIRE_ALL=1
(what .ci/run sets), which makes that a failure. Prints 'browser console: N passed, M failed'
and exits non-zero on any failure.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

from tally import Tally

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def missing(what):
    if os.environ.get("BUS_REQUIRE_ALL") == "1":
        print(f"FAILED: {what} is missing, and BUS_REQUIRE_ALL=1 makes that a failure")
        sys.exit(1)
    print(f"SKIPPED: browser console test: {what} is missing (apt-get install chromium chromium-driver; pip install selenium)")
    sys.exit(0)


try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
except ImportError:
    missing("python selenium")
for path in (CHROMIUM, CHROMEDRIVER):
    if not os.access(path, os.X_OK):
        missing(path)


def start_browser():
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,900", "--no-first-run", "--disable-extensions"):
        options.add_argument(flag)
    # An explicit driver path: Selenium Manager is never consulted, nothing is downloaded.
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def main(base, bus_cli, screenshot):
    # A fresh topic prefix per run, so sequence numbers start at 1 even on a reused server.
    root = "console." + os.urandom(3).hex()
    ws_url = base.replace("http://", "ws://") + "/bus"
    tally = Tally("browser console")
    check = tally.check

    def pub(*args):
        result = subprocess.run([bus_cli, "pub", "--url", ws_url, *args], capture_output=True, text=True, timeout=30)
        check(f"bus-cli pub {' '.join(args)}", result.returncode == 0, result.stderr.strip())

    driver = start_browser()
    wait = WebDriverWait(driver, 15)

    def until(name, condition):
        try:
            return wait.until(lambda d: condition(d))
        except TimeoutException:
            check(name, False, "(timed out)")
            return None

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

        os.makedirs(os.path.dirname(screenshot) or ".", exist_ok=True)
        check("screenshot", driver.save_screenshot(screenshot))
        print(f"screenshot: {screenshot}")
    finally:
        driver.quit()
    return tally.report()


if __name__ == "__main__":
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    shot = sys.argv[3] if len(sys.argv) > 3 else "test-output/console.png"
    sys.exit(1 if main(sys.argv[1].rstrip("/"), sys.argv[2], shot) else 0)
