"""Light on the wire: the bytes the dashboard's answers take, before (identity: what the
service sent before gzip, whatever the browser accepted) and after (gzip, as Chromium asks
for it), for the demo day (seed 1, 24 h, as `make demo`) and for 50,000 incidents (the day
repeated, as benchmarks/dashboard.py builds it); and a reload with the ETags the first load
gave (304s).

    python benchmarks/wire.py [--incidents 50000]

Bytes are counted as they leave the server (the raw body, before any decoding), through
Starlette's TestClient over the real application; results in benchmarks/results/wire.json.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard import build_store

from truceline.api import Settings, create_app
from truceline.api.wire import gzipped

GZ = {"Accept-Encoding": "gzip, deflate, br"}
PLAIN = {"Accept-Encoding": "identity"}


def raw(client: TestClient, url: str, headers: dict[str, str]) -> tuple[int, int, dict[str, str]]:
    with client.stream("GET", url, headers=headers) as res:
        body = b"".join(res.iter_raw())
    return res.status_code, len(body), dict(res.headers)


def measure(db: Path, token: str) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {token}"}
    out: dict[str, Any] = {}
    with TestClient(create_app(Settings(db=db))) as client:
        page = client.get("/", headers=GZ).text
        static = re.findall(r'(?:href|src|content)="(/static/[^"]+)"', page)
        modules = [
            f"/static/js/{m}"
            for m in (
                "api.js",
                "cases.js",
                "dossier.js",
                "dom.js",
                "map.js",
                "timeline.js",
                "proof.js",
            )
        ]
        urls = {
            "page": ["/"],
            "static": static + modules,
            "api": ["/v1/me", "/v1/agreement", "/v1/evidence/sth"],
        }
        n = len(client.get("/v1/dashboard/incidents", headers=auth).json()["features"])
        out["incidents"] = n
        for name, headers in (("identity", PLAIN), ("gzip", GZ)):
            out[f"bulk_{name}_bytes"] = raw(client, "/v1/dashboard/incidents", {**auth, **headers})[
                1
            ]
            paged, cursor = 0, None
            while True:
                q = "?limit=1000" + (f"&cursor={cursor}" if cursor else "")
                with client.stream("GET", f"/v1/incidents{q}", headers={**auth, **headers}) as res:
                    paged += len(b"".join(res.iter_raw()))
                cursor = client.get(f"/v1/incidents{q}", headers=auth).json()["next"]
                if not cursor:
                    break
            out[f"paged_{name}_bytes"] = paged
            for group, items in urls.items():
                out[f"{group}_{name}_bytes"] = sum(
                    raw(client, u, {**auth, **headers})[1] for u in items
                )
        # a reload: every file and the bulk answer asked again with the tags the first gave
        again = 0
        for u in [*urls["page"], *urls["static"], *urls["api"], "/v1/dashboard/incidents"]:
            _, _, h = raw(client, u, {**auth, **GZ})
            _, size, _ = raw(client, u, {**auth, **GZ, "If-None-Match": h.get("etag", "")})
            again += size
        out["reload_gzip_etag_bytes"] = again
        body = client.get("/v1/dashboard/incidents", headers={**auth, **PLAIN}).content
        t0 = time.perf_counter()
        gzipped(body)  # what the server does once per kept answer
        out["bulk_gzip_once_s"] = round(time.perf_counter() - t0, 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--incidents", type=int, default=50_000)
    args = ap.parse_args()
    results: dict[str, Any] = {
        "machine": f"{platform.machine()}, {platform.system()}, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    with tempfile.TemporaryDirectory() as tmp:
        big, token_big, day = build_store(Path(tmp) / "big", args.incidents)
        small, token_small, _ = build_store(Path(tmp) / "day", day)
        results["demo_day"] = measure(small, token_small)
        results["scaled"] = measure(big, token_big)
    out = Path(__file__).resolve().parent / "results" / "wire.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
