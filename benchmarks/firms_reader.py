"""The FIRMS reader's rate (rows/s), against the reader it replaced, side by side.

    python benchmarks/firms_reader.py [--runs 7] [--baseline-rev 85d783c]

A = today's `FirmsCsv().read` (every product's columns, ids from the detection's identity,
copies merged and NRT rows superseded: `truceline.sources.detections.reconcile`); B = the
reader at git revision ``--baseline-rev`` (ids from the position rounded to 5 decimals, no
reconciliation), loaded from git into the same process. They run in turn, A B A B ..., on
the same files: the spring-2022 extract of ../shared/data (57,688 rows, the 3-column form)
and a synthetic August-like file of the full VIIRS columns with copies (which B rejects, so
only A is timed on it). Median of ``--runs`` pairs; rows/s and the ratio A/B.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPRING = REPO.parent / "shared/data/firms_ukraine_2022/firms_ukraine_20220224_20220515.csv"
HEADER = (
    "latitude,longitude,bright_ti4,scan,track,acq_date,acq_time,satellite,instrument,"
    "confidence,version,bright_ti5,frp,daynight,type"
)


def baseline_reader(rev: str) -> type:
    """The FirmsCsv class of an earlier revision, imported as a module of truceline.sources
    (so its relative imports resolve against today's package)."""
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{rev}:truceline/sources/firms.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    name = "truceline.sources._baseline_firms"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "truceline.sources"
    sys.modules[name] = module
    exec(compile(source, f"{rev}:firms.py", "exec"), module.__dict__)
    return module.FirmsCsv  # type: ignore[no-any-return]


def viirs_file(path: Path, rows: int = 50_000, seed: int = 1) -> int:
    """Full VIIRS archive columns, a fifth of the rows republished at 5 decimals."""
    rng = random.Random(seed)
    lines, n = [HEADER], 0
    while n < rows:
        lat, lon = rng.uniform(44.5, 52.3), rng.uniform(22.2, 40.2)
        day, hhmm = rng.randint(1, 28), rng.choice(["0012", "1047", "1129", "2318"])
        sat = rng.choice(["N", "1", "2"])
        for digits in (6, 5) if rng.random() < 0.2 else (6,):
            lines.append(
                f"{lat:.{digits}f},{lon:.{digits}f},331.5,0.39,0.36,2022-08-{day:02d},{hhmm},"
                f"{sat},VIIRS,n,2,290.4,3.21,D,0"
            )
            n += 1
    path.write_text("\n".join(lines) + "\n")
    return n


def timed(read: object, path: Path) -> tuple[float, int]:
    start = time.perf_counter()
    batch = read(path)  # type: ignore[operator]
    return time.perf_counter() - start, len(batch) + batch.duplicates + getattr(batch, "merged", 0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--baseline-rev", default="85d783c")
    args = ap.parse_args()
    from truceline.sources import FirmsCsv

    old = baseline_reader(args.baseline_rev)
    results: dict[str, object] = {
        "machine": f"{platform.machine()}, {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "baseline_rev": args.baseline_rev,
    }
    a_times, b_times = [], []
    rows = 0
    for _ in range(args.runs):
        ta, rows = timed(FirmsCsv().read, SPRING)
        tb, rows_b = timed(old().read, SPRING)
        assert rows == rows_b == 57_688
        a_times.append(ta)
        b_times.append(tb)
    ratios = [a / b for a, b in zip(a_times, b_times, strict=True)]
    results["spring_2022"] = {
        "rows": rows,
        "today_s": statistics.median(a_times),
        "baseline_s": statistics.median(b_times),
        "today_rows_per_s": rows / statistics.median(a_times),
        "baseline_rows_per_s": rows / statistics.median(b_times),
        "ratio_time_today_over_baseline": statistics.median(ratios),
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "viirs_august_like.csv"
        n = viirs_file(path)
        times = [timed(FirmsCsv().read, path)[0] for _ in range(max(3, args.runs // 2))]
    results["viirs_with_copies"] = {
        "rows": n,
        "today_s": statistics.median(times),
        "today_rows_per_s": n / statistics.median(times),
    }
    print(json.dumps(results, indent=1))
    out = REPO / "benchmarks/results/firms_reader.json"
    out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
