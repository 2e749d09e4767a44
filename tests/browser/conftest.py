"""One headless Chromium for the browser tests (Debian's ``chromium``; browsers are never downloaded): each
test opens its own context, which is cheap, instead of launching a browser. Package-scoped, not session-scoped:
Playwright's sync API keeps an event loop running on the main thread while it is open, and tests run after
this package call ``asyncio.run`` (the ``netsuite`` client package)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (scripts/bootstrap does) — browsers are "
                    "never downloaded")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def screenshot(page: Any, path: Path) -> None:
    """A full-page PNG of ``page``, taken through the DevTools protocol with ``optimizeForSpeed`` (the
    same pixels as Playwright's ``full_page`` screenshot, in about half the time: the encoder is the cost)."""
    import base64

    cdp = page.context.new_cdp_session(page)
    try:
        metrics = cdp.send("Page.getLayoutMetrics")
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        shot = cdp.send("Page.captureScreenshot", {
            "format": "png", "optimizeForSpeed": True, "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    finally:
        cdp.detach()
    path.write_bytes(base64.b64decode(shot["data"]))
