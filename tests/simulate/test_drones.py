"""Drones in the field world: flights with truth, radar plots with gaps and clutter, radio
links heard only in part, engines heard by microphone arrays; the analysis reads none of
the simulator's tables."""

from __future__ import annotations

import ast
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import truceline
from truceline.simulate import simulate
from truceline.simulate.world import load_world
from truceline.sources import read_observations


@pytest.fixture(scope="module")
def day(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("drones")
    field = load_world("field")
    assert field.drones is not None and field.drones.recon_per_hour == 0.0
    world = replace(field, drones=replace(field.drones, recon_per_hour=2.0))
    simulate(out, seed=4, hours=6, world=world)
    return out


def _truth(day: Path) -> list[dict]:
    return [json.loads(line) for line in (day / "drones_truth.jsonl").read_text().splitlines()]


def test_every_flight_has_its_truth_and_strikes_their_firing(day: Path) -> None:
    flights = _truth(day)
    kinds = Counter(f["kind"] for f in flights)
    assert kinds["recon"] >= 5 and kinds["strike"] >= 1
    fire = {
        t["id"]: t
        for t in map(json.loads, (day / "truth.jsonl").read_text().splitlines())
        if t["kind"] == "fire"
    }
    for f in flights:
        assert f["path"][0][:2] == f["launch"] and len(f["path"]) >= 2
        assert ("C8" in f["violations"]) == f["crossed"] == (f["crossing"] is not None)
        if f["kind"] == "recon":
            assert 15.0 <= f["speed_ms"] <= 35.0 and 300.0 <= f["alt_m"] <= 1500.0
            assert f["event"] is None and "C7" not in f["violations"]
        else:
            ev = fire[f["event"]]
            assert ev["weapon"] == "drone" and {"C1", "C7"} <= set(ev["violations"])
            assert ("C8" in ev["violations"]) == f["crossed"]
            assert np.allclose(ev["origin"], f["launch"], atol=1e-6)


def test_the_new_sources_are_written_valid_and_imperfect(day: Path) -> None:
    batch = read_observations([day / "observations.jsonl"])  # every line valid
    by = Counter(o.type for o in batch.observations)
    assert by["radar"] > 1000 and by["rf"] > 100 and by["drone_acoustic"] > 20
    flights = _truth(day)
    radar_ids = [o.model.id for o in batch.observations if o.type == "radar"]
    assert len(set(radar_ids)) == len(radar_ids)
    # a quarter of the drones fly without a radio link; each finder hears one band of three
    assert any(f["band_mhz"] is None for f in flights)
    bands = {o.model.band_mhz for o in batch.observations if o.type == "rf"}  # type: ignore[union-attr]
    assert bands <= {900.0, 2400.0, 5800.0}
    sensors = {o.model.sensor for o in batch.observations if o.type == "radar"}  # type: ignore[union-attr]
    assert len(sensors) >= 10


def test_the_analysis_never_imports_the_simulator() -> None:
    root = Path(truceline.__file__).parent
    for name in ("analysis.py", "tracking/flights.py", "tracking/multitarget.py"):
        tree = ast.parse((root / name).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert "simulate" not in (node.module or ""), name
