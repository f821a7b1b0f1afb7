"""Observations and incidents at rest as a Parquet set (truceline.columnar): written from the
log, read by pandas and DuckDB without Truceline, analysed to the store's run byte for byte,
and refused, naming file, row and field, wherever it no longer matches the log."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import copy_store
from truceline.agreement import Agreement
from truceline.cli import app
from truceline.columnar import MANIFEST, NO_SECTOR, Sectors, file_sha256
from truceline.errors import InputError
from truceline.observations import ObservationBatch
from truceline.store.parquet_set import append_observations, read_observations

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

runner = CliRunner()


def _ok(args: list[str]) -> str:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return res.output


def _refused(args: list[str]) -> str:
    res = runner.invoke(app, args, env={"COLUMNS": "1000"})  # long paths unbroken
    assert res.exit_code == 2, res.output
    return " ".join(res.output.split())


@pytest.fixture
def with_set(stored_day: Path, scenario: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the stored day (run 1 analysed) and its Parquet set: the store, the set."""
    db = copy_store(stored_day, tmp_path / "store")
    root = tmp_path / "set"
    out = _ok(["ingest", "--db", str(db), "--agreement", str(scenario / "agreement.yaml"),
               "--parquet", str(root), str(scenario / "observations.jsonl")])  # fmt: skip
    assert "Parquet set" in out and "appended" in out
    return db, root


def _analyze(db: Path, scenario: Path, out: Path, *extra: str) -> list[str]:
    return ["analyze", "--db", str(db), "--agreement", str(scenario / "agreement.yaml"),
            "--out", str(out), *extra]  # fmt: skip


def test_pandas_and_duckdb_read_the_set_as_the_log_holds_it(
    with_set: tuple[Path, Path], batch: ObservationBatch
) -> None:
    import pandas as pd

    duckdb = pytest.importorskip("duckdb")
    _, root = with_set
    df = pd.read_parquet(root / "observations")
    assert len(df) == len(batch.observations)
    assert set(df["type"]) == {o.type for o in batch.observations}
    assert str(df["time"].dtype) == "datetime64[us, UTC]"
    assert df["log_index"].is_unique and df["sector"].nunique() > 5
    assert set(df["source"] + ":" + df["id"]) == {o.ref for o in batch.observations}
    rows = duckdb.sql(
        f"SELECT day, sector, count(*) AS n FROM read_parquet('{root}/observations/**/*.parquet',"
        " hive_partitioning = true) GROUP BY ALL"
    ).fetchall()
    assert sum(n for _, _, n in rows) == len(batch.observations)
    manifest = json.loads((root / MANIFEST).read_text())
    assert manifest["observation_rows"] == len(batch.observations)
    assert all(file_sha256(root / f["path"]) == f["sha256"] for f in manifest["observations"])


def test_analysing_the_set_gives_the_stores_run_and_reproduces(
    with_set: tuple[Path, Path], stored_day: Path, scenario: Path, tmp_path: Path
) -> None:
    db, root = with_set
    out = _ok([*_analyze(db, scenario, tmp_path / "a", "--parquet", str(root))])
    assert "stored as run 2" in out
    logged = stored_day.parent / "out"
    got = tmp_path / "a"
    assert (got / "incidents.geojson").read_bytes() == (logged / "incidents.geojson").read_bytes()
    head = json.loads((root / MANIFEST).read_text())["tree_head"]
    assert (
        json.loads((got / "summary.json").read_text())["evidence"]["tree_size"] == head["tree_size"]
    )
    out = _ok(["reproduce", "2", "--db", str(db), "--out", str(tmp_path / "re")])
    assert "identical" in out
    again = (tmp_path / "re" / "incidents.geojson").read_bytes()
    assert again == (got / "incidents.geojson").read_bytes()


def test_appending_writes_only_what_was_logged_since(
    open_store: Callable[..., Any], batch: ObservationBatch, agreement: Agreement, tmp_path: Path
) -> None:
    root = tmp_path / "set"
    sectors = Sectors.of(agreement)
    half = len(batch.observations) // 2
    with open_store() as store:
        store.add_observations(ObservationBatch(batch.observations[:half]))
        first = append_observations(store, root, sectors)
        assert first.rows == half and first.tree_size == store.log_size()
        before = {p: p.read_bytes() for p in (root / "observations").rglob("*.parquet")}
        store.add_observations(ObservationBatch(batch.observations))  # the first half again
        second = append_observations(store, root, sectors)
        assert second.rows == len(batch.observations) - half
        for path, data in before.items():  # what was written is never rewritten
            assert path.read_bytes() == data
        manifest = (root / MANIFEST).read_bytes()
        assert append_observations(store, root, sectors).rows == 0
        assert (root / MANIFEST).read_bytes() == manifest  # nothing new: nothing written
        observations, head = read_observations(store, root)
        logged = list(store.logged_observations(head.tree_size))
    assert [(o.body, o.leaf) for o in observations] == [(o.body, o.leaf) for o in logged]


