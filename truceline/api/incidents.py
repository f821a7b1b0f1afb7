"""The incidents of the latest analysis run: ``GET /v1/incidents`` (GeoJSON pages),
``GET /v1/incidents/{id}`` (the dossier: supporting observations with inclusion proofs) and
``PATCH /v1/incidents/{id}`` (an analyst's review). What each caller sees is decided by
:func:`truceline.access.view_incident`, row by row.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations.)
"""

import heapq
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StrictBool

from .._time import parse_time
from ..access import (
    Principal,
    may_prove,
    may_see_evidence,
    may_see_observation,
    view_incident,
)
from ..evidence import inclusion_bundle
from .deps import Context, Ctx, Who, locked
from .errors import unprocessable
from .evidence import addressed, seen_by

__all__ = ["router"]

router = APIRouter()

_NUM = r"-?[0-9]+(\.[0-9]+)?"
BBOX = rf"^{_NUM},{_NUM},{_NUM},{_NUM}$"
CURSOR = r"^-?[0-9]{1,19}:[A-Za-z0-9_.:-]{0,128}$"
PAGE_SCHEMA: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A GeoJSON FeatureCollection (FORMATS §3) and the next cursor",
        "content": {
            "application/geo+json": {
                "schema": {
                    "type": "object",
                    "required": ["type", "features", "next"],
                    "properties": {
                        "type": {"const": "FeatureCollection"},
                        "features": {"type": "array", "items": {"type": "object"}},
                        "next": {"type": ["string", "null"]},
                    },
                }
            }
        },
    }
}
TimeQuery = Annotated[
    str | None, Query(description="RFC 3339", json_schema_extra={"format": "date-time"})
]


class ReviewIn(BaseModel):
    status: str = Field(pattern="^(automatic|corroborated|verified|disputed|rejected)$")
    published: StrictBool


@dataclass(frozen=True)
class _Filter:
    """What a page of ``GET /v1/incidents`` asks for."""

    box: tuple[float, float, float, float] | None
    query_box: tuple[float, float, float, float] | None
    t0: int | None
    t1: int | None
    status: str | None
    party: str | None
    clause: str | None
    kind: str | None

    def keeps(self, seen: dict[str, Any]) -> bool:
        """Whether the incident as the caller sees it passes the filters."""
        sp = seen["properties"]
        return (
            (self.box is None or _inside(seen, self.box))
            and (not self.status or sp["status"] == self.status)
            and (not self.party or sp.get("attributed_to") == self.party)
            and (not self.clause or self.clause in (sp.get("violations") or []))
        )


def _page(
    ctx: Context, who: Principal, f: _Filter, after: tuple[int, str] | None, limit: int
) -> tuple[list[dict[str, Any]], tuple[int, str] | None]:
    """One page of what the caller may see, and the cursor of the next page (None when no
    visible incident follows). Rows are read in chunks, in SQL order, each decided by
    :func:`view_incident`; one visible row past the page is looked for, so that whether more
    follow is decided by the caller's visible set alone. The cursor is the last *visible*
    row: nothing in the answer depends on a row the caller may not see. A party's own
    allegations joined to incidents hidden from it come in their place in that order, as
    the incidents they would be unplaced (:func:`own_allegations`)."""
    now = ctx.settings.now_us()
    features: list[dict[str, Any]] = []
    own = [
        (row, review)
        for row, review in own_allegations(ctx, who)
        if _passes(row, f) and (after is None or _key(row) > after)
    ]
    rows = heapq.merge(_stored(ctx, f, after, limit + 1), own, key=lambda rr: _key(rr[0]))
    for row, review in rows:
        seen = view_incident(who, row, review, now, ctx.settings.disclosure)
        if seen is None or not f.keeps(seen):
            continue
        if len(features) == limit:  # a visible row follows the page
            last = features[-1]["properties"]
            return features, (parse_time(last["time_start"]), last["id"])
        features.append(seen)
    return features, None


def _key(row: dict[str, Any]) -> tuple[int, str]:
    p = row["properties"]
    return parse_time(p["time_start"]), p["id"]


