"""Drones tracked from radar, radio and sound, and judged (issue 22).

    python benchmarks/drones.py --seeds 1-4 --hours 12 --drones 10,50,100,200 \\
        [--out benchmarks/results/drones.json]

**Accuracy.** Each seed of the ``field`` world (with reconnaissance flights, 2 an hour,
one-way drones, 1 an hour, and aircraft, 0.5 an hour, turned on) is simulated and analysed
from its observations alone, then scored against ``truth.jsonl`` (C7 by ``truceline
evaluate``, without the drone sources, with them, and with them but without the air types'
say in P(strike) (``UNTYPED``, the rule before them): what tracking and typing add) and
against ``drones_truth.jsonl`` (the benchmark's own reading: the analysis never sees it):

- a track is matched to the flight whose true position, at the track's own times, is
  nearest on average (under 1 km);
- *completeness*: the share of each flight's time within 30 km of the line covered by the
  tracks matched to it (averaged over flights, all flights, so coverage gaps count);
  *purity*: the share of a
  track's positions within 500 m of its flight's;
- *GOSPA* (Stone Soup's ``GOSPAMetric``, p = 1, c = 1 km, alpha = 2) every 30 s between the
  live tracks and the flying drones within 30 km of the line, averaged over the times
  anything flew there;
- C8 (flight over the line) F1 per flight; attribution of drone strikes: the strikes joined
  with a track, the share attributed and the accuracy of those that are;
- *types*: of each matched track, the stated type probabilities against the flight's true
  type (:func:`type_figures`: right, asserted, Brier, reliability, confusion), per seed
  and pooled.

**Speed.** ``track`` alone on a synthetic 10 minutes of N drones flying at once over the
300 km line (straight and turning, 15-50 m/s), radars every 40 km on both sides (a plot
every 4 s, P(detection) 0.85, 25 km, 0.05 clutter plots a scan), a radio bearing every 5 s
from half the drones: processing time / data time on one core.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from stonesoup.measures import Euclidean
from stonesoup.metricgenerator.ospametric import GOSPAMetric
from stonesoup.types.state import State

from truceline.agreement import Agreement, load_agreement
from truceline.analysis import analyze, write_outputs
from truceline.evaluate import evaluate
from truceline.evaluate.days import seed_list
from truceline.evaluate.flights import flights_of, position_at, read_flights
from truceline.incidents import Incident
from truceline.observations import Observation
from truceline.simulate import simulate
from truceline.simulate.world import load_world
from truceline.sources import read_observations
from truceline.tracking import BEARING, POSITION, Detections, track
from truceline.tracking.air_types import AIR_TYPES
from truceline.tracking.flights import FlightParams

DRONE_TYPES = ("radar", "rf", "drone_acoustic")
RECON_PER_HOUR = 2.0
ONE_WAY_PER_HOUR = 1.0
AIRCRAFT_PER_HOUR = 0.5
#: the rule before air types: a track lost beyond the line struck with P 0.5 whatever it was
UNTYPED = FlightParams(strikes_here=dict.fromkeys(AIR_TYPES, 1.0))
PURE_M = 500.0
#: completeness counts a flight's time within this of the line (the radars, 8-15 km behind
#: it with a 25 km reach, cover about that much; a one-way drone flies from far beyond)
COVERED_M = 30_000.0


def _track_figures(
    air: list[Incident], flights: list[dict[str, Any]], match: list[int | None], ag: Agreement
) -> dict[str, Any]:
    cover = []
    by_type: dict[str, list[float]] = {}
    for k, f in enumerate(flights):
        mine = [inc for inc, m in zip(air, match, strict=True) if m == k]
        grid = np.arange(f["t0"], f["t1"], 5e6)
        grid = grid[ag.distance_to_line_m(*position_at(f, grid)) < COVERED_M]
        seen = np.zeros(grid.size, bool)
        for inc in mine:
            assert inc.flight is not None
            seen |= (grid >= inc.flight.t_us[0]) & (grid <= inc.flight.t_us[-1])
        if grid.size:
            cover.append(float(seen.mean()))
            by_type.setdefault(f["type"], []).append(cover[-1])
    pure = []
    for inc, m in zip(air, match, strict=True):
        assert inc.flight is not None
        if m is None:
            pure.append(0.0)
            continue
        t = np.array(inc.flight.t_us, float)
        x, y = position_at(flights[m], t)
        pure.append(
            float((np.hypot(inc.flight.xy[:, 0] - x, inc.flight.xy[:, 1] - y) < PURE_M).mean())
        )
    crossed = {k for k, f in enumerate(flights) if f["crossed"]}
    said = {
        m for inc, m in zip(air, match, strict=True) if "C8" in inc.violations and m is not None
    }
    fp = sum(
        1
        for inc, m in zip(air, match, strict=True)
        if "C8" in inc.violations and (m is None or m not in crossed)
    )
    tp = len(said & crossed)
    fn = len(crossed - said)
    strikes = [
        (inc, flights[m])
        for inc, m in zip(air, match, strict=True)
        if m is not None
        and flights[m]["kind"] == "strike"
        and inc.flight is not None
        and inc.flight.p_strike > 0.9
    ]
    asserted = [(i, f) for i, f in strikes if i.attributed_to is not None]
    return {
        "flights": len(flights),
        "tracks": len(air),
        "tracks_matched": sum(m is not None for m in match),
        "completeness": statistics.fmean(cover) if cover else None,
        "flights_tracked": sum(c > 0 for c in cover) / len(cover) if cover else None,
        "completeness_by_type": {t: [len(v), statistics.fmean(v)] for t, v in by_type.items()},
        "purity": statistics.fmean(pure) if pure else None,
        "c8": {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None,
        },
        "strikes_joined": len(strikes),
        "strikes_true": sum(f["kind"] == "strike" for f in flights),
        "strike_attribution_asserted": len(asserted) / len(strikes) if strikes else None,
        "strike_attribution_accuracy": (
            sum(i.attributed_to == f["side"] for i, f in asserted) / len(asserted)
            if asserted
            else None
        ),
        "gospa": _gospa(air, flights, ag),
    }


def _gospa(
    air: list[Incident], flights: list[dict[str, Any]], ag: Agreement
) -> dict[str, float | None]:
    """GOSPA every 30 s between the tracks and the flights, each where it is within
    ``COVERED_M`` of the line (a one-way drone 60 km beyond the radars is not missed)."""
    metric = GOSPAMetric(p=1, c=1000.0, measure=Euclidean((0, 1)))
    t0 = min((f["t0"] for f in flights), default=0)
    t1 = max((f["t1"] for f in flights), default=0)
    values, missed, false = [], [], []
    for t in np.arange(t0, t1, 30e6):
        when = dt.datetime(2000, 1, 1) + dt.timedelta(microseconds=float(t - t0))
        truth = []
        for f in flights:
            if f["t0"] <= t <= f["t1"]:
                x, y = position_at(f, np.array([t]))
                if ag.distance_to_line_m(x, y)[0] < COVERED_M:
                    truth.append(State([[x[0]], [y[0]]], timestamp=when))
        est = []
        for inc in air:
            assert inc.flight is not None
            ft = np.array(inc.flight.t_us, float)
            if ft[0] <= t <= ft[-1]:
                x = np.interp(t, ft, inc.flight.xy[:, 0])
                y = np.interp(t, ft, inc.flight.xy[:, 1])
                if ag.distance_to_line_m([x], [y])[0] < COVERED_M:
                    est.append(State([[x], [y]], timestamp=when))
        if not truth and not est:
            continue
        g, _ = metric.compute_gospa_metric(est, truth)
        values.append(g.value["distance"])
        missed.append(g.value["missed"])
        false.append(g.value["false"])
    if not values:
        return {"mean": None}
    return {
        "mean": statistics.fmean(values),
        "missed_mean": statistics.fmean(missed),
        "false_mean": statistics.fmean(false),
    }


def _c7(report: dict[str, Any]) -> float | None:
    c = report.get("clauses", {}).get("C7")
    return None if c is None else c.get("f1")


def recon_day(
    seed: int, hours: float, day: Path, others: bool = False
) -> tuple[Agreement, list[Observation]]:
    """One ``field`` day with reconnaissance flights on (``RECON_PER_HOUR``; ``field.yaml``
    has them off), and with ``others`` one-way drones and aircraft too
    (``ONE_WAY_PER_HOUR``, ``AIRCRAFT_PER_HOUR``), simulated into ``day`` and read back."""
    field = load_world("field")
    assert field.drones is not None
    flying = replace(
        field.drones,
        recon_per_hour=RECON_PER_HOUR,
        one_way_per_hour=ONE_WAY_PER_HOUR if others else 0.0,
        aircraft_per_hour=AIRCRAFT_PER_HOUR if others else 0.0,
    )
    simulate(day, seed=seed, hours=hours, world=replace(field, drones=flying))
    ag = load_agreement(day / "agreement.yaml")
    return ag, read_observations([day / "observations.jsonl"]).observations


def accuracy(seed: int, hours: float, tmp: Path) -> dict[str, Any]:
    day = tmp / f"s{seed}"
    ag, obs = recon_day(seed, hours, day, others=True)
    out: dict[str, Any] = {"seed": seed, "hours": hours}
    for label, batch, fp in (
        ("without", [o for o in obs if o.type not in DRONE_TYPES], None),
        ("untyped", list(obs), UNTYPED),
        ("with", list(obs), None),
    ):
        t = time.perf_counter()
        run = analyze(batch, ag, flight=fp)
        out[f"analysis_s_{label}"] = time.perf_counter() - t
        write_outputs(run, ag, day / label)
        rep = evaluate(day / "truth.jsonl", day / label / "incidents.geojson")
        out[f"c7_f1_{label}"] = _c7(rep)
        out[f"c7_{label}"] = rep.get("clauses", {}).get("C7")
        if label == "with":
            flights = read_flights(day / "drones_truth.jsonl", ag)
            air = [i for i in run.incidents if i.flight is not None]
            match = flights_of(air, flights)
            out |= _track_figures(air, flights, match, ag)
            out["types"] = [
                [flights[m]["type"], inc.flight.types]
                for inc, m in zip(air, match, strict=True)
                if m is not None and inc.flight is not None
            ]
            out["type_figures"] = type_figures(out["types"])
    return out


def type_figures(pairs: list[list[Any]]) -> dict[str, Any]:
    """How right and how reliable the stated type probabilities of matched tracks are:
    the share whose most probable type is the true one; the share asserted (a type at
    0.9 or more) and how often that is right; the Brier score (sum over types of (p - 1
    for the true type, else 0)^2, averaged; 0 is perfect, 0.8 is a uniform guess over
    five); the reliability diagram over every (track, type) pair in tenths of stated P
    (pairs, mean stated P, observed share true); and the confusion of most probable type
    against the truth."""
    if not pairs:
        return {}
    best = [max(p, key=p.__getitem__) for _, p in pairs]
    sure = [(t, b) for (t, p), b in zip(pairs, best, strict=True) if p[b] >= 0.9]
    brier = [sum((p.get(c, 0.0) - (c == t)) ** 2 for c in AIR_TYPES) for t, p in pairs]
    bins: list[list[float]] = [[] for _ in range(10)]
    hits: list[list[float]] = [[] for _ in range(10)]
    for t, p in pairs:
        for c in AIR_TYPES:
            k = min(int(p.get(c, 0.0) * 10), 9)
            bins[k].append(p.get(c, 0.0))
            hits[k].append(float(c == t))
    confusion: dict[str, dict[str, int]] = {}
    for (t, _), b in zip(pairs, best, strict=True):
        confusion.setdefault(t, {}).setdefault(b, 0)
        confusion[t][b] += 1
    return {
        "tracks": len(pairs),
        "most_probable_right": sum(t == b for (t, _), b in zip(pairs, best, strict=True))
        / len(pairs),
        "asserted": len(sure) / len(pairs),
        "asserted_right": sum(t == b for t, b in sure) / len(sure) if sure else None,
        "brier": statistics.fmean(brier),
        "reliability": [
            {
                "stated": f"{k / 10:.1f}-{(k + 1) / 10:.1f}",
                "pairs": len(b),
                "mean_stated": statistics.fmean(b),
                "observed": statistics.fmean(h),
            }
            for k, (b, h) in enumerate(zip(bins, hits, strict=True))
            if b
        ],
        "confusion": confusion,
    }


def _scene(n: int, seconds: float, seed: int) -> Detections:
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, seconds, 1.0)
    cols: dict[str, list[float]] = {k: [] for k in Detections.__dataclass_fields__}

    def add(**v: float) -> None:
        for k in cols:
            cols[k].append(v.get(k, np.nan))

    radars = [(x, s * 12_000.0) for x in np.arange(-130_000, 150_000, 40_000.0) for s in (-1, 1)]
    for d in range(n):
        x0, y0 = rng.uniform(-150_000, 150_000), rng.uniform(-20_000, 20_000)
        speed, head = rng.uniform(15, 50), rng.uniform(0, 2 * np.pi)
        turn = rng.choice([0.0, rng.uniform(-0.02, 0.02)])
        ang = head + turn * t
        x = x0 + np.cumsum(speed * np.sin(ang))
        y = y0 + np.cumsum(speed * np.cos(ang))
        for k, (rx, ry) in enumerate(radars):
            for j in range(int(rng.integers(4)), t.size, 4):
                r = np.hypot(x[j] - rx, y[j] - ry)
                if r < 25_000 and rng.random() < 0.85:
                    s = 30 + 0.003 * r
                    add(t_s=t[j] + 0.2, kind=POSITION, x=x[j] + rng.normal(0, s),
                        y=y[j] + rng.normal(0, s), sensor=k, sigma_m=s)  # fmt: skip
        if d % 2 == 0:
            fx, fy = x0 + 5_000, y0 - 8_000
            for j in range(0, t.size, 5):
                b = np.degrees(np.arctan2(x[j] - fx, y[j] - fy)) + rng.normal(0, 3)
                add(t_s=t[j] + 0.5, kind=BEARING, x=fx, y=fy, sensor=1000 + d,
                    bearing_deg=b % 360, bearing_sigma_deg=3.0, max_range_m=30_000.0)  # fmt: skip
    for k, (rx, ry) in enumerate(radars):
        for _ in range(rng.poisson(0.05 * seconds / 4)):
            r, a = 25_000 * np.sqrt(rng.random()), rng.uniform(0, 2 * np.pi)
            add(t_s=rng.uniform(0, seconds), kind=POSITION, x=rx + r * np.sin(a),
                y=ry + r * np.cos(a), sensor=k, sigma_m=80.0)  # fmt: skip
    return Detections.of(**cols)


def speed(counts: list[int], seconds: float) -> list[dict[str, Any]]:
    out = []
    for n in counts:
        det = _scene(n, seconds, seed=n)
        t = time.perf_counter()
        tracks = track(det)
        took = time.perf_counter() - t
        out.append(
            {
                "drones": n,
                "data_s": seconds,
                "detections": len(det),
                "tracks": len(tracks),
                "processing_s": took,
                "ratio": took / seconds,
            }
        )
        print(out[-1], flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="1-4")
    ap.add_argument("--hours", type=float, default=12.0)
    ap.add_argument("--drones", default="10,50,100,200")
    ap.add_argument("--seconds", type=float, default=600.0)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/drones.json"))
    args = ap.parse_args()
    result: dict[str, Any] = {"accuracy": [], "speed": []}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in seed_list(args.seeds):
            result["accuracy"].append(accuracy(seed, args.hours, Path(tmp)))
            print(
                json.dumps(
                    {
                        k: v
                        for k, v in result["accuracy"][-1].items()
                        if not k.startswith(("c7_w", "c7_u", "types"))
                    }
                ),
                flush=True,
            )
    if args.drones:
        result["speed"] = speed([int(n) for n in args.drones.split(",")], args.seconds)
    result["types"] = type_figures([p for a in result["accuracy"] for p in a.get("types", [])])
    print(json.dumps({k: v for k, v in result["types"].items() if k != "confusion"}), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=float) + "\n")


if __name__ == "__main__":
    main()
