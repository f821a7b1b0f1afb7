"""How often the sound of a flight's impact is found where a strike was, and where none was:
the likelihood ratio ``FlightParams.heard_likelihood_ratio`` rests on (issue 22).

    python benchmarks/impact_sound.py --seeds 1-4 --hours 12 \\
        [--out benchmarks/results/impact_sound.json]

Each seed of the ``field`` world (reconnaissance flights on, 2 an hour, as in
``drones.py``) is simulated and analysed up to the join of flights with *located* strikes
(``join_strikes`` without the leftover picks). Then every flight still without a strike is
listened for (:func:`truceline.tracking.impact_sound.heard_impact`) in the acoustic picks
no incident used:

- at its own end: a *strike end* when the simulator's flight it is of
  (:mod:`truceline.evaluate.flights`) was a strike that ended within 2 km and 300 s of the
  track's end; the share of those found is P(found | strike);
- at the same end moved by -1800, +900 and +1800 s, where no strike of that flight was:
  the share found is P(found | no strike), and a find at a track's own end that is not a
  strike end counts there too.

The ratio of the two is the likelihood ratio. Also reported: the found impacts' distance
from the true end and time error.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import track as progress

sys.path.insert(0, str(Path(__file__).parent))
from drones import recon_day  # the same days as the drones benchmark

from truceline.analysis import leftover_picks
from truceline.evaluate.days import seed_list
from truceline.evaluate.flights import flights_of, read_flights
from truceline.fusion import fuse
from truceline.sources.detections import current
from truceline.tracking.flights import FlightParams, flights, join_strikes, last_velocity
from truceline.tracking.impact_sound import heard_impact

SHIFTS_S = (-1800.0, 900.0, 1800.0)
NEAR_M, NEAR_S = 2000.0, 300.0


def day(seed: int, hours: float, tmp: Path) -> dict[str, Any]:
    d = tmp / f"s{seed}"
    ag, obs = recon_day(seed, hours, d)
    fused = fuse(current(obs), ag)
    by_ref = {o.ref: o for o in obs}
    air = flights(obs, ag)
    joined = join_strikes(fused.incidents, air, lambda r: by_ref[r].leaf_hash)
    unjoined = {id(f) for f in air}  # join_strikes passes a flight it joined nothing to on
    alone = [f for f in joined if id(f) in unjoined]
    picks = leftover_picks(obs, fused.incidents, ag)
    truth = read_flights(d / "drones_truth.jsonl", ag)
    of = flights_of(alone, truth)
    prm = FlightParams()
    out: dict[str, Any] = {
        "seed": seed,
        "tracks": len(alone),
        "strike_ends": 0,
        "found_at_strike": 0,
    }
    out |= {"found_elsewhere": 0, "tried_elsewhere": 0, "errors_m": [], "errors_s": []}
    for fl, k in zip(alone, of, strict=True):
        assert fl.flight is not None and fl.impact is not None
        end, (vx, vy) = fl.impact, last_velocity(fl.flight)
        t_end = (fl.time_end_us - picks.t_ref_us) / 1e6
        f = truth[k] if k is not None else None
        strike_end = bool(
            f is not None
            and f["kind"] == "strike"
            and abs(f["t1"] - fl.time_end_us) / 1e6 < NEAR_S
            and math.hypot(f["x"][-1] - end.x, f["y"][-1] - end.y) < NEAR_M
        )
        for shift in (0.0, *SHIFTS_S):
            fix = heard_impact(
                picks, np.zeros(len(picks), bool), end.x, end.y, t_end + shift, vx, vy,
                end.sigma_m, prm.impact,
            )  # fmt: skip
            if shift == 0.0 and strike_end:
                out["strike_ends"] += 1
                if fix is not None:
                    assert f is not None
                    out["found_at_strike"] += 1
                    out["errors_m"].append(math.hypot(fix.x - f["x"][-1], fix.y - f["y"][-1]))
                    out["errors_s"].append(fix.t_s - (f["t1"] - picks.t_ref_us) / 1e6)
                continue
            out["tried_elsewhere"] += 1
            out["found_elsewhere"] += fix is not None
    print(json.dumps({k: v for k, v in out.items() if not k.startswith("errors")}), flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", default="1-4")
    ap.add_argument("--hours", type=float, default=12.0)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/impact_sound.json"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        days = [day(s, a.hours, Path(tmp)) for s in progress(seed_list(a.seeds), "days")]
    strike = sum(d["strike_ends"] for d in days)
    hit = sum(d["found_at_strike"] for d in days)
    tried = sum(d["tried_elsewhere"] for d in days)
    false = sum(d["found_elsewhere"] for d in days)
    p_hit = hit / strike if strike else None
    p_false = false / tried if tried else None
    errs = [e for d in days for e in d["errors_m"]]
    secs = [e for d in days for e in d["errors_s"]]
    result = {
        "seeds": a.seeds,
        "hours": a.hours,
        "days": days,
        "p_found_at_strike": p_hit,
        "p_found_elsewhere": p_false,
        "likelihood_ratio": p_hit / p_false if p_hit is not None and p_false else None,
        "error_m_median": float(np.median(errs)) if errs else None,
        "error_m_max": max(errs) if errs else None,
        "error_s_abs_max": max((abs(s) for s in secs), default=None),
    }
    print(json.dumps({k: v for k, v in result.items() if k != "days"}, indent=1))
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
