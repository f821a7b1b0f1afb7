"""The evidence log's endpoints: the latest signed tree head, public keys by id, inclusion
proofs of log entries, each for the callers who may see the entry
(:func:`truceline.access.may_prove`), and the witnesses' side: the log's C2SP checkpoint,
consistency proofs, the registered witnesses, their cosignatures (posted by any client:
they are checked against the registered keys) and the newest head a quorum cosigned.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations.)
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import PlainTextResponse

from .. import review
from ..access import Principal, case_event_visible, may_prove, view_incident
from ..errors import NotFound
from ..evidence import b64, inclusion_bundle, log_vkey
from .deps import Context, Ctx, Who, locked
from .errors import unprocessable

__all__ = ["router", "seen_by"]

router = APIRouter()


@router.get("/v1/evidence/sth")
async def get_sth(ctx: Ctx) -> dict[str, Any]:
    """The latest signed tree head of the evidence log."""
    async with locked(ctx):
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
    async with locked(ctx):
        public = ctx.store.keys().get(key_id)
    if public is None:
        raise HTTPException(404, "no such key")
    return {"key_id": key_id, "algorithm": "Ed25519", "public_key": b64(public)}


@router.get("/v1/evidence/proof/{entry}")
async def get_proof(
    entry: Annotated[
        str,
        PathParam(
            min_length=1,
            max_length=600,
            description="an entry index, or an observation as SOURCE:ID (as `truceline log "
            "prove` takes it)",
        ),
    ],
    ctx: Ctx,
    who: Who,
) -> dict[str, Any]:
    """An inclusion proof of one log entry (by index, or an observation by ``SOURCE:ID``) in
    the latest signed tree head, naming the entry and the head (``names``, as the CLI
    names them): of any entry for staff; otherwise of the log's public entries (runs,
    agreements, keys, policies, tree heads, witnesses), of the caller's own observations, of
    the reviews of incidents the caller may see now, and of the case events the caller may
    see. An observation the caller may not prove answers as a missing one (404): asking by
    name must not tell whether it exists."""
    async with locked(ctx):
        head = ctx.store.latest_head()
        by_name = not entry.isdigit()
        if by_name:
            source, colon, ident = entry.rpartition(":")
            if not (colon and source and ident):
                raise unprocessable(["path", "entry"], "an entry index, or SOURCE:ID")
            try:
                index = ctx.store.entry_of(source, ident)
            except NotFound:
                raise HTTPException(
                    404, f"no observation {entry} under the signed tree head"
                ) from None
        else:
            index = int(entry)
        if head is None or not 0 <= index < head.tree_size:
            raise HTTPException(404, "no such entry under the signed tree head")
        data = ctx.store.entry(index)
        if not may_prove(who, addressed(ctx, index, json.loads(data)), *seen_by(ctx, who)):
            if by_name:
                raise HTTPException(
                    404, f"no observation {entry} under the signed tree head"
                ) from None
            raise HTTPException(403, "this entry's proof is not for this caller")
        return dict(inclusion_bundle(ctx.store.tree(), index, data, head))


def addressed(ctx: Context, index: int, entry: dict[str, Any]) -> dict[str, Any]:
    """Log entry ``index`` with, if it is a case event's or a file's, the event's place in
    its case (``seq``) from the store, for :func:`may_prove` to decide on: the entry itself
    no longer says it (it counted hidden events)."""
    if entry.get("kind") not in ("case_event", "attachment") or "seq" in entry:
        return entry
    seq = ctx.store.case_event_seq(index)
    return entry if seq is None else {**entry, "seq": seq}


def seen_by(ctx: Context, who: Principal) -> tuple[Any, Any]:
    """What ``who`` sees, as the two questions :func:`may_prove` asks: a case's event, an
    incident (of the latest run, as reviewed now)."""
    now = ctx.settings.now_us()

    def sees_case_event(case_id: int, seq: int) -> bool:
        events = ctx.store.case_events(case_id)
        if not events:
            return False
        state = review.case_state(events, now, ctx.settings.quorum)
        return case_event_visible(who, events, state, seq)

    def sees_incident(incident: str) -> bool:
        feature = ctx.store.incident(incident)
        if feature is None:  # its own allegation, as it would be unplaced (hole 16c)
            from .incidents import own_allegations

            return bool(own_allegations(ctx, who, incident))
        rev = ctx.store.reviews([incident]).get(incident)
        return view_incident(who, feature, rev, now, ctx.settings.disclosure) is not None

    return sees_case_event, sees_incident


NOTE = "text/plain; charset=utf-8"


NOTE_SCHEMA: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A C2SP checkpoint: a signed note (text)",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}


@router.get("/v1/evidence/checkpoint", responses=NOTE_SCHEMA)
async def get_checkpoint(
    ctx: Ctx, tree_size: Annotated[int | None, Query(ge=1, le=2**53)] = None
) -> PlainTextResponse:
    """The log's latest signed tree head (or the one of ``tree_size``) as a C2SP checkpoint:
    a signed note with the log's Ed25519 signature and every cosignature witnesses sent."""
    async with locked(ctx):
        note = ctx.store.checkpoint(tree_size)
    return PlainTextResponse(note, media_type=NOTE)


