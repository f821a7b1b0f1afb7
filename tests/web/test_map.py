"""The dashboard's map (issue 20) in Chromium: place names from the report's gazetteer at
zoom 12 and 17, a scale bar and a graticule, the cursor's MGRS reference as the Python
side computes it, the selection panned into the part of the map the dossier leaves
visible, incidents drawn at their origins for a withdrawal clause, and the mission's own
MBTiles requested and drawn (`truceline serve --tiles`)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.api.test_mapdata import make_mbtiles, tile_png
from tests.conftest import copy_store
from tests.web.browser import choose, open_dashboard, serving, wait_until
from tests.web.test_dashboard import CONTRAST
from truceline.cli import app as cli
from truceline.places import mgrs

POKROVSK = (37.17706, 48.28014)  # GeoNames' point, lon/lat
TILE_ZOOM = 9
TILE_RGB = (250, 0, 250)  # a colour nothing else on the map has


def xyz(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    y = (1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n
    return int((lon + 180) / 360 * n), int(y)


@pytest.fixture(scope="module")
def served(
    stored_day: Path, tmp_path_factory: pytest.TempPathFactory, browser: Any
) -> Iterator[tuple[str, str]]:
    """A server with a mission's tiles around Pokrovsk, and an analyst's token."""
    folder = tmp_path_factory.mktemp("map")
    db = copy_store(stored_day, folder)
    res = CliRunner().invoke(
        cli, ["token", "create", "--db", str(db), "--role", "analyst", "--name", "ana-map"]
    )
    assert res.exit_code == 0, res.output
    x, y = xyz(*POKROVSK, TILE_ZOOM)
    png = tile_png(TILE_RGB)
    tiles = {(TILE_ZOOM, x + dx, y + dy): png for dx in (-2, -1, 0, 1, 2) for dy in (-1, 0, 1)}
    path = make_mbtiles(folder / "mission.mbtiles", tiles)
    with serving(db, "--tiles", str(path)) as base:
        yield base, res.output.split()[-1]


def _page(browser: Any, base: str, token: str | None) -> Any:
    page = open_dashboard(browser, base, token)
    assert page.errors == [] and page.outside == []
    return page


def _view(page: Any, lon: float, lat: float, zoom: float) -> None:
    """Set the view and wait until the place names of the new view are drawn."""
    drawn = page.evaluate("window.truceline.map.places.draws")
    page.evaluate(
        "([lat, lon, z]) => { window.truceline.map.map.setView([lat, lon], z, {animate: false}); }",
        [lat, lon, zoom],
    )
    wait_until(page, f"window.truceline.map.places.draws > {drawn}")


def _labels(page: Any) -> list[str]:
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('.place-label span')]
                .filter(s => s.getBoundingClientRect().width > 0).map(s => s.textContent)"""
        )
    )


def test_places_scale_and_grid_at_zoom_12_and_17(browser: Any, served: Any) -> None:
    base, token = served
    page = _page(browser, base, token)
    _view(page, *POKROVSK, 12)
    assert "Pokrovsk" in _labels(page)
    many = len(_labels(page))
    _view(page, *POKROVSK, 9)
    assert len(_labels(page)) >= 1 and "Pokrovsk" in _labels(page)
    # zoomed in two kilometres north of the town, no settlement is in view: the nearest
    # is named at the edge, pointing to it, and the readout says where the centre is
    _view(page, POKROVSK[0], 48.30, 17)
    assert page.evaluate("window.truceline.map.map.getZoom()") == 17
    labels = _labels(page)
    assert any("Pokrovsk" in t and "km" in t and t[0] in "↓↙↘" for t in labels), labels
    assert "Map centre: 2.2 km N of Pokrovsk" in page.text_content(".cursor-readout")
    scale = page.text_content(".leaflet-control-scale-line")
    assert scale and scale.strip().endswith("m"), scale
    grid = page.evaluate(
        "[...document.querySelectorAll('.grid-label span')].map(s => s.textContent)"
    )
    assert (
        len([g for g in grid if g.endswith("E")]) >= 2
        and len([g for g in grid if g.endswith("N")]) >= 2
    )
    assert page.evaluate("window.truceline.map.graticule.step") <= 0.005
    assert many >= 1
    # readable: the labels, grid and readout meet WCAG AA contrast
    _view(page, *POKROVSK, 12)
    assert page.evaluate(CONTRAST) == []
    page.context.close()


