"""Open exports read back with the tools researchers use (geopandas, csv)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import geopandas as gpd
import pyarrow.parquet as pq
import pyogrio
from typer.testing import CliRunner

from truceline.cli import app as cli
from truceline.publish.exports import ACLED_COLUMNS

runner = CliRunner()


def _export(db: Path, fmt: str, out: Path) -> Path:
    res = runner.invoke(cli, ["export", "--db", str(db), "--format", fmt, "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "tree head" in " ".join(res.output.split())
    return out


def _incidents(db: Path) -> list[dict]:
    from truceline.store.sqlite import SqliteStore

    with SqliteStore(db) as s:
        return s.incidents()


def test_geojson_reads_back_with_the_tree_head(stored_day: Path, tmp_path: Path) -> None:
    path = _export(stored_day, "geojson", tmp_path / "i.geojson")
    doc = json.loads(path.read_text())
    assert doc["tree_head"]["tree_size"] > 0 and len(doc["tree_head"]["root_hash"]) == 64
    frame = gpd.read_file(path)
    assert len(frame) == len(_incidents(stored_day)) and frame.crs.to_epsg() == 4326


def test_geopackage_has_every_layer(stored_day: Path, tmp_path: Path) -> None:
    path = _export(stored_day, "gpkg", tmp_path / "i.gpkg")
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"incidents", "observations", "control_areas", "zones", "tree_head"} <= layers
    incidents = gpd.read_file(path, layer="incidents")
    assert len(incidents) == len(_incidents(stored_day))
    assert set(gpd.read_file(path, layer="control_areas")["party"]) == {"N", "S"}
    assert len(gpd.read_file(path, layer="observations")) > 1000
    head = json.loads(gpd.read_file(path, layer="tree_head")["tree_head"][0])
    assert head["tree_size"] > 0


def test_csv_has_acled_columns_and_ucdp_precision(stored_day: Path, tmp_path: Path) -> None:
    path = _export(stored_day, "csv", tmp_path / "i.csv")
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and list(rows[0])[: len(ACLED_COLUMNS)] == list(ACLED_COLUMNS)
    assert {"where_prec", "date_prec", "tree_size", "root_hash"} <= set(rows[0])
    located = [r for r in rows if r["kind"] == "fire" and r["attributed_to"]]
    assert located and all(r["geo_precision"] == "1" and r["where_prec"] == "1" for r in located)
    assert all(r["actor1"] in ("Northern Party", "Southern Party") for r in located)
    unlocated = [r for r in rows if r["kind"] == "unlocated"]
    assert all(r["where_prec"] == "4" for r in unlocated)
    assert all(r["event_type"] for r in rows) and all(r["fatalities"] == "0" for r in rows)


def test_parquet_reads_back_with_the_tree_head(stored_day: Path, tmp_path: Path) -> None:
    path = _export(stored_day, "parquet", tmp_path / "i.parquet")
    frame = gpd.read_parquet(path)
    assert len(frame) == len(_incidents(stored_day))
    meta = pq.read_schema(path).metadata
    assert json.loads(meta[b"truceline_tree_head"])["tree_size"] > 0


def test_an_unknown_format_is_refused(stored_day: Path, tmp_path: Path) -> None:
    res = runner.invoke(
        cli, ["export", "--db", str(stored_day), "--format", "xls", "--out", str(tmp_path / "x")]
    )
    assert res.exit_code == 2
