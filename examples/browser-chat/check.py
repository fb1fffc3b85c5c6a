"""Loads the browser chat example in headless Chromium against a broker of its own.

Usage: python3 examples/browser-chat/check.py BROKER_SERVER BUS_CLI   (.ci/run runs it)

Serves this directory on a free port (the page's origin), starts broker-server with that
origin allowed, opens the page, sends a line from it and one with bus-cli, and checks both
show. Prints 'example browser-chat: N passed, M failed'; exits non-zero on any failure.

When selenium or chromium is missing it prints SKIPPED and exits 0, unless BUS_REQUIRE_ALL=1
(what .ci/run sets), which makes that a failure (interop/browser.py).
"""
import functools
import http.server
import os
import re
import subprocess
import sys
import tempfile
import threading
import time

# interop/ holds what every browser check shares: the chromium set-up and the pass/fail tally.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "interop"))
import browser  # noqa: E402
from tally import Tally  # noqa: E402

browser.require("example browser-chat test")
from selenium.webdriver.common.by import By  # noqa: E402


def start_broker(binary, allowed_origin):
    log = tempfile.TemporaryFile()
    process = subprocess.Popen([binary, "--port", "0", "--log-level", "info", "--allowed-origin", allowed_origin],
                               stdout=subprocess.DEVNULL, stderr=log)
    for _ in range(200):
        log.seek(0)
        found = re.search(rb"msg=listening addresses=127\.0\.0\.1:(\d+)", log.read())
        if found:
            return process, int(found.group(1))
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("broker-server did not start")


def main(broker_server, bus_cli):
    tally = Tally("example browser-chat")
    check = tally.check

    here = os.path.dirname(os.path.abspath(__file__))
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=here)
    static = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=static.serve_forever, daemon=True).start()
    page_port = static.server_address[1]
    broker, port = start_broker(broker_server, f"127.0.0.1:{page_port}")

    driver = browser.start()
    room = "r" + os.urandom(3).hex()
    try:
        driver.get(f"http://127.0.0.1:{page_port}/?server=http://127.0.0.1:{port}&room={room}")
        until = browser.waiter(driver, check, seconds=20, count_pass=True)

        until("page connects (bus.js from the broker, cross-origin)",
              lambda d: d.find_element(By.ID, "state").get_attribute("data-state") == "connected")
        name = driver.find_element(By.ID, "name")
        name.clear()
        name.send_keys("ann")
        driver.find_element(By.ID, "text").send_keys("hello from the page <b>")
        driver.find_element(By.CSS_SELECTOR, "#send button").click()
        until("own line comes back", lambda d: any(
            li.text == "ann hello from the page <b>" for li in d.find_elements(By.CSS_SELECTOR, "#chat li")))
        result = subprocess.run([bus_cli, "pub", "--url", f"ws://127.0.0.1:{port}/bus", "--json", f"chat.{room}",
                                 '{"from":"bob","text":"hi ann"}'], capture_output=True, text=True, timeout=30)
        check("bus-cli pub", result.returncode == 0, result.stderr)
        until("bus-cli's line shows", lambda d: any(
            li.text == "bob hi ann" for li in d.find_elements(By.CSS_SELECTOR, "#chat li")))
        errors = browser.errors(driver)
        check("no error in the browser console", not errors, errors)
    finally:
        driver.quit()
        broker.terminate()
        broker.wait(timeout=20)
        static.shutdown()
    return tally.report() == 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(0 if main(sys.argv[1], sys.argv[2]) else 1)
