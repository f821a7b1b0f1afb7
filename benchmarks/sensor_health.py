"""How many of the simulator's sensor outages the gap test finds, and how many gaps it raises
that were not outages, at three levels of activity (firing events per hour on a 300 km front).

    python benchmarks/sensor_health.py [--seeds 5] [--out benchmarks/results/sensor_health.json]

Each run simulates a day, reads its acoustic detections and runs `truceline.coverage.sensor_gaps`
exactly as the daily report does; the outages written by the simulator are the truth. A gap
found counts for an outage when it is the same sensor and the two intervals overlap.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from truceline._time import parse_time
from truceline.agreement import load_agreement
from truceline.coverage import sensor_gaps
from truceline.simulate import simulate

RATES = (12.0, 60.0, 200.0)  # the demo's calm day, a busy day, a day of heavy shelling
LENGTH_BINS = ((0, 2), (2, 4), (4, 7))


def one_day(seed: int, rate: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        simulate(d, seed=seed, hours=24, fire_rate_per_hour=rate)
        ag = load_agreement(d / "agreement.yaml")
        rows = [json.loads(line) for line in (d / "observations.jsonl").read_text().splitlines()]
        ac = [o for o in rows if o["type"] == "acoustic"]
        outages = [
            json.loads(line) for line in (d / "sensor_outages.jsonl").read_text().splitlines()
        ]
    pos = {o["sensor"]: o["position"] for o in ac}
    known = sorted(pos)
    index = {s: i for i, s in enumerate(known)}
    x, y = ag.frame.forward([pos[s][0] for s in known], [pos[s][1] for s in known])
    det_s = np.array([index[o["sensor"]] for o in ac])
    det_t = np.array([parse_time(o["time"]) for o in ac])
    t0 = parse_time("2026-03-01T00:00:00Z")
    t = time.perf_counter()
    gaps = sensor_gaps(
        np.array(known), np.column_stack([x, y]), det_s, det_t, t0, t0 + 86_400_000_000
    )
    seconds = time.perf_counter() - t
    truth = [(o["sensor"], parse_time(o["start"]), parse_time(o["end"])) for o in outages]

    def overlaps(g: object, o: tuple[str, int, int]) -> bool:
        return g.sensor == o[0] and g.start_us < o[2] and g.end_us > o[1]  # type: ignore[attr-defined]

    found = [any(overlaps(g, o) for g in gaps) for o in truth]
    false = sum(1 for g in gaps if not any(overlaps(g, o) for o in truth))
    hours = [(o[2] - o[1]) / 3.6e9 for o in truth]
    by_length = {
        f"{lo}-{hi} h": [
            sum(f for f, h in zip(found, hours, strict=True) if lo <= h < hi),
            sum(1 for h in hours if lo <= h < hi),
        ]
        for lo, hi in LENGTH_BINS
    }
    return {
        "seed": seed,
        "rate": rate,
        "sensors": len(known),
        "detections_per_sensor": len(ac) / max(1, len(known)),
        "outages": len(truth),
        "found": int(sum(found)),
        "false_gaps": false,
        "gaps": len(gaps),
        "by_length": by_length,
        "seconds": seconds,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/sensor_health.json"))
    args = ap.parse_args()
    runs = [one_day(seed, rate) for rate in RATES for seed in range(1, args.seeds + 1)]
    summary = []
    for rate in RATES:
        mine = [r for r in runs if r["rate"] == rate]
        row: dict[str, object] = {
            "fire_rate_per_hour": rate,
            "days": len(mine),
            "detections_per_sensor_day": float(np.mean([r["detections_per_sensor"] for r in mine])),
            "outages": sum(r["outages"] for r in mine),
            "found": sum(r["found"] for r in mine),
            "false_gaps_per_day": sum(r["false_gaps"] for r in mine) / len(mine),
            "median_seconds": float(np.median([r["seconds"] for r in mine])),
        }
        for lo, hi in LENGTH_BINS:
            k = f"{lo}-{hi} h"
            row[k] = [
                sum(r["by_length"][k][0] for r in mine),
                sum(r["by_length"][k][1] for r in mine),
            ]
        summary.append(row)
        print(json.dumps(row))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "machine": platform.machine(),
                "cpus": 2,
                "date": time.strftime("%Y-%m-%d"),
                "summary": summary,
                "runs": runs,
            },
            indent=1,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
