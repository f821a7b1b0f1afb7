"""The evidence log's endpoints: the latest signed tree head, public keys by id, and
inclusion proofs of log entries, each for the callers who may see the entry
(:func:`truceline.access.may_prove`).

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations.)
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from fastapi import Path as PathParam

from ..access import may_prove
from ..errors import NotFound
from ..evidence import b64, inclusion_bundle
from .cases import visible_case
from .deps import Ctx, Who

__all__ = ["router"]

router = APIRouter()


@router.get("/v1/evidence/sth")
async def get_sth(ctx: Ctx) -> dict[str, Any]:
    """The latest signed tree head of the evidence log."""
    with ctx.lock:
        head = ctx.store.latest_head()
    if head is None:
        raise HTTPException(404, "the log is empty")
    return dict(head.as_dict())


@router.get("/v1/evidence/keys/{key_id}")
async def get_key(
    key_id: Annotated[str, PathParam(pattern="^[0-9a-f]{16}$")], ctx: Ctx
) -> dict[str, Any]:
    """A registered Ed25519 public key (the log's, or a source's) by its key id, raw and
    base64: to check a tree head's or an observation's signature. Keys are public log
    entries; the key id is the first 16 hex digits of the key's SHA-256, so the answer
    can be checked against the id a tree head names."""
    with ctx.lock:
        public = ctx.store.keys().get(key_id)
    if public is None:
        raise HTTPException(404, "no such key")
    return {"key_id": key_id, "algorithm": "Ed25519", "public_key": b64(public)}


@router.get("/v1/evidence/proof/{entry}")
async def get_proof(
    entry: Annotated[int, PathParam(ge=0, le=2**62)], ctx: Ctx, who: Who
) -> dict[str, Any]:
    """An inclusion proof of one log entry in the latest signed tree head: of any entry
    for staff; otherwise of the log's public entries (runs, agreements, keys, policies,
    tree heads), of the caller's own observations, of reviews of published incidents and
    of the events of the cases the caller may see."""

    def sees_case(case_id: int) -> bool:
        try:
            visible_case(ctx, who, case_id)
        except NotFound:
            return False
        return True

    with ctx.lock:
        head = ctx.store.latest_head()
        if head is None or not 0 <= entry < head.tree_size:
            raise HTTPException(404, "no such entry under the signed tree head")
        data = ctx.store.entry(entry)
        if not may_prove(who, json.loads(data), sees_case):
            raise HTTPException(403, "this entry's proof is not for this caller")
        return dict(inclusion_bundle(ctx.store.tree(), entry, data, head))
