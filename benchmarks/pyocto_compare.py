"""Truceline's acoustic association against PyOcto on exactly the same detections.

    pip install pyocto
    python benchmarks/pyocto_compare.py [--seeds 1,2,3] [--events 2000] [--cutoffs-km 20,15]
        [--threads 1] [--out benchmarks/results/pyocto_compare.json]

Each seed generates a busy hour with
:func:`truceline.simulate.acoustic_field.acoustic_field` (100 km x 40 km, 200 sensors,
``--events`` impulsive sounds in ``--duration`` seconds, 5 % false detections, 0.02 s pick
noise). The same picks go to :func:`truceline.localize.association.associate`
(``max_range_m=20 km``) and to PyOcto's ``OctoAssociator`` (once per ``--cutoffs-km`` value),
each run in a fresh process.

PyOcto setup: every sensor is a station (x, y in km from the simulation's local frame; z in km,
positive down, from the sensor's elevation) and every pick a P pick. No S picks are given and
none are required (``n_s_picks = n_p_and_s_picks = 0``). The velocity model is homogeneous
(``VelocityModel0D``) with the mean speed of sound of the picks as P velocity; the S velocity is
never used. PyOcto's octree decides which axis of a node to split by comparing its size in km
with ``5 * duration`` (a hard-coded 5 km/s, ``Volume::maxw``): at 0.337 km/s it would cut time
15 times finer than space warrants. All times fed to PyOcto (picks and every time parameter)
are therefore multiplied by ``k = v / 5`` and the velocities divided by ``k``: an exact change
of time unit for the travel times that only changes that heuristic; results are converted back.
The other parameters are in :func:`pyocto_params` (in seconds and km before that rescaling).

Metrics, computed identically for both associators and by the same rule as
``AcousticField.score`` (which is used as a cross-check when it exists): events are taken in
the order the associator returns them (time order for both); an event is a *match* if the true
event holding the most of its picks holds at least half of all its picks and was not matched by
an earlier event. Anything else is a duplicate (its true event was already matched) or a false
event (mostly false alarms, or no true event with half of the picks).

* recall: matched true events heard by >= 4 distinct sensors / true events heard by >= 4;
* false-event rate: events that are not a match / all events;
* localisation error: median horizontal distance between a match and its true event (m);
* wall time: ``time.perf_counter`` around the associate call only (input conversion to
  PyOcto's DataFrames and data generation excluded);
* memory: peak resident set size of the process during the call (``VmHWM`` after resetting it
  through ``/proc/self/clear_refs``; ``resource.getrusage`` if that is not available), and the
  resident set size before the call.

The Markdown table is printed; the raw numbers go to ``--out`` as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

try:
    import pandas as pd
    import pyocto
except ImportError:
    sys.exit("PyOcto is not installed: pip install pyocto")

from truceline.cluster import dask_map
from truceline.evaluate.days import seed_list
from truceline.localize.association import Partitioning, associate
from truceline.simulate.acoustic_field import AcousticField, acoustic_field

ROOT = Path(__file__).resolve().parent.parent
TRUCELINE_RANGE_M = 20_000.0
PYOCTO_SPLIT_SPEED_KMS = 5.0  # the velocity hard-coded in PyOcto's Volume::maxw


def pyocto_params(v_kms: float, cutoff_km: float, threads: int) -> dict[str, Any]:
    """PyOcto's settings in seconds and kilometres (before the time rescaling)."""
    return {
        "p_velocity_kms": v_kms,
        "s_velocity_kms": v_kms / np.sqrt(3.0),  # required, never used: there are no S picks
        "tolerance_s": 0.2,  # pick noise 0.02 s; one mean speed of sound: ~0.06 s at 12 km
        "association_cutoff_distance_km": cutoff_km,
        "time_before_s": cutoff_km / v_kms + 5.0,  # longest travel time within the cutoff
        "time_slicing_s": 300.0,  # longer slices overflow the priority queue into DFS
        "min_node_size_km": 0.25,
        "min_node_size_location_km": 0.05,
        "pick_match_tolerance_s": 0.3,
        "min_interevent_time_s": 0.05,  # default 3 s: the busy hour has one event per 1.8 s
        "max_pick_overlap": 1,  # two bangs never share a pick
        "n_picks": 4,
        "n_p_picks": 4,
        "n_s_picks": 0,
        "n_p_and_s_picks": 0,
        "min_pick_fraction": 0.4,  # as Truceline's default
        "refinement_iterations": 3,
        "location_split_depth": 6,
        "location_split_return": 4,
        "n_threads": threads,
    }


