"""Being told when the evidence log grows: PostgreSQL's LISTEN/NOTIFY where the store is
PostgreSQL, a timed look elsewhere.

Every write transaction of a PostgreSQL store that appends to the log announces the new tree
size on the channel :data:`CHANNEL` (``pg_notify`` inside the transaction: PostgreSQL
delivers it on commit, never for a transaction rolled back). A :class:`LogWatch` listens on
its own connection, in a thread, and wakes whoever waits: the live analyser
(``truceline live``) between its steps, and each ``GET /v1/incidents/stream`` of every API
worker process. So the analyser starts on a batch as soon as it is committed, and every
worker pushes the analyser's run as soon as it is logged, whichever worker took the batch.

A watch never replaces looking: a waiter is woken by a notification *or* by its timeout,
and then reads the store (a notification lost while a connection was being re-made, or one
sent before the watch listened, only delays; with SQLite there are no notifications, and
the timeout is the poll).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from typing import Any

from .._extras import require

__all__ = ["CHANNEL", "LogWatch", "watch_of"]

CHANNEL = "truceline_log"
log = logging.getLogger(__name__)


class LogWatch:
    """Waits for the log to grow. ``url``: a PostgreSQL store's (None: no notifications,
    every wait lasts its timeout). ``changes`` counts the notifications received."""

    def __init__(self, url: str | None = None) -> None:
        self.url = url
        self.changes = 0
        self._cond = threading.Condition()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        self._stop = threading.Event()
        self.listening = threading.Event()  # set once LISTEN was issued
        self._thread: threading.Thread | None = None
        if url is not None:
            self._thread = threading.Thread(target=self._listen, name="log-watch", daemon=True)
            self._thread.start()

    def _listen(self) -> None:
        psycopg = require("psycopg", "postgres", "PostgreSQL stores")
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    self._bump()  # what was committed while (re)connecting is looked at
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self._bump()
            except psycopg.Error as exc:  # the server restarted, the network blinked
                self.listening.clear()
                log.warning("log watch: %s; listening again in 1 s", exc)
                time.sleep(1.0)

    def _bump(self) -> None:
        with self._cond:
            self.changes += 1
            self._cond.notify_all()
            waiters = list(self._waiters)
        for loop, event in waiters:
            with contextlib.suppress(RuntimeError):  # its loop has closed
                loop.call_soon_threadsafe(event.set)

    def wait(self, seen: int, timeout: float) -> int:
        """Block until a notification after ``seen`` (a value of :attr:`changes`) or for
        ``timeout`` seconds; :attr:`changes` then."""
        with self._cond:
            self._cond.wait_for(lambda: self.changes != seen, timeout)
            return self.changes

    async def wait_async(self, seen: int, timeout: float) -> int:
        """:meth:`wait` for a coroutine (the event loop is not blocked)."""
        if self._thread is None:
            await asyncio.sleep(timeout)
            return self.changes
        entry = (asyncio.get_running_loop(), asyncio.Event())
        with self._cond:
            self._waiters.add(entry)
            changed = self.changes != seen
        try:
            if not changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(entry[1].wait(), timeout)
        finally:
            with self._cond:
                self._waiters.discard(entry)
        return self.changes

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=3.0)


def watch_of(store: Any) -> LogWatch:
    """The watch for ``store``'s log: notifications for a PostgreSQL store, timed looks for
    any other."""
    return LogWatch(store.url if store.NOTIFIES else None)
