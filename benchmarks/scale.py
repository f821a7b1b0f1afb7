"""A day of a 10,000-sensor network through `truceline analyze`: time, peak memory, growth.

    python benchmarks/scale.py [--sizes 1e4,1e5,1e6] [--runs 3] [--out benchmarks/results/scale.json]

The network: a 1,400 km front (the length of the Russia-Ukraine line) with acoustic sensors
every 1.03 km in four rows on each side (about 10,000 sensors), 47 observation posts and 14
disengagement areas. Each size is one simulated day whose firing rate is set so the day holds
about that many acoustic detections, with the other observation types (thermal anomalies,
UAV sightings, allegations, patrol reports) scaled with it to about 10 % of the acoustic
count: 1,000,000 detections come with about 100,000 other observations.

Each size is analysed by the real command, `truceline analyze FILE --agreement ... --out ...`,
in a fresh process; wall time and the process's peak resident memory (``ru_maxrss`` from
``wait4``) are recorded, median over ``--runs``. The baseline is linear growth from the
smallest size, measured in the same sitting: the table reports seconds per 10,000
detections at each size and its ratio to the smallest size's (1.0 = exactly linear). The
incidents of the largest size are then scored against the simulator's truth.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from truceline.evaluate import evaluate

FULL_RATE = 280.0  # firing events per hour that give ~1,000,000 detections in a day
NETWORK = {"length_km": 1400.0, "sensor_spacing_km": 1.03, "uav_sightings": 30}
OTHERS_AT_FULL = {
    "presence_scale": 60.0,
    "background_fires_per_pass": 16_200.0,
    "allegation_rate": 1000.0,
}


def make_day(out: Path, detections: float, seed: int) -> dict[str, int]:
    """Simulate the day in a child process (this process must stay small: a child's peak
    memory as the kernel reports it starts from its parent's size at the fork)."""
    f = detections / 1_000_000.0
    options = {
        "--seed": seed,
        "--hours": 24,
        "--fire-rate": FULL_RATE * f,
        "--length-km": NETWORK["length_km"],
        "--sensor-spacing-km": NETWORK["sensor_spacing_km"],
        "--uav-sightings": NETWORK["uav_sightings"],
        "--presence-scale": OTHERS_AT_FULL["presence_scale"] * f,
        "--background-fires": OTHERS_AT_FULL["background_fires_per_pass"] * f,
        "--allegation-rate": OTHERS_AT_FULL["allegation_rate"] * f,
    }
    cmd = [sys.executable, "-m", "truceline", "simulate", "--out", str(out)]
    for key, value in options.items():
        cmd += [key, str(value)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    counts: dict[str, int] = {}
    with (out / "observations.jsonl").open() as fh:
        for line in fh:
            kind = json.loads(line)["type"]
            counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))


def run_analyze(sc: Path, out: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `truceline analyze` process."""
    cmd = [
        sys.executable,
        "-m",
        "truceline",
        "analyze",
        "--agreement",
        str(sc / "agreement.yaml"),
        "--out",
        str(out),
        str(sc / "observations.jsonl"),
    ]
    env = {**os.environ, "COLUMNS": "100"}
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    err = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"analyze failed: {err}")
    return wall, usage.ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--sizes", default="1e4,1e5,1e6")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "scale.json")
    args = ap.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            sc = Path(tmp) / f"day-{size:.0e}"
            by_type = make_day(sc, size, args.seed)
            acoustic = by_type.get("acoustic", 0)
            others = sum(by_type.values()) - acoustic
            walls, peaks = [], []
            for r in range(args.runs):
                wall, peak = run_analyze(sc, Path(tmp) / f"out-{size:.0e}")
                walls.append(wall)
                peaks.append(peak)
                print(
                    f"{acoustic:>9,} detections + {others:>7,} others: run {r + 1} "
                    f"{wall:7.1f} s, peak {peak:6.0f} MB",
                    flush=True,
                )
            row: dict[str, Any] = {
                "target_detections": size,
                "by_type": by_type,
                "acoustic": acoustic,
                "others": others,
                "wall_s": walls,
                "peak_mb": peaks,
                "median_wall_s": statistics.median(walls),
                "median_peak_mb": statistics.median(peaks),
            }
            if size == max(sizes):
                report = evaluate(
                    sc / "truth.jsonl", Path(tmp) / f"out-{size:.0e}" / "incidents.geojson"
                )
                row["evaluation"] = {
                    "fire": report["kinds"]["fire"],
                    "presence": report["kinds"]["presence"],
                    "clauses": report["clauses"],
                }
            rows.append(row)
    base = rows[0]["median_wall_s"] / rows[0]["acoustic"]
    print()
    print(
        "| detections | other observations | analyze, median s | s per 10,000 detections "
        "| ratio to smallest | peak memory, MB |"
    )
    print("|---|---|---|---|---|---|")
    for row in rows:
        per = row["median_wall_s"] / row["acoustic"]
        row["seconds_per_10k"] = per * 1e4
        row["ratio_to_smallest"] = per / base
        print(
            f"| {row['acoustic']:,} | {row['others']:,} | {row['median_wall_s']:.1f} | "
            f"{per * 1e4:.2f} | {per / base:.2f} | {row['median_peak_mb']:.0f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"network": NETWORK, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
