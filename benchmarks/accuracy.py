"""Accuracy over simulated days, in the world the analysis assumes and in one it does not.

    python benchmarks/accuracy.py --worlds matched,field --seeds 1-10 --hours 8 \\
        [--out benchmarks/results/accuracy.json]

Each seed of each world is simulated, analysed and scored with the scorer of ``truceline
evaluate`` (fixed gates; a launch paired with another firing's impact is wrong; every
published incident is in the confidence table). ``matched`` is the analysis' own physics;
``field`` differs from every default the analysis has (ground speeds ±20 %, a per-shot
spread, wind up to 8 m/s without ``met``, clocks σ 5 ms with a few 100 ms off, positions σ
3 m: ``truceline/simulate/worlds/field.yaml``). The confidence model is fitted on field seeds
201-212 (``tools/fit_confidence.py``), never on these. Each day is analysed twice: with the
shipped confidence model and with fusion's raw score (``--no-raw`` skips it), to show what
calibration changes. The table gives, per world, the mean over seeds, the worst seed, and
the target of the issue that set it; reliability tables are pooled over seeds.
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
from truceline.attribution import AttributionParams
from truceline.confidence import ConfidenceModel
from truceline.evaluate import evaluate
from truceline.evaluate.days import figure, seed_list, simulated_day
from truceline.reliability import max_gap

# (label, path in the evaluate report, better: "high"/"low", target as text)
FIGURES: tuple[tuple[str, str, str, str], ...] = (
    ("fire recall (all true firings)", "kinds.fire.recall", "high", ""),
    ("fire recall (heard by 4 sensors)", "kinds.fire.recall_locatable", "high", ""),
    ("fire precision (one incident per firing)", "kinds.fire.precision", "high", "≥ 0.97"),
    ("launch and impact joined (both heard)", "kinds.fire.joined", "high", "≥ 0.95"),
    ("weapon class right when named", "kinds.fire.weapon_named_accuracy", "high", "≥ 0.95"),
    ("weapon class named (share of located)", "kinds.fire.weapon_named_share", "high", "≥ 0.70"),
    ("withdrawal clauses on fire, F1", "withdrawal_on_fire.f1", "high", "≥ 0.95"),
    ("attribution accuracy (fire, with origin)", "kinds.fire.attribution_accuracy", "high", "≥ 0.99"),
    ("attribution coverage", "kinds.fire.coverage", "high", "≥ 0.9"),
    ("attribution Brier (fire, with origin)", "kinds.fire.brier", "low", "≤ 0.05"),
    ("side stated, every published origin: Brier", "sides.published.brier", "low", ""),
    ("side stated, every published origin: max gap", "sides.published.reliability_max_gap", "low", "≤ 0.05"),
    ("side stated, published origins ≤ 1 km from the line: Brier", "sides.near_line.published.brier", "low", ""),
    ("true firings ≤ 1 km from the line: P(true side), mean", "sides.near_line.mean_p_true_side", "high", ""),
    ("true firings ≤ 1 km from the line: side right when named", "sides.near_line.named_accuracy", "high", "≥ 0.99"),
    ("origin error median, m", "kinds.fire.origin_location.median", "low", ""),
    ("origin error max, m", "kinds.fire.origin_location.max", "low", ""),
    ("origin median error / CRLB (still air)", "kinds.fire.origin_location.median_error_over_crlb", "low", "≤ 1.5 (field), ≤ 1.1 (matched)"),
    ("origins within 3 × CRLB (still air)", "kinds.fire.origin_location.within_3_crlb", "high", "≥ 0.90"),
    ("origin median error / stated σ (the bound with the nuisances)", "kinds.fire.origin_location.median_error_over_stated", "low", ""),
    ("origins within 3 × stated σ", "kinds.fire.origin_location.within_3_stated", "high", ""),
    ("impact median error / CRLB (still air)", "kinds.fire.impact_location.median_error_over_crlb", "low", "≤ 1.5 (field), ≤ 1.1 (matched)"),
    ("impact median error / stated σ", "kinds.fire.impact_location.median_error_over_stated", "low", ""),
    ("origins inside stated 95 % ellipse", "kinds.fire.origin_location.inside_stated_95_ellipse", "high", "0.93-0.97"),
    ("impacts inside stated 95 % ellipse", "kinds.fire.impact_location.inside_stated_95_ellipse", "high", "0.93-0.97"),
    ("impacts beyond 1 km", "kinds.fire.impact_location.beyond_1km", "low", ""),
    ("presence recall", "kinds.presence.recall", "high", ""),
    ("presence precision", "kinds.presence.precision", "high", ""),
    ("published below 0.5 that were real", "by_confidence.below_threshold_real", "low", ""),
    ("wind error per window, median m/s", "network.wind.median_error_ms", "low", "≤ 1"),
    ("wind inside stated 95 %", "network.wind.inside_stated_95", "high", ""),
    ("clock error median, ms", "network.clocks.median_abs_error_s", "low", ""),
)  # fmt: skip


def _get(report: dict[str, Any], path: str) -> Any:
    v = figure(report, path)
    if path.endswith("median_abs_error_s") and v is not None:
        return v * 1000.0
    return v


def run_seed(
    world: str, seed: int, hours: float, raw: bool, attribution: AttributionParams | None = None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        ag, observations = simulated_day(d, world, seed, hours)
        t = time.perf_counter()
        result = analyze(observations, ag, attribution=attribution)
        elapsed = time.perf_counter() - t
        write_outputs(result, ag, d / "out")
        report = evaluate(d / "sc" / "truth.jsonl", d / "out" / "incidents.geojson")
        report["analyze_seconds"] = round(elapsed, 2)
        report["observations"] = len(observations)
        if raw:
            result = analyze(observations, ag, confidence=ConfidenceModel.identity())
            write_outputs(result, ag, d / "raw")
            report["raw_confidence"] = evaluate(
                d / "sc" / "truth.jsonl", d / "raw" / "incidents.geojson"
            )
        return report


def pooled(tables: list[dict[str, dict[str, float]]]) -> dict[str, dict[str, float]]:
    """Reliability bins summed over seeds."""
    acc: dict[str, list[float]] = {}
    for t in tables:
        for k, b in t.items():
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
    return "-" if v is None else (f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}")


def figures_table(by_world: dict[str, dict[int, dict[str, Any]]]) -> list[str]:
    worlds = list(by_world)
    head = "| figure | " + " | ".join(f"{w}: mean | {w}: worst" for w in worlds) + " | target |"
    lines = [head, "|---|" + "---|---|" * len(worlds) + "---|"]
    for label, path, better, target in FIGURES:
        cells = []
        for w in worlds:
            vals = [v for r in by_world[w].values() if (v := _get(r, path)) is not None]
            if not vals:
                cells += ["-", "-"]
                continue
            worst = max(vals) if better == "low" else min(vals)
            cells += [_fmt(statistics.mean(vals)), _fmt(worst)]
        lines.append(f"| {label} | " + " | ".join(cells) + f" | {target} |")
    return lines


def confidence_table(by_world: dict[str, dict[int, dict[str, Any]]]) -> list[str]:
    lines = [
        "| world | confidence | bins with ≥ 100 incidents: max gap | incidents | below 0.5 | "
        "real among those below 0.5 | fire precision | fire recall |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for w, reports in by_world.items():
        for name, get in (
            ("calibrated (shipped)", lambda r: r),
            ("fusion's raw score", lambda r: r.get("raw_confidence")),
        ):
            rs = [get(r) for r in reports.values() if get(r) is not None]
            if not rs:
                continue
            table = pooled([r["by_confidence"]["bins"] for r in rs])
            n = sum(r["by_confidence"]["incidents"] for r in rs)
            below = sum(r["by_confidence"]["below_threshold"] for r in rs)
            real = sum(
                r["by_confidence"]["below_threshold"]
                * (r["by_confidence"]["below_threshold_real"] or 0)
                for r in rs
            )
            prec = statistics.mean(r["kinds"]["fire"]["precision"] for r in rs)
            rec = statistics.mean(r["kinds"]["fire"]["recall"] for r in rs)
            lines.append(
                f"| {w} | {name} | {_fmt(max_gap(table))} | {n} | {below} | "
                f"{_fmt(real / below if below else None)} | {prec:.3f} | {rec:.3f} |"
            )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--worlds", default="matched,field")
    ap.add_argument("--seeds", default="1-10")
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--no-raw", action="store_true", help="skip the raw-score re-analysis")
    ap.add_argument(
        "--legacy-attribution",
        action="store_true",
        help="attribute as runs before the posterior did (the ellipse's share alone)",
    )
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    attribution = AttributionParams.legacy() if args.legacy_attribution else None
    seeds = seed_list(args.seeds)
    by_world: dict[str, dict[int, dict[str, Any]]] = {}
    for w in args.worlds.split(","):
        by_world[w] = {
            s: run_seed(w, s, args.hours, not args.no_raw, attribution)
            for s in track(seeds, description=f"{w}: {len(seeds)} days of {args.hours:g} h")
        }
    print("\n".join(figures_table(by_world)))
    print()
    print("\n".join(confidence_table(by_world)))
    for w, reports in by_world.items():
        secs = [r["analyze_seconds"] for r in reports.values()]
        obs = [r["observations"] for r in reports.values()]
        print(
            f"\n{w}: {statistics.mean(obs):.0f} observations per day on average; analyze "
            f"{statistics.median(secs):.1f} s (median) per day"
        )
        conf = pooled([r["by_confidence"]["bins"] for r in reports.values()])
        print(f"{w} confidence reliability (pooled): {json.dumps(conf)}")
        for key, get in (
            ("every published origin", lambda r: r["sides"]["published"]),
            (
                "published origins ≤ 1 km from the line",
                lambda r: r["sides"]["near_line"]["published"],
            ),
        ):
            tables = [get(r)["reliability"] for r in reports.values()]
            side = pooled(tables)
            gap = f"{_fmt(max_gap(side, min_n=100))}, bins of 30: {_fmt(max_gap(side, min_n=30))}"
            print(
                f"{w} side stated, {key} (pooled; max gap, bins of 100: {gap}): {json.dumps(side)}"
            )
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(by_world, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