def _stored(
    ctx: Context, f: _Filter, after: tuple[int, str] | None, chunk: int
) -> Iterator[tuple[dict[str, Any], tuple[str, bool] | None]]:
    """The latest run's incidents the filter's SQL part keeps from ``after`` on, in (time
    start, id) order, each with its review: read in growing chunks, as far as asked."""
    while True:
        rows = list(ctx.store.query_incidents(None, f.t0, f.t1, f.query_box, f.kind, after, chunk))
        reviews = ctx.store.reviews([r["properties"]["id"] for r in rows])
        for row in rows:
            yield row, reviews.get(row["properties"]["id"])
        if len(rows) < chunk:
            return
        after = _key(rows[-1])
        chunk = min(4 * chunk + 50, 5000)


def _passes(row: dict[str, Any], f: _Filter) -> bool:
    """Whether a row the store did not filter passes the filter's SQL part (as
    :meth:`truceline.store.records.Store.query_incidents` would)."""
    p = row["properties"]
    coords = (row.get("geometry") or {}).get("coordinates")
    box = f.query_box
    return (
        (f.t0 is None or parse_time(p["time_end"]) >= f.t0)
        and (f.t1 is None or parse_time(p["time_start"]) <= f.t1)
        and (f.kind is None or p["kind"] == f.kind)
        and (box is None or (bool(coords) and _inside(row, box)))
    )


def own_allegations(
    ctx: Context, who: Principal, incident_id: str | None = None
) -> list[tuple[dict[str, Any], tuple[str, bool] | None]]:
    """A party's own allegations that joined an incident it may not see, each as the
    incident it would be unplaced (:attr:`truceline.analysis.AnalysisResult.lone`), with
    its review: what it reads of their placing must not depend on incidents hidden from it
    (hole 16c). Of id ``incident_id`` only, if given; none for anyone else."""
    if who.party is None or who.is_staff:
        return []
    now = ctx.settings.now_us()
    out = []
    for lone, holder in ctx.store.allegation_views(who.party, incident_id):
        lone_id = lone["properties"]["id"]
        if ctx.store.incident(lone_id) is not None:
            continue  # unplaced in this run after all (a live run's merge)
        held = ctx.store.incident(holder) if holder is not None else None
        if held is not None:
            review = ctx.store.reviews([holder]).get(holder)
            if view_incident(who, held, review, now, ctx.settings.disclosure) is not None:
                continue  # it reads it where it joined
        out.append((lone, ctx.store.reviews([lone_id]).get(lone_id)))
    return out


