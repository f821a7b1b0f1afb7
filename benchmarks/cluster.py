"""The single-process engine against the Dask engine (1 and 2 workers) on the same day of a
10,000-sensor network: wall time, the driver's peak memory and each worker's.

    python benchmarks/cluster.py [--sizes 1e5,1e6] [--runs 3] [--out benchmarks/results/cluster.json]

The days are those of ``benchmarks/scale.py`` (its ``make_day``: a 1,400 km front, sensors
every 1.03 km in four rows on each side, the other observation types at about 10 % of the
acoustic count). Each run is the real command in a fresh process,
``python -m truceline analyze FILE --agreement ... --out ...``, with
``--engine dask --scheduler ADDRESS`` for the Dask engine, against a ``dask scheduler`` and
N ``dask worker --no-nanny --nthreads 1`` processes started for the run on 127.0.0.1 (the
cluster's start-up is not timed; its workers are stopped after the run and their peak
resident memory read from ``wait4``). Windows of 60 minutes (the default). Every run's
incidents are checked byte for byte against the single-process engine's. Medians over
``--runs``; ratios are to the single-process engine in the same sitting.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import scipy

sys.path.insert(0, str(Path(__file__).parent))
from scale import make_day  # the same day as the scale benchmark


def _wait(proc: subprocess.Popen[bytes]) -> tuple[int, float]:
    """Wait for ``proc``; its exit code and peak resident memory (MB)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024.0


def _cluster(workers: int, tmp: Path) -> tuple[str, list[subprocess.Popen[bytes]]]:
    file = tmp / "scheduler.json"
    file.unlink(missing_ok=True)
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    sched = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
         "--port", "0", "--no-dashboard", "--scheduler-file", str(file)],
        **quiet,
    )  # fmt: skip
    while not file.exists() or not file.read_text().strip():
        time.sleep(0.2)
    address = json.loads(file.read_text())["address"]
    worker = [sys.executable, "-m", "distributed.cli.dask_worker", address, "--host",
              "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard",
              "--memory-limit", "0"]  # fmt: skip
    procs = [subprocess.Popen([*worker, "--name", f"w{k}"], **quiet) for k in range(workers)]
    from distributed import Client

    with Client(address, set_as_default=False, timeout=60) as client:
        client.wait_for_workers(workers, timeout=120)
    return address, [sched, *procs]


def run_once(sc: Path, out: Path, engine: str, workers: int, tmp: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "truceline", "analyze", "--agreement",
           str(sc / "agreement.yaml"), "--out", str(out)]  # fmt: skip
    procs: list[subprocess.Popen[bytes]] = []
    if engine == "dask":
        address, procs = _cluster(workers, tmp)
        cmd += ["--engine", "dask", "--scheduler", address]
    cmd.append(str(sc / "observations.jsonl"))
    env = {**os.environ, "COLUMNS": "100"}
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    code, peak = _wait(proc)
    wall = time.perf_counter() - t
    if code != 0:
        raise SystemExit(proc.stderr.read().decode() if proc.stderr else f"exit {code}")
    for p in procs[1:]:
        p.terminate()
    worker_peaks = [_wait(p)[1] for p in procs[1:]]
    if procs:
        procs[0].terminate()
        _wait(procs[0])
    digest = hashlib.sha256((out / "incidents.geojson").read_bytes()).hexdigest()
    return {"wall_s": wall, "driver_peak_mb": peak, "worker_peak_mb": worker_peaks,
            "incidents_sha256": digest}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="1e5,1e6")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--engines", default="single,dask:1,dask:2", help="single, dask:N (N workers), in order"
    )
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "cluster.json")
    args = ap.parse_args()
    engines = [(e.split(":")[0], int(e.split(":")[1]) if ":" in e else 0) for e in
               args.engines.split(",")]  # fmt: skip
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for size in (float(s) for s in args.sizes.split(",")):
            sc = tmp / f"day-{size:.0e}"
            t = time.perf_counter()
            by_type = make_day(sc, size, args.seed)
            print(f"simulated {by_type} in {time.perf_counter() - t:.0f} s", flush=True)
            digests = set()
            for engine, workers in engines:
                runs = []
                for r in range(args.runs):
                    res = run_once(sc, tmp / "out", engine, workers, tmp)
                    digests.add(res["incidents_sha256"])
                    runs.append(res)
                    print(f"{by_type.get('acoustic', 0):>9,} {engine} {workers}: run {r + 1} "
                          f"{res['wall_s']:6.1f} s, driver {res['driver_peak_mb']:5.0f} MB, "
                          f"workers {[round(m) for m in res['worker_peak_mb']]} MB", flush=True)  # fmt: skip
                rows.append({
                    "target_detections": size,
                    "acoustic": by_type.get("acoustic", 0),
                    "others": sum(by_type.values()) - by_type.get("acoustic", 0),
                    "engine": engine,
                    "workers": workers,
                    "runs": runs,
                    "median_wall_s": statistics.median(r["wall_s"] for r in runs),
                    "median_driver_peak_mb": statistics.median(r["driver_peak_mb"] for r in runs),
                    "max_worker_peak_mb": max((m for r in runs for m in r["worker_peak_mb"]),
                                              default=None),
                })  # fmt: skip
            assert len(digests) == 1, f"the engines disagree at {size:.0e}: {digests}"
    print()
    print("| acoustic detections | engine | median s | ratio to single | driver peak | "
          "peak per worker |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for row in rows:
        same = [r for r in rows if r["target_detections"] == row["target_detections"]]
        base = next((r["median_wall_s"] for r in same if r["engine"] == "single"), float("nan"))
        row["ratio_to_single"] = row["median_wall_s"] / base
        name = "single process" if row["engine"] == "single" else f"dask, {row['workers']} w"
        worker = (
            f"{row['max_worker_peak_mb']:.0f} MB" if row["max_worker_peak_mb"] is not None else "-"
        )
        print(f"| {row['acoustic']:,} | {name} | {row['median_wall_s']:.1f} | "
              f"{row['ratio_to_single']:.2f} | {row['median_driver_peak_mb']:.0f} MB | {worker} |")  # fmt: skip
    machine = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "date": time.strftime("%Y-%m-%d", time.gmtime()),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"machine": machine, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
