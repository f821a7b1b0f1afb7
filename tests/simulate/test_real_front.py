"""The simulated network on a real line of contact: the scenario follows the real line
closely, sides are the map's, and a simulated day on it analyses and evaluates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely

from tests.conftest import shared_data
from truceline.agreement import load_agreement
from truceline.analysis import analyze, write_outputs
from truceline.evaluate import evaluate
from truceline.simulate import simulate
from truceline.simulate.real_front import real_line, real_scenario
from truceline.sources import read_observations

FRONT = "deepstate_occupied/deepstatemap_data_20250817.geojson"
BORDER = "ukraine_oblasts/ukraine_oblasts_minregion_2020.geojson"


def _zigzag(tmp_path: Path) -> Path:
    """A line that doubles back on itself (a salient), as a GeoJSON line file."""
    coords = [[35.0, 47.0], [35.5, 47.3], [35.4, 47.5], [35.7, 47.45], [36.5, 48.0], [37.0, 48.6]]
    path = tmp_path / "line.geojson"
    feature = {
        "type": "Feature",
        "properties": {},
        "geometry": {"type": "LineString", "coordinates": coords},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def test_a_line_that_doubles_back_becomes_a_function(tmp_path: Path) -> None:
    line = real_line(_zigzag(tmp_path))
    assert (np.diff(line.x) > 0).all()
    assert line.deviation_km["median"] < 1.0 and line.deviation_km["max"] < 20.0
    # and back in lon/lat the line still runs between the real line's ends
    lon, lat = line.frame.inverse(line.x[[0, -1]], line.y[[0, -1]])
    assert abs(lon[0] - 35.0) < 0.05 and abs(lat[-1] - 48.6) < 0.05


def test_the_scenario_follows_the_real_line_of_2025() -> None:
    sc, line = real_scenario(shared_data(FRONT), shared_data(BORDER))
    assert 1_200 < line.length_km < 1_300  # the main stretch: the estuary to Kharkiv oblast
    simulated = float(np.hypot(np.diff(line.x), np.diff(line.y)).sum()) / 1000
    assert simulated > 950
    assert line.deviation_km["median"] < 0.5 and line.deviation_km["p90"] < 3.0
    # the map's sides: held cities on the UA side, occupied ones on the RU side
    held = {"Zaporizhzhia": (35.14, 47.84), "Kramatorsk": (37.56, 48.72), "Kharkiv": (36.23, 49.99)}
    occupied = {"Melitopol": (35.37, 46.84), "Donetsk": (37.80, 48.0)}
    for names, party in ((held, "UA"), (occupied, "RU")):
        lon, lat = np.array(list(names.values())).T
        x, y = sc.frame.forward(lon, lat)
        above = y > sc.line_at(x)
        assert (above == (sc.parties[0] == party)).all(), names
    # sensors stand on their own side, at least half their row's offset from the line
    s = sc.sensors
    polyline = shapely.LineString(np.column_stack([sc.line_x, sc.line_y]))
    d = np.asarray(shapely.distance(shapely.points(s["x"], s["y"]), polyline))
    assert len(s["id"]) > 800 and d.min() > 1_400
    assert ((s["y"] > sc.line_at(s["x"])) == (s["side"] == 0)).all()


@pytest.mark.slow
def test_a_simulated_day_on_the_real_line(tmp_path: Path) -> None:
    out = tmp_path / "real"
    simulate(out, seed=3, hours=6, front=(shared_data(FRONT), shared_data(BORDER)))
    summary = json.loads((out / "front.json").read_text())
    assert summary["north_party"] == "UA" and summary["real_stretch_km"] > 1_200
    ag = load_agreement(out / "agreement.yaml")
    assert ag.party_ids == ("UA", "RU") and shapely.length(ag.line_local) > 950_000
    batch = read_observations([out / "observations.jsonl"])
    result = analyze(batch.observations, ag)
    write_outputs(result, ag, tmp_path / "run")
    report = evaluate(out / "truth.jsonl", tmp_path / "run" / "incidents.geojson", 0.5)
    fire = report["kinds"]["fire"]
    assert fire["recall_locatable"] > 0.9 and fire["precision"] > 0.9
    assert fire["attribution_accuracy"] > 0.97