@router.get("/v1/incidents", response_class=JSONResponse, responses=PAGE_SCHEMA)
async def get_incidents(
    ctx: Ctx,
    who: Who,
    bbox: Annotated[
        str | None, Query(description="minlon,minlat,maxlon,maxlat", pattern=BBOX)
    ] = None,
    start: TimeQuery = None,
    end: TimeQuery = None,
    status: str | None = None,
    party: str | None = None,
    clause: str | None = None,
    kind: str | None = None,
    cursor: Annotated[
        str | None, Query(description="`next` of the previous page", pattern=CURSOR)
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> JSONResponse:
    """Incidents of the latest analysis run the caller may see, as GeoJSON, in time
    order; ``next`` is the cursor of the following page."""
    box = _bbox(bbox)
    query_box = box
    if box is not None and not who.is_staff:
        # Coarsened answers must not depend on where inside its grid cell an incident
        # really is: ask the store for every cell the box touches, then keep what the
        # caller is shown inside the box.
        step = ctx.settings.coarsen_deg
        query_box = (
            math.floor(box[0] / step) * step,
            math.floor(box[1] / step) * step,
            math.ceil(box[2] / step) * step,
            math.ceil(box[3] / step) * step,
        )
    f = _Filter(
        box, query_box, _time(start, "start"), _time(end, "end"), status, party, clause, kind
    )
    async with locked(ctx):
        features, last = _page(ctx, who, f, _cursor(cursor), limit)
    doc = {
        "type": "FeatureCollection",
        "features": features,
        "next": f"{last[0]}:{last[1]}" if last else None,
    }
    # plain json.dumps: the features are already JSON values (FastAPI's generic encoder
    # walking every coordinate cost more than the query)
    return JSONResponse(doc, media_type="application/geo+json")


@router.get("/v1/incidents/{incident_id}")
async def get_incident(incident_id: str, ctx: Ctx, who: Who) -> dict[str, Any]:
    """One incident with its supporting observations and an inclusion proof of each."""
    store = ctx.store
    async with locked(ctx):
        feature = store.incident(incident_id)
        if feature is None:  # perhaps the caller's allegation, as it would be unplaced
            own = own_allegations(ctx, who, incident_id)
            feature = own[0][0] if own else None
        if feature is None:
            raise HTTPException(404, "no such incident")
        review = store.reviews([incident_id]).get(incident_id)
        seen = view_incident(who, feature, review, ctx.settings.now_us(), ctx.settings.disclosure)
        if seen is None:
            raise HTTPException(404, "no such incident")
        sp = seen["properties"]
        head = store.latest_head()
        entries = _supporting_entries(ctx, who, incident_id, head)
        if not may_see_evidence(who, sp):
            return {**seen, "evidence": [], "log_entries": entries}
        bodies = store.observation_bodies(feature["properties"].get("observations") or [])
        evidence = []
        for ref, (body, index) in sorted(bodies.items()):
            if not may_see_observation(who, sp, body):
                continue
            item: dict[str, Any] = {"ref": ref, "observation": body, "signed": "signature" in body}
            if head is not None and index < head.tree_size:
                item["proof"] = inclusion_bundle(store.tree(), index, store.entry(index), head)
            evidence.append(item)
        return {**seen, "evidence": evidence, "log_entries": entries}


def _supporting_entries(
    ctx: Context, who: Principal, incident_id: str, head: Any
) -> list[dict[str, Any]]:
    """The log entries an incident rests on besides its observations (the run that found
    it, the analysts' review, its cases' events), each only if ``who`` may prove it
    (:func:`truceline.access.may_prove`, as ``GET /v1/evidence/proof/{entry}`` decides),
    with its inclusion proof in the latest signed tree head and the URL of that proof."""
    if head is None:
        return []
    found = ctx.store.incident_entries(incident_id, ctx.store.latest_run())
    indexes = [(found["run"], "run"), (found["review"], "review")]
    indexes += [(i, "case_event") for _, _, i in found["case_events"]]
    sees = seen_by(ctx, who)
    out = []
    for index, role in indexes:
        if index is None or index >= head.tree_size:
            continue
        data = ctx.store.entry(index)
        if not may_prove(who, addressed(ctx, index, json.loads(data)), *sees):
            continue
        bundle = inclusion_bundle(ctx.store.tree(), index, data, head)
        out.append(
            {
                "index": index,
                "supports": role,
                "name": bundle["names"]["entry"],
                "proof_url": f"/v1/evidence/proof/{index}",
                "proof": bundle,
            }
        )
    return out


@router.patch("/v1/incidents/{incident_id}")
async def review_incident(incident_id: str, body: ReviewIn, ctx: Ctx, who: Who) -> dict[str, Any]:
    """Set an incident's status and publication (analysts)."""
    if who.role != "analyst":
        raise HTTPException(403, f"{who.role} may not do this")
    async with locked(ctx):
        if ctx.store.incident(incident_id) is None:
            raise HTTPException(404, "no such incident")
        index = ctx.store.set_review(incident_id, body.status, body.published, who.name)
        return {
            "id": incident_id,
            "status": body.status,
            "published": body.published,
            "log_index": index,
        }


def _inside(feature: dict[str, Any], box: tuple[float, float, float, float]) -> bool:
    """Is the point the caller is shown inside the box?"""
    coords = (feature.get("geometry") or {}).get("coordinates")
    if not coords:
        return False
    return bool(box[0] <= coords[0] <= box[2] and box[1] <= coords[1] <= box[3])


def _bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    try:
        a, b, c, d = (float(v) for v in text.split(","))
    except ValueError:
        raise unprocessable(["query", "bbox"], "bbox is minlon,minlat,maxlon,maxlat") from None
    return a, b, c, d  # an empty or inverted box selects nothing


def _time(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_time(text)
    except ValueError as exc:
        raise unprocessable(["query", name], str(exc)) from None


def _cursor(text: str | None) -> tuple[int, str] | None:
    """A position in (time_start, id) order: the last incident of the previous page."""
    if not text:
        return None
    t, _, ident = text.partition(":")
    try:
        value = int(t)
        if not -(2**63) <= value < 2**63:
            raise ValueError
        return value, ident
    except ValueError:
        raise unprocessable(["query", "cursor"], "not a cursor this service gave") from None
