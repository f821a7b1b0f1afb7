"""The embedded store: one SQLite file (WAL mode), schema versioned by migrations.

- Observations are keyed by ``(source, id)``: re-sending the same observation is a no-op;
  re-sending a key with *different* content is refused (a changed observation needs a new id),
  and the whole batch with it.
- A batch is written in one transaction, after every check has passed: bad input leaves the
  file byte-for-byte unchanged.
- Each analysis run is a row in ``runs``; its incidents carry its ``run_id``.

>>> import tempfile, pathlib
>>> from truceline.observations import parse_lines
>>> line = ('{"id":"1","type":"thermal","source":"firms","time":"2026-03-01T00:00:00Z",'
...         '"position":[36.1,48.2]}')
>>> with tempfile.TemporaryDirectory() as tmp:
...     with SqliteStore(pathlib.Path(tmp) / "t.db") as store:
...         first = store.add_observations(parse_lines([line], "a.jsonl"))
...         again = store.add_observations(parse_lines([line], "a.jsonl"))
...         n = store.count_observations()
>>> first, again, n
((1, 0), (0, 1), 1)
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from ..errors import InputError, InputErrors, StoreError
from ..observations import Observation, ObservationBatch, parse_record

__all__ = ["MIGRATIONS", "SqliteStore"]

MIGRATIONS: tuple[str, ...] = (
    # 1: observations, runs, incidents
    """
    CREATE TABLE observations (
        source      TEXT    NOT NULL,
        id          TEXT    NOT NULL,
        type        TEXT    NOT NULL,
        time_us     INTEGER NOT NULL,
        time_end_us INTEGER,
        lon         REAL,
        lat         REAL,
        body        TEXT    NOT NULL,
        ingested_at TEXT    NOT NULL,
        PRIMARY KEY (source, id)
    ) WITHOUT ROWID;
    CREATE INDEX observations_time ON observations (time_us);
    CREATE INDEX observations_type_time ON observations (type, time_us);
    CREATE TABLE runs (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at       TEXT    NOT NULL,
        code_version     TEXT    NOT NULL,
        agreement_id     TEXT    NOT NULL,
        inputs_sha256    TEXT    NOT NULL,
        observations     INTEGER NOT NULL,
        incidents_sha256 TEXT    NOT NULL,
        summary          TEXT    NOT NULL
    );
    CREATE TABLE incidents (
        run_id        INTEGER NOT NULL REFERENCES runs (id),
        id            TEXT    NOT NULL,
        kind          TEXT    NOT NULL,
        time_start_us INTEGER NOT NULL,
        time_end_us   INTEGER NOT NULL,
        lon           REAL,
        lat           REAL,
        confidence    REAL    NOT NULL,
        attributed_to TEXT,
        status        TEXT    NOT NULL,
        feature       TEXT    NOT NULL,
        PRIMARY KEY (run_id, id)
    );
    CREATE INDEX incidents_time ON incidents (run_id, time_start_us);
    """,
)


def _position(obs: Observation) -> tuple[float | None, float | None]:
    raw = obs.raw
    pos = raw.get("position") or raw.get("observer")
    if isinstance(pos, list) and len(pos) >= 2:
        return float(pos[0]), float(pos[1])
    return None, None


class SqliteStore:
    """A Truceline store in one SQLite file. Use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.db = sqlite3.connect(str(self.path), isolation_level=None, timeout=30.0)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the store: {exc}") from None

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @property
    def schema_version(self) -> int:
        return int(self.db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StoreError(
                f"{self.path}: schema version {version} is newer than this Truceline "
                f"({len(MIGRATIONS)}); upgrade Truceline"
            )
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            self.db.execute("BEGIN IMMEDIATE")
            try:
                for statement in script.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute(f"PRAGMA user_version = {number}")
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise

    # -- observations ---------------------------------------------------------------
    def add_observations(self, batch: ObservationBatch) -> tuple[int, int]:
        """Insert a validated batch atomically; return ``(accepted, duplicates)``.

        Raises :class:`InputErrors` (and writes nothing) when a key already stored has
        different content.
        """
        rows = batch.observations
        existing: dict[tuple[str, str], str] = {}
        for chunk in range(0, len(rows), 500):
            part = rows[chunk : chunk + 500]
            clause = " OR ".join(["(source = ? AND id = ?)"] * len(part))
            args = [v for o in part for v in o.key]
            for source, ident, body in self.db.execute(
                f"SELECT source, id, body FROM observations WHERE {clause}", args
            ):
                existing[(source, ident)] = body
        errors = [
            InputError(
                o.file,
                o.line,
                "id",
                f"({o.key[0]}, {o.key[1]}) is already stored with different content",
            )
            for o in rows
            if o.key in existing and existing[o.key] != o.body
        ]
        if errors:
            raise InputErrors(errors)
        fresh = [o for o in rows if o.key not in existing]
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany(
                "INSERT INTO observations VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        o.key[0],
                        o.key[1],
                        o.type,
                        o.time_us,
                        o.model.time_end,
                        *_position(o),
                        o.body,
                        now,
                    )
                    for o in fresh
                ),
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return len(fresh), len(rows) - len(fresh) + batch.duplicates

    def count_observations(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM observations").fetchone()[0])

    def iter_observations(self) -> Iterator[Observation]:
        """Every stored observation, in (source, id) order, validated again on the way out."""
        where = f"{self.path}#observations"
        cur = self.db.execute("SELECT body FROM observations ORDER BY source, id")
        for n, (body,) in enumerate(cur, start=1):
            yield parse_record(json.loads(body), where, n)

    # -- runs and incidents -----------------------------------------------------------
    def add_run(self, summary: dict[str, Any], features: list[dict[str, Any]]) -> int:
        """Store one analysis run and its incidents (GeoJSON features) atomically."""
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self.db.execute("BEGIN IMMEDIATE")
        try:
            cur = self.db.execute(
                "INSERT INTO runs (created_at, code_version, agreement_id, inputs_sha256, "
                "observations, incidents_sha256, summary) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    now,
                    summary["truceline_version"],
                    summary["agreement"],
                    summary["inputs"]["sha256"],
                    summary["inputs"]["observations"],
                    summary.get("outputs", {}).get("incidents_sha256", ""),
                    json.dumps(summary, sort_keys=True),
                ),
            )
            run_id = int(cur.lastrowid or 0)
            self.db.executemany(
                "INSERT INTO incidents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (_incident_row(run_id, f) for f in features),
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return run_id

    def latest_run(self) -> int | None:
        row = self.db.execute("SELECT max(id) FROM runs").fetchone()
        return None if row[0] is None else int(row[0])

    def incidents(self, run_id: int | None = None) -> list[dict[str, Any]]:
        """The GeoJSON features of a run (the latest by default), in time order."""
        run = self.latest_run() if run_id is None else run_id
        if run is None:
            return []
        cur = self.db.execute(
            "SELECT feature FROM incidents WHERE run_id = ? ORDER BY time_start_us, id", (run,)
        )
        return [json.loads(f) for (f,) in cur]


def _incident_row(run_id: int, feature: dict[str, Any]) -> tuple[Any, ...]:
    from .._time import parse_time

    p = feature["properties"]
    coords = (feature.get("geometry") or {}).get("coordinates") or [None, None]
    return (
        run_id,
        p["id"],
        p["kind"],
        parse_time(p["time_start"]),
        parse_time(p["time_end"]),
        coords[0],
        coords[1],
        p["confidence"],
        p["attributed_to"],
        p["status"],
        json.dumps(feature, separators=(",", ":"), sort_keys=True),
    )
