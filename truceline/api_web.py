"""What the web dashboard needs beyond the data endpoints: the logged agreement's geometry
(``GET /v1/agreement``), who the caller is (``GET /v1/me``), and the dashboard's static files
(``/`` and ``/static/...``, from ``truceline/web/static``; no build step at run time).

Both endpoints are open to every role: the agreement is public (it is in the evidence log,
whose agreement entries anyone may prove), and ``/v1/me`` tells the caller only what its own
token says. What the dashboard shows of incidents and cases comes from the data endpoints,
whose answers :mod:`truceline.access` and :func:`truceline.api_cases.visible_case` decide.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations,
and ``Who`` is a value passed in by :func:`truceline.api.create_app`.)
"""

import hashlib
import json
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from ._time import format_time
from .access import Principal

__all__ = ["STATIC", "add_web_routes", "agreement_geojson"]

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


def add_web_routes(app: FastAPI, store: Any, lock: Any, Who: Any) -> None:
    """The dashboard's endpoints and files (``Who`` resolves the caller). Added last: the
    static files are mounted under ``/static`` and the page at ``/``, so no API path is
    shadowed."""
    cache: dict[str, dict[str, Any]] = {}

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

    @app.get("/", include_in_schema=False)
    async def dashboard() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
