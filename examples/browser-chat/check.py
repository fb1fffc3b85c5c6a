"""Loads the browser chat example in headless Chromium against a broker of its own.

Usage: python3 examples/browser-chat/check.py BROKER_SERVER BUS_CLI   (.ci/run runs it)

Serves this directory on a free port (the page's origin), starts broker-server with that
origin allowed, opens the page, sends a line from it and one with bus-cli, and checks both
show. Prints 'example browser-chat: N passed, M failed'; exits non-zero on any failure.
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

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


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
    passed, failed = 0, 0

    def check(name, ok, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAILED: {name} {detail}")

    here = os.path.dirname(os.path.abspath(__file__))
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=here)
    static = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=static.serve_forever, daemon=True).start()
    page_port = static.server_address[1]
    broker, port = start_broker(broker_server, f"127.0.0.1:{page_port}")

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path="/usr/bin/chromedriver"), options=options)
    room = "r" + os.urandom(3).hex()
    try:
        driver.get(f"http://127.0.0.1:{page_port}/?server=http://127.0.0.1:{port}&room={room}")
        wait = WebDriverWait(driver, 20)

        def until(name, condition):
            try:
                wait.until(lambda d: condition(d))
                check(name, True)
            except TimeoutException:
                check(name, False, "(timed out)")

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
        errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        check("no error in the browser console", not errors, errors)
    finally:
        driver.quit()
        broker.terminate()
        broker.wait(timeout=20)
        static.shutdown()
    print(f"example browser-chat: {passed} passed, {failed} failed")
    return failed == 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(0 if main(sys.argv[1], sys.argv[2]) else 1)
