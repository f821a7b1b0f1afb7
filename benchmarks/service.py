"""The service under load: batch ingest and bbox + time queries at 32 concurrent clients, with
a million incidents stored, on PostgreSQL + PostGIS and on SQLite, side by side.

    python benchmarks/service.py [--incidents 1000000] [--clients 32] [--seconds 30]
                                 [--observations 200000] [--batch 1000]

For each store: a million synthetic incidents (a 1,400 km front, 30 days) are stored as one
analysis run; `truceline serve` is started on 127.0.0.1 (`--workers 2`, one per core); then, from a separate client process (asyncio, one
connection per client):

- queries: `GET /v1/incidents?bbox=...&start=...&end=...` for a random 0.5° × 0.5° box and a
  random 6-hour window, as an analyst, by wrk (Debian `wrk`: a C load generator, so the
  client does not take the server's CPU) over 32 connections for 30 s after a 5 s warm-up;
  latency p50 / p90 / p99 and requests/s;
- ingest: `POST /v1/observations` batches of 1,000 new acoustic detections (JSON array),
  every batch one transaction under a new signed tree head; observations/s.

The PostgreSQL cluster is a throwaway one (fsync on), started by the script.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.pgcluster import missing, new_database, throwaway_cluster
from truceline._time import format_time
from truceline.store import open_store

T0 = 1_772_323_200_000_000  # 2026-03-01
DAYS = 30


def features(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    lon = rng.uniform(30.0, 40.0, n)
    lat = rng.uniform(46.0, 50.0, n)
    t = np.sort(rng.integers(T0, T0 + DAYS * 86_400_000_000, n))
    out = []
    for i in range(n):
        ts = format_time(int(t[i]))
        out.append(
            {
                "type": "Feature",
                "id": f"inc-{i:012x}",
                "geometry": {"type": "Point", "coordinates": [float(lon[i]), float(lat[i])]},
                "properties": {
                    "id": f"inc-{i:012x}",
                    "kind": "fire",
                    "time_start": ts,
                    "time_end": ts,
                    "weapon": "mortar_lt120",
                    "origin": None,
                    "origin_sigma_m": None,
                    "impact": [float(lon[i]), float(lat[i])],
                    "impact_sigma_m": 4.0,
                    "confidence": 0.96,
                    "attribution": {"N": 1.0},
                    "attributed_to": "N",
                    "violations": ["C1"],
                    "status": "automatic",
                    "observations": [f"AS-{i % 9973}:{i}"],
                },
            }
        )
    return out


SUMMARY = {
    "truceline_version": "bench",
    "agreement": "bench",
    "inputs": {"sha256": "-", "observations": 0},
    "outputs": {"incidents_sha256": "-"},
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(where: list[str], key: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    cmd = [
        sys.executable,
        "-m",
        "truceline",
        "serve",
        *where,
        "--log-key",
        str(key),
        "--port",
        str(port),
        "--rate-per-s",
        "1000000",
        "--burst",
        "1000000",
        "--max-body-mb",
        "64",
        "--workers",
        str(workers),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


async def _queries(port: int, token: str, clients: int, total: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    jobs = []
    for _ in range(total):
        lon, lat = rng.uniform(30.0, 39.5), rng.uniform(46.0, 49.5)
        t = rng.randrange(T0, T0 + DAYS * 86_400_000_000 - 6 * 3_600_000_000)
        jobs.append(
            {
                "bbox": f"{lon},{lat},{lon + 0.5},{lat + 0.5}",
                "start": format_time(t),
                "end": format_time(t + 6 * 3_600_000_000),
            }
        )
    latencies: list[float] = []
    counts: list[int] = []
    queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    for j in jobs:
        queue.put_nowait(j)
    headers = {"Authorization": f"Bearer {token}"}

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            while not queue.empty():
                params = queue.get_nowait()
                t0 = time.perf_counter()
                res = await http.get("/v1/incidents", params=params, headers=headers)
                latencies.append(time.perf_counter() - t0)
                assert res.status_code == 200, res.text
                counts.append(len(res.json()["features"]))

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    wall = time.perf_counter() - t
    lat = sorted(latencies)
    return {
        "requests": len(lat),
        "per_s": len(lat) / wall,
        "p50_ms": statistics.median(lat) * 1e3,
        "p99_ms": lat[int(len(lat) * 0.99)] * 1e3,
        "incidents_per_answer_median": statistics.median(counts),
    }


async def _ingest(port: int, token: str, clients: int, total: int, batch: int) -> dict[str, Any]:
    bodies = []
    for b in range(total // batch):
        rows = []
        for i in range(batch):
            n = b * batch + i
            rows.append(
                {
                    "id": f"L-{n}",
                    "type": "acoustic",
                    "source": f"AS-L{n % 9973:04d}",
                    "sensor": f"AS-L{n % 9973:04d}",
                    "time": format_time(T0 + n * 1000),
                    "position": [36.0 + (n % 1000) * 1e-3, 48.0 + (n % 997) * 1e-3, 120.0],
                    "class": "impact",
                    "sigma_s": 0.02,
                    "snr_db": 9.5,
                    "temperature_c": 4.0,
                }
            )
        bodies.append(json.dumps(rows).encode())
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies: list[float] = []
    accepted = [0]

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=300) as http:
            while not queue.empty():
                body = queue.get_nowait()
                t0 = time.perf_counter()
                res = await http.post("/v1/observations", content=body, headers=headers)
                latencies.append(time.perf_counter() - t0)
                assert res.status_code == 200, res.text
                accepted[0] += res.json()["accepted"]

    t = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    wall = time.perf_counter() - t
    lat = sorted(latencies)
    return {
        "observations": accepted[0],
        "per_s": accepted[0] / wall,
        "batch_p50_ms": statistics.median(lat) * 1e3,
        "batch_p99_ms": lat[int(len(lat) * 0.99)] * 1e3,
    }


WRK_SCRIPT = """
math.randomseed(7)
local T0, DAYS = 1772323200, 30
wrk.headers["Authorization"] = "Bearer TOKEN"
request = function()
  local lon = 30 + math.random() * 9.5
  local lat = 46 + math.random() * 3.5
  local t = T0 + math.floor(math.random() * (DAYS * 86400 - 6 * 3600))
  local s = os.date("!%Y-%m-%dT%H:%M:%SZ", t)
  local e = os.date("!%Y-%m-%dT%H:%M:%SZ", t + 6 * 3600)
  return wrk.format("GET", string.format(
    "/v1/incidents?bbox=%.4f,%.4f,%.4f,%.4f&start=%s&end=%s", lon, lat, lon + 0.5, lat + 0.5, s, e))
