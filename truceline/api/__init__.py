"""The HTTP API (FastAPI; OpenAPI 3.1 at ``/openapi.json``; everything under ``/v1``), one
router per resource: observations, incidents, evidence, cases, and the dashboard's own
endpoints and files. It wraps the store and the library; no analysis logic and no rule of
who may see what lives here (:mod:`truceline.access`, :mod:`truceline.review`).

Needs the ``[service]`` extra (FastAPI, uvicorn).
"""

from __future__ import annotations

from .._extras import require

require("fastapi", "service", "The HTTP API and the dashboard")

from .app import app_from_environment, create_app  # noqa: E402
from .settings import SETTINGS_ENV, Settings  # noqa: E402

__all__ = ["SETTINGS_ENV", "Settings", "app_from_environment", "create_app"]
