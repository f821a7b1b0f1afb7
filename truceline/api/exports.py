"""``POST /v1/incidents/export``: the incidents a caller chose (the dashboard's filtered set),
as a GeoJSON or CSV file, exactly as ``truceline export`` writes them, with every field
the caller may see of each: the same rules row by row as ``GET /v1/incidents``
(:func:`truceline.access.view_incident`; for the public: published, delayed and coarsened).

An id the caller may not see and an id that does not exist are both simply left out, and
the whole run is read either way, so the answer says nothing of hidden incidents; its
``X-Truceline-Rows`` header counts the rows written.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations.)
"""

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field, StringConstraints

from .._time import parse_time
from ..access import view_incident
from ..publish.exports import as_text
from .deps import Ctx, Who, locked
from .web import agreement_of

__all__ = ["MAX_IDS", "router"]

router = APIRouter()

MAX_IDS = 100_000
CHUNK = 5000
MEDIA = {"geojson": "application/geo+json", "csv": "text/csv; charset=utf-8"}

IncidentId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
]


class ExportRequest(BaseModel):
    """Which incidents of the latest run, in which format."""

    format: Literal["geojson", "csv"] = Field(description="geojson (FORMATS §3) or csv (ACLED)")
    ids: list[IncidentId] = Field(max_length=MAX_IDS, description="incident ids")


@router.post(
    "/v1/incidents/export",
    response_class=Response,
    responses={200: {"content": {m.split(";")[0]: {} for m in MEDIA.values()}}},
)
async def export_incidents(body: ExportRequest, ctx: Ctx, who: Who) -> Response:
    """The chosen incidents of the latest run as the caller may see them, in time order, as
    a file to save (GeoJSON or CSV with ACLED's columns), with the tree head it was read
    at. Ids hidden from the caller or unknown are left out alike."""
    wanted = set(body.ids)
    now = ctx.settings.now_us()
    async with locked(ctx):
        run = ctx.store.latest_run()
        head = ctx.store.latest_head()
        found = agreement_of(ctx)
    features: list[dict[str, Any]] = []
    after: tuple[int, str] | None = None
    while run is not None:
        async with locked(ctx):
            rows = list(ctx.store.query_incidents(run, None, None, None, None, after, CHUNK))
            reviews = ctx.store.reviews([r["properties"]["id"] for r in rows])
        for f in rows:
            p = f["properties"]
            after = (parse_time(p["time_start"]), p["id"])
            if p["id"] not in wanted:
                continue
            seen = view_incident(who, f, reviews.get(p["id"]), now, ctx.settings.disclosure)
            if seen is not None:
                features.append(seen)
        if len(rows) < CHUNK:
            break
        await asyncio.sleep(0)
    ag = found[0] if found else None
    text = await asyncio.to_thread(
        as_text, body.format, features, head.as_dict() if head else None, ag
    )
    size = head.tree_size if head else 0
    name = f"truceline-incidents-run{run or 0}-head{size}.{body.format}"
    headers = {
        "Content-Disposition": f'attachment; filename="{name}"',
        "X-Truceline-Rows": str(len(features)),
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(text.encode("utf-8"), media_type=MEDIA[body.format], headers=headers)
