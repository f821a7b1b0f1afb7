"""The application: one store opened once, the limits, the routers of each resource, the
error answers, the OpenAPI document (with the observation formats) and the dashboard.

- Answers are gzipped for clients that accept it, static files carry content-hash ETags
  and cache lifetimes (:mod:`.wire`).
- Bodies above the configured size get 413, malformed JSON 422, more requests than the
  configured rate (with a burst) from one client address 429 (per worker process).
- Every route is a thin call into the library; who may see and do what is
  :mod:`truceline.access`, the case workflow :mod:`truceline.review`, and every write is an
  entry of the evidence log.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from .._version import __version__
from ..observations import observation_schema
from ..store import open_store
from . import (
    attachments,
    cases,
    errors,
    evidence,
    exports,
    incidents,
    live,
    mapdata,
    observations,
    sensors,
    web,
)
from .deps import Context
from .limits import Limits
from .settings import SETTINGS_ENV, Settings
from .wire import GZIP_LEVEL, GZIP_MINIMUM

__all__ = ["app_from_environment", "create_app"]


def create_app(settings: Settings) -> FastAPI:
    """The application over one store (opened once). Handlers run on the event loop; the
    store's connection is used by one request at a time (:func:`.deps.locked`), and what
    takes long (parsing and validating a large ingest, writing it) runs in worker threads,
    so other requests are served meanwhile (run several worker processes,
    ``truceline serve --workers N``, to use several cores)."""
    if settings.quorum < 1:
        raise ValueError("quorum must be at least 1")
    store = open_store(settings.db, settings.database_url, settings.log_key)
    app = FastAPI(
        title="Truceline",
        version=__version__,
        responses=errors.ERRORS,
        description="Ceasefire monitoring and verification: observations, incidents, "
        "evidence and the Special Commission's cases.",
    )
    app.add_middleware(Limits, settings=settings)
    # outermost: what the limits refuse is small; everything else may be compressed
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM, compresslevel=GZIP_LEVEL)
    app.state.context = Context(store, settings, threading.Lock())
    app.router.on_shutdown.append(app.state.context.close_watch)
    app.state.store = store
    if settings.tiles is not None:  # the mission's base map (a UsageError if it is none)
        from ..mbtiles import MBTiles

        app.state.tiles = MBTiles(settings.tiles)
        app.router.on_shutdown.append(app.state.tiles.close)
    # live and exports before incidents: /v1/incidents/stream and /export are not ids
    routers = (observations, live, exports, incidents, evidence, cases, attachments, sensors)
    for module in (*routers, mapdata, web):
        app.include_router(module.router)
    web.mount_dashboard(app)  # last: the page and its files shadow no API path
    errors.install(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, plus the observation formats (FORMATS §2) as components."""
    if app.openapi_schema is None:
        from fastapi.openapi.utils import get_openapi

        doc = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schema = observation_schema("#/components/schemas/{model}")
        comps = doc.setdefault("components", {}).setdefault("schemas", {})
        comps.update(schema.pop("$defs", {}))
        comps["Observation"] = schema
        app.openapi_schema = doc
    return app.openapi_schema


def app_from_environment() -> FastAPI:
    """The application of one worker process of ``truceline serve --workers N``."""
    return create_app(Settings.from_env(os.environ[SETTINGS_ENV]))
