"""Are the attribution probabilities calibrated where it matters: close to the line?

    python benchmarks/calibration.py [--events 20000] [--plot docs/img/reliability.png]

On the simulated days almost every located launch is kilometres from the line and metres
from its estimate, so its attribution is 0 or 1 and a reliability diagram has one point.
This benchmark puts the probabilities to work: launches within 150 m of the line of contact
of the standard scenario's agreement, each heard by 4 to 8 sensors 4-25 km away with 20-100
ms timing noise (a sparse or degraded network: origin uncertainty of tens to hundreds of
metres). Each launch is located by `truceline.localize.tdoa.locate` (its covariance is the
one the pipeline uses) and attributed by `truceline.attribution.attribute`, exactly as an
incident would be. A calibrated method puts the launches it gives probability p on the
right side a share p of the time.

Reported: the reliability table (the top party's probability, binned), the Brier score
(lower is better) against two baselines measured on the same launches, the point estimate's
side taken as certain (probability 1, as a method without uncertainty would) and a coin
toss (0.5 each), and accuracy and coverage at the 0.95 threshold.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from truceline.agreement import load_agreement
from truceline.attribution import attribute
from truceline.incidents import Fused, Point
from truceline.localize.tdoa import locate, sound_speed
from truceline.publish.charts import reliability
from truceline.simulate import build_scenario
from truceline.simulate.scenario import write_agreement


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--events", type=int, default=40_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--plot", type=Path)
    ap.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "calibration.json"
    )
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        ag = load_agreement(
            write_agreement(build_scenario(args.seed), Path(tmp), "2026-03-01T00:00:00Z")
        )
    n = args.events
    # true launch points: uniform along the line, up to 150 m either side of it
    line = ag.line_local
    along = rng.uniform(0.1, 0.9, n) * line.length
    base = shapely.line_interpolate_point(line, along)
    ang = rng.uniform(0, 2 * np.pi, n)
    r = 150.0 * np.sqrt(rng.uniform(0, 1, n))
    tx = shapely.get_x(base) + r * np.cos(ang)
    ty = shapely.get_y(base) + r * np.sin(ang)
    true_owner = ag.owner_index(tx, ty)
    keep = true_owner >= 0
    tx, ty, true_owner = tx[keep], ty[keep], true_owner[keep]
    n = tx.size

    # 4-8 sensors 4-25 km away in random directions, 20-100 ms pick noise
    k = 8
    n_s = rng.integers(4, k + 1, n)
    mask = np.arange(k)[None, :] < n_s[:, None]
    dist = rng.uniform(4_000, 25_000, (n, k))
    bearing = rng.uniform(0, 2 * np.pi, (n, k))
    px = tx[:, None] + dist * np.cos(bearing)
    py = ty[:, None] + dist * np.sin(bearing)
    pz = np.full((n, k), 150.0)
    sigma = rng.choice([0.02, 0.05, 0.1], (n, 1)) * np.ones((n, k))
    c = np.full((n, k), float(sound_speed(10.0)))
    d = np.sqrt((px - tx[:, None]) ** 2 + (py - ty[:, None]) ** 2 + (pz - 150.0) ** 2)
    t = d / c + rng.standard_normal((n, k)) * sigma
    fit = locate(px, py, pz, t, sigma, c, mask)
    ok = fit.converged & ~fit.ill_conditioned
    incidents = [
        Fused(  # a real launch (P(real) 1, no labels): the areas' shares alone are tested
            "fire",
            0,
            0,
            origin=Point(float(fit.x[i]), float(fit.y[i]), fit.cov[i], 0),
            confidence=1.0,
        )
        for i in np.flatnonzero(ok)
    ]
    attributions = attribute(incidents, ag)
    truth = [ag.party_ids[int(true_owner[i])] for i in np.flatnonzero(ok)]
    sigma_m = np.array([inc.origin.sigma_m for inc in incidents if inc.origin])

    bins: dict[str, dict[str, Any]] = {}
    brier, brier_point, brier_coin = [], [], []
    attributed = correct = 0
    for inc, att, side in zip(incidents, attributions, truth, strict=True):
        probs = att.probabilities
        top = max(sorted(probs), key=lambda p: probs[p])
        b = min(int(probs[top] * 10), 9)
        key = f"{b / 10:.1f}-{(b + 1) / 10:.1f}"
        bins.setdefault(key, {"n": 0, "correct": 0, "p_sum": 0.0})
        bins[key]["n"] += 1
        bins[key]["correct"] += int(top == side)
        bins[key]["p_sum"] += probs[top]
        undetermined = max(0.0, 1.0 - sum(probs.values()))
        brier.append(
            sum((probs.get(p, 0.0) - (p == side)) ** 2 for p in ag.party_ids) + undetermined**2
        )
        point = _point_side(ag, inc)
        brier_point.append(sum(((p == point) - (p == side)) ** 2 for p in ag.party_ids))
        brier_coin.append(sum((0.5 - (p == side)) ** 2 for p in ag.party_ids))
        if att.attributed_to:
            attributed += 1
            correct += int(att.attributed_to == side)
    res: dict[str, Any] = {
        "events_located": len(incidents),
        "origin_sigma_m": {
            "median": float(np.median(sigma_m)),
            "p10": float(np.percentile(sigma_m, 10)),
            "p90": float(np.percentile(sigma_m, 90)),
        },
        "brier": float(np.mean(brier)),
        "brier_point_estimate_as_certain": float(np.mean(brier_point)),
        "brier_coin_toss": float(np.mean(brier_coin)),
        "attributed_at_0_95": attributed,
        "accuracy_at_0_95": correct / max(attributed, 1),
        "coverage_at_0_95": attributed / len(incidents),
        "reliability": dict(sorted(bins.items())),
    }
    print(json.dumps(res, indent=1))
    print("| top probability | launches | mean probability given | share on that side |")
    print("|---|---|---|---|")
    for key, v in sorted(bins.items()):
        print(f"| {key} | {v['n']:,} | {v['p_sum'] / v['n']:.3f} | {v['correct'] / v['n']:.3f} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1) + "\n")
    if args.plot:
        reliability(bins, args.plot, "Attribution of launches within 150 m of the line")


def _point_side(ag: Any, inc: Fused) -> str | None:
    assert inc.origin is not None
    k = int(ag.owner_index([inc.origin.x], [inc.origin.y])[0])
    return ag.party_ids[k] if k >= 0 else None


if __name__ == "__main__":
    main()
