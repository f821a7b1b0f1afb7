"""PostgreSQL tells the log's listeners of each commit (LISTEN/NOTIFY), never of a write
rolled back; a watch on SQLite waits out its timeout (the callers poll)."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

from tests.conftest import new_postgres_db
from truceline.errors import InputErrors
from truceline.observations import ObservationBatch
from truceline.store.notify import LogWatch, watch_of
from truceline.store.postgres import PostgresStore
from truceline.store.sqlite import SqliteStore

pytest.importorskip("psycopg")


def _listening(watch: LogWatch) -> int:
    assert watch.listening.wait(30), "the watch did not start listening"
    time.sleep(0.2)  # its first look (the bump on connecting) is counted
    return watch.changes


def test_a_commit_wakes_the_watch_at_once_and_a_rollback_does_not(
    postgres_cluster: str, batch: ObservationBatch, tmp_path: Path
) -> None:
    url = new_postgres_db(postgres_cluster)
    with PostgresStore(url, tmp_path / "k") as store:
        watch = watch_of(store)
        try:
            seen = _listening(watch)
            store.add_observations(ObservationBatch(batch.observations[:10]))
            start = time.monotonic()
            told = watch.wait(seen, 30.0)
            assert told > seen and time.monotonic() - start < 10.0  # woken, not timed out
            # a batch refused whole writes nothing, and tells nobody
            first = batch.observations[0]
            changed = replace(first, body=json.dumps({**json.loads(first.body), "note": "x"}))
            with pytest.raises(InputErrors):  # the same (source, id), another body
                store.add_observations(ObservationBatch([changed]))
            assert watch.wait(told, 1.0) == told

            # a coroutine waits without blocking its loop
            async def waiting() -> int:
                return await watch.wait_async(told, 30.0)

            async def both() -> int:
                task = asyncio.create_task(waiting())
                await asyncio.sleep(0.2)
                await asyncio.to_thread(
                    store.add_observations, ObservationBatch(batch.observations[10:20])
                )
                return await task

            assert asyncio.run(both()) > told
        finally:
            watch.close()


def test_a_watch_on_sqlite_waits_out_its_timeout(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "s.db") as store:
        watch = watch_of(store)
        start = time.monotonic()
        assert watch.wait(watch.changes, 0.3) == 0
        assert asyncio.run(watch.wait_async(0, 0.3)) == 0
        assert time.monotonic() - start >= 0.5
        watch.close()
