"""Open exports read back with the tools their readers use (geopandas/pyogrio for QGIS's
GeoPackage, pandas for the CSV, pyarrow for Parquet), and one test for each way they used
to fail them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
import pytest
from typer.testing import CliRunner

from tests.conftest import copy_store
from truceline.cli import app as cli
from truceline.publish.exports import ACLED_COLUMNS
from truceline.store.sqlite import SqliteStore

runner = CliRunner()

#: ACLED's columns in the order of its codebook (2023 column changes onward)
CODEBOOK = [
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
]


def _export(db: Path, fmt: str, out: Path, *extra: str) -> Path:
    res = runner.invoke(
        cli, ["export", "--db", str(db), "--format", fmt, "--out", str(out), *extra]
    )
    assert res.exit_code == 0, res.output
    assert "tree head" in " ".join(res.output.split())
    return out


def _incidents(db: Path) -> list[dict[str, Any]]:
    with SqliteStore(db) as s:
        return s.incidents()


@pytest.fixture(scope="module")
def reviewed(
    stored_day: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, str]]:
    """The standard day with an analyst's reviews: one incident verified and published, one
    verified but not published, one rejected."""
    db = copy_store(stored_day, tmp_path_factory.mktemp("reviewed"))
    fire = [f["properties"] for f in _incidents(db) if f["properties"]["kind"] == "fire"]
    ids = {"published": fire[0]["id"], "unpublished": fire[1]["id"], "rejected": fire[2]["id"]}
    with SqliteStore(db) as store:
        store.set_review(ids["published"], "verified", True, "ana")
        store.set_review(ids["unpublished"], "verified", False, "ana")
        store.set_review(ids["rejected"], "rejected", False, "ana")
    return db, ids


def test_geojson_reads_back_with_the_tree_head_and_places(stored_day: Path, tmp_path: Path) -> None:
    path = _export(stored_day, "geojson", tmp_path / "i.geojson")
    doc = json.loads(path.read_text())
    assert doc["tree_head"]["tree_size"] > 0 and len(doc["tree_head"]["root_hash"]) == 64
    frame = gpd.read_file(path)
    assert len(frame) == len(_incidents(stored_day)) and frame.crs.to_epsg() == 4326
    located = [f for f in doc["features"] if f["geometry"]]
    assert all(" km " in f["properties"]["place"]["label"] for f in located)


def test_geopackage_layers_times_and_tree_head_table(stored_day: Path, tmp_path: Path) -> None:
    path = _export(stored_day, "gpkg", tmp_path / "i.gpkg")
    layers = dict(pyogrio.list_layers(path))
    assert {"incidents": "Point", "origins": "Point", "impacts": "Point", "observations": "Point",
            "line_of_contact": "LineString", "control_areas": "Polygon", "withdrawal_zones": "Polygon",
            "tree_head": None}.items() <= layers.items()  # fmt: skip
    info = pyogrio.read_info(path, layer="incidents")
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert types["time_start"] == types["time_end"] == "OFTDateTime"  # QGIS's temporal controller
    incidents = gpd.read_file(path, layer="incidents")
    assert len(incidents) == len(_incidents(stored_day))
    assert (
        str(incidents["time_start"].dtype).startswith("datetime64")
        and incidents["time_start"].dt.tz
    )
    assert {"location", "admin1", "admin2", "mgrs", "attribution_N", "sources_acoustic"} <= set(
        incidents
    )
    head = pyogrio.read_dataframe(path, layer="tree_head")  # an attribute table, no geometry
    assert "geometry" not in head and int(head["tree_size"][0]) > 0
    zones = gpd.read_file(path, layer="withdrawal_zones").to_crs(3035)
    c2 = zones[zones["clause"] == "C2"]
    assert set(c2["party"]) == {"N", "S"}
    line_km = gpd.read_file(path, layer="line_of_contact").to_crs(3035).length.sum() / 1000
    assert c2.area.sum() / 1e6 == pytest.approx(2 * 25 * line_km, rel=0.1)  # 25 km each side
    assert gpd.read_file(path, layer="observations")["time"].dt.tz is not None


def test_csv_has_acled_columns_in_codebook_order_with_its_conventions(
    stored_day: Path, tmp_path: Path
) -> None:
    assert list(ACLED_COLUMNS) == CODEBOOK
    path = _export(stored_day, "csv", tmp_path / "i.csv")
    rows = pd.read_csv(path, keep_default_na=False, dtype=str)
    assert list(rows.columns[: len(CODEBOOK)]) == CODEBOOK
    assert {"where_prec", "date_prec", "time_utc", "time_start", "tree_size", "root_hash"} <= set(
        rows
    )
    fire = rows[(rows["kind"] == "fire") & (rows["attributed_to"] != "")]
    assert len(fire) and (fire["geo_precision"] == "1").all() and (fire["where_prec"] == "1").all()
    assert (
        set(fire["actor1"]) <= {"Northern Party", "Southern Party"}
        and (fire["inter1"] == "1").all()
    )
    across = fire[fire["actor2"] != ""]  # fire into the other party's area names the other
    assert len(across) > len(fire) / 2 and (across["actor1"] != across["actor2"]).all()
    assert set(across["interaction"]) == {"11"}
    assert (rows["fatalities"] == "").all() and (rows["civilian_targeting"] == "").all()  # unknown
    assert set(rows["country"]) <= {"Ukraine", ""} and set(rows["iso"]) <= {"804", ""}
    assert (rows.loc[rows["location"] != "", "region"] == "Europe").all()
    assert rows["event_id_cnty"].str.match(r"^(UKR)?[0-9A-F]{16}$").all()
    assert (rows[rows["kind"] == "unlocated"]["where_prec"] == "4").all()
    assert rows["time_utc"].str.match(r"^\d\d:\d\d:\d\d$").all()
    # nested fields are flat columns, not JSON in a cell
    assert not rows.apply(lambda c: c.str.startswith(("{", "["))).any().any()
    assert pd.to_numeric(rows["attribution_N"]).between(0, 1).all()
    # published below the counting confidence: not an ACLED event, and said so
    low = rows[pd.to_numeric(rows["confidence"]) < 0.5]
    high = rows[pd.to_numeric(rows["confidence"]) >= 0.5]
    assert len(low) and (low["counted"] == "False").all() and (high["counted"] == "True").all()
    assert (low["event_type"] == "").all() and (low["sub_event_type"] == "").all()
    assert low["notes"].str.startswith("NOT COUNTED").all()
    assert low["tags"].str.endswith("counted=false").all()
    assert (high.loc[high["kind"] == "fire", "event_type"] == "Explosions/Remote violence").all()


def test_parquet_has_typed_and_nested_columns(stored_day: Path, tmp_path: Path) -> None:
    path = _export(stored_day, "parquet", tmp_path / "i.parquet")
    schema = pq.read_schema(path)
    assert schema.field("time_start").type == pa.timestamp("us", tz="UTC")
    assert pa.types.is_map(schema.field("attribution").type)
    assert pa.types.is_map(schema.field("sources").type)
    assert schema.field("violations").type == pa.list_(pa.string())
    assert pa.types.is_struct(schema.field("origin").type)
    assert pa.types.is_struct(schema.field("impact_cov_m2").type)
    assert json.loads(schema.metadata[b"truceline_tree_head"])["tree_size"] > 0
    table = pq.read_table(path)
    times = table.column("time_start").to_pylist()
    first = _incidents(stored_day)[0]["properties"]["time_start"]
    assert times[0].isoformat().replace("+00:00", "Z").startswith(first.rstrip("Z"))
    frame = gpd.read_parquet(path)  # GeoParquet
    assert len(frame) == len(_incidents(stored_day)) and frame.geometry.notna().any()


def test_exports_reflect_the_reviews(reviewed: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    db, ids = reviewed
    rows = pd.read_csv(_export(db, "csv", tmp_path / "i.csv"), keep_default_na=False, dtype=str)
    by = rows.set_index("truceline_id")
    assert (
        by.loc[ids["published"], "status"] == "verified"
        and by.loc[ids["published"], "published"] == "True"
    )
    assert by.loc[ids["unpublished"], "published"] == "False"
    assert by.loc[ids["rejected"], "status"] == "rejected"
    frame = pq.read_table(_export(db, "parquet", tmp_path / "i.parquet")).to_pandas()
    assert frame.set_index("id").loc[ids["published"], "status"] == "verified"


def test_the_public_export_is_what_the_public_api_shows(
    reviewed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from truceline._time import format_time, parse_time
    from truceline.api import Settings, create_app

    db, ids = reviewed
    now = parse_time("2026-03-20T00:00:00Z")
    settings = Settings(
        db=copy_store(db, tmp_path / "api"), now_us=lambda: now, delay_hours=24, coarsen_deg=0.05
    )
    with TestClient(create_app(settings)) as client:
        api, cursor = [], None
        while True:
            page = client.get(
                "/v1/incidents", params={"limit": 1000, **({"cursor": cursor} if cursor else {})}
            ).json()
            api += page["features"]
            if not (cursor := page["next"]):
                break
    as_of = ["--audience", "public", "--as-of", format_time(now)]
    doc = json.loads(_export(db, "geojson", tmp_path / "p.geojson", *as_of).read_text())
    mine = [
        {**f, "properties": {k: v for k, v in f["properties"].items() if k != "place"}}
        for f in doc["features"]
    ]
    assert mine == api and [f["id"] for f in mine] == [ids["published"]]
    csv = pd.read_csv(
        _export(db, "csv", tmp_path / "p.csv", *as_of), keep_default_na=False, dtype=str
    )
    assert list(csv["truceline_id"]) == [ids["published"]]
    assert csv["observations"].tolist() == [""]  # withheld from the public
    lon = float(csv["longitude"][0])
    assert round(lon / 0.05 - 0.5, 6) == round(lon / 0.05 - 0.5)  # a cell centre of the grid
    assert len(csv["mgrs"][0]) == 5 + 2  # as coarse as the location: 10 km
    # before the delay has passed, the public sees nothing, as the API shows it
    early = ["--audience", "public", "--as-of", "2026-03-01T09:00:00Z"]
    assert (
        json.loads(_export(db, "geojson", tmp_path / "e.geojson", *early).read_text())["features"]
        == []
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--format", "csv", "--out", "x.csv", "--run", "9"], "no run 9"),
        (["--format", "gpkg", "--out", "x.csv"], "ending in .gpkg"),
        (["--format", "xls", "--out", "x.xls"], "must be one of"),
        (["--format", "csv", "--out", "x.csv", "--audience", "press"], "internal, public"),
        (["--format", "csv", "--out", "x.csv", "--as-of", "yesterday"], "--as-of"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    stored_day: Path, tmp_path: Path, args: list[str], says: str
) -> None:
    args = [a if not a.startswith("x.") else str(tmp_path / a) for a in args]
    res = runner.invoke(cli, ["export", "--db", str(stored_day), *args])
    assert res.exit_code == 2 and says in res.output and "internal error" not in res.output
    assert not list(tmp_path.iterdir())  # nothing written
