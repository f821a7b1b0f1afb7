"""What the web dashboard needs beyond the data endpoints: the logged agreement's geometry
(``GET /v1/agreement``), who the caller is (``GET /v1/me``), every incident the caller may see
in one answer with the map's fields only (``GET /v1/dashboard/incidents``), and the
dashboard's static files (``/`` and ``/static/...``, from ``truceline/web/static``; no build
step at run time).

The first two are open to every role: the agreement is public (it is in the evidence log,
whose agreement entries anyone may prove), and ``/v1/me`` tells the caller only what its own
token says. The bulk incidents are decided row by row by the same
:func:`truceline.access.view_incident` as ``GET /v1/incidents``, and only lose fields: each
role sees exactly the incidents it sees there. Cases come from the case endpoints, whose
answers :func:`truceline.api_cases.visible_case` decides.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations,
and ``Who`` is a value passed in by :func:`truceline.api.create_app`.)
"""

import asyncio
import hashlib
import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from ._time import format_time, parse_time
from .access import Principal, view_incident

__all__ = ["CSP", "MAP_FIELDS", "STATIC", "add_web_routes", "agreement_geojson"]

#: the properties the map, the timeline and the filters use (the dossier asks for the rest)
MAP_FIELDS = (
    "id",
    "kind",
    "time_start",
    "time_end",
    "weapon",
    "confidence",
    "attribution",
    "attributed_to",
    "violations",
    "status",
    "published",
    "origin",
    "origin_sigma_m",
    "origin_cov_m2",
    "impact",
    "impact_sigma_m",
    "impact_cov_m2",
    "alleged_by",
    "disclosure",
)
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
STATIC = Path(__file__).resolve().parent / "web" / "static"


def agreement_geojson(files: dict[str, str]) -> dict[str, Any]:
    """The agreement kept in the evidence log (its files, name → text) as the dashboard draws
    it: parties, clauses, and GeoJSON FeatureCollections of the control areas, the line of
    contact and the clauses' zones, in lon/lat.

    >>> import tempfile
    >>> from truceline.agreement import agreement_files
    >>> from truceline.simulate import build_scenario
    >>> from truceline.simulate.scenario import write_agreement
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     files = agreement_files(
    ...         write_agreement(build_scenario(1), Path(tmp), "2026-03-01T00:00:00Z"))
    >>> doc = agreement_geojson(files)
    >>> [f["properties"]["party"] for f in doc["control"]["features"]]
    ['N', 'S']
    >>> doc["line"]["features"][0]["geometry"]["type"] in ("LineString", "MultiLineString")
    True
    >>> sorted({f["properties"]["clause"] for f in doc["zones"]["features"]})
    ['C5']
    """
    import shapely.geometry

    from .agreement import agreement_from_files

    ag = agreement_from_files(files)

    def feature(geom: Any, **props: Any) -> dict[str, Any]:
        return {
            "type": "Feature",
            "geometry": shapely.geometry.mapping(geom),
            "properties": props,
        }

    def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
        return {"type": "FeatureCollection", "features": features}

    names = {p.id: p.name for p in ag.parties}
    return {
        "id": ag.id,
        "title": ag.title,
        "effective_from": format_time(ag.effective_from_us),
        "parties": [{"id": p.id, "name": p.name} for p in ag.parties],
        "clauses": [
            {
                "id": c.id,
                "text": c.text,
                "kind": c.rule.kind,
                "classes": list(c.rule.classes) if c.rule.classes else None,
                "within_km": c.rule.within_km,
                "area": c.rule.area is not None,
            }
            for c in ag.clauses
        ],
        "control": collection(
            [feature(g, party=pid, name=names.get(pid, pid)) for pid, g in ag.control.items()]
        ),
        "line": collection([feature(ag.line, name="line of contact")]),
        "zones": collection(
            [
                feature(c.rule.area, clause=c.id, text=c.text)
                for c in ag.clauses
                if c.rule.area is not None
            ]
        ),
    }


