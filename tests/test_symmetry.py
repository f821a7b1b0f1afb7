"""Attribution is symmetric: mirroring the map and swapping the parties' labels mirrors every
attribution exactly (property test)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.agreement import Agreement, load_agreement
from truceline.attribution import attribute
from truceline.incidents import Fused, Point
from truceline.simulate.scenario import build_scenario, write_agreement


def _mirror(doc: dict, lon0: float, swap: dict[str, str]) -> dict:
    def flip(coords: list) -> list:
        if coords and isinstance(coords[0], (int, float)):
            return [2 * lon0 - coords[0], *coords[1:]]
        return [flip(c) for c in coords]

    for feat in doc["features"]:
        feat["geometry"]["coordinates"] = flip(feat["geometry"]["coordinates"])
        if "party" in feat["properties"]:
            feat["properties"]["party"] = swap[feat["properties"]["party"]]
    return doc


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Agreement, Agreement]:
    a_dir = tmp_path_factory.mktemp("a")
    write_agreement(build_scenario(5), a_dir, "2026-03-01T00:00:00Z")
    a = load_agreement(a_dir / "agreement.yaml")
    b_dir = tmp_path_factory.mktemp("b")
    for name in ("agreement.yaml", "disengagement.geojson"):
        (b_dir / name).write_text((a_dir / name).read_text())
    control = json.loads((a_dir / "control.geojson").read_text())
    mirrored = _mirror(control, a.frame.lon0, {"N": "S", "S": "N"})
    (b_dir / "control.geojson").write_text(json.dumps(mirrored))
    b = load_agreement(Path(b_dir / "agreement.yaml"))
    assert b.frame == a.frame
    return a, b


@settings(max_examples=60, deadline=None)
@given(
    x=st.floats(-140_000, 140_000),
    depth=st.floats(-20_000, 20_000),
    sx=st.floats(5.0, 4_000.0),
    sy=st.floats(5.0, 4_000.0),
    rho=st.floats(-0.95, 0.95),
)
def test_mirror_and_swap_mirrors_attribution(
    pair: tuple[Agreement, Agreement], x: float, depth: float, sx: float, sy: float, rho: float
) -> None:
    a, b = pair
    sc = build_scenario(5)
    lon, lat = sc.frame.inverse(np.array([x]), sc.line_at(np.array([x])) + depth)
    px, py = a.frame.forward(lon, lat)
    cov = np.array([[sx * sx, rho * sx * sy], [rho * sx * sy, sy * sy]])
    mirror = np.array([[1.0, -1.0], [-1.0, 1.0]])
    (att_a,) = attribute([Fused("fire", 0, 0, origin=Point(float(px[0]), float(py[0]), cov, 0))], a)
    (att_b,) = attribute(
        [Fused("fire", 0, 0, origin=Point(-float(px[0]), float(py[0]), cov * mirror, 0))], b
    )
    swapped = {{"N": "S", "S": "N"}[k]: v for k, v in att_a.probabilities.items()}
    assert att_b.probabilities.keys() == swapped.keys()
    for k in swapped:
        assert att_b.probabilities[k] == pytest.approx(swapped[k], abs=1e-12)
    assert att_b.attributed_to == (
        None if att_a.attributed_to is None else {"N": "S", "S": "N"}[att_a.attributed_to]
    )
