"""Store behaviour, on SQLite and on PostgreSQL + PostGIS alike (``open_store`` is
parametrised over both); the few SQLite-only facts (WAL, the file's bytes) are marked."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.test_observations import GOOD
from truceline.errors import InputErrors, StoreError
from truceline.observations import parse_lines
from truceline.store.sqlite import MIGRATIONS, SqliteStore

Opener = Callable[..., Any]


def _batch(*records: dict) -> object:
    return parse_lines([json.dumps(r) for r in records], "x.jsonl")


def _state(store: Any) -> list[Any]:
    """Everything a store holds, as comparable rows (for 'nothing was written')."""
    tables = ("observations", "log_entries", "log_nodes", "tree_heads", "runs", "incidents")
    out = []
    for t in tables:
        out.append(sorted(map(tuple, store._x(f"SELECT * FROM {t}").fetchall()), key=repr))
    return out


def test_schema_is_migrated(open_store: Opener) -> None:
    with open_store() as store:
        assert store.schema_version == len(MIGRATIONS)
    with open_store() as store:  # reopening migrates nothing
        assert store.schema_version == len(MIGRATIONS)


def test_sqlite_is_wal(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "t.db") as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    SqliteStore(path).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(StoreError, match="newer"):
        SqliteStore(path)


def test_idempotent_by_source_and_id(open_store: Opener) -> None:
    with open_store() as store:
        assert store.add_observations(_batch(*GOOD.values())) == (5, 0)
        before = _state(store)
    with open_store() as store:
        assert store.add_observations(_batch(*GOOD.values())) == (0, 5)
        assert store.count_observations() == 5
        assert _state(store) == before


def test_sqlite_file_is_untouched_by_a_resend(tmp_path: Path) -> None:
    path = tmp_path / "t.db"
    with SqliteStore(path) as store:
        store.add_observations(_batch(*GOOD.values()))  # type: ignore[arg-type]
    before = path.read_bytes()
    with SqliteStore(path) as store:
        store.add_observations(_batch(*GOOD.values()))  # type: ignore[arg-type]
    assert path.read_bytes() == before


def test_conflicting_resend_is_refused_and_nothing_written(open_store: Opener) -> None:
    with open_store() as store:
        store.add_observations(_batch(GOOD["uav"]))
        before = _state(store)
    changed = dict(GOOD["uav"], count=5)
    with open_store() as store, pytest.raises(InputErrors, match="different content"):
        store.add_observations(_batch(GOOD["thermal"], changed))
    with open_store() as store:
        assert store.count_observations() == 1
        assert _state(store) == before


def test_round_trip_keeps_everything(open_store: Opener) -> None:
    rec = dict(GOOD["acoustic"], extra={"k": [1, 2]})
    with open_store() as store:
        store.add_observations(_batch(rec))
        (back,) = list(store.iter_observations())
    assert back.raw == rec
    assert back.time_us == parse_lines([json.dumps(rec)], "x").observations[0].time_us


def test_records_of_a_type_in_a_time_window(open_store: Opener) -> None:
    recs = [dict(GOOD["acoustic"], id=f"a{k}", time=f"2026-03-0{k}T12:00:00Z") for k in (1, 2, 3)]
    with open_store() as store:
        store.add_observations(_batch(*recs, GOOD["patrol"]))
        t0 = parse_lines([json.dumps(recs[1])], "x").observations[0].time_us
        got = store.observation_records("acoustic", t0, t0 + 86_400_000_000)
        assert got == [recs[1]]
        assert store.observation_records("acoustic", t0, t0) == []
        assert len(store.observation_records("patrol", 0, 2**62)) == 1


def _feature(n: int, lon: float, lat: float, t: str) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": f"inc-{n}",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "id": f"inc-{n}",
            "kind": "fire",
            "time_start": t,
            "time_end": t,
            "confidence": 0.9,
            "attributed_to": "N",
            "status": "automatic",
        },
    }


SUMMARY = {
    "truceline_version": "0",
    "agreement": "a",
    "inputs": {"sha256": "x", "observations": 3},
    "outputs": {"incidents_sha256": "y"},
}


def test_runs_incidents_and_spatial_queries(open_store: Opener) -> None:
    feats = [
        _feature(1, 36.0, 48.0, "2026-03-01T00:00:00Z"),
        _feature(2, 36.5, 48.5, "2026-03-01T01:00:00Z"),
        _feature(3, 37.0, 48.0, "2026-03-01T02:00:00Z"),
    ]
    with open_store() as store:
        run = store.add_run(SUMMARY, feats)
        assert store.latest_run() == run
        assert store.incidents() == feats
        box = [f["id"] for f in store.query_incidents(bbox=(35.9, 47.9, 36.6, 48.6))]
        assert box == ["inc-1", "inc-2"]
        late = [f["id"] for f in store.query_incidents(start_us=1772326800000000)]
        assert late == ["inc-2", "inc-3"]
        after = [f["id"] for f in store.query_incidents(after=(1772323200000000, "inc-1"))]
        assert after == ["inc-2", "inc-3"]


def test_postgis_answers_a_bbox_from_its_spatial_index(open_store: Opener) -> None:
    if open_store.kind != "postgres":  # type: ignore[attr-defined]
        pytest.skip("PostGIS only")
    with open_store() as store:
        store._x("SET enable_seqscan = off")
        plan = store.query_plan(
            "SELECT id FROM incidents WHERE run_id = ? " + store._bbox_clause(),
            (1, 35.0, 47.0, 37.0, 49.0),
        )
    assert "incidents_geom" in plan


def test_reviews_follow_an_incident_whose_support_grew(open_store: Opener) -> None:
    """New support changes an incident's id; its review and publication must follow it, or
    a party could unpublish an incident by filing an allegation next to it."""
    old = _feature(1, 36.0, 48.0, "2026-03-01T00:00:00Z")
    old["properties"]["observations"] = ["AS-1:1", "AS-2:1", "AS-3:1"]
    grown = _feature(9, 36.0, 48.0, "2026-03-01T00:00:00Z")
    grown["properties"]["observations"] = ["AS-1:1", "AS-2:1", "AS-3:1", "party-N:a1"]
    other = _feature(5, 37.0, 48.0, "2026-03-01T00:00:00Z")
    other["properties"]["observations"] = ["AS-9:1"]
    with open_store() as store:
        store.add_run(SUMMARY, [old, other])
        store.set_review("inc-1", "verified", True, "ana")
        store.add_run(SUMMARY, [grown, other])
        assert store.reviews()["inc-9"] == ("verified", True)
        assert "inc-5" not in store.reviews()
        entries = [json.loads(e) for e in store.entries()]
        assert entries[-1]["kind"] == "incident_review"
        assert entries[-1]["by"] == "carried from inc-1"


def test_a_case_follows_its_incident_to_the_latest_run(open_store: Opener) -> None:
    """A case's incident, gone from the latest run, is read as the incident of that run
    sharing the most of its observations, or as its last run found it (hole 16b)."""
    old = _feature(1, 36.0, 48.0, "2026-03-01T00:00:00Z")
    old["properties"]["observations"] = ["AS-1:1", "AS-2:1", "AS-3:1"]
    grown = _feature(9, 36.0, 48.0, "2026-03-01T00:00:00Z")
    grown["properties"]["observations"] = ["AS-1:1", "AS-2:1", "AS-3:1", "party-N:a1"]
    other = _feature(5, 37.0, 48.0, "2026-03-01T00:00:00Z")
    other["properties"]["observations"] = ["AS-9:1"]
    with open_store() as store:
        store.add_run(SUMMARY, [old, other])
        assert store.current_incident("inc-1") == (old, None)
        run = store.add_run(SUMMARY, [grown, other])
        feature, info = store.current_incident("inc-1")
        assert feature == grown
        assert info is not None and (info["superseded_by"], info["run"]) == ("inc-9", run)
        assert (info["shared"], info["of"], info["tied"]) == (3, 3, 0)
        store.add_run(SUMMARY, [other])  # nothing shares its observations any more
        feature, info = store.current_incident("inc-1")
        assert feature == old and info is not None and info["superseded_by"] is None
        assert info["incident"] == "inc-1"
        assert store.current_incident("inc-404") == (None, None)


def test_a_replys_files_are_kept_with_their_hashes_logged(open_store: Callable[..., Any]) -> None:
    """Both databases keep an attachment's bytes (BLOB, BYTEA) and log its description just
    before the reply; bytes that are not the ones described write nothing."""
    import hashlib

    from truceline import review

    data = bytes(range(256)) * 40
    meta = {"sha256": hashlib.sha256(data).hexdigest(), "name": "annex 1.pdf",
            "media_type": "application/pdf", "size": len(data)}  # fmt: skip
    with open_store() as store:
        case = store.open_case(review.opened(1_772_323_200_000_000, "a", incident="i", accused="S"))
        size = store.log_size()
        wrong = review.reply(1_772_323_300_000_000, "p", "S", "x", [{**meta, "size": 1}])
        with pytest.raises(ValueError):
            store.add_case_event(case, wrong, None, [data])
        assert store.log_size() == size and len(store.case_events(case)) == 1
        event = review.reply(1_772_323_300_000_000, "p", "S", "See annex 1.", [meta])
        store.add_case_event(case, event, None, [data])
        (kept,) = store.attachments_of(case, meta["sha256"])
        assert kept["data"] == data and kept["seq"] == 1 and kept["name"] == "annex 1.pdf"
        logged = json.loads(store.entry(kept["log_index"]))
        assert logged["kind"] == "attachment" and logged["sha256"] == meta["sha256"]
        # the file's entry names its event as the event's entry does: by a random id, not
        # by its place in the case (which counted hidden events); the store maps it back
        event_entry = json.loads(store.entry(store.log_size() - 1))
        assert event_entry["kind"] == "case_event" and "seq" not in logged
        assert (logged["case"], logged["event_id"]) == (case, event_entry["event_id"])
        assert store.case_event_seq(kept["log_index"]) == 1
        assert store.case_event_seq(store.log_size() - 1) == 1
        assert store.case_events(case)[1]["attachments"] == [meta]
