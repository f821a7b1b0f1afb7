"""The embedded store: one SQLite file (WAL mode), schema versioned by migrations.

- Observations are keyed by ``(source, id)``: re-sending the same observation is a no-op;
  re-sending a key with *different* content is refused (a changed observation needs a new id),
  and the whole batch with it.
- A batch is written in one transaction, after every check has passed: bad input leaves the
  file byte-for-byte unchanged.
- Each analysis run is a row in ``runs``; its incidents carry its ``run_id``.
- The evidence log's signing key lives beside the file (``PATH.key``, mode 0600).

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

import sqlite3
from pathlib import Path
from typing import Any

from ..errors import StoreError
from .records import Store

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
    # 2: the evidence log (RFC 9162 Merkle tree), signed tree heads, registered keys
    """
    CREATE TABLE log_entries (
        idx   INTEGER PRIMARY KEY,
        kind  TEXT    NOT NULL,
        entry BLOB    NOT NULL,
        leaf  BLOB    NOT NULL
    );
    CREATE TABLE log_nodes (
        level INTEGER NOT NULL,
        idx   INTEGER NOT NULL,
        hash  BLOB    NOT NULL,
        PRIMARY KEY (level, idx)
    ) WITHOUT ROWID;
    CREATE TABLE tree_heads (
        tree_size INTEGER PRIMARY KEY,
        root_hash TEXT NOT NULL,
        timestamp TEXT NOT NULL,
        key_id    TEXT NOT NULL,
        signature TEXT NOT NULL
    );
    CREATE TABLE keys (
        key_id        TEXT PRIMARY KEY,
        owner         TEXT NOT NULL,
        role          TEXT NOT NULL,
        public_key    BLOB NOT NULL,
        registered_at TEXT NOT NULL
    );
    CREATE INDEX keys_owner ON keys (owner);
    CREATE TABLE signature_policy (
        type     TEXT PRIMARY KEY,
        required INTEGER NOT NULL
    );
    ALTER TABLE observations ADD COLUMN log_index INTEGER;
    ALTER TABLE runs ADD COLUMN log_index INTEGER;
    ALTER TABLE runs ADD COLUMN tree_size INTEGER
    """,
    # 3: the service: bearer tokens (hashes only), incident reviews, the commission's cases
    """
    CREATE TABLE tokens (
        token_sha256 TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        role         TEXT NOT NULL,
        member_state TEXT,
        created_at   TEXT NOT NULL
    );
    CREATE INDEX tokens_name ON tokens (name);
    CREATE TABLE incident_reviews (
        id         TEXT PRIMARY KEY,
        status     TEXT    NOT NULL,
        published  INTEGER NOT NULL,
        reviewer   TEXT    NOT NULL,
        updated_at TEXT    NOT NULL,
        log_index  INTEGER NOT NULL
    );
    CREATE TABLE cases (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        incident   TEXT,
        allegation TEXT,
        accused    TEXT NOT NULL,
        filed_by   TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE case_events (
        case_id   INTEGER NOT NULL REFERENCES cases (id),
        seq       INTEGER NOT NULL,
        event     TEXT    NOT NULL,
        log_index INTEGER NOT NULL,
        PRIMARY KEY (case_id, seq)
    )
    """,
    # 4: an R*Tree over incidents' position and time span (bbox + time queries)
    """
    CREATE VIRTUAL TABLE incidents_rtree USING rtree(rid, min_lon, max_lon, min_lat, max_lat,
        min_t, max_t);
    INSERT INTO incidents_rtree
        SELECT rowid, lon, lon, lat, lat, time_start_us, time_end_us FROM incidents
        WHERE lon IS NOT NULL
    """,
)


class SqliteStore(Store):
    """A Truceline store in one SQLite file. Use as a context manager."""

    def __init__(self, path: str | Path, log_key: str | Path | None = None) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        super().__init__(log_key, Path(f"{self.path}.key"))
        try:
            # one connection, usable from the service's worker threads (it serialises them)
            self.db = sqlite3.connect(
                str(self.path), isolation_level=None, timeout=30.0, check_same_thread=False
            )
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the store: {exc}") from None

    def _begin_write(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def _index_run(self, run_id: int) -> None:
        self.db.execute(
            "INSERT INTO incidents_rtree SELECT rowid, lon, lon, lat, lat, time_start_us, "
            "time_end_us FROM incidents WHERE run_id = ? AND lon IS NOT NULL",
            (run_id,),
        )

    def _space_time_index(
        self, bbox: tuple[float, float, float, float], start_us: int | None, end_us: int | None
    ) -> tuple[str, list[Any]]:
        # the R*Tree keeps 32-bit floats, rounded outwards: a superset, narrowed exactly by
        # the plain conditions beside it
        sql = (
            "AND rowid IN (SELECT rid FROM incidents_rtree WHERE max_lon >= ? AND min_lon <= ? "
            "AND max_lat >= ? AND min_lat <= ?"
        )
        args: list[Any] = [bbox[0], bbox[2], bbox[1], bbox[3]]
        if start_us is not None:
            sql += " AND max_t >= ?"
            args.append(start_us)
        if end_us is not None:
            sql += " AND min_t <= ?"
            args.append(end_us)
        return sql + ")", args

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
        self._migrated(version)
