"""Errors of the HTTP API: the documented error answers, the 422 shape, and the one mapping
of Truceline's exceptions (:mod:`truceline.errors`) to HTTP answers."""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import (
    Forbidden,
    InputError,
    InputErrors,
    MissingExtra,
    NotFound,
    ReviewError,
    StoreError,
    TrucelineError,
    WitnessError,
)

__all__ = ["ERRORS", "Problem", "input_errors", "install", "unprocessable"]


class Problem(BaseModel):
    """An error: ``detail`` says what is wrong (for 422, a list naming where)."""

    detail: str | list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Unknown or malformed bearer token"},
    403: {"model": Problem, "description": "The caller's role may not do this"},
    404: {"model": Problem, "description": "No such object, or not visible to the caller"},
    409: {"model": Problem, "description": "Not allowed in the case's current state"},
    413: {"model": Problem, "description": "Body too large"},
    422: {"model": Problem, "description": "Invalid input (where, and what is wrong)"},
    429: {"model": Problem, "description": "Too many requests"},
    503: {"model": Problem, "description": "The store is unavailable"},
}

#: each kind of Truceline error and the HTTP status it is answered with (most specific first)
STATUS: tuple[tuple[type[TrucelineError], int], ...] = (
    (InputError, 422),
    (NotFound, 404),
    (Forbidden, 403),
    (ReviewError, 409),
    (StoreError, 503),
    (MissingExtra, 501),
)


def unprocessable(loc: list[Any], msg: str) -> HTTPException:
    """A 422 answer naming where (``loc``) and what is wrong, in FastAPI's own shape."""
    return HTTPException(422, [{"loc": loc, "msg": msg, "type": "value_error"}])


def input_errors(exc: InputError) -> list[dict[str, Any]]:
    """An input error (or several) as the 422 ``detail`` list: line, field and message."""
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


def _truceline_error(request: Request, exc: Exception) -> JSONResponse:
    status = next((code for kind, code in STATUS if isinstance(exc, kind)), 500)
    if isinstance(exc, WitnessError):
        status = exc.status
    detail: Any = input_errors(exc) if isinstance(exc, InputError) else str(exc)
    return JSONResponse({"detail": detail}, status_code=status)


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
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


def _json_safe(value: Any) -> Any:
    """A value as JSON can carry it: non-finite numbers and lone surrogates as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {str(_json_safe(k)): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return repr(value)


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 with what was given made JSON-safe (``NaN`` in a body used to make the
    answer itself fail, and the client got a 500)."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {k: _json_safe(v) for k, v in e.items() if k in ("loc", "msg", "type", "input")}
        for e in exc.errors()
    ]
    json.dumps(errors, allow_nan=False)  # what is answered is valid JSON
    return JSONResponse({"detail": errors}, status_code=422)


def install(app: FastAPI) -> None:
    """Answer every Truceline error, and FastAPI's own, in the documented shapes."""
    app.add_exception_handler(TrucelineError, _truceline_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
