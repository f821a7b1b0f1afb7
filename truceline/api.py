"""The HTTP API (FastAPI; OpenAPI 3.1 at ``/openapi.json``; everything under ``/v1``).

It wraps the store and the library: no analysis logic lives here. Authorisation is decided
by :mod:`truceline.access`, the case workflow by :mod:`truceline.review`, and every write
is an entry of the evidence log.

- Bodies above ``Settings.max_body_bytes`` get 413, malformed JSON 422, more requests than
  ``Settings.rate_per_s`` (with a burst of ``Settings.burst``) from one client address 429
  (per worker process).
- ``POST /v1/observations`` takes a JSON array or JSON lines; all-or-nothing, idempotent by
  ``(source, id)``; answers with the counts and the new signed tree head.
"""

import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__
from ._time import parse_time
from .access import PUBLIC, Disclosure, Principal, may_submit, view_incident
from .api_cases import add_case_routes
from .api_errors import ERRORS, unprocessable
from .api_evidence import add_evidence_routes
from .api_web import add_web_routes
from .errors import InputError, InputErrors, StoreError
from .evidence import inclusion_bundle
from .observations import check_parties, observation_schema, parse_lines, parse_objects
from .store import open_store

__all__ = ["Settings", "create_app"]


@dataclass
class Settings:
    db: Path
    database_url: str | None = None  # PostgreSQL + PostGIS instead of the SQLite file
    log_key: Path | None = None
    disclosure: Disclosure = field(default_factory=Disclosure)
    quorum: int = 2  # member states whose commissioners must sign a ruling
    max_body_bytes: int = 8 * 1024 * 1024
    rate_per_s: float = 50.0
    burst: int = 200
    now_us: Callable[[], int] = field(default=lambda: int(time.time() * 1e6))