@router.get("/v1/evidence/consistency")
async def get_consistency(
    ctx: Ctx,
    first: Annotated[int, Query(ge=1, le=2**53)],
    second: Annotated[int, Query(ge=1, le=2**53)],
) -> dict[str, Any]:
    """An RFC 9162 consistency proof between two signed tree heads (base64 hashes, in the
    order C2SP tlog-witness sends them): what a witness checks before it cosigns."""
    async with locked(ctx):
        heads = {h.tree_size for h in ctx.store.tree_heads()}
        if first not in heads or second not in heads or first > second:
            raise unprocessable(["query"], "first and second are sizes of signed tree heads")
        proof = ctx.store.tree().consistency_proof(first, second)
    return {"first": first, "second": second, "proof": [b64(h) for h in proof]}


@router.get("/v1/evidence/witnesses")
async def get_witnesses(ctx: Ctx) -> dict[str, Any]:
    """The log's verifier key, the registered witnesses' (cosignature/v1) verifier keys, and
    the quorum of them whose cosignatures make a head the one cited."""
    async with locked(ctx):
        return {
            "log": log_vkey(ctx.store.log_public_key()),
            "witnesses": ctx.store.witnesses(),
            "quorum": ctx.settings.witness_quorum,
        }


@router.post("/v1/evidence/cosignatures", status_code=201)
async def post_cosignatures(request: Request, ctx: Ctx) -> dict[str, Any]:
    """A witness's cosignature: the checkpoint it was given with its cosignature line(s)
    appended (``text/plain``). Kept if the checkpoint is this log's and every cosignature of
    a registered witness verifies; no token is needed (the cosignature is the credential)."""
    raw = await request.body()
    if len(raw) > 64 * 1024:
        raise HTTPException(413, "a cosigned checkpoint is a few hundred bytes")
    try:
        note = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise unprocessable(["body"], "the body is not UTF-8") from None
    async with locked(ctx):
        kept = ctx.store.add_cosignatures(note, ctx.settings.now_us() / 1e6)
    return {"cosigned_by": kept}


@router.get("/v1/evidence/cosigned")
async def get_cosigned(ctx: Ctx) -> dict[str, Any]:
    """The newest tree head cosigned by the configured quorum of registered witnesses: its
    size, root, the checkpoint with every signature (to check with the witnesses' keys), the
    cosigners and their times; 404 while no head has a quorum."""
    async with locked(ctx):
        head = ctx.store.cosigned_heads(ctx.settings.witness_quorum, ctx.settings.now_us() / 1e6)
    if head is None:
        raise HTTPException(404, "no tree head is cosigned by a quorum of witnesses yet")
    return dict(head.as_dict())
