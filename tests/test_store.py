from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from truceline.errors import InputErrors, StoreError
from truceline.observations import parse_lines
from truceline.store.sqlite import MIGRATIONS, SqliteStore

from .test_observations import GOOD


def _batch(*records: dict) -> object:
    return parse_lines([json.dumps(r) for r in records], "x.jsonl")


def test_schema_is_migrated_and_wal(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "t.db") as store:
        assert store.schema_version == len(MIGRATIONS)
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    SqliteStore(path).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(StoreError, match="newer"):
        SqliteStore(path)


def test_idempotent_by_source_and_id(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with SqliteStore(path) as store:
        assert store.add_observations(_batch(*GOOD.values())) == (5, 0)  # type: ignore[arg-type]
    before = path.read_bytes()
    with SqliteStore(path) as store:
        assert store.add_observations(_batch(*GOOD.values())) == (0, 5)  # type: ignore[arg-type]
        assert store.count_observations() == 5
    assert path.read_bytes() == before


def test_conflicting_resend_is_refused_and_nothing_written(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with SqliteStore(path) as store:
        store.add_observations(_batch(GOOD["uav"]))  # type: ignore[arg-type]
    before = path.read_bytes()
    changed = dict(GOOD["uav"], count=5)
    with SqliteStore(path) as store, pytest.raises(InputErrors, match="different content"):
        store.add_observations(_batch(GOOD["thermal"], changed))  # type: ignore[arg-type]
    with SqliteStore(path) as store:
        assert store.count_observations() == 1
    assert path.read_bytes() == before


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    rec = dict(GOOD["acoustic"], extra={"k": [1, 2]})
    with SqliteStore(tmp_path / "t.db") as store:
        store.add_observations(_batch(rec))  # type: ignore[arg-type]
        (back,) = list(store.iter_observations())
    assert back.raw == rec
    assert back.time_us == parse_lines([json.dumps(rec)], "x").observations[0].time_us


def test_runs_and_incidents(tmp_path: Path) -> None:
    feature = {
        "type": "Feature",
        "id": "inc-1",
        "geometry": {"type": "Point", "coordinates": [36.0, 48.0]},
        "properties": {
            "id": "inc-1",
            "kind": "fire",
            "time_start": "2026-03-01T00:00:00Z",
            "time_end": "2026-03-01T00:00:30Z",
            "confidence": 0.9,
            "attributed_to": "N",
            "status": "automatic",
        },
    }
    summary = {
        "truceline_version": "0",
        "agreement": "a",
        "inputs": {"sha256": "x", "observations": 3},
        "outputs": {"incidents_sha256": "y"},
    }
    with SqliteStore(tmp_path / "t.db") as store:
        run = store.add_run(summary, [feature])
        assert store.latest_run() == run
        assert store.incidents() == [feature]
