"""Exploring the incidents in Chromium as an analyst and a journalist do (issue 20, item 4):
filters of several choices, dates typed in UTC, the view in a shareable address, search by
id, the export of exactly what is shown (with the caller's disclosure rules), and the
charts by sector and by hour. Each count is checked against the API, not the page."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.web.browser import all_incidents, choose, open_dashboard, wait_until
from truceline._time import parse_time


def _shown(page: Any) -> int:
    return int(page.get_attribute("#count", "data-shown"))


def _listed(page: Any) -> list[str]:
    return page.eval_on_selector_all("#incident-list button", "bs => bs.map(b => b.dataset.id)")


def test_several_choices_dates_and_the_address_give_what_the_api_gives(
    browser: Any, served: Any
) -> None:
    base, tokens = served
    page = open_dashboard(browser, base, tokens["analyst"])
    everything = all_incidents(base, tokens["analyst"])
    # two clauses: an incident that breaches either is shown (the API filters one at a time)
    c1 = {f["properties"]["id"] for f in all_incidents(base, tokens["analyst"], clause="C1")}
    c2 = {f["properties"]["id"] for f in all_incidents(base, tokens["analyst"], clause="C2")}
    assert c1 and c2 and c1 != c2
    choose(page, "#f-clause", "C1", "C2")
    assert _shown(page) == len(c1 | c2)
    assert page.text_content("#f-clause summary") == "Clause: C1, C2"
    # the clause's whole text is on the page, not cut as in a drop-down
    text = page.text_content("#f-clause .choices") or ""
    assert "C1 — " in text and len(text) > 60
    # both parties: every attributed incident of those clauses
    choose(page, "#f-party", "N", "S")
    attributed = {f["properties"]["id"] for f in everything if f["properties"]["attributed_to"]}
    assert _shown(page) == len((c1 | c2) & attributed)
    # a time range typed to the minute, in UTC
    times = sorted(parse_time(f["properties"]["time_start"]) for f in everything)
    mid = datetime.fromtimestamp(times[len(times) // 2] / 1e6, UTC)
    seq = page.evaluate("window.truceline.filterSeq")
    page.fill("#f-from-date", mid.strftime("%Y-%m-%dT%H:%M"))
    page.dispatch_event("#f-from-date", "change")
    wait_until(page, f"window.truceline.filterSeq > {seq}")
    start_us = int(mid.replace(second=0, microsecond=0).timestamp()) * 10**6
    want = [
        f["properties"]["id"]
        for f in everything
        if f["properties"]["id"] in (c1 | c2) & attributed
        and parse_time(f["properties"]["time_start"]) >= start_us
    ]
    assert 0 < _shown(page) == len(want)
    assert _listed(page) == want[:200]
    # the address holds the view: opened elsewhere (a journalist's link), it shows the same
    first = want[0]
    page.click(f"#incident-list button[data-id='{first}']")
    page.wait_for_selector("#dossier:not([hidden]) #dossier-title")
    wait_until(page, f"location.hash.includes('incident={first}')")
    link = page.evaluate("location.hash")
    assert "clause=C1,C2" in link and "party=N,S" in link and "from=" in link
    other = open_dashboard(browser, base, tokens["analyst"], query=link)
    wait_until(other, "!document.getElementById('dossier').hidden")
    assert _shown(other) == len(want) and _listed(other) == want[:200]
    assert other.text_content("#f-clause summary") == "Clause: C1, C2"
    assert first in (other.text_content("#dossier-body") or "")
    assert other.errors == [] and other.outside == []
    other.context.close()
    # clear: everything again, and the address says nothing
    page.keyboard.press("Escape")
    page.click("#f-reset")
    wait_until(page, f"document.getElementById('count').dataset.shown == '{len(everything)}'")
    wait_until(page, "!location.hash.includes('clause')")
    page.context.close()


def test_search_export_and_charts(browser: Any, served: Any) -> None:
    base, tokens = served
    page = open_dashboard(browser, base, tokens["analyst"])
    everything = all_incidents(base, tokens["analyst"])
    # search by a part of an id
    target = everything[len(everything) // 3]["properties"]["id"]
    seq = page.evaluate("window.truceline.filterSeq")
    page.fill("#f-search", target[-10:])
    wait_until(page, f"window.truceline.filterSeq > {seq}")
    assert target in _listed(page) and _shown(page) == sum(
        target[-10:].lower() in f["properties"]["id"].lower() for f in everything
    )
    seq = page.evaluate("window.truceline.filterSeq")
    page.fill("#f-search", "")
    wait_until(page, f"window.truceline.filterSeq > {seq}")
    # the charts count what is shown: by sector of the line, and by hour (UTC)
    choose(page, "#f-party", "S")
    of_s = [f["properties"] for f in everything if f["properties"]["attributed_to"] == "S"]
    hours = [int(x) for x in page.get_attribute("#charts", "data-hours").split(",")]
    assert hours == [
        sum(datetime.fromtimestamp(parse_time(p["time_start"]) / 1e6, UTC).hour == h for p in of_s)
        for h in range(24)
    ]
    sectors = [int(x) for x in page.get_attribute("#charts", "data-sectors").split(",")]
    assert sum(sectors) == sum(p["sector"] >= 0 for p in page_props(page)) == len(of_s)
    # a bar, clicked, filters by its sector
    busiest = max(range(len(sectors)), key=sectors.__getitem__)
    chart = page.locator("#chart-sector")
    width = chart.bounding_box()["width"]
    seq = page.evaluate("window.truceline.filterSeq")
    chart.click(position={"x": (busiest + 0.5) * width / len(sectors), "y": 30})
    wait_until(page, f"window.truceline.filterSeq > {seq}")
    assert _shown(page) == sectors[busiest]
    assert page.get_attribute("#f-sector", "data-chosen") == str(busiest)
    # the export: exactly the incidents shown, with every field the API gives this role
    with page.expect_download() as got:
        page.click("#export-geojson")
    doc = json.loads(Path(got.value.path()).read_text(encoding="utf-8"))
    shown = [f["properties"]["id"] for f in doc["features"]]
    assert shown == _listed(page) and len(shown) == sectors[busiest]
    full = {f["properties"]["id"]: f for f in everything}
    for f in doc["features"]:
        assert f["properties"].pop("place")["mgrs"]
        assert f == full[f["properties"]["id"]]
    assert "Exported" in (page.text_content("#announce") or "")
    with page.expect_download() as got:
        page.click("#export-csv")
    rows = Path(got.value.path()).read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + len(shown) and got.value.suggested_filename.endswith(".csv")
    assert page.errors == [] and page.outside == []
    page.context.close()


def page_props(page: Any) -> list[dict[str, Any]]:
    """The properties of the incidents the page shows."""
    return page.evaluate(
        "window.truceline.state.features.filter((_, i) => window.truceline.filters.mask[i])"
        ".map(f => f.properties)"
    )


def test_the_public_exports_what_it_is_shown(browser: Any, served: Any) -> None:
    """Nothing is published on the stored day: the public's export says there is nothing
    to export (it never asks the server for what the page does not show)."""
    base, _ = served
    page = open_dashboard(browser, base, None)
    page.click("#export-csv")
    wait_until(page, "document.getElementById('announce').classList.contains('error')")
    assert "nothing to export" in (page.text_content("#announce") or "")
    assert page.evaluate("window.truceline.state.features.length") == 0
    page.context.close()


def test_the_density_view_counts_what_is_shown_and_gives_way_to_dots(
    browser: Any, served: Any
) -> None:
    base, tokens = served
    page = open_dashboard(browser, base, tokens["analyst"])
    choose(page, "#f-party", "N")
    page.check("#density")
    wait_until(page, "window.truceline.density.layer.counts.length > 0")
    in_view = page.evaluate(
        """() => { const t = window.truceline, m = t.map.map, b = m.getBounds();
        return t.state.features.filter((f, i) => t.filters.mask[i]
            && b.contains([t.map.lat[i], t.map.lon[i]])).length; }"""
    )
    cells = page.evaluate("window.truceline.density.layer.counts")
    assert in_view > 20 and sum(c["n"] for c in cells) == in_view
    assert len(cells) < in_view  # dots that overlapped are counted together
    assert not page.evaluate("window.truceline.map.map.hasLayer(window.truceline.map.points)")
    assert "density=1" in page.evaluate("location.hash")
    # another filter recounts
    choose(page, "#f-party", "S")
    wait_until(
        page,
        "window.truceline.density.layer.counts.reduce((a, c) => a + c.n, 0) > 0",
    )
    # zoomed in, the dots come back
    page.evaluate("() => { window.truceline.map.map.setZoom(12, {animate: false}); }")
    wait_until(page, "window.truceline.map.map.hasLayer(window.truceline.map.points)")
    assert page.errors == []
    page.context.close()
