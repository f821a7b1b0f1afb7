"""Weather stations in a simulated world: `met` observations in the format, the wind they
report near the world's, and the analysis measuring the wind with them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np

from truceline._time import parse_time
from truceline.simulate import simulate
from truceline.simulate.world import Met, load_world
from truceline.sources import read_observations


def test_a_world_with_stations_reports_the_wind_it_blows(tmp_path: Path) -> None:
    world = replace(load_world("field"), met=Met(spacing_km=100.0, every_min=30.0))
    simulate(tmp_path, seed=3, hours=2, world=world)
    obs = read_observations([tmp_path / "observations.jsonl"]).observations
    met = [json.loads(o.body) for o in obs if json.loads(o.body)["type"] == "met"]
    # three stations along 300 km on each side, four reports each in two hours
    assert len(met) == 6 * 4
    # each report against the world's wind at the nearest point of the line and time
    wind = json.loads((tmp_path / "network_truth.json").read_text())["wind"]
    times = np.array([parse_time(t) for t in wind["times"]])
    points = np.array(wind["points"])
    err = []
    for m in met:
        i = int(np.argmin(np.abs(times - parse_time(m["time"]))))
        j = int(np.argmin(np.hypot(*(points - np.array(m["position"])).T)))
        true = np.array([wind["east"][i][j], wind["north"][i][j]])
        assert np.hypot(*true) > 0.3  # there is a wind to report
        err.append(float(np.hypot(*(np.array(m["wind_ms"]) - true))))
    assert np.median(err) < 1.0  # the instrument's 0.5 m/s a component, and the grid's step
    # a world without them writes none, and the same day otherwise
    plain = tmp_path / "plain"
    simulate(plain, seed=3, hours=2, world=load_world("field"))
    lines = (plain / "observations.jsonl").read_text().splitlines()
    with_met = (tmp_path / "observations.jsonl").read_text().splitlines()
    assert [x for x in with_met if '"type":"met"' not in x] == lines
