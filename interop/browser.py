"""Headless Debian chromium driven by Selenium, as every browser check uses it
(interop/browser_console.py, interop/browser_sse.py, examples/browser-chat/check.py).

    import browser
    browser.require("browser console test")   # before anything imports selenium
    driver = browser.start()
    until = browser.waiter(driver, tally.check, seconds=15)

The browser and its driver are named explicitly (/usr/bin/chromium, /usr/bin/chromedriver),
so Selenium Manager is never consulted: nothing is downloaded and the checks run offline.
This module imports selenium only inside its functions, so importing it never fails.
"""
import os
import sys

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def missing(test, what):
    """A missing tool: SKIPPED and exit 0, or FAILED and exit 1 under BUS_REQUIRE_ALL=1 (.ci/run)."""
    if os.environ.get("BUS_REQUIRE_ALL") == "1":
        print(f"FAILED: {what} is missing, and BUS_REQUIRE_ALL=1 makes that a failure")
        sys.exit(1)
    print(f"SKIPPED: {test}: {what} is missing (apt-get install chromium chromium-driver; pip install selenium)")
    sys.exit(0)


def require(test):
    """Goes on when python selenium, chromium and chromedriver are all there; otherwise
    `missing` names the first one absent. `test` names the check in the SKIPPED line."""
    try:
        import selenium.webdriver  # noqa: F401
    except ImportError:
        missing(test, "python selenium")
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            missing(test, path)


def start(*flags):
    """A headless chromium (plus `flags`, e.g. a window size) whose console messages and failed
    loads `errors` can read."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--no-first-run", "--disable-extensions", *flags):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def errors(driver):
    """Errors the page caused since the last call (failed loads, uncaught exceptions)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def waiter(driver, check, seconds, count_pass=False):
    """until(name, condition[, seconds]): polls condition(driver) until it is truthy and returns
    that value; on timeout it records check(name, False, "(timed out)") and returns None. With
    count_pass, a condition met is also recorded, as check(name, True)."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    default = seconds

    def until(name, condition, seconds=default):
        try:
            value = WebDriverWait(driver, seconds).until(lambda d: condition(d))
        except TimeoutException:
            check(name, False, "(timed out)")
            return None
        if count_pass:
            check(name, True)
        return value

    return until
