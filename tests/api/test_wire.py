"""Light on the wire (issue 20): JSON and static answers gzipped for clients that accept it,
static files with content-hash ETags (304 when the browser has them) and a year's cache
under the hashed names the page gives them."""

from __future__ import annotations

import gzip
import hashlib
import json
import re

from tests.api import test_api
from tests.api.test_api import Service
from truceline.api.web import STATIC

prepared = test_api.prepared  # the service's fixtures, shared
svc = test_api.svc
GZ = {"Accept-Encoding": "gzip"}
PLAIN = {"Accept-Encoding": "identity"}


def _raw(svc: Service, url: str, headers: dict[str, str], role: str = "analyst") -> tuple:
    """The answer, and its bytes as they went over the wire."""
    with svc.client.stream("GET", url, headers={**headers, **_auth(svc, role)}) as res:
        raw = b"".join(res.iter_raw())
    return res, raw


def _auth(svc: Service, role: str) -> dict[str, str]:
    token = svc.tokens[role]
    return {"Authorization": f"Bearer {token}"} if token else {}


def test_json_answers_are_gzipped_for_who_accepts_it(svc: Service) -> None:
    for url in ("/v1/dashboard/incidents", "/v1/incidents?limit=1000", "/v1/agreement"):
        plain, body = _raw(svc, url, PLAIN)
        packed, raw = _raw(svc, url, GZ)
        assert "content-encoding" not in plain.headers
        assert packed.headers["content-encoding"] == "gzip", url
        assert "Accept-Encoding" in packed.headers["vary"]
        assert json.loads(gzip.decompress(raw)) == json.loads(body)
        assert len(raw) < len(body) / 4, (url, len(raw), len(body))  # JSON packs well
    # the bulk answer is revalidated, not fetched again: 304 on its ETag
    first, _ = _raw(svc, "/v1/dashboard/incidents", GZ)
    again, raw = _raw(
        svc, "/v1/dashboard/incidents", {**GZ, "If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304 and raw == b""
    assert "private" in first.headers["cache-control"]
    # another role, another answer, another tag
    other, _ = _raw(svc, "/v1/dashboard/incidents", GZ, role="party_n")
    assert other.headers["etag"] != first.headers["etag"]


def test_static_files_carry_content_hashes_and_cache_lifetimes(svc: Service) -> None:
    page = svc.client.get("/")
    assert page.headers["content-encoding"] == "gzip"
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    named = re.findall(r'(?:href|src|content)="(/static/[^"]+)"', page.text)
    base_map = "/static/vendor/world-atlas/countries-50m.json"
    assert any(u.startswith(f"{base_map}?v=") for u in named)
    for url in named:
        path, _, query = url.partition("?v=")
        data = (STATIC / path.removeprefix("/static/")).read_bytes()
        assert query == hashlib.sha256(data).hexdigest()[:16], url
        res = svc.client.get(url)
        assert res.status_code == 200 and res.content == data
        assert res.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert res.headers["etag"] == f'W/"{query}"'
        again = svc.client.get(url, headers={"If-None-Match": res.headers["etag"]})
        assert again.status_code == 304 and again.content == b""
    # under another name (a module a module imports): asked again every time, 304 if unchanged
    res = svc.client.get("/static/js/api.js")
    assert res.headers["cache-control"] == "no-cache"
    assert (
        svc.client.get(
            "/static/js/api.js", headers={"If-None-Match": res.headers["etag"]}
        ).status_code
        == 304
    )
    # the base map goes gzipped: under half its size (quantised TopoJSON: about 31 %)
    with svc.client.stream("GET", base_map, headers=GZ) as res:
        raw = b"".join(res.iter_raw())
    assert res.headers["content-encoding"] == "gzip"
    assert len(raw) < (STATIC / "vendor/world-atlas/countries-50m.json").stat().st_size / 2
    page2 = svc.client.get("/", headers={"If-None-Match": page.headers["etag"]})
    assert page2.status_code == 304