def add_web_routes(app: FastAPI, store: Any, lock: Any, settings: Any, Who: Any) -> None:
    """The dashboard's endpoints and files (``Who`` resolves the caller). Added last: the
    static files are mounted under ``/static`` and the page at ``/``, so no API path is
    shadowed."""
    cache: dict[str, dict[str, Any]] = {}
    bulk_cache: dict[tuple[Any, ...], bytes] = {}

    @app.get("/v1/agreement")
    async def get_agreement(who: Who) -> dict[str, Any]:
        """The agreement of the last logged analysis run (public): parties, clauses, and its
        control areas, line of contact and clause zones as GeoJSON FeatureCollections."""
        with lock:
            files = store.agreement_files()
        if files is None:
            raise HTTPException(404, "no agreement has been logged yet (run an analysis)")
        key = hashlib.sha256(json.dumps(files, sort_keys=True).encode()).hexdigest()
        if key not in cache:
            cache.clear()  # one agreement is in force at a time
            cache[key] = agreement_geojson(files)
        return cache[key]

    @app.get("/v1/me")
    async def get_me(who: Who) -> dict[str, Any]:
        """Who the caller's token says it is: name, role, member state, party (public
        without a token). The dashboard uses it to offer the forms of the caller's role; the
        endpoints themselves decide what it may do."""
        p: Principal = who
        return {
            "name": p.name,
            "role": p.role,
            "member_state": p.member_state,
            "party": p.party,
            "staff": p.is_staff,
        }

    @app.get(
        "/v1/dashboard/incidents",
        response_class=JSONResponse,
        responses={
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
        },
    )
    async def get_dashboard_incidents(who: Who) -> Response:
        """Every incident of the latest run the caller may see, in time order, in one answer
        and with the map's fields only (``MAP_FIELDS``): what ``GET /v1/incidents`` pages
        through, decided row by row by the same rules, without the lists of supporting
        observations (``GET /v1/incidents/{id}`` has them)."""
        now = settings.now_us()
        with lock:
            run = store.latest_run()
            state = (run, store.log_size())
        # What a role sees depends on its role (and so its party), the run, the reviews and
        # cases (every one an entry of the log) and, for the public, the time: answers are
        # kept for a minute at most. Kept answers can only lack what became public in that
        # minute, never show more.
        key = (who.role, *state, now // BULK_KEEP_US)
        body = bulk_cache.get(key)
        if body is None:
            features: list[dict[str, Any]] = []
            after: tuple[int, str] | None = None
            while run is not None:
                with lock:
                    rows = list(
                        store.query_incidents(run, None, None, None, None, after, BULK_CHUNK)
                    )
                    reviews = store.reviews([f["properties"]["id"] for f in rows])
                for f in rows:
                    p = f["properties"]
                    after = (parse_time(p["time_start"]), p["id"])
                    seen = view_incident(who, f, reviews.get(p["id"]), now, settings.disclosure)
                    if seen is None:
                        continue
                    sp = seen["properties"]
                    props = {k: sp[k] for k in MAP_FIELDS if k in sp}
                    features.append({**seen, "properties": props})
                if len(rows) < BULK_CHUNK:
                    break
                await asyncio.sleep(0)  # a chunk at a time: other requests served in between
            body = json.dumps(
                {"type": "FeatureCollection", "features": features}, separators=(",", ":")
            ).encode()
            with lock:
                unchanged = (store.latest_run(), store.log_size()) == state
            if unchanged:  # nothing was written while the answer was built
                while len(bulk_cache) >= BULK_KEEP:
                    bulk_cache.pop(next(iter(bulk_cache)))
                bulk_cache[key] = body
        return Response(body, media_type="application/geo+json")

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(
            STATIC / "index.html",
            media_type="text/html",
            headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"},
        )

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
