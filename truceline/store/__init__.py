"""Stores: the embedded SQLite file (the default) and PostgreSQL + PostGIS, one behaviour."""

from __future__ import annotations

from pathlib import Path

from .records import Store

__all__ = ["Store", "open_store"]


def open_store(
    db: str | Path | None = None, database_url: str | None = None, log_key: str | Path | None = None
) -> Store:
    """``database_url`` (``postgresql://...``) if given, else the SQLite file ``db``."""
    if database_url:
        from .postgres import PostgresStore

        return PostgresStore(database_url, log_key)
    from .sqlite import SqliteStore

    return SqliteStore(db if db is not None else "truceline.db", log_key)