def test_the_cursor_readout_gives_the_mgrs_python_gives(browser: Any, served: Any) -> None:
    base, token = served
    page = _page(browser, base, token)
    _view(page, *POKROVSK, 17)  # a pixel is under a metre: MGRS to the metre
    box = page.locator("#map").bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.37, box["y"] + box["height"] * 0.61)
    wait_until(page, "document.querySelector('.cursor-readout').dataset.digits === '5'")
    data = page.evaluate("({...document.querySelector('.cursor-readout').dataset})")
    lon, lat = float(data["lon"]), float(data["lat"])
    assert data["mgrs"] == mgrs([lon], [lat], 5)[0]
    text = page.text_content(".readout-point")
    assert f"{lat:.5f}° N, {lon:.5f}° E" in text
    assert text.split("MGRS ")[1].replace(" ", "") == data["mgrs"]
    # a known point, at the precision of a coarser zoom (a pixel is tens of metres)
    page.evaluate("window.truceline.map.readout.show({lat: 48.59419, lng: 37.99886})")
    assert (
        page.evaluate("document.querySelector('.cursor-readout').dataset.mgrs")
        == mgrs([37.99886], [48.59419], 5)[0]
    )
    page.evaluate("void window.truceline.map.map.setZoom(8, {animate: false})")
    page.evaluate("window.truceline.map.readout.show({lat: 48.59419, lng: 37.99886})")
    shown = page.evaluate("({...document.querySelector('.cursor-readout').dataset})")
    assert int(shown["digits"]) < 5
    assert shown["mgrs"] == mgrs([37.99886], [48.59419], int(shown["digits"]))[0]
    page.context.close()


def test_selecting_pans_to_the_incident_beside_the_dossier(browser: Any, served: Any) -> None:
    base, token = served
    page = _page(browser, base, token)
    page.evaluate("void window.truceline.map.map.setView([51.5, 30.5], 12, {animate: false})")
    page.click("#incident-list button.incident >> nth=3")
    page.wait_for_selector("#dossier:not([hidden]) form[aria-label='Review']")
    where = page.evaluate(
        """() => {
            const m = window.truceline.map;
            const i = m.points.selected;
            const pt = m.map.latLngToContainerPoint(m.position(i));
            const map = document.getElementById('map').getBoundingClientRect();
            const dossier = document.getElementById('dossier').getBoundingClientRect();
            return {i, x: map.left + pt.x, y: map.top + pt.y, map: map.toJSON(),
                    dossier: dossier.toJSON(), zoom: m.map.getZoom()};
        }"""
    )
    assert where["i"] >= 0
    m, d = where["map"], where["dossier"]
    assert m["right"] <= d["left"] + 1  # the map shrinks beside the dossier, not under it
    assert m["left"] + 10 < where["x"] < m["right"] - 10, where
    assert m["top"] + 10 < where["y"] < m["bottom"] - 10, where
    assert where["zoom"] >= 10
    # the actions come before the long evidence table
    order = page.evaluate(
        """() => {
            const form = document.querySelector("#dossier form[aria-label='Review']");
            const table = document.querySelector('#dossier table.evidence');
            return !table || Boolean(form.compareDocumentPosition(table) & Node.DOCUMENT_POSITION_FOLLOWING);
        }"""
    )
    assert order
    # closed, the map takes the width back
    page.keyboard.press("Escape")
    wait_until(
        page,
        "document.getElementById('map').getBoundingClientRect().right > " + str(m["right"] + 100),
    )
    page.context.close()


