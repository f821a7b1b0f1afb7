"""Localisation and association benchmarks (issue: localisation at the physical limit).

    python benchmarks/localisation.py [--quick] [--out benchmarks/results/localisation.json]

1. Accuracy against the Cramér-Rao bound: 10,000 simulated events heard by >= 4 sensors,
   grouped by their true association, located by ``locate`` (Chan-Ho start, Gauss-Newton).
   Median error / median √trace(CRLB at the true position), and the share of events within
   3 × their own √trace(CRLB).
2. Speed: events per second located by the batched solver on one core, against a per-event
   ``scipy.optimize.least_squares`` baseline on the same events and the same starts,
   measured in the same run; accuracy of both.
3. Association on a busy night: 2,000 events per hour on a 100 km sector, 200 sensors, 5 %
   false detections; recall of events heard by >= 4 sensors, share of false events, time.
4. Association of about 1,000,000 detections with two worker processes: time and peak
   memory.

Timings are whole medians of repeated runs; the machine is shared, so compare ratios.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core for the solver comparison

import argparse
import json
import platform
import resource
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from truceline.cluster import dask_map
from truceline.localize.association import Partitioning, associate
from truceline.localize.bounds import crlb
from truceline.localize.tdoa import chan_ho, locate
from truceline.simulate.acoustic_field import AcousticField, acoustic_field


def true_groups(field: AcousticField, min_picks: int = 4) -> tuple[np.ndarray, ...]:
    """Padded (E, K) arrays of each true event's picks (one per sensor), events with >= 4."""
    p = field.picks
    ok = field.event_of >= 0
    order = np.lexsort((p.t[ok], p.sensor[ok], field.event_of[ok]))
    idx = np.flatnonzero(ok)[order]
    ev = field.event_of[idx]
    first = np.concatenate(
        ([True], (ev[1:] != ev[:-1]) | (p.sensor[idx][1:] != p.sensor[idx][:-1]))
    )
    idx, ev = idx[first], ev[first]
    counts = np.bincount(ev, minlength=field.ex.size)
    keep_ev = np.flatnonzero(counts >= min_picks)
    keep = np.isin(ev, keep_ev)
    idx, ev = idx[keep], ev[keep]
    k = int(counts[keep_ev].max())
    rank = np.arange(idx.size) - np.searchsorted(ev, ev)
    row = np.searchsorted(keep_ev, ev)
    table = np.zeros((keep_ev.size, k), dtype=np.int64)
    mask = np.zeros((keep_ev.size, k), dtype=bool)
    table[row, rank] = idx
    mask[row, rank] = True
    return keep_ev, table, mask


