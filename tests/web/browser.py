"""Driving the dashboard: Debian's Chromium through Playwright for Python, against a real
`truceline serve` on 127.0.0.1. Shared by tests/test_dashboard.py, docs/screenshots.py and
benchmarks/dashboard.py.

Playwright never downloads a browser here: it drives ``/usr/bin/chromium`` (Debian's
``chromium`` package) headless, with the flags that keep it off the network.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

CHROMIUM = os.environ.get("TRUCELINE_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO = Path(__file__).resolve().parents[2]


def missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium is not at {CHROMIUM} (Debian: apt-get install chromium)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(db: Path, *options: str, port: int | None = None) -> Iterator[str]:
    """`truceline serve --db DB` on 127.0.0.1 (a free port) until the block ends; yields its
    base URL. Rate limits are raised: the page and the test share one client address."""
    port = port or free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    errors = tempfile.TemporaryFile()  # noqa: SIM115 (the server's standard error; closed below)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "truceline",
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            "--rate-per-s",
            "100000",
            "--burst",
            "100000",
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=errors,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                errors.seek(0)
                raise RuntimeError(f"truceline serve did not start: {errors.read().decode()}")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        errors.close()


def launch(playwright: Any) -> Any:
    """Headless Debian Chromium, kept off the network."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)


def open_dashboard(
    browser: Any,
    base: str,
    token: str | None = None,
    *,
    query: str = "",
    viewport: tuple[int, int] = (1400, 900),
    timeout_ms: int = 120_000,
) -> Any:
    """A new page (its own context, so its own sessionStorage) with ``token`` set as the
    dashboard's bearer token (None: the public view), loaded until the incidents are drawn.
    ``page.outside`` collects every request that left 127.0.0.1 (there must be none)."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]})
    if token:
        context.add_init_script(f"sessionStorage.setItem('truceline.token', {token!r});")
    page = context.new_page()
    page.outside = []
    page.errors = []
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith(base) or r.url.startswith("data:")
            else page.outside.append(r.url)
        ),
    )
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    # what the page's Content-Security-Policy refused (an attempt to reach elsewhere)
    page.on(
        "console",
        lambda m: page.errors.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.goto(f"{base}/{query}")
    page.wait_for_selector(
        "body[data-ready='1'], #announce.error:not(:empty)", timeout=timeout_ms, state="attached"
    )
    if page.get_attribute("body", "data-ready") != "1":
        raise AssertionError(f"{page.text_content('#announce')} {page.errors}")
    return page


def wait_until(page: Any, expression: str, timeout_ms: float = 120_000) -> None:
    """Poll a JavaScript expression until it is true. (Playwright's ``wait_for_function``
    evaluates strings with ``eval``, which the dashboard's Content-Security-Policy forbids;
    ``page.evaluate`` of a function is not affected.)"""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"still false after {timeout_ms:.0f} ms: {expression}")
        time.sleep(0.01)


def choose(page: Any, selector: str, *values: str) -> None:
    """Choose exactly ``values`` in one of the page's filters of several choices (none: any),
    as a person does: open it, untick what is ticked, tick each value; then wait until the
    page has filtered."""
    seq = page.evaluate("window.truceline.filterSeq")
    root = page.locator(selector)
    if not root.evaluate("e => e.open"):
        root.locator("summary").click()
    acted = False
    for box in root.locator("input:checked").all():
        if box.get_attribute("value") not in values:
            box.uncheck()
            acted = True
    for value in values:
        box = root.locator(f"input[value='{value}']")
        if not box.is_checked():
            box.check()
            acted = True
    if acted:
        wait_until(page, f"window.truceline.filterSeq > {seq}")


def api(base: str, token: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, f"{base}{path}", headers=headers, timeout=60, **kw)


def all_incidents(base: str, token: str | None, **params: Any) -> list[dict[str, Any]]:
    """Every incident the caller may see, page by page."""
    out: list[dict[str, Any]] = []
    cursor = None
    while True:
        q = {"limit": 1000, **params}
        if cursor:
            q["cursor"] = cursor
        page = api(base, token, "GET", "/v1/incidents", params=q).json()
        out += page["features"]
        cursor = page["next"]
        if not cursor:
            return out