def test_a_withdrawal_clause_draws_incidents_where_the_gun_stood(browser: Any, served: Any) -> None:
    base, token = served
    page = _page(browser, base, token)
    agreement = page.evaluate("window.truceline.state.agreement")
    presence = {c["id"] for c in agreement["clauses"] if c["kind"] == "presence" and c["within_km"]}
    feats = page.evaluate("window.truceline.state.features.map(f => f.properties)")
    picked = next(
        (k, c)
        for k, p in enumerate(feats)
        for c in p.get("violations") or []
        if c in presence
        and p.get("origin")
        and p.get("impact")
        and abs(p["origin"][0] - p["impact"][0]) + abs(p["origin"][1] - p["impact"][1]) > 0.01
    )
    i, clause = picked
    origin, impact = feats[i]["origin"], feats[i]["impact"]
    assert page.evaluate(f"window.truceline.map.position({i})") == [impact[1], impact[0]]
    choose(page, "#f-clause", clause)
    assert page.get_attribute("#map", "data-anchor") == "origin"
    assert page.evaluate(f"window.truceline.map.position({i})") == [origin[1], origin[0]]
    assert page.evaluate("window.truceline.map.anchorLines") > 0  # lines to the impacts
    # drawn at the origin on the canvas (and hit there), not at the impact
    page.evaluate(
        f"void window.truceline.map.map.setView([{origin[1]}, {origin[0]}], 9, {{animate: false}})"
    )
    hit = page.evaluate(
        """([lat, lon]) => {
            const m = window.truceline.map;
            const j = m.points.hit(m.map.latLngToLayerPoint([lat, lon]));
            return j < 0 ? null : m.position(j);
        }""",
        [origin[1], origin[0]],
    )
    assert hit is not None and abs(hit[0] - origin[1]) < 0.01 and abs(hit[1] - origin[0]) < 0.01
    # a fire clause judges the shot, not where the gun stood: back at the impacts
    fire = next(c["id"] for c in agreement["clauses"] if c["kind"] == "fire")
    choose(page, "#f-clause", fire)
    assert page.get_attribute("#map", "data-anchor") == "impact"
    assert page.evaluate(f"window.truceline.map.position({i})") == [impact[1], impact[0]]
    page.context.close()


def test_the_missions_tiles_are_requested_and_drawn(browser: Any, served: Any) -> None:
    base, token = served
    page = _page(browser, base, token)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/tiles/" in r.url else None)
    page.evaluate(
        f"void window.truceline.map.map.setView([{POKROVSK[1]}, {POKROVSK[0]}], {TILE_ZOOM}, "
        "{animate: false})"
    )
    x, y = xyz(*POKROVSK, TILE_ZOOM)
    wait_until(
        page,
        "[...document.querySelectorAll('.leaflet-tiles-pane img.leaflet-tile-loaded')]"
        ".some(t => t.naturalWidth === 256)",
        timeout_ms=30_000,
    )
    assert f"{base}/tiles/{TILE_ZOOM}/{x}/{y}" in asked
    # drawn: the tile's colour is on the screen (under the translucent control areas)
    shot = page.locator("#map").screenshot()
    from io import BytesIO

    from PIL import Image

    px = np.asarray(Image.open(BytesIO(shot)).convert("RGB")).astype(int)
    magenta = int(((px[..., 0] > 180) & (px[..., 1] < 90) & (px[..., 2] > 180)).sum())
    assert magenta > 1000, magenta
    assert page.errors == [] and page.outside == []
    page.context.close()


def test_without_tiles_the_outlines_stay(browser: Any, stored_day: Path, tmp_path: Path) -> None:
    db = copy_store(stored_day, tmp_path)
    with serving(db) as base:
        page = _page(browser, base, None)
        assert page.evaluate("window.truceline.map.tiles === undefined")
        assert page.evaluate("document.querySelectorAll('.leaflet-tiles-pane img').length") == 0
        assert page.evaluate("document.querySelector('.leaflet-basemap-pane canvas') !== null")
        page.context.close()
