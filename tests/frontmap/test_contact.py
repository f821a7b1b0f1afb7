"""The ground by side and the line of contact: the line runs between the occupied ground and
the state's other ground only (not along a seam between two occupied features, not along the
state border or the coast), each snapshot states its occupied area, and the spring-2022
fires keep the sides they had where the map was already read right."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

from tests.conftest import shared_data
from truceline.cli import app
from truceline.frontmap import (
    Front,
    FrontSnapshot,
    Territory,
    default_legend,
    load_legend,
    read_border,
    read_snapshot,
    side_over_time,
    side_points,
)
from truceline.frontmap.territory import geodesic_km
from truceline.sources import read_source

SPRING = "deepstate_raw_2022"


@pytest.fixture(scope="module")
def territory() -> Territory:
    return Territory.of(
        read_border(shared_data("ukraine_oblasts/ukraine_oblasts_minregion_2020.geojson"))
    )


@pytest.fixture(scope="module")
def spring(territory: Territory) -> list[Front]:
    return [
        Front.of(read_snapshot(p), territory) for p in sorted(shared_data(SPRING).glob("*.geojson"))
    ]


def test_each_snapshot_states_its_occupied_area(spring: list[Front]) -> None:
    occupied = [f.summary["occupied_km2"] for f in spring]
    # 106,248 km² on 3 April 2022 to 121,519 on 15 May, of which Crimea and ORDLO ~42,950
    assert occupied == sorted(occupied) and 105_000 < occupied[0] < 108_000
    assert 120_500 < occupied[-1] < 122_500
    assert all(42_500 < f.summary["occupied_since_2014_km2"] < 43_500 for f in spring)
    lines = [f.summary["line_of_contact_km"] for f in spring]
    assert 1_550 < lines[-1] < 1_800 and lines[-1] < lines[0]


def test_the_line_is_no_seam_between_occupied_features(
    spring: list[Front], territory: Territory
) -> None:
    """ORDLO (held since 2014) against the area occupied in 2022, and Crimea against occupied
    Kherson oblast: both are edges of occupied features, not fronts."""
    last = spring[-1]
    frame = territory.frame
    snap = last.snapshot
    since = frame.to_local(snap.since_2014)
    rest = shapely.difference(frame.to_local(snap.occupied), shapely.buffer(since, 10.0))
    seam = shapely.intersection(shapely.boundary(since), shapely.buffer(rest, 500.0))
    seam_km = territory.km(seam)
    assert seam_km > 300  # long shared edges: Crimea-Kherson and ORDLO-2022
    on_seam = shapely.intersection(last.line, shapely.buffer(seam, 300.0))
    # none of it, but for the few hundred metres where the line meets the seam's ends
    assert territory.km(on_seam) < 0.02 * seam_km


def test_the_line_is_not_the_border_or_the_coast(spring: list[Front], territory: Territory) -> None:
    coast = shapely.boundary(territory.area)
    for front in spring:
        along = shapely.intersection(front.line, shapely.buffer(coast, 100.0))
        # only where the front itself meets the border or the sea
        assert territory.km(along) < 0.01 * front.summary["line_of_contact_km"] + 5


def test_a_map_recoloured_as_in_august_2022_reads_the_same(
    tmp_path: Path, spring: list[Front], territory: Territory
) -> None:
    src = sorted(shared_data(SPRING).glob("*.geojson"))[-1]
    doc = json.loads(src.read_text(encoding="utf-8"))
    for feat in doc["features"]:
        props = feat["properties"]
        if "Крим" in str(props.get("name", "")):
            props["fill"] = props["stroke"] = "#880e4f"
    moved = tmp_path / "deepstate_20220808T120000Z_1659960000.geojson"
    moved.write_text(json.dumps(doc))
    front = Front.of(read_snapshot(moved), territory)
    for key in ("occupied_km2", "occupied_since_2014_km2", "line_of_contact_km"):
        assert front.summary[key] == spring[-1].summary[key], key
    # what colours alone made of it: Crimea held, and its boundary with Kherson a front
    crimea = shapely.Point(34.1, 45.0)
    side, dist = side_points(np.array([crimea.x]), np.array([crimea.y]), front, territory)
    assert side.tolist() == [1] and dist[0] < -50_000


def test_the_daily_files_of_2025(territory: Territory) -> None:
    path = shared_data("deepstate_occupied/deepstatemap_data_20250817.geojson")
    front = Front.of(read_snapshot(path), territory)
    s = front.summary
    assert 113_500 < s["occupied_km2"] < 114_600 and 1_250 < s["line_of_contact_km"] < 1_450
    assert s["time"] == "2025-08-17T03:00:00Z" and s["unmatched"] == []


def test_seams_and_slivers_on_a_toy_state() -> None:
    state = shapely.box(30.0, 48.0, 32.0, 49.0)
    terr = Territory.of(state)
    # two occupied tiles with a 30 m gap between them, both east of 31 E
    west = shapely.box(31.0, 47.5, 31.5, 49.5)
    east = shapely.box(31.5004, 47.5, 32.5, 49.5)
    snap = FrontSnapshot(0, occupied=shapely.union(west, east), contested=shapely.Polygon())
    front = Front.of(snap, terr)
    line = terr.frame.to_lonlat(front.line)
    assert abs(geodesic_km(line) - 111.0) < 3  # the meridian 31 E, border to border, only
    assert shapely.distance(line, shapely.LineString([(31.5, 48.1), (31.5, 48.9)])) > 0.4
    assert front.summary["enclaves"]["count"] == 0


def test_an_enclave_is_of_the_side_the_legend_gives(tmp_path: Path) -> None:
    state = shapely.box(30.0, 48.0, 32.0, 49.0)
    terr = Territory.of(state)
    # occupied ground around an unpainted pocket on the southern border
    occ = shapely.difference(
        shapely.box(31.0, 47.5, 32.5, 49.5), shapely.box(31.4, 47.9, 31.6, 48.2)
    )
    snap = FrontSnapshot(0, occupied=occ, contested=shapely.Polygon())
    pocket = (np.array([31.5]), np.array([48.05]))
    assert side_points(*pocket, Front.of(snap, terr), terr)[0].tolist() == [2]  # contested
    snap.enclaves = "held"
    held = Front.of(snap, terr)
    assert side_points(*pocket, held, terr)[0].tolist() == [0]
    # an enclave's edge is no line of contact, whatever its side
    assert (
        abs(held.summary["line_of_contact_km"] - Front.of(snap, terr).summary["line_of_contact_km"])
        < 1
    )


def _spring_fires() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fires = read_source(shared_data("firms_ukraine_2022/firms_ukraine_20220224_20220515.csv"))
    lon = np.array([o.raw["position"][0] for o in fires.observations])
    lat = np.array([o.raw["position"][1] for o in fires.observations])
    return lon, lat, np.array([o.time_us for o in fires.observations])


def test_spring_fires_keep_their_sides_where_the_map_was_read_right(
    tmp_path: Path, spring: list[Front], territory: Territory
) -> None:
    lon, lat, t = _spring_fires()
    sided = side_over_time(lon, lat, t, spring, territory)
    counts = np.bincount(sided.side, minlength=4).tolist()
    # read as drawn (unpainted enclaves held), the legend gives exactly the sides the colour
    # rule gave before it (held 46,219, occupied 10,803, contested 501, outside 165)
    as_drawn = tmp_path / "legend.yaml"
    as_drawn.write_text(
        Path(default_legend().source)
        .read_text(encoding="utf-8")
        .replace("enclaves: contested", "enclaves: held")
    )
    leg = load_legend(as_drawn)
    drawn = [
        Front.of(read_snapshot(p, leg), territory)
        for p in sorted(shared_data(SPRING).glob("*.geojson"))
    ]
    before = side_over_time(lon, lat, t, drawn, territory)
    assert np.bincount(before.side, minlength=4).tolist() == [46_219, 10_803, 501, 165]
    # by default the fires in unpainted enclaves are contested (the map does not say who
    # holds them), and nothing else moves
    changed = before.side != sided.side
    assert counts == [46_219 - 460, 10_803, 501 + 460, 165]
    assert set(zip(before.side[changed].tolist(), sided.side[changed].tolist(), strict=True)) == {
        (0, 2)
    }
    # and the occupied side is the negative side of the line, by construction
    assert (sided.distance_m[sided.side == 1] <= 0).all() and (
        sided.distance_m[sided.side != 1] >= 0
    ).all()


def test_frontline_with_a_legend_file(tmp_path: Path) -> None:
    border = tmp_path / "state.geojson"
    border.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {},
                        "geometry": shapely.geometry.mapping(shapely.box(30.0, 48.0, 32.0, 49.0)),
                    }
                ],
            }
        )
    )
    maps = tmp_path / "maps"
    maps.mkdir()
    ring = [[31.0, 47.5], [32.5, 47.5], [32.5, 49.5], [31.0, 49.5], [31.0, 47.5]]
    odd = [[30.2, 48.2], [30.4, 48.2], [30.4, 48.4], [30.2, 48.4], [30.2, 48.2]]
    features = [
        {
            "type": "Feature",
            "properties": {"name": "Окуповано", "fill": "#a52714"},
            "geometry": {"type": "Polygon", "coordinates": [ring]},
        },
        {
            "type": "Feature",
            "properties": {"name": "Мітка", "fill": "#ff00ff"},
            "geometry": {"type": "Polygon", "coordinates": [odd]},
        },
    ]
    (maps / "deepstate_20220801T120000Z_1.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )
    fires = tmp_path / "fires.csv"
    fires.write_text(
        "LATITUDE,LONGITUDE,ACQ_DATE\n48.3,30.3,2022-08-02\n48.5,31.5,2022-08-02\n48.5,30.5,2022-08-02\n"
    )
    args = [
        "frontline",
        "--points",
        fires,
        "--snapshots",
        maps,
        "--border",
        border,
        "--out",
        tmp_path / "out",
    ]
    refused = CliRunner().invoke(app, [str(a) for a in args])
    assert refused.exit_code == 2 and "'Мітка' (#ff00ff" in " ".join(refused.output.split())
    legend = tmp_path / "legend.yaml"
    legend.write_text(
        Path(default_legend().source)
        .read_text(encoding="utf-8")
        .replace("unmatched: error", "unmatched: unknown")
    )
    result = CliRunner().invoke(app, [str(a) for a in [*args, "--legend", legend]])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert summary["all"]["by_side"] == {"held": 1, "occupied": 1, "contested": 1, "outside": 0}
    assert summary["fronts"][0]["unmatched"][0].startswith("feature 1: 'Мітка' (#ff00ff")
    assert "occupied" in " ".join(result.output.split())