def run_pyocto(
    field: AcousticField, cutoff_km: float, threads: int
) -> tuple[list[NDArray[np.int64]], NDArray[np.float64], NDArray[np.float64], dict[str, Any]]:
    """Associate with PyOcto; returns pick groups, positions (m) and the call's measurements."""
    p = field.picks
    v = float(p.c.mean()) / 1000.0
    prm = pyocto_params(v, cutoff_km, threads)
    k = v / PYOCTO_SPLIT_SPEED_KMS  # seconds -> PyOcto's time unit
    n_sensors = field.sx.size
    elevation = np.full(n_sensors, float(np.median(p.z)))
    elevation[p.sensor] = p.z
    ids = np.array([f"S{i:03d}" for i in range(n_sensors)], dtype=object)
    stations = pd.DataFrame(
        {"id": ids, "x": field.sx / 1e3, "y": field.sy / 1e3, "z": -elevation / 1e3}
    )
    picks = pd.DataFrame({"station": ids[p.sensor], "time": p.t * k, "phase": "P"})
    model = pyocto.VelocityModel0D(
        p_velocity=prm["p_velocity_kms"] / k,
        s_velocity=prm["s_velocity_kms"] / k,
        tolerance=prm["tolerance_s"] * k,
        association_cutoff_distance=cutoff_km,
    )
    margin = 2.0
    assoc = pyocto.OctoAssociator(
        xlim=(float(field.sx.min()) / 1e3 - margin, float(field.sx.max()) / 1e3 + margin),
        ylim=(float(field.sy.min()) / 1e3 - margin, float(field.sy.max()) / 1e3 + margin),
        zlim=(-0.3, 0.0),  # sources 150 m above the datum, sensors at 50-250 m
        velocity_model=model,
        time_before=prm["time_before_s"] * k,
        time_slicing=prm["time_slicing_s"] * k,
        min_node_size=prm["min_node_size_km"],
        min_node_size_location=prm["min_node_size_location_km"],
        pick_match_tolerance=prm["pick_match_tolerance_s"] * k,
        min_interevent_time=prm["min_interevent_time_s"] * k,
        max_pick_overlap=prm["max_pick_overlap"],
        n_picks=prm["n_picks"],
        n_p_picks=prm["n_p_picks"],
        n_s_picks=prm["n_s_picks"],
        n_p_and_s_picks=prm["n_p_and_s_picks"],
        min_pick_fraction=prm["min_pick_fraction"],
        refinement_iterations=prm["refinement_iterations"],
        location_split_depth=prm["location_split_depth"],
        location_split_return=prm["location_split_return"],
        n_threads=threads,
    )
    with _Measure() as m:
        events, assignments = assoc.associate(picks, stations)
    groups: list[NDArray[np.int64]] = []
    xs: list[float] = []
    ys: list[float] = []
    if len(events):
        by_event = {
            int(e): g["pick_idx"].to_numpy(np.int64)
            for e, g in assignments.groupby("event_idx", sort=False)
        }
        for row in events.itertuples():
            groups.append(np.sort(by_event.get(int(row.idx), np.zeros(0, np.int64))))
            xs.append(float(row.x) * 1e3)
            ys.append(float(row.y) * 1e3)
    info = {**m.result, "params": prm, "time_scale": k, "version": pyocto.__version__}
    return groups, np.array(xs), np.array(ys), info


def run_truceline(
    field: AcousticField, threads: int
) -> tuple[list[NDArray[np.int64]], NDArray[np.float64], NDArray[np.float64], dict[str, Any]]:
    with _Measure() as m:
        ev = _associate(field.picks, threads, max_range_m=TRUCELINE_RANGE_M)
    info = {
        **m.result,
        "params": {"max_range_m": TRUCELINE_RANGE_M, "workers": threads},
        "stats": ev.stats,
    }
    return list(ev.picks), np.asarray(ev.fit.x), np.asarray(ev.fit.y), info


class _Measure:
    """Wall time and peak resident memory of the enclosed block (Linux)."""

    def __enter__(self) -> _Measure:
        self.rss_before = _status_kib("VmRSS")
        try:
            Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False
        self.t0 = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.perf_counter() - self.t0
        if self.hwm_reset:
            peak, how = _status_kib("VmHWM"), "VmHWM"
        else:
            peak, how = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "ru_maxrss"
        self.result = {
            "wall_s": wall,
            "peak_rss_mib": peak / 1024,
            "rss_before_mib": self.rss_before / 1024,
            "peak_from": how,
        }


