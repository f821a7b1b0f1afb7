"""A month of simulated data through `truceline report`: thirty daily reports (HTML,
Markdown and PDF) from a store holding thirty days, against the baseline of one
`truceline report` process per day (what a nightly job would run).

    python benchmarks/report_month.py [--work /tmp/month] [--runs 3]

The month is simulated (seed 1, 720 hours, the demo's default front), ingested into a SQLite
store and analysed once, with the real commands; that set-up is not timed. Then, in turn,
A = `truceline report --date 2026-03-01 --through 2026-03-30` and B = thirty
`truceline report --date D` processes, `--runs` pairs, wall-clock seconds of whole processes.
Target: A ≤ 60 s.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

TRUCELINE = [sys.executable, "-m", "truceline"]
FIRST, DAYS = date(2026, 3, 1), 30


def run(*args: str) -> float:
    t = time.perf_counter()
    subprocess.run([*TRUCELINE, *args], check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def prepare(work: Path) -> Path:
    db = work / "month.db"
    if db.exists():
        return db
    work.mkdir(parents=True, exist_ok=True)
    sc = work / "scenario"
    run("simulate", "--out", str(sc), "--seed", "1", "--hours", str(24 * DAYS))
    run("ingest", "--db", str(db), str(sc / "observations.jsonl"))
    run(
        "analyze",
        "--db",
        str(db),
        "--agreement",
        str(sc / "agreement.yaml"),
        "--out",
        str(work / "an"),
    )
    return db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--work", type=Path, default=Path("/tmp/truceline-month"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/report_month.json"))
    args = ap.parse_args()
    t = time.perf_counter()
    db = prepare(args.work)
    setup = time.perf_counter() - t
    days = [(FIRST + timedelta(days=k)).isoformat() for k in range(DAYS)]
    a_times, b_times = [], []
    for k in range(args.runs):
        out = args.work / "reports"
        shutil.rmtree(out, ignore_errors=True)
        a_times.append(
            run(
                "report",
                "--db",
                str(db),
                "--date",
                days[0],
                "--through",
                days[-1],
                "--out",
                str(out),
            )
        )
        pdfs = sorted(out.glob("report-*.pdf"))
        assert len(pdfs) == DAYS, len(pdfs)
        shutil.rmtree(out, ignore_errors=True)
        b_times.append(
            sum(run("report", "--db", str(db), "--date", d, "--out", str(out)) for d in days)
        )
        print(f"run {k + 1}: A {a_times[-1]:.1f} s, B {b_times[-1]:.1f} s", flush=True)
    ratios = [a / b for a, b in zip(a_times, b_times, strict=True)]
    with open(args.work / "scenario" / "observations.jsonl", "rb") as fh:
        n_obs = sum(1 for _ in fh)
    result = {
        "machine": f"{platform.machine()}, 2 cores",
        "date": time.strftime("%Y-%m-%d"),
        "days": DAYS,
        "observations": n_obs,
        "setup_seconds": setup,
        "A_through_seconds": a_times,
        "B_one_process_per_day_seconds": b_times,
        "median_A": statistics.median(a_times),
        "median_B": statistics.median(b_times),
        "median_ratio_A_over_B": statistics.median(ratios),
    }
    print(json.dumps({k: v for k, v in result.items() if "median" in k}))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
