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
from .schema import migrations

__all__ = ["MIGRATIONS", "SqliteStore"]

MIGRATIONS = migrations("sqlite")


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
