"""What the browser tests share: Debian's Chromium (never a browser a test tool downloads: that fails
on these machines) and how it is launched headless."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def sync_api_or_skip():
    """playwright's sync API; the calling test module is skipped, saying what to install, without Chromium
    or playwright. Call it at module level."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); the browser test needs it",
                    allow_module_level=True)
    return pytest.importorskip("playwright.sync_api", reason="playwright (the dev extra) is not installed")


@contextlib.contextmanager
def chromium(sync_api):
    """A headless Chromium, closed however the block ends."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
