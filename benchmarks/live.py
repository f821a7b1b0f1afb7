"""Live latency and memory: a simulated day replayed to a running server at 10x, the live
analyser beside it.

    python benchmarks/live.py --hours 0.5 --fire-rate 200 --speed 10 \\
        [--out benchmarks/results/live.json]

Three processes as in production: ``truceline serve`` (one worker), ``truceline live`` and
the replay (this script, posting with each source's own token, :func:`truceline.cli.live.
post_day`). A watcher thread follows the runs (every 50 ms).

- **Latency** of an event: from the moment the API acknowledged the 4th of its acoustic
  arrivals (the final run's incident and its picks, in acknowledgement order) to the commit
  of the first run holding an incident with 4 or more of those picks (from then on ``GET
  /v1/incidents`` answers it: it reads the latest run); the time a GET itself takes is
  measured apart. Events never shown provisionally (found only by the final run) are
  counted apart.
- **Memory**: the live analyser's resident set (``/proc/PID/status``), sampled every second.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from truceline._time import format_time
from truceline.cli.live import _provision, post_day
from truceline.simulate import simulate
from truceline.sources import read_observations


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=0.5)
    ap.add_argument("--fire-rate", type=float, default=200.0)
    ap.add_argument("--speed", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="live-bench-"))
    simulate(tmp / "day", seed=args.seed, hours=args.hours, fire_rate_per_hour=args.fire_rate)
    obs = read_observations([tmp / "day" / "observations.jsonl"]).observations
    db = tmp / "live.db"
    keys = _provision(obs, db, None, None)
    analyst = subprocess.run(
        [
            sys.executable,
            "-m",
            "truceline",
            "token",
            "create",
            "--db",
            str(db),
            "--role",
            "analyst",
            "--name",
            "bench",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    port = _port()
    url = f"http://127.0.0.1:{port}"
    tl = [sys.executable, "-m", "truceline"]
    server = subprocess.Popen(
        [
            *tl,
            "serve",
            "--db",
            str(db),
            "--port",
            str(port),
            "--rate-per-s",
            "1000000",
            "--burst",
            "1000000",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    log = (tmp / "live.log").open("w")  # the worker writes it to the end
    worker = subprocess.Popen(
        [
            *tl,
            "live",
            "--db",
            str(db),
            "--agreement",
            str(tmp / "day" / "agreement.yaml"),
            "--out",
            str(tmp / "final"),
            "--poll",
            "0.05",
            "--settle",
            "1000000",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    acked: dict[str, float] = {}
    shown: list[tuple[float, list[list[str]]]] = []
    rss: list[tuple[float, float]] = []
    done = threading.Event()
    latest_us = [min(o.time_us for o in obs)]

    get_s: list[float] = []

    def watch() -> None:
        """Each new run as soon as it is committed: what GET /v1/incidents answers from then
        on (it reads the latest run). Read from the store itself (a read-only connection),
        so the watcher does not load the server it measures; one GET every 2 s is timed
        apart."""
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
        last_run = None
        last_get = 0.0
        with httpx.Client(base_url=url, timeout=30) as c:
            head = {"Authorization": f"Bearer {analyst}"}
            while not done.is_set():
                run = con.execute("SELECT max(id) FROM runs").fetchone()[0]
                t = time.monotonic()
                if run != last_run and run is not None:
                    since = latest_us[0] - 900 * 1_000_000
                    rows = con.execute(
                        "SELECT feature FROM incidents WHERE run_id = ? AND time_start_us >= ?",
                        (run, since),
                    ).fetchall()
                    shown.append(
                        (
                            t,
                            [
                                json.loads(f)["properties"].get("observations") or []
                                for (f,) in rows
                            ],
                        )
                    )
                    last_run = run
                if t - last_get >= 2.0:
                    start = format_time(latest_us[0] - 900 * 1_000_000)
                    t1 = time.monotonic()
                    c.get(f"/v1/incidents?limit=1000&start={start}", headers=head)
                    get_s.append(time.monotonic() - t1)
                    last_get = t1
                time.sleep(0.05)
        con.close()

    def sample() -> None:
        while not done.is_set():
            rss.append((time.monotonic(), _rss_mb(worker.pid)))
            time.sleep(1.0)

    try:
        for _ in range(100):
            try:
                httpx.get(url + "/v1/health", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        threads = [threading.Thread(target=watch), threading.Thread(target=sample)]
        for th in threads:
            th.start()

        def sent_at(t: float, part: list[Any]) -> None:
            for o in part:
                acked[o.ref] = t
            latest_us[0] = max(latest_us[0], *(o.time_us for o in part))

        t0 = time.monotonic()
        _, behind = post_day(obs, keys, httpx.Client(base_url=url, timeout=60), args.speed, sent_at)
        replay_s = time.monotonic() - t0
        time.sleep(5.0)  # the last provisional steps
        done.set()
        for th in threads:
            th.join()
    finally:
        worker.terminate()
        server.terminate()
        worker.wait()
        server.wait()
    # the final run, as truceline analyze --db gives it (the events and their picks)
    subprocess.run(
        [
            *tl,
            "analyze",
            "--db",
            str(db),
            "--agreement",
            str(tmp / "day" / "agreement.yaml"),
            "--out",
            str(tmp / "batch"),
        ],
        check=True,
        capture_output=True,
    )
    final = json.loads((tmp / "batch" / "incidents.geojson").read_text())["features"]
    latencies, never = [], 0
    for f in final:
        picks = [r for r in f["properties"].get("observations") or [] if r in acked]
        acoustic = sorted(acked[r] for r in picks if "AS-" in r)
        if len(acoustic) < 4:
            continue
        t4 = acoustic[3]
        mine = set(picks)
        first = next(
            (t for t, sets in shown if t >= t4 and any(len(mine & set(s)) >= 4 for s in sets)),
            None,
        )
        if first is None:
            never += 1
        else:
            latencies.append(first - t4)
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [float("nan")] * 99
    mem = [m for _, m in rss]
    result = {
        "hours": args.hours,
        "fire_rate_per_hour": args.fire_rate,
        "speed": args.speed,
        "observations": len(obs),
        "observations_per_s_wall": round(len(obs) / replay_s, 1),
        "replay_s": round(replay_s, 1),
        "replay_behind_s_max": round(behind, 2),
        "events_measured": len(latencies),
        "events_not_shown_provisionally": never,
        "latency_p50_s": round(q[49], 3),
        "latency_p99_s": round(q[98], 3),
        "latency_max_s": round(latencies[-1], 3) if latencies else None,
        "get_incidents_s_p50": round(statistics.median(get_s), 3) if get_s else None,
        "get_incidents_s_max": round(max(get_s), 3) if get_s else None,
        "rss_mb_first_quarter_max": round(max(mem[: max(1, len(mem) // 4)]), 1) if mem else None,
        "rss_mb_last_quarter_max": round(max(mem[-max(1, len(mem) // 4) :]), 1) if mem else None,
        "rss_mb_max": round(max(mem), 1) if mem else None,
        "machine_cores": os.cpu_count(),
    }
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
