"""Errors of the HTTP API: the documented error answers and the 422 shape."""

from typing import Any

from fastapi import HTTPException
from pydantic import BaseModel

__all__ = ["ERRORS", "Problem", "unprocessable"]


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


def unprocessable(loc: list[Any], msg: str) -> HTTPException:
    """A 422 answer naming where (``loc``) and what is wrong, in FastAPI's own shape."""
    return HTTPException(422, [{"loc": loc, "msg": msg, "type": "value_error"}])
