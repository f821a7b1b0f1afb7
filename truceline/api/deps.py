"""What every route depends on: the service's context (store, settings, the store's lock)
and the caller (:class:`~truceline.access.Principal`, from the bearer token).

(No ``from __future__ import annotations`` here: FastAPI reads these annotations.)
"""

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

import anyio
from fastapi import Depends, Header, HTTPException, Request

from ..access import PUBLIC, Principal
from .settings import Settings

__all__ = ["Context", "Ctx", "Who", "context", "locked", "principal"]


@dataclass(frozen=True)
class Context:
    """The service's store (opened once), its settings, the lock that gives one request at a
    time the store's connection, and the answers it keeps."""

    store: Any
    settings: Settings
    lock: threading.Lock
    #: answers kept between requests (the dashboard's bulk answer, the agreement's map)
    cache: dict[str, dict[Any, Any]] = field(default_factory=dict)
    _watch: list[Any] = field(default_factory=list)  # (one, once started)

    def watch(self) -> Any:
        """The log's :class:`~truceline.store.notify.LogWatch`, started on first use (a
        stream's): LISTEN/NOTIFY on PostgreSQL, timed looks on SQLite."""
        if not self._watch:
            from ..store.notify import watch_of

            self._watch.append(watch_of(self.store))
        return self._watch[0]

    def close_watch(self) -> None:
        for watch in self._watch:
            watch.close()


@asynccontextmanager
async def locked(ctx: Context) -> AsyncIterator[None]:
    """Hold the store's lock; while another request holds it (a large ingest writing), wait
    for it in a worker thread, so the event loop goes on serving what needs no store."""
    if not ctx.lock.acquire(blocking=False):
        await anyio.to_thread.run_sync(ctx.lock.acquire)
    try:
        yield
    finally:
        ctx.lock.release()


def context(request: Request) -> Context:
    ctx: Context = request.app.state.context
    return ctx


Ctx = Annotated[Context, Depends(context)]


async def principal(ctx: Ctx, authorization: Annotated[str | None, Header()] = None) -> Principal:
    """The caller named by ``Authorization: Bearer TOKEN``; the public without a header."""
    if not authorization:
        return PUBLIC
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "use Authorization: Bearer TOKEN")
    async with locked(ctx):
        holder = ctx.store.token_holder(token.strip(), ctx.settings.now_us())
    if holder is None:
        raise HTTPException(401, "unknown, revoked or expired token")
    return Principal(*holder)


Who = Annotated[Principal, Depends(principal)]
