"""The dashboard's screenshots in docs/img/dashboard-*.png, taken from a real `truceline serve`
over the standard simulated day (the test suite's scenario: seed 7, 8 hours) in headless
Debian Chromium:

    python docs/screenshots.py [--out docs/img]

Before the pictures it does what the commission's users would: an analyst publishes a few
incidents and opens cases; a party replies; commissioners of two member states sign one
ruling (and a third dissents); one commissioner signs a draft of another.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.web.browser import (
    all_incidents,
    api,
    choose,
    launch,
    missing,
    open_dashboard,
    serving,
    wait_until,
)
from truceline.simulate import simulate
from truceline.store import open_store

TOKENS = {
    "analyst": ("analyst", "ana-1", None),
    "com_fr": ("commissioner", "com-fr", "FR"),
    "com_de": ("commissioner", "com-de", "DE"),
    "com_it": ("commissioner", "com-it", "IT"),
    "party_s": ("party:S", "party-S", None),
}


def build(folder: Path) -> tuple[Path, dict[str, str]]:
    """The standard day, ingested and analysed, with a token per role."""
    from typer.testing import CliRunner

    from truceline.cli import app

    scenario = folder / "scenario"
    simulate(scenario, seed=7, hours=8)
    db = folder / "t.db"
    runner = CliRunner()
    analyse = ["analyze", "--db", str(db), "--agreement", str(scenario / "agreement.yaml")]
    for args in (
        ["ingest", "--db", str(db), str(scenario / "observations.jsonl")],
        [*analyse, "--out", str(folder / "out")],
    ):
        res = runner.invoke(app, args)
        assert res.exit_code == 0, res.output
    tokens = {}
    with open_store(db, None, None) as store:
        for key, (role, name, state) in TOKENS.items():
            tokens[key] = store.create_token(role, name, state)
    return db, tokens


def prepare(base: str, t: dict[str, str]) -> dict[str, Any]:
    """Reviews and cases, through the API as each role would."""
    fires_s = [
        f["properties"]
        for f in all_incidents(base, t["analyst"], party="S", kind="fire")
        if not f["properties"].get("alleged_by")
    ]
    fires_n = [
        f["properties"]
        for f in all_incidents(base, t["analyst"], party="N", kind="fire")
        if not f["properties"].get("alleged_by")
    ]
    for p in fires_s[:6] + fires_n[:6]:
        body = {"status": "verified", "published": True}
        api(base, t["analyst"], "PATCH", f"/v1/incidents/{p['id']}", json=body).raise_for_status()

    def case(p: dict[str, Any], accused: str, days: float, summary: str) -> int:
        body = {"incident": p["id"], "accused": accused, "reply_days": days, "summary": summary}
        res = api(base, t["analyst"], "POST", "/v1/cases", json=body)
        res.raise_for_status()
        return int(res.json()["id"])

    ruled = case(fires_s[1], "S", 1 / 86_400, "Artillery fire across the line.")
    draft = case(fires_n[2], "N", 1 / 86_400, "Mortar fire reported by a patrol.")
    waiting = case(fires_s[3], "S", 7, "Fire on a disengagement area.")
    replied = case(fires_s[0], "S", 7, "Shelling of a village.")
    api(
        base,
        t["party_s"],
        "POST",
        f"/v1/cases/{replied}/replies",
        json={"text": "The Southern Party's units were not in that sector on that day."},
    ).raise_for_status()
    time.sleep(1.5)  # the two short reply windows close
    rule = {"decision": "violation", "responsible": "S", "clause": "C1", "remedy": "Cease fire."}
    for who in ("com_fr", "com_de"):
        api(base, t[who], "POST", f"/v1/cases/{ruled}/rulings", json=rule).raise_for_status()
    dissent = {**rule, "position": "dissent", "reason": "The origin is too close to the line."}
    api(base, t["com_it"], "POST", f"/v1/cases/{ruled}/rulings", json=dissent).raise_for_status()
    no = {"decision": "no_violation", "responsible": None, "clause": "C1", "remedy": ""}
    api(base, t["com_fr"], "POST", f"/v1/cases/{draft}/rulings", json=no).raise_for_status()
    return {"dossier": fires_s[0]["id"], "waiting": waiting, "replied": replied}


def shoot(browser: Any, base: str, t: dict[str, str], ids: dict[str, Any], out: Path) -> None:
    def settle(page: Any) -> None:
        page.wait_for_timeout(400)

    page = open_dashboard(browser, base, t["analyst"])
    settle(page)
    page.screenshot(path=str(out / "dashboard-map.png"))
    # the timeline and filters: S's fire that broke C2 (artillery near the line), zoomed in
    for selector, value in (("#f-party", "S"), ("#f-clause", "C2")):
        choose(page, selector, value)
    page.fill("#f-from", "250")
    page.dispatch_event("#f-from", "input")
    first = page.evaluate(
        "(() => { const s = window.truceline; const i = s.filters.mask.indexOf(1);"
        " return s.state.features[i].properties; })()"
    )
    settle(page)
    page.screenshot(path=str(out / "dashboard-timeline.png"))
    # zoomed in: the impact's uncertainty ellipse, and the line back to its origin
    lon, lat = first["impact"] or first["origin"]
    page.evaluate(f"void window.truceline.map.map.setView([{lat}, {lon}], 18)")
    settle(page)
    page.screenshot(path=str(out / "dashboard-ellipses.png"))
    page.context.close()

    page = open_dashboard(browser, base, t["analyst"])
    button = page.locator(f"#incident-list button[data-id='{ids['dossier']}']")
    button.focus()
    page.keyboard.press("Enter")
    wait_until(
        page,
        "document.querySelectorAll('.proof.ok').length > 0 &&"
        " !document.querySelector('.proof.pending')",
    )
    settle(page)
    page.screenshot(path=str(out / "dashboard-dossier.png"))
    page.evaluate("document.querySelector('table.evidence').scrollIntoView()")
    settle(page)
    page.screenshot(path=str(out / "dashboard-dossier-evidence.png"))
    page.context.close()

    page = open_dashboard(browser, base, t["com_de"], viewport=(1400, 1700))
    page.click("#tab-cases")
    page.wait_for_selector("#case-summary")
    settle(page)
    page.screenshot(path=str(out / "dashboard-queue.png"), full_page=True)
    page.context.close()

    page = open_dashboard(browser, base, t["party_s"], viewport=(1400, 1100))
    page.click("#tab-cases")
    page.wait_for_selector("#case-summary")
    settle(page)
    page.screenshot(path=str(out / "dashboard-party.png"), full_page=True)
    page.context.close()

    page = open_dashboard(browser, base, None)
    settle(page)
    page.locator("#incident-list button").first.click()
    page.wait_for_selector("#dossier:not([hidden]) #dossier-cases")
    settle(page)
    page.screenshot(path=str(out / "dashboard-public.png"))
    page.keyboard.press("Escape")
    page.click("#tab-cases")
    page.wait_for_selector("#case-summary")
    settle(page)
    page.screenshot(path=str(out / "dashboard-public-queue.png"), full_page=True)
    page.context.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "img")
    args = ap.parse_args()
    reason = missing()
    if reason:
        raise SystemExit(reason)
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db, tokens = build(Path(tmp))
        with serving(db) as base, sync_playwright() as p:
            ids = prepare(base, tokens)
            browser = launch(p)
            shoot(browser, base, tokens, ids, args.out)
            browser.close()
    print(f"wrote {', '.join(sorted(x.name for x in args.out.glob('dashboard-*.png')))}")


if __name__ == "__main__":
    main()
