"""The server store: PostgreSQL with PostGIS, for a mechanism many people use at once.

Same behaviour as the SQLite store (the test suite runs every store test against both); the
differences are underneath:

- positions are PostGIS points (SRID 4326) with GiST indexes, and a bounding-box query uses
  the index (``geom && ST_MakeEnvelope(...)``);
- a write transaction takes an exclusive lock on the log table, so appends from any number
  of service workers and command-line tools are serial and the Merkle tree stays one;
- the schema version is a one-row table (SQLite uses ``PRAGMA user_version``);
- every write that appends to the log notifies its listeners on commit (LISTEN/NOTIFY:
  :mod:`.notify`), so the API's workers and the live analyser need not poll.

The log's signing key is a file (``--log-key``; by default ``truceline-log.key`` in the
working directory), never in the database.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .._extras import require
from ..errors import StoreError
from .notify import CHANNEL
from .records import Store
from .schema import migrations

__all__ = ["MIGRATIONS", "PostgresStore"]

MIGRATIONS = migrations("postgres")


def _redacted(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", url)


class PostgresStore(Store):
    """A Truceline store in a PostgreSQL database with PostGIS. Use as a context manager."""

    def __init__(self, url: str, log_key: str | Path | None = None) -> None:
        psycopg = require("psycopg", "postgres", "PostgreSQL stores")

        self.url = url
        self.where = _redacted(url)
        super().__init__(log_key, Path("truceline-log.key"))
        try:
            self.db = psycopg.connect(url, autocommit=True)
            self._migrate()
        except psycopg.Error as exc:
            raise StoreError(f"{self.where}: cannot open the store: {exc}") from None

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")

    _INSERT = re.compile(r"^INSERT INTO (\w+)(?: \(([\w, ]+)\))? VALUES \([?, ]+\)$")

    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Plain multi-row inserts go through COPY (one round trip, not one per row)."""
        m = self._INSERT.match(" ".join(sql.split()))
        if m is None:
            super()._many(sql, rows)
            return
        cols = f" ({m.group(2)})" if m.group(2) else ""
        with self.db.cursor() as cur, cur.copy(f"COPY {m.group(1)}{cols} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    NOTIFIES = True

    def _notify_log(self, tree_size: int) -> None:
        """``pg_notify`` on :data:`truceline.store.notify.CHANNEL`, sent on commit."""
        self.db.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(tree_size)))

    def _begin_write(self) -> None:
        self.db.execute("BEGIN")
        self.db.execute("LOCK TABLE log_entries IN EXCLUSIVE MODE")

    def _bbox_clause(self) -> str:
        return "AND geom && ST_MakeEnvelope(?, ?, ?, ?, 4326)"

    def _space_time_index(
        self, bbox: tuple[float, float, float, float], start_us: int | None, end_us: int | None
    ) -> tuple[str, list[Any]]:
        return self._bbox_clause(), list(bbox)

    @property
    def schema_version(self) -> int:
        row = self.db.execute("SELECT to_regclass('truceline_schema') IS NOT NULL").fetchone()
        if not row[0]:
            return 0
        return int(self.db.execute("SELECT version FROM truceline_schema").fetchone()[0])

    def _migrate(self) -> None:
        self.db.execute("BEGIN")
        try:
            # one migrator at a time (two service workers starting together)
            self.db.execute("SELECT pg_advisory_xact_lock(7243158)")
            version = self.schema_version
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"{self.where}: schema version {version} is newer than this Truceline "
                    f"({len(MIGRATIONS)}); upgrade Truceline"
                )
            if version == 0:
                self.db.execute("CREATE TABLE truceline_schema (version INTEGER NOT NULL)")
                self.db.execute("INSERT INTO truceline_schema VALUES (0)")
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in script.split(";"):
                    if statement.strip():
                        self.db.execute(statement)
                self.db.execute("UPDATE truceline_schema SET version = %s", (number,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self._migrated(version)

    def query_plan(self, sql: str, args: tuple[Any, ...]) -> str:
        """EXPLAIN of a query (to check that a spatial query uses its index)."""
        rows = self.db.execute("EXPLAIN " + self._sql(sql), args).fetchall()
        return "\n".join(r[0] for r in rows)
