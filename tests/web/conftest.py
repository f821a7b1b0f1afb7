"""The browser the dashboard's tests drive: Debian's Chromium, headless, through Playwright
for Python, one per test module. Skips, saying why, without Playwright or Chromium; fails
under CI=true."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from tests.web.browser import launch, missing


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = launch(p)
        yield b
        b.close()