def _status_kib(key: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def score(
    field: AcousticField,
    groups: list[NDArray[np.int64]],
    x: NDArray[np.float64],
    y: NDArray[np.float64],
) -> dict[str, Any]:
    """The same metrics for any associator: see the module docstring."""
    truth = field.event_of
    eligible = field.heard_by() >= 4
    matched = np.zeros(field.ex.size, bool)
    duplicates = false_events = 0
    errors: list[float] = []
    for i, g in enumerate(groups):
        labels = truth[g]
        values, counts = np.unique(labels[labels >= 0], return_counts=True)
        if counts.size == 0 or 2 * int(counts.max()) < g.size:
            false_events += 1
            continue
        best = int(values[counts.argmax()])
        if matched[best]:
            duplicates += 1
        else:
            matched[best] = True
            errors.append(float(np.hypot(x[i] - field.ex[best], y[i] - field.ey[best])))
    n_events = len(groups)
    finite = [e for e in errors if np.isfinite(e)]
    recall = float((matched & eligible).sum() / max(1, eligible.sum()))
    false_rate = (duplicates + false_events) / max(1, n_events)
    if hasattr(field, "score"):  # the project's own scorer, where it exists, must agree
        assert np.allclose(field.score(groups), (recall, false_rate)), "scorers disagree"
    return {
        "events": n_events,
        "true_events": int(field.ex.size),
        "true_events_heard_by_4": int(eligible.sum()),
        "matched": int(matched.sum()),
        "matched_heard_by_4": int((matched & eligible).sum()),
        "recall": recall,
        "duplicates": duplicates,
        "false_events": false_events,
        "false_event_rate": false_rate,
        "median_error_m": float(np.median(finite)) if finite else None,
        "p90_error_m": float(np.percentile(finite, 90)) if finite else None,
        "picks": len(field.picks),
        "false_pick_fraction": field.false_fraction,
    }


def run_one(
    name: str, seed: int, events: int, duration: float, cutoff_km: float, threads: int
) -> dict[str, Any]:
    """One associator on one seed (called in a fresh process)."""
    field = acoustic_field(seed=seed, n_events=events, duration_s=duration)
    if name == "truceline":
        groups, x, y, info = run_truceline(field, threads)
    else:
        groups, x, y, info = run_pyocto(field, cutoff_km, threads)
    return {"associator": name, "seed": seed, **score(field, groups, x, y), **info}


def _git_state() -> dict[str, Any]:
    src = ROOT / "truceline" / "localize" / "association.py"
    state: dict[str, Any] = {
        "association_py_sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
    }
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "truceline"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        state["commit"] = head.stdout.strip()
        state["uncommitted_truceline_changes"] = dirty.stdout.split("\n")[:-1]
    except (OSError, subprocess.CalledProcessError):
        pass
    return state


def _fmt(value: float | None, digits: int) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def table(rows: list[dict[str, Any]]) -> str:
    head = (
        "| associator | seed | events | recall | false-event rate | duplicates | false "
        "| median error (m) | wall (s) | peak RSS (MiB) |\n"
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    lines = [head]
    names = list(dict.fromkeys(r["associator"] for r in rows))
    for name in names:
        mine = [r for r in rows if r["associator"] == name]
        for r in mine:
            lines.append(
                f"| {name} | {r['seed']} | {r['events']} | {r['recall']:.3f} "
                f"| {r['false_event_rate']:.3f} | {r['duplicates']} | {r['false_events']} "
                f"| {_fmt(r['median_error_m'], 1)} | {r['wall_s']:.1f} | {r['peak_rss_mib']:.0f} |"
            )
        errors = [r["median_error_m"] for r in mine if r["median_error_m"] is not None]

        def mean(key: str, rs: list[dict[str, Any]] = mine) -> float:
            return statistics.fmean(r[key] for r in rs)

        lines.append(
            f"| **{name}** | **mean** | {mean('events'):.0f} | {mean('recall'):.3f} "
            f"| {mean('false_event_rate'):.3f} | {mean('duplicates'):.0f} "
            f"| {mean('false_events'):.0f} "
            f"| {_fmt(statistics.fmean(errors) if errors else None, 1)} "
            f"| {mean('wall_s'):.1f} | {mean('peak_rss_mib'):.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", default="1,2,3", help="e.g. 1,2,3 or 1-3")
    ap.add_argument("--events", type=int, default=2_000)
    ap.add_argument("--duration", type=float, default=3_600.0, help="seconds")
    ap.add_argument(
        "--cutoffs-km", default="20,15", help="PyOcto association cutoff distances to run"
    )
    ap.add_argument("--threads", type=int, default=1, help="for both associators")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/pyocto_compare.json")
    args = ap.parse_args()
    runs: list[tuple[str, float]] = [("truceline", 0.0)]
    runs += [(f"pyocto {float(c):g} km", float(c)) for c in args.cutoffs_km.split(",")]
    rows: list[dict[str, Any]] = []
    ctx = multiprocessing.get_context("spawn")
    for name, cutoff in runs:
        for seed in seed_list(args.seeds):
            with ProcessPoolExecutor(1, mp_context=ctx) as pool:
                row = pool.submit(
                    run_one, name, seed, args.events, args.duration, cutoff, args.threads
                ).result()
            rows.append(row)
            print(
                f"{name} seed {seed}: {row['events']} events, recall {row['recall']:.3f}, "
                f"false-event rate {row['false_event_rate']:.3f}, {row['wall_s']:.1f} s",
                file=sys.stderr,
                flush=True,
            )
    print(table(rows))
    meta = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "pyocto": pyocto.__version__,
        "cpus": os.cpu_count(),
        "events": args.events,
        "duration_s": args.duration,
        "threads": args.threads,
        **_git_state(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "runs": rows}, indent=2) + "\n")
    print(f"\nwritten to {args.out}", file=sys.stderr)


def _associate(picks: Any, workers: int, **options: Any) -> Any:
    """Association in one process, or by windows of half an hour on a local Dask cluster of
    ``workers`` processes (the one way the associator runs in parallel)."""
    if workers <= 1:
        return associate(picks, **options)
    with dask_map(workers=workers) as run:
        return associate(picks, partitions=Partitioning(core_s=1_800.0, run=run), **options)


if __name__ == "__main__":
    main()
