"""``GET /v1/incidents/stream``: the incidents of the latest run pushed as Server-Sent
Events, as the live analyser publishes them.

What a caller is sent is exactly what ``GET /v1/incidents`` would answer it at that moment
(the same pages, :func:`truceline.api.incidents._page`, so the same
:func:`~truceline.access.view_incident` row by row): an ``incident`` event for each
incident it may see that is new or changed since it was last sent, a ``removed`` event for
one it was sent and may no longer see (a provisional incident replaced by its successor,
a review withdrawn). Nothing is ever sent about an incident the caller was never shown.

The visible set is computed again when the evidence log grows (every write is an entry:
observations, runs, reviews) and at least every ``refresh`` seconds (the public's delay
passes with time alone). The stream looks at the log every ``poll`` seconds, and at once
when PostgreSQL notifies a commit (:mod:`truceline.store.notify`): a run the analyser
logged, or a batch another API worker took.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations.)
"""

import hashlib
import json
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from ..access import Principal
from .deps import Context, Ctx, Who, locked
from .incidents import _Filter, _page

__all__ = ["router", "visible_incidents"]

router = APIRouter()

_EVERYTHING = _Filter(None, None, None, None, None, None, None, None)


def visible_incidents(ctx: Context, who: Principal) -> list[dict[str, Any]]:
    """Every incident of the latest run as ``GET /v1/incidents`` shows it to ``who`` (all
    pages; the caller holds the store's lock)."""
    out: list[dict[str, Any]] = []
    after = None
    while True:
        page, last = _page(ctx, who, _EVERYTHING, after, 1000)
        out += page
        if last is None:
            return out
        after = last


def _event(kind: str, data: dict[str, Any], seq: int) -> str:
    return f"event: {kind}\nid: {seq}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def changes(
    sent: dict[str, str], visible: list[dict[str, Any]]
) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, str]]:
    """The events that bring a caller who was sent ``sent`` (id → digest) to ``visible``,
    and what it has then been sent.

    >>> f = {"id": "a", "properties": {"id": "a", "confidence": 0.5}}
    >>> ev, now = changes({}, [f]); [k for k, _ in ev]
    ['incident']
    >>> changes(now, [f])[0], changes(now, [])[0]
    ([], [('removed', {'id': 'a'})])
    """
    events: list[tuple[str, dict[str, Any]]] = []
    now: dict[str, str] = {}
    for f in visible:
        ident = f["properties"]["id"]
        digest = hashlib.sha256(json.dumps(f, sort_keys=True).encode()).hexdigest()
        now[ident] = digest
        if sent.get(ident) != digest:
            events.append(("incident", f))
    events += [("removed", {"id": i}) for i in sorted(set(sent) - set(now))]
    return events, now


@router.get(
    "/v1/incidents/stream",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Server-Sent Events: `incident` and `removed` events",
            "content": {"text/event-stream": {}},
        }
    },
)
async def stream_incidents(
    request: Request,
    ctx: Ctx,
    who: Who,
    poll: Annotated[float, Query(ge=0.05, le=60, description="Seconds between looks")] = 0.25,
    refresh: Annotated[float, Query(ge=1, le=3600, description="Look again at least")] = 60.0,
    timeout: Annotated[
        float | None, Query(gt=0, le=86_400, description="Close after this many seconds")
    ] = None,
) -> StreamingResponse:
    """Server-Sent Events: ``incident`` (new or changed, as GET /v1/incidents shows it to
    the caller) and ``removed`` (no longer shown); the same disclosure as GET."""

    async def events() -> AsyncIterator[str]:
        sent: dict[str, str] = {}
        watch = ctx.watch()
        told = watch.changes
        seq = 0
        seen_size: int | None = None
        looked = 0.0
        start = time.monotonic()
        yield ": truceline incidents\n\n"
        while True:
            now = time.monotonic()
            async with locked(ctx):
                size = ctx.store.log_size()
                fresh = size != seen_size or now - looked >= refresh
                visible = visible_incidents(ctx, who) if fresh else None
            if visible is not None:
                seen_size, looked = size, now
                news, sent = changes(sent, visible)
                for kind, data in news:
                    seq += 1
                    yield _event(kind, data, seq)
            if timeout is not None and time.monotonic() - start >= timeout:
                return
            if await request.is_disconnected():
                return
            told = await watch.wait_async(told, poll)  # a commit's notification wakes it

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
