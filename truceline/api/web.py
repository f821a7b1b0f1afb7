"""What the web dashboard needs beyond the data endpoints: the logged agreement's geometry
(``GET /v1/agreement``), who the caller is (``GET /v1/me``), every incident the caller may see
in one answer with the map's fields only (``GET /v1/dashboard/incidents``), and the
dashboard's static files (``/`` and ``/static/...``, from ``truceline/web/static``; no build
step at run time).

The first two are open to every role: the agreement is public (it is in the evidence log,
whose agreement entries anyone may prove), and ``/v1/me`` tells the caller only what its own
token says. The bulk incidents are decided row by row by the same
:func:`truceline.access.view_incident` as ``GET /v1/incidents``, and only lose fields
(:data:`truceline.access.MAP_FIELDS`): each role sees exactly the incidents it sees there.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations.)
"""

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from .._time import parse_time
from ..access import MAP_FIELDS, Principal, view_incident
from ..agreement import Agreement, agreement_from_files, agreement_geojson
from ..columnar import SECTOR_KM
from ..coverage import n_sectors_of
from ..maplayers import withdrawal_bands
from ..publish.day_coverage import sector_of
from .deps import Context, Ctx, Who, locked
from .incidents import own_allegations
from .wire import HashedStaticFiles, accepts_gzip, etag_of, gzipped, hashed_page, not_modified

__all__ = ["CSP", "STATIC", "agreement_of", "mount_dashboard", "router"]

router = APIRouter()

BULK_CHUNK = 5000
BULK_KEEP = 4  # answers kept (each role's latest): tens of MB each at 50,000 incidents
BULK_KEEP_US = 60_000_000

#: The page may load, fetch and connect to its own server only: the browser itself refuses
#: anything else, whatever a vendored library contains (Leaflet can fetch tiles from any URL
#: it is given; the page gives it none). Inline styles are allowed (Leaflet positions its
#: panes with them); inline scripts, plugins, frames and other origins are not.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "frame-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)

#: the dashboard: plain ES modules, CSS and the vendored libraries (``make vendor``)
STATIC = Path(__file__).resolve().parents[1] / "web" / "static"

BULK_SCHEMA: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A GeoJSON FeatureCollection of every visible incident",
        "content": {
            "application/geo+json": {
                "schema": {
                    "type": "object",
                    "required": ["type", "features"],
                    "properties": {
                        "type": {"const": "FeatureCollection"},
                        "features": {"type": "array", "items": {"type": "object"}},
                    },
                }
            }
        },
    }
}


def agreement_of(ctx: Context) -> tuple[Agreement, dict[str, Any]] | None:
    """The agreement of the last logged analysis run and its map document (kept while it is
    the one in force), or None before any run. Called under :func:`.deps.locked`."""
    files = ctx.store.agreement_files()
    if files is None:
        return None
    key = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
    cache = ctx.cache.setdefault("agreement", {})
    if key not in cache:
        cache.clear()  # one agreement is in force at a time
        ag = agreement_from_files(files)
        doc = {**agreement_geojson(ag), "bands": withdrawal_bands(ag)}
        doc["sectors"] = {"km": SECTOR_KM, "count": n_sectors_of(ag.line_local, SECTOR_KM)}
        cache[key] = (ag, doc)
    found: tuple[Agreement, dict[str, Any]] = cache[key]
    return found


@router.get("/v1/agreement")
async def get_agreement(ctx: Ctx) -> dict[str, Any]:
    """The agreement of the last logged analysis run (public): parties, clauses, its
    control areas, line of contact, clause zones and withdrawal bands (each party's own
    side within a ``within_km`` clause's distance of the line) as GeoJSON
    FeatureCollections, and the report's sectors of the line (``sectors``: their length in
    km and how many)."""
    async with locked(ctx):
        found = agreement_of(ctx)
    if found is None:
        raise HTTPException(404, "no agreement has been logged yet (run an analysis)")
    return dict(found[1])


@router.get("/v1/me")
async def get_me(who: Who) -> dict[str, Any]:
    """Who the caller's token says it is: name, role, member state, party (public
    without a token). The dashboard uses it to offer the forms of the caller's role; the
    endpoints themselves decide what it may do."""
    return {
        "name": who.name,
        "role": who.role,
        "member_state": who.member_state,
        "party": who.party,
        "staff": who.is_staff,
    }