def _rewrite(path: Path, change: Callable[[dict[str, list[Any]]], None], manifest: Path) -> None:
    """Rewrite one file of the set with ``change`` made to its columns, and record the new
    file's SHA-256 in the manifest (a forger who also rewrote the manifest)."""
    table = pq.read_table(path)
    cols = {n: table.column(n).to_pylist() for n in table.schema.names}
    change(cols)
    pq.write_table(pa.Table.from_pydict(cols, schema=table.schema), path)
    m = json.loads(manifest.read_text())
    for f in m["observations"]:
        if path.as_posix().endswith(f["path"]):
            f["sha256"] = file_sha256(path)
    manifest.write_text(json.dumps(m))


def _largest_file(root: Path) -> tuple[Path, str]:
    f = max(json.loads((root / MANIFEST).read_text())["observations"], key=lambda f: f["rows"])
    return root / f["path"], f["path"]


def test_an_edited_entry_is_refused_naming_the_file_row_and_field(
    with_set: tuple[Path, Path], scenario: Path, tmp_path: Path
) -> None:
    db, root = with_set
    path, _ = _largest_file(root)

    def edit(cols: dict[str, list[Any]]) -> None:
        cols["entry"][3] = cols["entry"][3].replace('"id":"', '"id":"x', 1)

    _rewrite(path, edit, root / MANIFEST)
    msg = _refused(_analyze(db, scenario, tmp_path / "a", "--parquet", str(root)))
    assert f"{path}:row 3: entry: does not hash to the row's leaf" in msg
    assert not (tmp_path / "a" / "incidents.geojson").exists()


def test_an_entry_with_its_leaf_rehashed_is_not_the_logs(
    with_set: tuple[Path, Path], scenario: Path, tmp_path: Path
) -> None:
    from truceline.evidence import leaf_hash

    db, root = with_set
    path, _ = _largest_file(root)

    def edit(cols: dict[str, list[Any]]) -> None:
        assert '"salt":"' in cols["entry"][0]  # a change no column shows
        cols["entry"][0] = cols["entry"][0].replace('"salt":"', '"salt":"x', 1)
        cols["leaf"][0] = leaf_hash(cols["entry"][0].encode())

    _rewrite(path, edit, root / MANIFEST)
    msg = _refused(_analyze(db, scenario, tmp_path / "a", "--parquet", str(root)))
    assert f"{path}:row 0: leaf: the log does not hold this entry at index" in msg


def test_a_column_that_disagrees_with_its_entry_is_refused(
    with_set: tuple[Path, Path], scenario: Path, tmp_path: Path
) -> None:
    db, root = with_set
    path, _ = _largest_file(root)

    def edit(cols: dict[str, list[Any]]) -> None:
        cols["lon"][5] = cols["lon"][5] + 0.01  # the entry still says where it was

    _rewrite(path, edit, root / MANIFEST)
    msg = _refused(_analyze(db, scenario, tmp_path / "a", "--parquet", str(root)))
    assert f"{path}:row 5: columns: disagree with the row's entry" in msg


def test_a_changed_or_missing_file_is_refused(
    with_set: tuple[Path, Path], scenario: Path, tmp_path: Path
) -> None:
    db, root = with_set
    path, rel = _largest_file(root)
    data = path.read_bytes()
    path.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
    msg = _refused(_analyze(db, scenario, tmp_path / "a", "--parquet", str(root)))
    assert f"{path}: its SHA-256 is not the manifest's" in msg
    path.unlink()
    msg = _refused(_analyze(db, scenario, tmp_path / "a", "--parquet", str(root)))
    assert f"{path}: listed by the manifest, but not there" in msg
    m = json.loads((root / MANIFEST).read_text())
    m["observations"] = [f for f in m["observations"] if f["path"] != rel]
    (root / MANIFEST).write_text(json.dumps(m))  # and dropped from the manifest too
    msg = _refused(_analyze(db, scenario, tmp_path / "a", "--parquet", str(root)))
    assert f"{root / MANIFEST}: observations:" in msg and "a file is missing" in msg


def test_a_set_from_another_log_or_with_a_forged_head_is_refused(
    with_set: tuple[Path, Path], scenario: Path, tmp_path: Path
) -> None:
    db, root = with_set
    other = tmp_path / "other.db"
    _ok(["ingest", "--db", str(other), str(scenario / "observations.jsonl")])
    msg = _refused(_analyze(other, scenario, tmp_path / "a", "--parquet", str(root)))
    assert f"{root / MANIFEST}: tree_head: the set was written from a log whose root" in msg
    msg = _refused(["ingest", "--db", str(other), "--agreement", str(scenario / "agreement.yaml"),
                    "--parquet", str(root), str(scenario / "observations.jsonl")])  # fmt: skip
    assert "tree_head: the set was written from a log" in msg
    m = json.loads((root / MANIFEST).read_text())
    sig = m["tree_head"]["signature"]
    m["tree_head"]["signature"] = ("B" if sig[0] == "A" else "A") + sig[1:]
    (root / MANIFEST).write_text(json.dumps(m))
    msg = _refused(_analyze(db, scenario, tmp_path / "a", "--parquet", str(root)))
    assert "tree_head.signature: not this store's log's signature" in msg


