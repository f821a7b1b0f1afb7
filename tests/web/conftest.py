"""The browser the dashboard's tests drive: Debian's Chromium, headless, through Playwright
for Python, one per test module. Skips, saying why, without Playwright or Chromium; fails
under CI=true."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import copy_store
from tests.web.browser import launch, missing, serving
from truceline.cli import app as cli


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


TOKENS = {
    "analyst": ("analyst", "ana-1", None),
    "com_fr": ("commissioner", "com-fr", "FR"),
    "com_de": ("commissioner", "com-de", "DE"),
    "party_n": ("party:N", "party-N", None),
    "party_s": ("party:S", "party-S", None),
}


@pytest.fixture(scope="module")
def served(
    stored_day: Path, tmp_path_factory: pytest.TempPathFactory, browser: Any
) -> Iterator[tuple[str, dict[str, str]]]:
    """The server's base URL and a token of each role (the public has none)."""
    db = copy_store(stored_day, tmp_path_factory.mktemp("dashboard"))
    tokens = {}
    for key, (role, name, state) in TOKENS.items():
        args = ["token", "create", "--db", str(db), "--role", role, "--name", name]
        if state:
            args += ["--member-state", state]
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, res.output
        tokens[key] = res.output.split()[-1]
    # the tests open cases whose reply windows close in seconds
    with serving(db, "--min-reply-days", "0") as base:
        yield base, tokens