async def _bulk(ctx: Context, who: Principal, run: int | None, now: int) -> list[dict[str, Any]]:
    """Every incident of ``run`` the caller may see, with the map's fields, a chunk at a time
    (other requests are served in between)."""
    features: list[dict[str, Any]] = []
    after: tuple[int, str] | None = None
    while run is not None:
        async with locked(ctx):
            rows = list(ctx.store.query_incidents(run, None, None, None, None, after, BULK_CHUNK))
            reviews = ctx.store.reviews([f["properties"]["id"] for f in rows])
        for f in rows:
            p = f["properties"]
            after = (parse_time(p["time_start"]), p["id"])
            seen = view_incident(who, f, reviews.get(p["id"]), now, ctx.settings.disclosure)
            if seen is not None:
                sp = seen["properties"]
                features.append({**seen, "properties": {k: sp[k] for k in MAP_FIELDS if k in sp}})
        if len(rows) < BULK_CHUNK:
            break
        await asyncio.sleep(0)
    async with locked(ctx):  # a party's allegations joined to incidents hidden from it
        own = own_allegations(ctx, who) if run is not None else []
        found = agreement_of(ctx)
    for f, review in own:
        seen = view_incident(who, f, review, now, ctx.settings.disclosure)
        if seen is not None:
            sp = seen["properties"]
            features.append({**seen, "properties": {k: sp[k] for k in MAP_FIELDS if k in sp}})
    features.sort(key=lambda f: (parse_time(f["properties"]["time_start"]), f["properties"]["id"]))
    if found is not None:
        _add_sectors(features, found[0])
    return features


def _add_sectors(features: list[dict[str, Any]], ag: Agreement) -> None:
    """Each feature's ``sector`` of the line (the report's; -1 without a point), from the
    point the caller is shown: the impact, else the origin."""
    nan = float("nan")
    points = [f["properties"].get("impact") or f["properties"].get("origin") for f in features]
    lon = [p[0] if p else nan for p in points]
    lat = [p[1] if p else nan for p in points]
    for f, k in zip(features, sector_of(ag, lon, lat, SECTOR_KM).tolist(), strict=True):
        f["properties"]["sector"] = k


@router.get("/v1/dashboard/incidents", response_class=JSONResponse, responses=BULK_SCHEMA)
async def get_dashboard_incidents(ctx: Ctx, who: Who, request: Request) -> Response:
    """Every incident of the latest run the caller may see, in time order, in one answer
    and with the map's fields only: what ``GET /v1/incidents`` pages through, decided row by
    row by the same rules, without the lists of supporting observations
    (``GET /v1/incidents/{id}`` has them)."""
    now = ctx.settings.now_us()
    async with locked(ctx):
        run = ctx.store.latest_run()
        state = (run, ctx.store.log_size())
    # What a role sees depends on its role (and so its party), the run, the reviews and
    # cases (every one an entry of the log) and, for the public, the time: answers are
    # kept for a minute at most. Kept answers can only lack what became public in that
    # minute, never show more.
    key = (who.role, *state, now // BULK_KEEP_US)
    kept = ctx.cache.setdefault("bulk", {})
    answer = kept.get(key)
    if answer is None:
        doc = {"type": "FeatureCollection", "features": await _bulk(ctx, who, run, now)}
        body = json.dumps(doc, separators=(",", ":")).encode()
        # compressed once, while it is kept (not by the middleware on every request)
        packed = await asyncio.to_thread(gzipped, body)
        answer = (body, packed, etag_of(hashlib.sha256(body).hexdigest()[:16]))
        async with locked(ctx):
            unchanged = (ctx.store.latest_run(), ctx.store.log_size()) == state
        if unchanged:  # nothing was written while the answer was built
            while len(kept) >= BULK_KEEP:
                kept.pop(next(iter(kept)))
            kept[key] = answer
    body, packed, etag = answer
    # private: what a role sees is decided by its token; revalidated on every load
    headers = {
        "ETag": etag,
        "Cache-Control": "private, no-cache",
        "Vary": "Accept-Encoding, Authorization",
    }
    if not_modified(request.headers, etag):
        return Response(status_code=304, headers=headers)
    if accepts_gzip(request.headers):
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type="application/geo+json", headers=headers)
    return Response(body, media_type="application/geo+json", headers=headers)


def mount_dashboard(app: FastAPI) -> None:
    """The page at ``/`` and its files under ``/static`` (added after every API route, so no
    API path is shadowed)."""

    @app.get("/", include_in_schema=False)
    async def dashboard(request: Request) -> Response:
        text, tag = hashed_page(STATIC / "index.html", STATIC)
        headers = {
            "Content-Security-Policy": CSP,
            "X-Content-Type-Options": "nosniff",
            "ETag": etag_of(tag),
            "Cache-Control": "no-cache",
        }
        if not_modified(request.headers, headers["ETag"]):
            return Response(status_code=304, headers=headers)
        return HTMLResponse(text, headers=headers)

    app.mount("/static", HashedStaticFiles(directory=STATIC), name="static")
