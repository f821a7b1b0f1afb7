"""Escalation alerts on whole simulated weeks: false alarms on calm weeks, and the delay to
the first alarm after a simulated escalation (fire × 3 in a 25 km stretch for 36 hours).

    python benchmarks/alerts.py [--weeks 6] [--out benchmarks/results/alerts.json]

Each week is simulated (300 km front, 12 firing events an hour, with its night-time peak),
analysed with the real `analyze`, and its incidents passed to `find_alerts` with the
defaults of `truceline alerts` (25 km sectors, a calm rate from the first 72 hours, CUSUM for
a doubling, threshold 5). The first 72 hours set each sector's calm rate, so alarms are
counted over the remaining 96 hours and scaled to a week. An escalated week's escalation
starts between hours 96 and 120, centred in a sector; it is detected when a sector its
stretch overlaps raises an escalation alarm between its start and 24 hours after its end.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from truceline._time import parse_time
from truceline.agreement import load_agreement
from truceline.analysis import analyze, write_outputs
from truceline.publish.alerts import find_alerts
from truceline.simulate import Escalation, simulate
from truceline.sources import read_observations

HOURS = 168
BASELINE = 72
SECTOR_KM = 25.0


def prepare(seed: int, escalated: bool) -> tuple[list[dict[str, Any]], Any, list[Any]]:
    """Simulate and analyse one week: its incidents, agreement and escalations."""
    rng = np.random.default_rng(seed)
    esc = ()
    if escalated:
        sector = int(rng.integers(1, 11))  # away from the ends of the front
        esc = (Escalation(float(rng.uniform(96, 120)), 36.0, (sector + 0.5) * SECTOR_KM, 3.0),)
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        simulate(d / "sc", seed=seed, hours=HOURS, escalations=esc)
        ag = load_agreement(d / "sc" / "agreement.yaml")
        batch = read_observations([d / "sc" / "observations.jsonl"])
        write_outputs(analyze(batch.observations, ag), ag, d / "out")
        features = json.loads((d / "out" / "incidents.geojson").read_text())["features"]
        written = [
            json.loads(line) for line in (d / "sc" / "escalations.jsonl").read_text().splitlines()
        ]
    return features, ag, written


def score(
    seed: int, escalated: bool, week: tuple[list[dict[str, Any]], Any, list[Any]], diurnal: bool
) -> dict[str, Any]:
    features, ag, written = week
    t = time.perf_counter()
    alerts = [
        a
        for a in find_alerts(features, ag, SECTOR_KM, BASELINE, diurnal=diurnal)
        if a.kind == "escalation"
    ]
    seconds = time.perf_counter() - t
    n_sectors = int(np.ceil(ag.line_local.length / (SECTOR_KM * 1000)))
    row: dict[str, Any] = {
        "seed": seed,
        "escalated": escalated,
        "sectors": n_sectors,
        "incidents": len(features),
        "alarms": len(alerts),
        "alerts_seconds": seconds,
    }
    if not escalated:
        row["false_alarms_per_sector_week"] = len(alerts) / n_sectors * HOURS / (HOURS - BASELINE)
        return row
    e = written[0]
    x, y = ag.frame.forward([e["centre"][0]], [e["centre"][1]])
    along = float(shapely.line_locate_point(ag.line_local, shapely.Point(x[0], y[0])))
    half = e["width_km"] * 500.0
    mine = {int((along - half) // (SECTOR_KM * 1000)), int((along + half) // (SECTOR_KM * 1000))}
    start, end = parse_time(e["start"]), parse_time(e["end"])
    hits = [
        parse_time(a.time)
        for a in alerts
        if a.sector in mine and start <= parse_time(a.time) <= end + 24 * 3_600_000_000
    ]
    row["delay_h"] = (min(hits) - start) / 3.6e9 if hits else None
    others = [a for a in alerts if a.sector not in mine]
    row["false_alarms_per_sector_week"] = (
        len(others) / max(1, n_sectors - len(mine)) * HOURS / (HOURS - BASELINE)
    )
    return row


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    calm = [r for r in rows if not r["escalated"]]
    esc = [r for r in rows if r["escalated"]]
    delays = [r["delay_h"] for r in esc if r["delay_h"] is not None]
    return {
        "calm_weeks": len(calm),
        "false_alarms_per_sector_week_calm": statistics.mean(
            r["false_alarms_per_sector_week"] for r in calm
        ),
        "false_alarms_per_sector_week_elsewhere": statistics.mean(
            r["false_alarms_per_sector_week"] for r in esc
        ),
        "escalated_weeks": len(esc),
        "detected": len(delays),
        "median_delay_h": statistics.median(delays) if delays else None,
        "max_delay_h": max(delays) if delays else None,
        "median_alerts_seconds": statistics.median(r["alerts_seconds"] for r in rows),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--weeks", type=int, default=6, help="calm weeks, and as many escalated")
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/alerts.json"))
    args = ap.parse_args()
    result: dict[str, Any] = {
        "machine": platform.machine(),
        "date": time.strftime("%Y-%m-%d"),
        "weeks": args.weeks,
    }
    weeks = {
        (1000 + k, esc): prepare(1000 + k, esc) for k in range(args.weeks) for esc in (False, True)
    }
    for diurnal in (False, True):
        rows = [score(seed, esc, week, diurnal) for (seed, esc), week in weeks.items()]
        name = "diurnal" if diurnal else "flat"
        result[name] = {"summary": summary(rows), "weeks": rows}
        print(name, json.dumps(result[name]["summary"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