def accuracy_and_speed(n_events: int, baseline_events: int, repeats: int) -> dict[str, Any]:
    field = acoustic_field(
        seed=21, n_events=int(n_events * 1.05), duration_s=3600.0 * n_events / 2000
    )
    ev, idx, mask = true_groups(field)
    ev, idx, mask = ev[:n_events], idx[:n_events], mask[:n_events]
    p = field.picks
    args = (p.x[idx], p.y[idx], p.z[idx], p.t[idx], p.sigma[idx], p.c[idx], mask)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fit = locate(*args)
        times.append(time.perf_counter() - t)
    zsrc = np.full(ev.size, 150.0)
    bound = crlb(
        p.x[idx],
        p.y[idx],
        p.z[idx],
        field.ex[ev],
        field.ey[ev],
        p.c[idx],
        p.sigma[idx],
        mask,
        source_z=zsrc,
    )
    limit = np.sqrt(np.trace(bound, axis1=1, axis2=2))
    err = np.hypot(fit.x - field.ex[ev], fit.y - field.ey[ev])

    # baselines: scipy least_squares per event, from the same closed-form starts, with its
    # default method (trf) and with MINPACK's Levenberg-Marquardt (lm)
    x0, y0 = chan_ho(p.x[idx], p.y[idx], p.t[idx], p.c[idx], mask)
    nb = min(baseline_events, ev.size)
    baselines: dict[str, dict[str, float]] = {}
    for method in ("trf", "lm"):
        base_xy = np.zeros((nb, 2))
        t = time.perf_counter()
        for i in range(nb):
            m = mask[i]
            px, py, pz, tt = p.x[idx[i, m]], p.y[idx[i, m]], p.z[idx[i, m]], p.t[idx[i, m]]
            cc, ss = p.c[idx[i, m]], p.sigma[idx[i, m]]
            zs = pz.mean()

            def residual(v: np.ndarray) -> np.ndarray:
                d = np.sqrt((v[0] - px) ** 2 + (v[1] - py) ** 2 + (zs - pz) ** 2)  # noqa: B023
                return (tt - v[2] - d / cc) / ss  # noqa: B023

            d0 = np.sqrt((x0[i] - px) ** 2 + (y0[i] - py) ** 2 + (zs - pz) ** 2)
            start = [x0[i], y0[i], float(np.mean(tt - d0 / cc))]
            base_xy[i] = least_squares(residual, start, method=method).x[:2]
        elapsed = time.perf_counter() - t
        base_err = np.hypot(base_xy[:, 0] - field.ex[ev[:nb]], base_xy[:, 1] - field.ey[ev[:nb]])
        baselines[method] = {
            "seconds": round(elapsed, 3),
            "events_per_s": round(nb / elapsed),
            "median_error_m": round(float(np.median(base_err)), 3),
        }
    batched_rate = ev.size / statistics.median(times)
    return {
        "events": int(ev.size),
        "picks_per_event_median": float(np.median(mask.sum(1))),
        "median_error_m": round(float(np.median(err)), 3),
        "median_sqrt_trace_crlb_m": round(float(np.median(limit)), 3),
        "error_over_crlb_median_ratio": round(float(np.median(err) / np.median(limit)), 4),
        "share_within_3_crlb": round(float(np.mean(err <= 3 * limit)), 5),
        "batched_seconds_median": round(statistics.median(times), 4),
        "batched_events_per_s": round(batched_rate),
        "baseline_events": nb,
        "baselines": baselines,
        "speed_ratio_vs_trf": round(batched_rate / baselines["trf"]["events_per_s"], 1),
        "speed_ratio_vs_lm": round(batched_rate / baselines["lm"]["events_per_s"], 1),
        "batched_median_error_m_on_baseline_events": round(float(np.median(err[:nb])), 3),
    }


def busy_night(seeds: list[int]) -> list[dict[str, Any]]:
    out = []
    for seed in seeds:
        field = acoustic_field(seed=seed, n_events=2000, duration_s=3600.0)
        t = time.perf_counter()
        ev = associate(field.picks, max_range_m=20_000.0)
        elapsed = time.perf_counter() - t
        recall, false = field.score(ev.picks)
        out.append(
            {
                "seed": seed,
                "detections": len(field.picks),
                "false_detections": round(field.false_fraction, 4),
                "recall": round(recall, 4),
                "false_events": round(false, 4),
                "seconds": round(elapsed, 2),
            }
        )
    return out


def million(n_events: int, workers: int) -> dict[str, Any]:
    field = acoustic_field(seed=4, n_events=n_events, duration_s=3600.0 * n_events / 2000)
    t = time.perf_counter()
    ev = _associate(field.picks, workers, max_range_m=20_000.0)
    elapsed = time.perf_counter() - t
    recall, false = field.score(ev.picks)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "detections": len(field.picks),
        "workers": workers,
        "seconds": round(elapsed, 1),
        "recall": round(recall, 4),
        "false_events": round(false, 4),
        "peak_rss_mb_parent": round(own),
        "peak_rss_mb_largest_worker": round(kids),
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    quick = args.quick
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "date": time.strftime("%Y-%m-%d"),
        "numpy": np.__version__,
    }
    report["localisation"] = accuracy_and_speed(
        1_000 if quick else 10_000, 200 if quick else 1_000, 3 if quick else 5
    )
    print(json.dumps(report["localisation"], indent=1))
    report["busy_night"] = busy_night([1] if quick else [1, 2, 3])
    print(json.dumps(report["busy_night"], indent=1))
    report["million"] = million(2_500 if quick else 50_000, 2)
    print(json.dumps(report["million"], indent=1))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")


def _associate(picks: Any, workers: int, **options: Any) -> Any:
    """Association in one process, or by windows of half an hour on a local Dask cluster of
    ``workers`` processes (the one way the associator runs in parallel)."""
    if workers <= 1:
        return associate(picks, **options)
    with dask_map(workers=workers) as run:
        return associate(picks, partitions=Partitioning(core_s=1_800.0, run=run), **options)


if __name__ == "__main__":
    main()
