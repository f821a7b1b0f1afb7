"""`truceline frontline` on the 57,688 fires of spring 2022 against the seven DeepState
maps: the siding (target ≤ 3 s), against the reader and siding it replaced, side by side.

    python benchmarks/frontline.py [--runs 5] [--baseline-rev 85d783c]

A = today's: the maps read by their legend (`truceline.frontmap`), the occupied ground, the
contested ground and the enclaves built and the line of contact drawn for each map, then
every fire sided. B = the module `truceline/frontline.py` at git revision ``--baseline-rev``
(sides from fill colours, the line as the occupied boundary less 3 km of the border), loaded
from git into the same process. Both side the same fires (read once); A and B run in turn,
``--runs`` pairs; the figures are the medians of the siding alone and of building the
fronts (reading the seven maps, and for A the lines of contact). Whole-process figures of
the command are quoted in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared/data"


def baseline(rev: str) -> object:
    source = subprocess.run(
        ["git", "-C", str(REPO), "show", f"{rev}:truceline/frontline.py"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    name = "truceline._baseline_frontline"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "truceline"
    sys.modules[name] = module
    exec(compile(source, f"{rev}:frontline.py", "exec"), module.__dict__)
    return module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--baseline-rev", default="85d783c")
    args = ap.parse_args()
    from truceline import frontmap
    from truceline.sources import read_source

    old = baseline(args.baseline_rev)
    fires = read_source(DATA / "firms_ukraine_2022/firms_ukraine_20220224_20220515.csv")
    lon = np.array([o.raw["position"][0] for o in fires.observations])
    lat = np.array([o.raw["position"][1] for o in fires.observations])
    t = np.array([o.time_us for o in fires.observations])
    maps = sorted((DATA / "deepstate_raw_2022").glob("*.geojson"))
    border = frontmap.read_border(DATA / "ukraine_oblasts/ukraine_oblasts_minregion_2020.geojson")
    a_build, a_side, b_build, b_side = [], [], [], []
    for _ in range(args.runs):
        start = time.perf_counter()
        terr = frontmap.Territory.of(border)
        fronts = [frontmap.Front.of(frontmap.read_snapshot(p), terr) for p in maps]
        a_build.append(time.perf_counter() - start)
        start = time.perf_counter()
        sided = frontmap.side_over_time(lon, lat, t, fronts, terr)
        a_side.append(time.perf_counter() - start)
        start = time.perf_counter()
        snaps = [old.read_deepstate(p) for p in maps]  # type: ignore[attr-defined]
        b_build.append(time.perf_counter() - start)
        start = time.perf_counter()
        before = old.side_over_time(lon, lat, t, snaps, border)  # type: ignore[attr-defined]
        b_side.append(time.perf_counter() - start)
    moved = int((before.side != sided.side).sum())
    results = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "fires": int(lon.size),
        "maps": len(maps),
        "runs": args.runs,
        "today": {"fronts_s": statistics.median(a_build), "siding_s": statistics.median(a_side)},
        "baseline": {"fronts_s": statistics.median(b_build), "siding_s": statistics.median(b_side)},
        "siding_ratio_today_over_baseline": statistics.median(
            [a / b for a, b in zip(a_side, b_side, strict=True)]
        ),
        "sides_today": np.bincount(sided.side, minlength=4).tolist(),
        "sides_baseline": np.bincount(before.side, minlength=4).tolist(),
        "fires_whose_side_changed": moved,
    }
    print(json.dumps(results, indent=1))
    (REPO / "benchmarks/results/frontline.json").write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
