"""Files attached to a case's replies: what may be attached, and who may read it.

A reply may carry up to :data:`MAX_FILES` files (``attachments``: a ``name``, a
``media_type`` of :data:`MEDIA_TYPES`, the bytes as base64 ``data``, each at most the
service's ``--max-attachment-mb``). Each is kept by the store and logged as an
``attachment`` entry (its SHA-256, size, name and type, the case and the event's place in
it) just before the reply, whose entry lists the same descriptions: the log commits to
every file's hash, and anyone holding a file can check it against the entry.

``GET /v1/cases/{id}/attachments/{sha256}`` answers the file to whoever may see an event
it is attached to (the commission's staff, the case's parties: :func:`truceline.access.case_event_visible`),
as a download (``Content-Disposition: attachment``, ``nosniff``: never rendered by the
page), and 404 to anyone else, as for a file that does not exist. Proofs of the
``attachment`` entries follow the same rule.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations.)
"""

import base64
import binascii
import hashlib
import unicodedata
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field, field_validator

from .. import review
from ..access import case_event_visible
from ..review import has_words
from .deps import Context, Ctx, Who, locked

__all__ = ["MAX_FILES", "MEDIA_TYPES", "AttachmentIn", "decode_attachments", "router"]

router = APIRouter()

MAX_FILES = 5
#: what may be attached: documents, images, tables and geodata (no page the browser would
#: run: HTML, SVG and scripts are refused)
MEDIA_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "text/plain",
    "text/csv",
    "application/json",
    "application/geo+json",
)
_NAME = r"^[^/\\\x00-\x1f\x7f]{1,200}$"  # a file's name, not a path (nor . or ..)


class AttachmentIn(BaseModel):
    name: str = Field(pattern=_NAME, description="the file's name (no path)")
    media_type: str = Field(description=f"one of {', '.join(MEDIA_TYPES)}")
    data: str = Field(description="the file's bytes, base64", max_length=64 * 1024 * 1024)

    @field_validator("name")
    @classmethod
    def _a_plain_name(cls, v: str) -> str:
        # no controls, format characters (bidi overrides, zero-width) or line separators,
        # and something visible that is not only dots
        if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in v):
            raise ValueError("a file's name without control or invisible characters")
        if not has_words(v):
            raise ValueError("a file's name needs a visible letter or digit")
        return v


def decode_attachments(
    ctx: Context, files: list[AttachmentIn]
) -> tuple[list[dict[str, Any]], list[bytes]]:
    """The files' descriptions (as the reply lists them) and bytes; 422 for a type not
    allowed or data that is not base64, 413 for a file over the limit."""
    limit = int(ctx.settings.max_attachment_mb * 1024 * 1024)
    described: list[dict[str, Any]] = []
    data: list[bytes] = []
    for k, f in enumerate(files):
        if f.media_type not in MEDIA_TYPES:
            raise HTTPException(
                422, f"attachments[{k}].media_type: one of {', '.join(MEDIA_TYPES)}"
            )
        try:
            raw = base64.b64decode(f.data, validate=True)
        except (binascii.Error, ValueError):
            raise HTTPException(422, f"attachments[{k}].data: not base64") from None
        if not raw:
            raise HTTPException(422, f"attachments[{k}].data: an empty file")
        if len(raw) > limit:
            raise HTTPException(413, f"attachments[{k}]: larger than {limit} bytes")
        digest = hashlib.sha256(raw).hexdigest()
        if any(d["sha256"] == digest for d in described):
            raise HTTPException(422, f"attachments[{k}]: the same file twice")
        described.append(
            {"sha256": digest, "name": f.name,
             "media_type": f.media_type, "size": len(raw)}
        )  # fmt: skip
        data.append(raw)
    return described, data


@router.get(
    "/v1/cases/{case_id}/attachments/{sha256}",
    response_class=Response,
    responses={200: {"description": "the file", "content": {"application/octet-stream": {}}}},
)
async def get_attachment(
    case_id: Annotated[int, PathParam(ge=1, le=2**62)],
    sha256: Annotated[str, PathParam(pattern="^[0-9a-f]{64}$")],
    ctx: Ctx,
    who: Who,
) -> Response:
    """A file attached to one of the case's events, to whoever may see that event. What a
    missing file and a hidden one cost is the same (the case's state is worked out, and
    the file's row looked up without its bytes, for both): no timing tells them apart."""
    async with locked(ctx):
        events = ctx.store.case_events(case_id)
        f = None
        if events:
            state = review.case_state(events, ctx.settings.now_us(), ctx.settings.quorum)
            seqs = ctx.store.attachment_seqs(case_id, sha256)
            seen = [q for q in seqs if case_event_visible(who, events, state, q)]
            f = ctx.store.attachment(case_id, seen[0], sha256) if seen else None
    if f is None:
        raise HTTPException(404, "no such attachment")
    return Response(
        f["data"],
        media_type=f["media_type"],
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(f['name'], safe='')}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "ETag": f'"{sha256}"',
        },
    )
