"""Accuracy over several simulated days: the README's evaluation table.

    python benchmarks/accuracy.py --seeds 1-10 --hours 24 [--out benchmarks/results/accuracy.json]

Each seed is simulated, analysed and scored with `truceline evaluate`; the table gives the
mean over seeds and the worst seed for every figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from truceline.agreement import load_agreement
from truceline.analysis import analyze, write_outputs
from truceline.evaluate import evaluate
from truceline.observations import read_observations
from truceline.simulate import simulate


def run_seed(seed: int, hours: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        simulate(d / "sc", seed=seed, hours=hours)
        ag = load_agreement(d / "sc" / "agreement.yaml")
        batch = read_observations([d / "sc" / "observations.jsonl"])
        t = time.perf_counter()
        result = analyze(batch.observations, ag)
        elapsed = time.perf_counter() - t
        write_outputs(result, ag, d / "out")
        report = evaluate(d / "sc" / "truth.jsonl", d / "out" / "incidents.geojson")
        report["analyze_seconds"] = round(elapsed, 2)
        report["observations"] = len(batch)
        return report


def _seeds(text: str) -> list[int]:
    if "-" in text:
        a, b = text.split("-")
        return list(range(int(a), int(b) + 1))
    return [int(s) for s in text.split(",")]


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--seeds", default="1-10")
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--plot", type=Path, help="reliability diagram (PNG) over all seeds")
    args = ap.parse_args()
    reports = {s: run_seed(s, args.hours) for s in _seeds(args.seeds)}
    rows = [
        ("fire", "recall"),
        ("fire", "recall_locatable"),
        ("fire", "precision"),
        ("fire", "attribution_accuracy"),
        ("fire", "coverage"),
        ("fire", "brier"),
        ("fire", "weapon_accuracy"),
        ("presence", "recall"),
        ("presence", "precision"),
        ("presence", "attribution_accuracy"),
    ]
    print(f"| figure | mean over {len(reports)} seeds | worst seed |")
    print("|---|---|---|")
    for kind, key in rows:
        vals = [
            r["kinds"][kind][key] for r in reports.values() if r["kinds"][kind][key] is not None
        ]
        worst = max(vals) if key == "brier" else min(vals)
        print(f"| {kind} {key.replace('_', ' ')} | {statistics.mean(vals):.3f} | {worst:.3f} |")
    for kind, key in (
        ("fire", "origin_error_m"),
        ("fire", "impact_error_m"),
        ("presence", "origin_error_m"),
    ):
        med = [r["kinds"][kind][key]["median"] for r in reports.values()]
        p90 = [r["kinds"][kind][key]["p90"] for r in reports.values()]
        print(
            f"| {kind} {key.replace('_', ' ')} median / p90 | {statistics.mean(med):.1f} / "
            f"{statistics.mean(p90):.1f} | {max(med):.1f} / {max(p90):.1f} |"
        )
    clauses = sorted({c for r in reports.values() for c in r["clauses"]})
    for c in clauses:
        tp = sum(r["clauses"].get(c, {}).get("tp", 0) for r in reports.values())
        fp = sum(r["clauses"].get(c, {}).get("fp", 0) for r in reports.values())
        fn = sum(r["clauses"].get(c, {}).get("fn", 0) for r in reports.values())
        p = tp / (tp + fp) if tp + fp else 0.0
        rc = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * p * rc / (p + rc) if p + rc else 0.0
        print(f"| violations {c} F1 (pooled: TP {tp}, FP {fp}, FN {fn}) | {f1:.3f} | |")
    secs = [r["analyze_seconds"] for r in reports.values()]
    obs = [r["observations"] for r in reports.values()]
    print(
        f"\n{statistics.mean(obs):.0f} observations per day on average; "
        f"analyze took {statistics.median(secs):.1f} s (median) per day"
    )
    if args.plot:
        from truceline.charts import reliability

        pooled: dict[str, dict[str, Any]] = {}
        for r in reports.values():
            for k, v in r["kinds"]["fire"]["reliability"].items():
                bin_ = pooled.setdefault(k, {"n": 0, "correct": 0, "p_sum": 0.0})
                for field in ("n", "correct", "p_sum"):
                    bin_[field] += v.get(field, 0)
        reliability(pooled, args.plot, f"Fire attribution, {len(reports)} simulated days")
        print("reliability bins:", pooled)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(reports, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