end
"""


def wrk_queries(port: int, token: str, clients: int, seconds: int, tmp: Path) -> dict[str, Any]:
    """bbox + time queries by wrk (C, one thread): latency percentiles and requests/s."""
    script = tmp / "queries.lua"
    script.write_text(WRK_SCRIPT.replace("TOKEN", token))
    url = f"http://127.0.0.1:{port}"
    subprocess.run(
        ["wrk", "-t1", f"-c{clients}", "-d5s", "-s", str(script), url],
        check=True,
        capture_output=True,
    )  # warm-up
    res = subprocess.run(
        ["wrk", "-t1", f"-c{clients}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout

    def ms(label: str) -> float:
        m = re.search(rf"{label}\s+([0-9.]+)(us|ms|s)\b", res)
        assert m, res
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]

    rps = re.search(r"Requests/sec:\s+([0-9.]+)", res)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", res)
    assert rps and not errors, res
    return {
        "tool": "wrk -t1",
        "clients": clients,
        "seconds": seconds,
        "per_s": float(rps.group(1)),
        "p50_ms": ms("50%"),
        "p90_ms": ms("90%"),
        "p99_ms": ms("99%"),
    }


def _client(kind: str, port: int, token: str, args: dict[str, Any], out: Any) -> None:
    if kind == "queries":
        out.put(asyncio.run(_queries(port, token, args["clients"], args["queries"], 7)))
    else:
        out.put(
            asyncio.run(_ingest(port, token, args["clients"], args["observations"], args["batch"]))
        )


def in_client_process(kind: str, port: int, token: str, args: dict[str, Any]) -> dict[str, Any]:
    out: Any = mp.Queue()
    proc = mp.Process(target=_client, args=(kind, port, token, args, out))
    proc.start()
    res = out.get()
    proc.join()
    return dict(res)


def bench_store(
    name: str,
    where: list[str],
    opener: Any,
    tmp: Path,
    args: dict[str, Any],
    data: list[dict[str, Any]],
) -> dict[str, Any]:
    key = tmp / f"{name}.key"
    t = time.perf_counter()
    with opener(key) as store:
        store.add_run(SUMMARY, data)
        token = store.create_token("analyst", "bench")
        if name == "postgres":
            store._x("ANALYZE")
    load_s = time.perf_counter() - t
    port = free_port()
    proc = serve(where, key, port, args["workers"])
    try:
        queries = wrk_queries(port, token, args["clients"], args["seconds"], tmp)
        ingest = in_client_process("ingest", port, token, args)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    res = {"load_incidents_s": load_s, "queries": queries, "ingest": ingest}
    print(name, json.dumps(res, indent=1), flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--incidents", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--seconds", type=int, default=30, help="of queries (after 5 s warm-up)")
    ap.add_argument("--observations", type=int, default=200_000)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--workers", type=int, default=2, help="truceline serve --workers")
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "service.json")
    a = ap.parse_args()
    args = vars(a)
    if missing():
        raise SystemExit(missing())
    t = time.perf_counter()
    data = features(a.incidents)
    print(f"made {len(data):,} incidents in {time.perf_counter() - t:.0f} s", flush=True)
    results: dict[str, Any] = {"args": {k: v for k, v in args.items() if k != "out"}}
    with tempfile.TemporaryDirectory() as tmp_, throwaway_cluster(fsync=True) as cluster:
        tmp = Path(tmp_)
        url = new_database(cluster)
        results["postgres"] = bench_store(
            "postgres",
            ["--database-url", url],
            lambda key: open_store(None, url, key),
            tmp,
            args,
            data,
        )
        db = tmp / "t.db"
        results["sqlite"] = bench_store(
            "sqlite", ["--db", str(db)], lambda key: open_store(db, None, key), tmp, args, data
        )
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