def test_what_an_interrupted_append_left_is_removed(
    with_set: tuple[Path, Path], scenario: Path
) -> None:
    db, root = with_set
    path, _ = _largest_file(root)
    stray = path.with_name("part-999999999990-999999999999.parquet")
    staged = path.with_name(f".{path.name}.tmp")
    stray.write_bytes(path.read_bytes())
    staged.write_bytes(b"half")
    _ok(["ingest", "--db", str(db), "--agreement", str(scenario / "agreement.yaml"),
         "--parquet", str(root), str(scenario / "observations.jsonl")])  # fmt: skip
    assert not stray.exists() and not staged.exists() and path.exists()


def test_the_incidents_exported_by_day_and_sector(
    with_set: tuple[Path, Path], stored_day: Path, tmp_path: Path
) -> None:
    import geopandas as gpd

    db, root = with_set
    out = _ok(
        ["export", "--format", "parquet", "--partitioned", "--out", str(root), "--db", str(db)]
    )
    features = json.loads((stored_day.parent / "out" / "incidents.geojson").read_text())["features"]
    assert f"wrote {len(features)} incidents" in out
    frame = gpd.read_parquet(root / "incidents")
    assert sorted(frame["id"]) == sorted(f["properties"]["id"] for f in features)
    assert {"day", "sector"} <= set(frame.columns)
    m = json.loads((root / MANIFEST).read_text())
    assert m["incidents"]["run"] == 1 and m["incidents"]["audience"] == "internal"
    assert sum(f["rows"] for f in m["incidents"]["files"]) == len(features)
    # the public's export replaces the internal one: nothing of it is left behind
    out = _ok(["export", "--format", "parquet", "--partitioned", "--out", str(root), "--db",
               str(db), "--audience", "public"])  # fmt: skip
    assert "wrote 0 incidents" in out  # nothing is published in the stored day
    assert not list((root / "incidents").rglob("*.parquet"))
    assert json.loads((root / MANIFEST).read_text())["incidents"]["audience"] == "public"


def test_the_dask_engine_reads_the_files_on_its_workers(
    with_set: tuple[Path, Path], tmp_path: Path
) -> None:
    pytest.importorskip("distributed")
    from truceline.cluster import dask_map
    from truceline.store.sqlite import SqliteStore

    db, root = with_set
    with SqliteStore(db, Path(f"{db}.key")) as store:
        single, head = read_observations(store, root)
        with dask_map(workers=2) as run:
            spread, head2 = read_observations(store, root, run)
    assert head == head2
    assert [(o.body, o.leaf) for o in spread] == [(o.body, o.leaf) for o in single]


def test_wrong_arguments_are_refused_before_anything_is_read(
    scenario: Path, stored_day: Path, tmp_path: Path
) -> None:
    files = str(scenario / "observations.jsonl")
    msg = _refused(["analyze", "--agreement", str(scenario / "agreement.yaml"), "--out",
                    str(tmp_path / "a"), "--parquet", str(tmp_path), files])  # fmt: skip
    assert "--parquet: a Parquet set is read with the store" in msg
    msg = _refused(_analyze(stored_day, scenario, tmp_path / "a", "--parquet", str(tmp_path)))
    assert "not a Parquet set" in msg
    msg = _refused(["export", "--format", "csv", "--partitioned", "--out", str(tmp_path),
                    "--db", str(stored_day)])  # fmt: skip
    assert "--partitioned: only a Parquet export is partitioned" in msg
    with pytest.raises(InputError, match="format"):
        (tmp_path / "bad").mkdir()
        (tmp_path / "bad" / MANIFEST).write_text('{"format": "x"}')
        from truceline.columnar import load_manifest

        load_manifest(tmp_path / "bad")


def test_sectors_run_along_the_line_and_unlocated_points_have_none(agreement: Agreement) -> None:
    sectors = Sectors.of(agreement, km=25.0)
    line = agreement.line_local
    along = np.linspace(1.0, line.length - 1.0, 40)
    pts = [line.interpolate(d) for d in along]
    lon, lat = agreement.frame.inverse([p.x for p in pts], [p.y for p in pts])
    got = sectors.sector(np.append(lon, np.nan), np.append(lat, np.nan))
    assert got[-1] == NO_SECTOR
    assert np.array_equal(got[:-1], np.minimum(along // 25_000, sectors.count - 1))
    assert Sectors.of(agreement, km=50.0).fingerprint != sectors.fingerprint
