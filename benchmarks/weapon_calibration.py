"""What ``truceline calibrate`` changes: the weapon classes before and after a calibration.

    python benchmarks/weapon_calibration.py --worlds field,matched --fit-seeds 301-305 \\
        --seeds 1-10 --hours 8 [--out benchmarks/results/weapon_calibration.json]

For each world, the days of ``--fit-seeds`` are simulated and analysed with the broad model
(:mod:`truceline.weapons`); ``truceline calibrate`` learns the classes' speeds, salvo sizes,
source levels and shares from their incidents pooled (what a mission does with last
month's data: no ground truth is used). The days of ``--seeds`` (never the fitting days)
are then analysed twice, with the broad model (A) and with the calibration (B), and both
are scored by ``truceline evaluate``. Reported per world: the mean over the seeds of A and
of B, the worst seed of each, and the pooled weapon-class reliability (stated probability of
the top class against how often it was right).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.progress import track

from truceline.analysis import analyze, write_outputs
from truceline.calibration import calibrate, load_calibration, write_calibration
from truceline.evaluate import evaluate
from truceline.evaluate.days import figure, seed_list, simulated_day
from truceline.reliability import max_gap

FIGURES: tuple[tuple[str, str, str], ...] = (
    ("launch and impact joined (both heard)", "kinds.fire.joined", "high"),
    ("fire precision (one incident per firing)", "kinds.fire.precision", "high"),
    ("fire recall (all true firings)", "kinds.fire.recall", "high"),
    ("weapon class right when named", "kinds.fire.weapon_named_accuracy", "high"),
    ("weapon class named (share of located)", "kinds.fire.weapon_named_share", "high"),
    ("weapon class right (top class, all matched)", "kinds.fire.weapon_accuracy", "high"),
    ("withdrawal clauses on fire, precision", "withdrawal_on_fire.precision", "high"),
    ("withdrawal clauses on fire, recall", "withdrawal_on_fire.recall", "high"),
    ("withdrawal clauses on fire, F1", "withdrawal_on_fire.f1", "high"),
    ("attribution Brier (fire, with origin)", "kinds.fire.brier", "low"),
)


def _day(world: str, seed: int, hours: float, tmp: Path) -> tuple[Path, Any, Any]:
    d = tmp / f"{world}-{seed}"
    ag, observations = simulated_day(d, world, seed, hours)
    return d, ag, observations


def fit(world: str, seeds: list[int], hours: float, tmp: Path) -> tuple[Path, dict[str, Any]]:
    """The calibration learned from the incidents of ``seeds`` (no truth read)."""
    features: list[dict[str, Any]] = []
    for s in track(seeds, description=f"{world}: analysing {len(seeds)} fitting days"):
        d, ag, obs = _day(world, s, hours, tmp)
        write_outputs(analyze(obs, ag), ag, d / "out")
        doc = json.loads((d / "out" / "incidents.geojson").read_text(encoding="utf-8"))
        features += doc["features"]
    cal = calibrate(features)
    return write_calibration(cal, tmp / f"{world}-calibration.yaml"), cal


def score(world: str, seed: int, hours: float, cal: Path, tmp: Path) -> dict[str, Any]:
    d, ag, obs = _day(world, seed, hours, tmp)
    out: dict[str, Any] = {}
    for name, model in (("A", None), ("B", load_calibration(cal))):
        t = time.perf_counter()
        result = analyze(obs, ag, model=model)
        secs = time.perf_counter() - t
        write_outputs(result, ag, d / name)
        out[name] = evaluate(d / "sc" / "truth.jsonl", d / name / "incidents.geojson")
        out[name]["analyze_seconds"] = round(secs, 2)
    return out


def _pooled(reports: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    acc: dict[str, list[float]] = {}
    for r in reports:
        for k, b in (r["kinds"]["fire"].get("weapon_reliability") or {}).items():
            a = acc.setdefault(k, [0.0, 0.0, 0.0])
            a[0] += b["n"]
            a[1] += b["n"] * b["mean_p"]
            a[2] += b["n"] * b["observed"]
    return {
        k: {"n": int(n), "mean_p": round(p / n, 4), "observed": round(o / n, 4)}
        for k, (n, p, o) in sorted(acc.items())
        if n
    }


def _fmt(v: float | None) -> str:
    return "-" if v is None else f"{v:.3f}"


def table(world: str, by_seed: dict[int, dict[str, Any]]) -> list[str]:
    lines = [
        f"### {world}",
        "",
        "| figure | A broad model: mean | A: worst | B calibrated: mean | B: worst |",
        "|---|---|---|---|---|",
    ]
    for label, path, better in FIGURES:
        cells = []
        for name in ("A", "B"):
            vals = [v for r in by_seed.values() if (v := figure(r[name], path)) is not None]
            if not vals:
                cells += ["-", "-"]
                continue
            worst = max(vals) if better == "low" else min(vals)
            cells += [_fmt(statistics.mean(vals)), _fmt(worst)]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    gaps = []
    for name in ("A", "B"):
        rel = _pooled([r[name] for r in by_seed.values()])
        gaps.append(_fmt(max_gap(rel, min_n=30)))
    lines.append(f"| weapon-class reliability, max gap (bins ≥ 30) | {gaps[0]} | | {gaps[1]} | |")
    secs = [
        statistics.median(r[name]["analyze_seconds"] for r in by_seed.values())
        for name in ("A", "B")
    ]
    lines.append(f"| analyze, median s per day | {secs[0]:.1f} | | {secs[1]:.1f} | |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--worlds", default="field,matched")
    ap.add_argument("--fit-seeds", default="301-305")
    ap.add_argument("--seeds", default="1-10")
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    results: dict[str, Any] = {}
    lines: list[str] = []
    for world in args.worlds.split(","):
        with tempfile.TemporaryDirectory() as t:
            tmp = Path(t)
            path, cal = fit(world, seed_list(args.fit_seeds), args.hours, tmp)
            seeds = seed_list(args.seeds)
            by_seed = {
                s: score(world, s, args.hours, path, tmp)
                for s in track(seeds, description=f"{world}: {len(seeds)} days, A and B")
            }
        results[world] = {"calibration": cal, "seeds": by_seed}
        lines += [*table(world, by_seed), ""]
        for name in ("A", "B"):
            rel = _pooled([r[name] for r in by_seed.values()])
            lines.append(f"{world} {name} weapon reliability: {json.dumps(rel)}")
        lines.append("")
    print("\n".join(lines))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
