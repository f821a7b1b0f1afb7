"""Light on the wire: gzip of JSON and static answers, and cache headers.

- Every answer of 1,000 bytes or more is gzipped for a client that accepts it (Starlette's
  ``GZipMiddleware``, level 6: most of level 9's gain at a fraction of its time); answers
  that are kept (the dashboard's bulk incidents) are compressed once, when kept.
- Static files carry a weak ETag of their content (SHA-256, so it changes exactly when the
  bytes do, whatever the file's time) and are answered 304 when the browser has them; under
  the URL the page names them by (``?v=<that hash>``) they are ``immutable`` for a year,
  under any other URL ``no-cache`` (the browser asks again, and gets a 304).
- The page itself is served with its static URLs so named (:func:`hashed_page`): a new
  release changes the names, so no browser keeps an old file.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Scope

__all__ = [
    "GZIP_LEVEL",
    "GZIP_MINIMUM",
    "IMMUTABLE",
    "HashedStaticFiles",
    "accepts_gzip",
    "digest",
    "etag_of",
    "gzipped",
    "hashed_page",
    "not_modified",
]

GZIP_MINIMUM = 1000
GZIP_LEVEL = 6
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"

_digests: dict[tuple[str, int, int], str] = {}


def digest(path: str | os.PathLike[str], stat: os.stat_result | None = None) -> str:
    """The first 16 hex digits of a file's SHA-256, kept while its time and size stay."""
    st = stat or os.stat(path)
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _digests:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        _digests[key] = h.hexdigest()[:16]
    return _digests[key]


def etag_of(tag: str) -> str:
    """A weak ETag: the same content may go out gzipped or not."""
    return f'W/"{tag}"'


def not_modified(request: Headers, etag: str) -> bool:
    """Whether the request's If-None-Match names ``etag`` (weak comparison)."""
    asked = request.get("if-none-match")
    if not asked:
        return False
    bare = etag.removeprefix("W/")
    return asked.strip() == "*" or bare in [t.strip().removeprefix("W/") for t in asked.split(",")]


class HashedStaticFiles(StaticFiles):
    """Static files with content-hash ETags, 304s and cache lifetimes (module docstring)."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        tag = digest(full_path, stat_result)
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        headers = {
            "ETag": etag_of(tag),
            "Cache-Control": IMMUTABLE if query.get("v") == [tag] else REVALIDATE,
        }
        if not_modified(Headers(scope=scope), headers["ETag"]):
            return NotModifiedResponse(Headers(headers))
        return FileResponse(
            full_path, status_code=status_code, stat_result=stat_result, headers=headers
        )


_STATIC_URL = re.compile(r'(?P<attr>(?:href|src|content)=")(?P<url>/static/[^"?#]+)"')


def hashed_page(page: Path, static: Path) -> tuple[str, str]:
    """The page's text with every ``/static/...`` URL it names (in ``href``, ``src`` or a
    meta ``content``) given its file's hash (``?v=``), and the page's own tag."""

    def named(m: re.Match[str]) -> str:
        url = m["url"]
        file = static / url.removeprefix("/static/")
        if not file.is_file():
            return m[0]
        return f'{m["attr"]}{url}?v={digest(file)}"'

    text = _STATIC_URL.sub(named, page.read_text(encoding="utf-8"))
    return text, hashlib.sha256(text.encode()).hexdigest()[:16]


def gzipped(body: bytes) -> bytes:
    """``body`` gzipped as the middleware would (level :data:`GZIP_LEVEL`)."""
    import gzip

    return gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)


def accepts_gzip(headers: Any) -> bool:
    """Whether the client accepts gzip: named (or ``*``) in Accept-Encoding with a q above
    zero (``gzip;q=0`` refuses it).

    >>> [accepts_gzip({"accept-encoding": v}) for v in ("gzip, br", "gzip;q=0", "*", "br")]
    [True, False, True, False]
    """
    for part in str(headers.get("accept-encoding", "")).split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() not in ("gzip", "*"):
            continue
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        return q > 0
    return False
