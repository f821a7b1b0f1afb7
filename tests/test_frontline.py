from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import shapely

from truceline._time import parse_time
from truceline.frontline import (
    FrontSnapshot,
    Territory,
    read_border,
    read_deepstate,
    side_over_time,
    side_points,
)

from .conftest import shared_data


def _square(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(x0, y0, x1, y1)


def test_sides_and_signed_distance_on_a_toy_state() -> None:
    # a 2x1 degree state; its eastern half occupied, a contested strip along the front
    state = _square(30.0, 48.0, 32.0, 49.0)
    snap = FrontSnapshot(
        0, occupied=_square(31.0, 47.5, 32.5, 49.5), contested=_square(30.95, 48.0, 31.0, 49.0)
    )
    terr = Territory.of(state)
    lon = np.array([30.5, 31.5, 30.98, 29.0, 31.02, 30.9])
    lat = np.array([48.5, 48.5, 48.5, 48.5, 48.5, 48.02])
    side, dist = side_points(lon, lat, snap, terr)
    assert side.tolist() == [0, 1, 2, 3, 1, 0]
    # 0.5 degree of longitude at 48.5 N is about 36.9 km; the front is the meridian 31 E
    assert abs(dist[0] / 1000 - 36.9) < 0.3 and abs(dist[1] / 1000 + 36.9) < 0.3
    assert dist[4] < 0 and abs(dist[4]) < 2_000
    # near the southern border, the border is not "the front": distance is still to the meridian
    assert abs(dist[5] / 1000 - 7.4) < 0.3


def test_nearest_earlier_snapshot() -> None:
    state = _square(30.0, 48.0, 32.0, 49.0)
    day = 86_400_000_000
    early = FrontSnapshot(
        10 * day, occupied=_square(31.5, 47.0, 33.0, 50.0), contested=shapely.Polygon()
    )
    late = FrontSnapshot(
        20 * day, occupied=_square(30.5, 47.0, 33.0, 50.0), contested=shapely.Polygon()
    )
    lon = np.array([31.0, 31.0, 31.0])
    lat = np.array([48.5, 48.5, 48.5])
    t = np.array([5 * day, 15 * day, 25 * day])
    sided = side_over_time(lon, lat, t, [late, early], state)
    assert sided.side.tolist() == [0, 0, 1]
    assert sided.lag_days.tolist() == [-5.0, 5.0, 5.0]


def test_real_fires_against_deepstate(tmp_path: Path) -> None:
    from truceline.sources import read_source

    fires = read_source(shared_data("firms_ukraine_2022/firms_ukraine_20220224_20220515.csv"))
    folder = shared_data("deepstate_raw_2022")
    snaps = [read_deepstate(p) for p in sorted(folder.glob("*.geojson"))]
    assert len(snaps) == 7 and snaps[0].time_us == parse_time("2022-04-03T16:59:26Z")
    border = read_border(shared_data("ukraine_oblasts/ukraine_oblasts_minregion_2020.geojson"))
    lon = np.array([o.raw["position"][0] for o in fires.observations])
    lat = np.array([o.raw["position"][1] for o in fires.observations])
    t = np.array([o.time_us for o in fires.observations])
    sided = side_over_time(lon, lat, t, snaps, border)
    assert sided.side.size == 57_688
    counts = np.bincount(sided.side, minlength=4)
    # most detections are on the held side (agricultural burning is most of March's)
    assert counts[0] > 0.7 * counts.sum() and counts[1] > 0.1 * counts.sum()
    assert (sided.lag_days >= 0).sum() == 15_468
    # the occupied side is on the negative side of the line, by construction
    assert (sided.distance_m[sided.side == 1] <= 0).all() and (
        sided.distance_m[sided.side == 0] >= 0
    ).all()
    json.dumps({"ok": True})
