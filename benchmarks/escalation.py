"""The escalation detector on clustered fire: false alarms on calm weeks, detection of a
tripling, and detection after an escalation inside the learning period; classical against
robust, on the same counts.

    python benchmarks/escalation.py [--sectors 400] [--out benchmarks/results/escalation.json]

Each sector-week is 72 h of learning and 168 h scored. Fire comes in exchanges (Poisson,
0.5 an hour per sector, following a night-time rhythm), each of 1 + Poisson(2) rounds a few
seconds to minutes apart (three rounds an exchange on average); every round is a violation
incident. *Classical*: the Poisson CUSUM on rounds with the calm rate of the first 72 h
(what ``find_alerts`` did before). *Robust*: rounds grouped into exchanges (10 min),
an updating calm rate and a quasi-Poisson dispersion (:mod:`truceline.escalation`). An
escalation triples the exchanges for 36 h; it is detected when an alarm falls between its
start and 24 h after its end. The last table checks :func:`false_alarm_rate` (the derived
rate) against the measured one on plain Poisson counts.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

import numpy as np

from truceline.escalation import detect, false_alarm_rate
from truceline.publish.alerts import cusum_alarms, exchange_starts

H = 3_600_000_000
LEARN, SCORED = 72, 168
RATE = 0.5


def rhythm(hours: np.ndarray) -> np.ndarray:
    return 1.0 + 0.6 * np.cos(2 * np.pi * ((hours % 24) - 2.0) / 24.0)


def rounds(rng: np.random.Generator, rate_per_hour: np.ndarray) -> np.ndarray:
    """Times (µs) of every round: exchanges by the hourly rate, 1 + Poisson(2) rounds each."""
    n = rng.poisson(rate_per_hour)
    starts = np.concatenate(
        [h * H + rng.integers(0, H, k) for h, k in enumerate(n) if k]  # type: ignore[arg-type]
        or [np.zeros(0, np.int64)]
    )
    out = []
    for s in starts:
        k = 1 + rng.poisson(2.0)
        out.append(s + np.sort(rng.integers(0, 180_000_000, k)))  # within 3 minutes
    return np.sort(np.concatenate(out)) if out else np.zeros(0, np.int64)


def counts_of(t: np.ndarray, n_hours: int, robust: bool) -> np.ndarray:
    sel = exchange_starts(t, 10.0) if robust and t.size else np.ones(t.size, bool)
    return np.bincount((t[sel] // H).astype(int), minlength=n_hours)[:n_hours]


def week(rng: np.random.Generator, escalations: list[tuple[int, int]]) -> np.ndarray:
    n = LEARN + SCORED
    hours = np.arange(n)
    lam = RATE * rhythm(hours)
    for start, length in escalations:
        lam[start : start + length] *= 3.0
    return rounds(rng, lam)


def run(method: str, t: np.ndarray, profile: np.ndarray) -> list[int]:
    robust = method == "robust"
    c = counts_of(t, LEARN + SCORED, robust)
    return detect(c, profile, 0, baseline_hours=LEARN, updating=robust, overdispersed=robust).alarms


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sectors", type=int, default=400)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/escalation.json"))
    a = ap.parse_args()
    rng = np.random.default_rng(2026)
    profile = rhythm(np.arange(24)) / rhythm(np.arange(24)).mean()
    res: dict[str, Any] = {}
    for method in ("classical", "robust"):
        fa = 0
        det, delays, det_in, delays_in = 0, [], 0, []
        for _ in range(a.sectors):
            fa += len(run(method, week(rng, []), profile))
            start = int(rng.integers(96, 121))
            al = [
                h
                for h in run(method, week(rng, [(start, 36)]), profile)
                if start <= h <= start + 60
            ]
            det += bool(al)
            delays += [al[0] - start] if al else []
            # an escalation inside the learning period (hours 10-46), then one from hour 150
            al = [
                h for h in run(method, week(rng, [(10, 36), (150, 36)]), profile) if 150 <= h <= 210
            ]
            det_in += bool(al)
            delays_in += [al[0] - 150] if al else []
        res[method] = {
            "false_alarms_per_sector_week": round(fa / a.sectors, 3),
            "detected": round(det / a.sectors, 3),
            "median_delay_h": statistics.median(delays) if delays else None,
            "detected_after_escalation_in_learning": round(det_in / a.sectors, 3),
            "median_delay_after_h": statistics.median(delays_in) if delays_in else None,
        }
    print(
        "| detector | false alarms per sector-week (clustered calm) | tripling detected | "
        "median delay | detected after an escalation in the learning period | median delay |"
    )
    print("|---|---|---|---|---|---|")
    for m, r in res.items():
        print(
            f"| {m} | {r['false_alarms_per_sector_week']:.2f} | {r['detected']:.3f} | "
            f"{r['median_delay_h']} h | {r['detected_after_escalation_in_learning']:.3f} | "
            f"{r['median_delay_after_h']} h |"
        )
    print(
        "\n| calm rate (events/h) | derived false alarms / week (rate known) | measured, rate "
        "known (2,000 weeks) | measured, rate learnt from 72 h (2,000 weeks) |"
    )
    print("|---|---|---|---|")
    res["derived"] = {}
    for lam in (0.1, 0.25, 0.5, 1.0, 2.0):
        known = len(cusum_alarms(rng.poisson(lam, 168 * 2000), lam)) / 2000
        learnt = float(
            np.mean(
                [
                    len(
                        detect(
                            rng.poisson(lam, LEARN + SCORED), np.ones(24), 0,
                            updating=False, overdispersed=False, baseline_hours=LEARN,
                        ).alarms
                    )
                    for _ in range(2000)
                ]
            )
        )  # fmt: skip
        derived = false_alarm_rate(lam)
        res["derived"][str(lam)] = {
            "derived": round(derived, 3),
            "measured_known": round(known, 3),
            "measured_learnt": round(learnt, 3),
        }
        print(f"| {lam} | {derived:.3f} | {known:.3f} | {learnt:.3f} |")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
