"""Tracked flights on the dashboard, in Chromium: an analyst finds a drone's flight, reads
what it was (the type probabilities and what they rest on), where it crossed the line and
whether it struck, and sees its path drawn on the map. A `field` day of two hours with
reconnaissance and one-way drones flying, stored and analysed by the command line.
Skips, saying why, without Playwright or Chromium; fails under CI=true."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.conftest import flights_day, store_day
from tests.web.browser import all_incidents, choose, open_dashboard, serving, wait_until
from truceline.cli import app as cli
from truceline.i18n import language
from truceline.labels import label


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[tuple[str, str]]:
    tmp = tmp_path_factory.mktemp("flights")
    db = store_day(flights_day(tmp / "day", hours=2), tmp / "t.db", tmp / "out")
    args = ["token", "create", "--db", str(db), "--role", "analyst", "--name", "ana-1"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    token = res.output.split()[-1]
    with serving(db) as base:
        yield base, token


def test_an_analyst_reads_a_flight_and_sees_its_path(browser: Any, served: Any) -> None:
    base, token = served
    air = [
        f
        for f in all_incidents(base, token)
        if f["properties"]["kind"] == "air" and f["properties"].get("crossing")
    ]
    assert air, "the day's drones crossed the line: their flights are incidents"
    f = max(air, key=lambda g: len(g["properties"]["track"]["coordinates"]))
    props, flight = f["properties"], f["properties"]["flight"]
    assert abs(sum(flight["types"].values()) - 1.0) < 2e-3
    page = open_dashboard(browser, base, token)
    assert page.errors == [] and page.outside == []
    choose(page, "#f-weapon", props["weapon"])
    page.click(f"#incident-list button[data-id='{props['id']}']")
    page.wait_for_selector("#dossier:not([hidden]) table.evidence")
    text = page.text_content("#dossier-body") or ""
    best = max(flight["types"], key=flight["types"].__getitem__)
    assert (
        "Flight" in text
        and "What it was" in text
        and label("air_type", best, language("en")) in text
    )
    assert f"median ground speed {flight['speed_ms']} m/s" in text
    assert "Where it was launched from" in text and "Crossed the line" in text
    assert "no single figure decides it" in text
    # its point is where it was last tracked unless a strike (heard or seen) was joined
    struck = bool({"acoustic", "thermal"} & set(props.get("sources") or {}))
    assert ("Last tracked" in text) != struck and "The launch area lies in" in text
    # zoomed in on where it crossed the line, its path is drawn with the crossing
    lon, lat = props["crossing"]
    page.evaluate(
        "(c) => { window.truceline.map.map.setView([c[1], c[0]], 11, { animate: false }); }",
        [lon, lat],
    )
    wait_until(page, "window.truceline.map.tracksDrawn >= 1")
    assert page.errors == []
