"""``POST /v1/observations`` (a JSON array, or JSON lines; all-or-nothing; idempotent by
``(source, id)``; answers with the counts and the new signed tree head) and
``GET /v1/health``.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations.)
"""

from typing import Any

import anyio
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from .._version import __version__
from ..access import may_submit, may_submit_any, view_health
from ..observation_models import STATUS_SKEW_S
from ..observations import ObservationBatch, check_parties, parse_array, parse_lines, split_lines
from .deps import Ctx, Who, locked
from .errors import unprocessable

__all__ = ["router"]

router = APIRouter()
#: how many refused rows a 403 lists (the count of the rest follows)
MAX_REFUSED_LISTED = 20


class ObservationsAccepted(BaseModel):
    accepted: int
    duplicates: int
    tree_head: dict[str, Any] | None


BODY_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"$ref": "#/components/schemas/Observation"},
                }
            },
            "application/x-ndjson": {"schema": {"type": "string", "minLength": 1}},
        },
    }
}


@router.get("/v1/health")
async def health(ctx: Ctx, who: Who) -> dict[str, Any]:
    """The service answers; staff are also told the live counts (nobody else:
    :func:`~truceline.access.view_health`)."""
    counts: dict[str, int] = {}
    if who.is_staff:
        async with locked(ctx):
            counts = {
                "observations": ctx.store.count_observations(),
                "log_size": ctx.store.log_size(),
            }
    return {"status": "ok", "version": __version__, **view_health(who, counts)}


async def _body(request: Request, limit: int) -> str:
    """The body as text, capped as it arrives (chunked bodies too)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    try:
        text = b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError:
        raise unprocessable(["body"], "the body is not UTF-8") from None
    if not text.strip():
        raise unprocessable(["body"], "no observations in the body")
    return text


def _parse(text: str, content_type: str) -> ObservationBatch:
    """A JSON array (``application/json``) or JSON lines, validated (all-or-nothing)."""
    if "json" in content_type and "ndjson" not in content_type and text.lstrip().startswith("["):
        return parse_array(text, "body")
    return parse_lines(split_lines(text), "body")


@router.post("/v1/observations", response_model=ObservationsAccepted, openapi_extra=BODY_SCHEMA)
async def post_observations(request: Request, ctx: Ctx, who: Who) -> ObservationsAccepted:
    """Submit observations (a JSON array, or JSON lines); all-or-nothing; re-sending the
    same ``(source, id)`` is a no-op."""
    reason = may_submit_any(who)
    if reason:
        raise HTTPException(403, reason)
    text = await _body(request, ctx.settings.max_body_bytes)
    # parsing and validating a large batch takes a while: in a worker thread, unlocked
    batch = await anyio.to_thread.run_sync(_parse, text, request.headers.get("content-type", ""))
    now = ctx.settings.now_us()
    refused: list[tuple[int, str]] = []  # every row the caller may not submit
    for obs in batch.observations:
        m = obs.model
        party, sensor = getattr(m, "party", None), getattr(m, "sensor", None)
        reason = may_submit(who, m.type, m.source, party, sensor)
        if reason:
            refused.append((obs.line, reason))
    if refused:
        refused.sort()  # in the order of the body's lines (the batch is sorted by key)
        listed = [f"body:{line}: {why}" for line, why in refused[:MAX_REFUSED_LISTED]]
        more = len(refused) - MAX_REFUSED_LISTED
        tail = [f"and {more} more {'row' if more == 1 else 'rows'} refused"] if more > 0 else []
        raise HTTPException(403, "; ".join(listed + tail))
    for obs in batch.observations:
        m = obs.model
        if m.type == "status" and abs(m.time - now) > STATUS_SKEW_S * 1e6:
            raise unprocessable(
                ["body", obs.line, "time"],
                f"a heartbeat is sent when it says (within {STATUS_SKEW_S:g} s of the server's "
                "clock): one stated for another time says nothing of whether the sensor works",
            )

    def write() -> tuple[int, int, Any]:
        known = ctx.store.agreement_parties()
        if known:  # allegations must name the agreement's parties (else analysis fails)
            check_parties(batch.observations, known)
        accepted, dup = ctx.store.add_observations(batch, strict_sensors=who.role == "sensor")
        return accepted, dup, ctx.store.latest_head()

    async with locked(ctx):
        accepted, dup, head = await anyio.to_thread.run_sync(write)
    return ObservationsAccepted(
        accepted=accepted, duplicates=dup, tree_head=head.as_dict() if head else None
    )
