"""Opens a written report in headless Chromium (Debian's `chromium` through its
`chromium-driver`, driven by selenium; no browser is downloaded) and reports what a
reader would get: the console's errors, images that failed to load, the page's text,
where the diagram sits, and a screenshot. The README's screenshot and the end-to-end
test both come from here."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = ("chromium", "chromium-browser")
DRIVER = "chromedriver"


class BrowserError(Exception):
    """Chromium or its driver is missing or failed: a one-line message."""


@dataclass
class PageView:
    console_errors: list[str]
    broken_assets: list[str]
    text: str
    diagram_box: tuple[int, int, int, int]
    """(left, top, right, bottom) of the diagram in the screenshot, in pixels."""
    screenshot: bytes
    """PNG of the window."""


def _executables() -> tuple[str, str]:
    browser = next((p for p in map(shutil.which, CHROMIUM) if p), None)
    driver = shutil.which(DRIVER) or ("/usr/bin/chromedriver" if Path("/usr/bin/chromedriver").exists() else None)
    if not browser or not driver:
        raise BrowserError("headless Chromium needs Debian's chromium and chromium-driver "
                           "(scripts/test-services.sh installs them)")
    return browser, driver


def open_page(index: Path, width: int = 1400, height: int = 1800) -> PageView:
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    from selenium.webdriver.chrome.service import Service

    browser, driver_path = _executables()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 f"--window-size={width},{height}", "--hide-scrollbars", "--force-device-scale-factor=1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingOptions", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    except WebDriverException as exc:
        raise BrowserError(f"cannot start headless Chromium: {exc.msg or exc}".splitlines()[0]) from None
    try:
        driver.get(Path(index).resolve().as_uri())
        broken = driver.execute_script(
            "return Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)"
            ".map(i => i.getAttribute('src'))")
        box = driver.execute_script(
            "const r = document.getElementById('diagram').getBoundingClientRect();"
            "return [r.left, r.top, r.right, r.bottom].map(Math.round)")
        text = driver.find_element("tag name", "body").text
        screenshot = driver.get_screenshot_as_png()
        errors = [f"{e.get('level')}: {e.get('message')}" for e in driver.get_log("browser")
                  if e.get("level") in ("SEVERE", "ERROR")]
    finally:
        driver.quit()
    return PageView(errors, list(broken), text, tuple(box), screenshot)


def screenshot(index: Path, target: Path, width: int = 1400, height: int = 1800) -> PageView:
    """Save the page's screenshot as PNG at `target`; BrowserError if the page has errors or missing assets."""
    view = open_page(index, width, height)
    if view.console_errors or view.broken_assets:
        raise BrowserError(f"{index}: {(view.console_errors + [f'missing {a}' for a in view.broken_assets])[0]}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(view.screenshot)
    except OSError as exc:
        raise BrowserError(f"--screenshot {target}: cannot write there ({exc.strerror or exc})") from None
    return view
