"""``POST /v1/observations`` (a JSON array, or JSON lines; all-or-nothing; idempotent by
``(source, id)``; answers with the counts and the new signed tree head) and
``GET /v1/health``.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations.)
"""

import json
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from .._version import __version__
from ..access import may_submit, may_submit_any
from ..observations import ObservationBatch, check_parties, parse_lines, parse_objects
from .deps import Ctx, Who
from .errors import unprocessable

__all__ = ["router"]

router = APIRouter()


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
async def health(ctx: Ctx) -> dict[str, Any]:
    with ctx.lock:
        return {
            "status": "ok",
            "version": __version__,
            "observations": ctx.store.count_observations(),
            "log_size": ctx.store.log_size(),
        }


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
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise unprocessable(["body"], f"malformed JSON: {exc.msg} at {exc.pos}") from None
        if not isinstance(items, list):
            raise unprocessable(["body"], "expected a JSON array of observations")
        if not items:
            raise unprocessable(["body"], "no observations in the array")
        return parse_objects(items, "body")
    return parse_lines(text.splitlines(), "body")


@router.post("/v1/observations", response_model=ObservationsAccepted, openapi_extra=BODY_SCHEMA)
async def post_observations(request: Request, ctx: Ctx, who: Who) -> ObservationsAccepted:
    """Submit observations (a JSON array, or JSON lines); all-or-nothing; re-sending the
    same ``(source, id)`` is a no-op."""
    reason = may_submit_any(who)
    if reason:
        raise HTTPException(403, reason)
    batch = _parse(
        await _body(request, ctx.settings.max_body_bytes), request.headers.get("content-type", "")
    )
    for obs in batch.observations:
        m = obs.model
        reason = may_submit(who, m.type, m.source, getattr(m, "party", None))
        if reason:
            raise HTTPException(403, f"body:{obs.line}: {reason}")
    with ctx.lock:
        known = ctx.store.agreement_parties()
        if known:  # allegations must name the agreement's parties (else analysis fails)
            check_parties(batch.observations, known)
        accepted, dup = ctx.store.add_observations(batch)
        head = ctx.store.latest_head()
        return ObservationsAccepted(
            accepted=accepted, duplicates=dup, tree_head=head.as_dict() if head else None
        )