class _Limits:
    """413 for oversized bodies, 429 for floods (a token bucket per client), and an ``Allow``
    header on 405 listing every method of the path. Plain ASGI: no per-request task."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.buckets: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        s = self.settings
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        # per client address: made-up tokens must not each get a fresh bucket
        key = client[0] if client else "?"
        now = time.monotonic()
        with self.lock:
            if len(self.buckets) > 10_000:  # forget clients idle for a minute
                self.buckets = {k: v for k, v in self.buckets.items() if now - v[1] < 60}
            tokens, last = self.buckets.get(key, (float(s.burst), now))
            tokens = min(float(s.burst), tokens + (now - last) * s.rate_per_s)
            self.buckets[key] = (tokens - 1.0 if tokens >= 1.0 else tokens, now)
        if tokens < 1.0:
            retry = str(max(1, round(1 / s.rate_per_s)))
            response = JSONResponse(
                {"detail": "too many requests; slow down"},
                status_code=429,
                headers={"Retry-After": retry},
            )
            await response(scope, receive, send)
            return
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > s.max_body_bytes:
            response = JSONResponse(
                {"detail": f"body larger than {s.max_body_bytes} bytes"}, status_code=413
            )
            await response(scope, receive, send)
            return

        async def send_with_allow(message: Any) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                methods: set[str] = set()
                for route in scope["app"].routes:
                    match, _ = route.matches({**scope, "method": "GET"})
                    if match.name != "NONE" and getattr(route, "methods", None):
                        methods |= set(route.methods)
                extra = [(b"allow", ", ".join(sorted(methods)).encode())]
                kept = [(k, v) for k, v in message["headers"] if k.lower() != b"allow"]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app(scope, receive, send_with_allow)


class ObservationsAccepted(BaseModel):
    accepted: int
    duplicates: int
    tree_head: dict[str, Any] | None


class ReviewIn(BaseModel):
    status: str = Field(pattern="^(automatic|corroborated|verified|disputed|rejected)$")
    published: bool


def create_app(settings: Settings) -> FastAPI:
    """The application over one store (opened once). Handlers run on the event loop, one at a
    time and in arrival order: the store's connection is used by one request at a time, and
    a burst of clients is served first come, first served (run several worker processes,
    ``truceline serve --workers N``, to use several cores)."""
    if settings.quorum < 1:
        raise ValueError("quorum must be at least 1")
    store = open_store(settings.db, settings.database_url, settings.log_key)
    lock = threading.RLock()
    app = FastAPI(
        title="Truceline",
        version=__version__,
        responses=ERRORS,
        description="Ceasefire monitoring and verification: observations, incidents, "
        "evidence and the Special Commission's cases.",
    )
    app.add_middleware(_Limits, settings=settings)
    app.state.store = store

    async def principal(authorization: Annotated[str | None, Header()] = None) -> Principal:
        if not authorization:
            return PUBLIC
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(401, "use Authorization: Bearer TOKEN")
        with lock:
            holder = store.token_holder(token.strip())
        if holder is None:
            raise HTTPException(401, "unknown token")
        return Principal(*holder)

    Who = Annotated[Principal, Depends(principal)]

    def require(who: Principal, *roles: str) -> None:
        if who.role not in roles:
            raise HTTPException(403, f"{who.role} may not do this")

    def head_dict() -> dict[str, Any] | None:
        head = store.latest_head()
        return head.as_dict() if head else None

    @app.get("/v1/health")
    async def health() -> dict[str, Any]:
        with lock:
            return {
                "status": "ok",
                "version": __version__,
                "observations": store.count_observations(),
                "log_size": store.log_size(),
            }

    @app.post(
        "/v1/observations",
        response_model=ObservationsAccepted,
        openapi_extra={
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
        },
    )
    async def post_observations(request: Request, who: Who) -> ObservationsAccepted:
        """Submit observations (a JSON array, or JSON lines); all-or-nothing; re-sending the
        same ``(source, id)`` is a no-op."""
        if who.role == "public" or who.role == "commissioner":
            raise HTTPException(403, f"{who.role} may not submit observations")
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():  # capped as it arrives (chunked bodies too)
            size += len(chunk)
            if size > settings.max_body_bytes:
                raise HTTPException(413, f"body larger than {settings.max_body_bytes} bytes")
            chunks.append(chunk)
        raw = b"".join(chunks)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise unprocessable(["body"], "the body is not UTF-8") from None
        if not text.strip():
            raise unprocessable(["body"], "no observations in the body")
        ctype = request.headers.get("content-type", "")
        if "json" in ctype and "ndjson" not in ctype and text.lstrip().startswith("["):
            try:
                items = json.loads(text)
            except json.JSONDecodeError as exc:
                raise unprocessable(["body"], f"malformed JSON: {exc.msg} at {exc.pos}") from None
            if not isinstance(items, list):
                raise unprocessable(["body"], "expected a JSON array of observations")
            if not items:
                raise unprocessable(["body"], "no observations in the array")
            parse = lambda: parse_objects(items, "body")  # noqa: E731
        else:
            parse = lambda: parse_lines(text.splitlines(), "body")  # noqa: E731
        try:
            batch = parse()
        except (InputError, InputErrors) as exc:
            raise HTTPException(422, _errors(exc)) from None
        for obs in batch.observations:
            m = obs.model
            reason = may_submit(who, m.type, m.source, getattr(m, "party", None))
            if reason:
                raise HTTPException(403, f"body:{obs.line}: {reason}")
        with lock:
            known = store.agreement_parties()
            if known:  # allegations must name the agreement's parties (else analysis fails)
                try:
                    check_parties(batch.observations, known)
                except (InputError, InputErrors) as exc:
                    raise HTTPException(422, _errors(exc)) from None
            try:
                accepted, dup = store.add_observations(batch)
            except (InputError, InputErrors) as exc:
                raise HTTPException(422, _errors(exc)) from None
            return ObservationsAccepted(accepted=accepted, duplicates=dup, tree_head=head_dict())

    @app.get(
        "/v1/incidents",
        response_class=JSONResponse,
        responses={
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
        },
    )
    async def get_incidents(
        who: Who,
        bbox: Annotated[
            str | None, Query(description="minlon,minlat,maxlon,maxlat", pattern=BBOX)
        ] = None,
        start: Annotated[
            str | None, Query(description="RFC 3339", json_schema_extra={"format": "date-time"})
        ] = None,
        end: Annotated[
            str | None, Query(description="RFC 3339", json_schema_extra={"format": "date-time"})
        ] = None,
        status: str | None = None,
        party: str | None = None,
        clause: str | None = None,
        kind: str | None = None,
        cursor: Annotated[
            str | None,
            Query(description="`next` of the previous page", pattern=CURSOR),
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
            step = settings.disclosure.coarsen_deg
            query_box = (
                math.floor(box[0] / step) * step,
                math.floor(box[1] / step) * step,
                math.ceil(box[2] / step) * step,
                math.ceil(box[3] / step) * step,
            )
        t0 = _time(start, "start")
        t1 = _time(end, "end")
        after = _cursor(cursor)
        now = settings.now_us()
        features: list[dict[str, Any]] = []
        last: tuple[int, str] | None = None
        exhausted = False
        with lock:
            # in chunks, in SQL order: what the caller may see is decided row by row; the
            # first chunk is one page (and one more row, to know whether more follow), then
            # chunks grow while rows are being filtered out
            chunk = limit + 1
            while len(features) < limit and not exhausted:
                rows = list(store.query_incidents(None, t0, t1, query_box, kind, after, chunk))
                exhausted = len(rows) < chunk
                chunk = min(4 * chunk + 50, 5000)
                reviews = store.reviews([f["properties"]["id"] for f in rows])
                for f in rows:
                    p = f["properties"]
                    last = after = (parse_time(p["time_start"]), p["id"])
                    seen = view_incident(who, f, reviews.get(p["id"]), now, settings.disclosure)
                    if seen is None:
                        continue
                    sp = seen["properties"]
                    if box is not None and not _inside(seen, box):
                        continue
                    if status and sp["status"] != status:
                        continue
                    if party and sp.get("attributed_to") != party:
                        continue
                    if clause and clause not in (sp.get("violations") or []):
                        continue
                    features.append(seen)
                    if len(features) >= limit:
                        exhausted = exhausted and f is rows[-1]
                        break
        more = not exhausted and last is not None
        doc = {
            "type": "FeatureCollection",
            "features": features,
            "next": _make_cursor(last) if more and last else None,
        }
        # plain json.dumps: the features are already JSON values (FastAPI's generic encoder
        # walking every coordinate cost more than the query)
        return JSONResponse(doc, media_type="application/geo+json")

    @app.get("/v1/incidents/{incident_id}")
    async def get_incident(incident_id: str, who: Who) -> dict[str, Any]:
        """One incident with its supporting observations and an inclusion proof of each."""
        with lock:
            feature = store.incident(incident_id)
            if feature is None:
                raise HTTPException(404, "no such incident")
            review_ = store.reviews([incident_id]).get(incident_id)
            seen = view_incident(who, feature, review_, settings.now_us(), settings.disclosure)
            if seen is None:
                raise HTTPException(404, "no such incident")
            sp = seen["properties"]
            if not (who.is_staff or (who.party is not None and "disclosure" not in sp)):
                return {**seen, "evidence": []}  # the public view: no raw observations
            head = store.latest_head()
            bodies = store.observation_bodies(feature["properties"].get("observations") or [])
            public = bool(sp.get("published")) and sp.get("status") == "verified"
            evidence = []
            for ref, (body, index) in sorted(bodies.items()):
                if (
                    who.party is not None
                    and body.get("type") == "allegation"
                    and body.get("party") != who.party
                    and not public
                ):
                    continue  # the other party's unpublished allegation
                item: dict[str, Any] = {
                    "ref": ref,
                    "observation": body,
                    "signed": "signature" in body,
                }
                if head is not None and index < head.tree_size:
                    item["proof"] = inclusion_bundle(store.tree(), index, store.entry(index), head)
                evidence.append(item)
            return {**seen, "evidence": evidence}

    @app.patch("/v1/incidents/{incident_id}")
    async def review_incident(incident_id: str, body: ReviewIn, who: Who) -> dict[str, Any]:
        """Set an incident's status and publication (analysts)."""
        require(who, "analyst")
        with lock:
            if store.incident(incident_id) is None:
                raise HTTPException(404, "no such incident")
            index = store.set_review(incident_id, body.status, body.published, who.name)
            return {
                "id": incident_id,
                "status": body.status,
                "published": body.published,
                "log_index": index,
            }

    add_evidence_routes(app, store, lock, settings, Who)
    add_case_routes(app, store, lock, settings, Who, require)
    add_web_routes(app, store, lock, settings, Who)  # the dashboard: last, after every API route

    def openapi() -> dict[str, Any]:
        """The generated schema, plus the observation formats (FORMATS §2) as components."""
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            doc = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema = observation_schema("#/components/schemas/{model}")
            comps = doc.setdefault("components", {}).setdefault("schemas", {})
            comps.update(schema.pop("$defs", {}))
            comps["Observation"] = schema
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI's "error parsing the body": malformed JSON
            return JSONResponse(
                {"detail": [{"loc": ["body"], "msg": str(exc.detail), "type": "json_invalid"}]},
                status_code=422,
            )
        return JSONResponse(
            {"detail": exc.detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(StoreError)
    def _store_error(request: Request, exc: StoreError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    return app


SETTINGS_ENV = "TRUCELINE_SERVE_SETTINGS"


def settings_to_env(settings: Settings) -> str:
    """The settings as JSON, for worker processes (see :func:`app_from_environment`)."""
    return json.dumps(
        {
            "db": str(settings.db),
            "database_url": settings.database_url,
            "log_key": str(settings.log_key) if settings.log_key else None,
            "delay_hours": settings.disclosure.delay_hours,
            "coarsen_deg": settings.disclosure.coarsen_deg,
            "quorum": settings.quorum,
            "max_body_bytes": settings.max_body_bytes,
            "rate_per_s": settings.rate_per_s,
            "burst": settings.burst,
        }
    )


def app_from_environment() -> FastAPI:
    """The application of one worker process of ``truceline serve --workers N``."""
    import os

    d = json.loads(os.environ[SETTINGS_ENV])
    return create_app(
        Settings(
            db=Path(d["db"]),
            database_url=d["database_url"],
            log_key=Path(d["log_key"]) if d["log_key"] else None,
            disclosure=Disclosure(delay_hours=d["delay_hours"], coarsen_deg=d["coarsen_deg"]),
            quorum=d["quorum"],
            max_body_bytes=d["max_body_bytes"],
            rate_per_s=d["rate_per_s"],
            burst=d["burst"],
        )
    )


def _errors(exc: InputError | InputErrors) -> list[dict[str, Any]]:
    errs = exc.errors if isinstance(exc, InputErrors) else [exc]
    return [
        {
            "loc": ["body", e.line, e.field or ""],
            "msg": str(e),
            "type": "value_error",
            "line": e.line,
            "field": e.field,
            "message": e.message,
        }
        for e in errs
    ]


_NUM = r"-?[0-9]+(\.[0-9]+)?"
BBOX = rf"^{_NUM},{_NUM},{_NUM},{_NUM}$"


def _inside(feature: dict[str, Any], box: tuple[float, float, float, float]) -> bool:
    """Is the point the caller is shown inside the box?"""
    coords = (feature.get("geometry") or {}).get("coordinates")
    if not coords:
        return False
    return box[0] <= coords[0] <= box[2] and box[1] <= coords[1] <= box[3]


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


CURSOR = r"^-?[0-9]{1,19}:[A-Za-z0-9_.:-]{0,128}$"


def _make_cursor(last: tuple[int, str]) -> str:
    """A position in (time_start, id) order: the last incident of the page."""
    return f"{last[0]}:{last[1]}"


def _cursor(text: str | None) -> tuple[int, str] | None:
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
