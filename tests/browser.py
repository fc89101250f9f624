"""A real browser for tests: headless Chromium (Debian package ``chromium``) driven by Playwright.

Playwright only drives it: the browser is the system's, passed as ``executable_path``, so nothing
is downloaded (``playwright install`` is never run; the machines have no network for it). A test
that needs the browser FAILS in CI when Chromium or Playwright is missing, and skips elsewhere.
"""

from __future__ import annotations

import contextlib
import importlib.util
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support import require, unavailable

if TYPE_CHECKING:
    from playwright.async_api import Page

# We run as root (no sandbox is possible) on machines without a GPU or network: no sandbox, no
# GPU, and nothing that phones home (updates, sync, first-run pages) to slow a test down.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def require_browser() -> str:
    """Chromium's path, once Chromium and Playwright are both known to be installed: call it
    before the slow part of a test, and before importing from ``playwright``."""
    executable = require(find_chromium(), "Chromium (Debian package chromium)")
    if importlib.util.find_spec("playwright") is None:
        unavailable("Playwright for Python is not installed (pip install -e '.[test]')")
    return executable


@contextlib.asynccontextmanager
async def chromium_page(*, screenshot_on_failure: Path) -> AsyncIterator[Page]:
    """A page in a fresh headless Chromium. If the block fails, the page as it was is saved to
    ``screenshot_on_failure`` and the error says where: what the browser showed is the first
    thing to look at when a UI assertion fails."""
    executable = require_browser()
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            # Wide enough for the Web UI's full desktop layout (all tabs, the list's columns).
            page = await browser.new_page(viewport={"width": 1600, "height": 1200})
            try:
                yield page
            except BaseException as err:
                with contextlib.suppress(Exception):
                    await page.screenshot(path=str(screenshot_on_failure), full_page=True)
                    err.add_note(f"the page at {page.url} is in {screenshot_on_failure}")
                raise
        finally:
            await browser.close()
