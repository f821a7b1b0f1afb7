"""How the mechanism's sensors see the simulated truth: acoustic detections, patrol reports,
satellite thermal pixels, UAV sightings and the parties' allegations (true and false).

Each sensor model is deliberately imperfect in the way real ones are: detection falls off
with distance, arrival times are noisy, sensors go down, false alarms happen, patrols round
bearings to the compass rose and guess distances, satellites only look at overpass times,
and parties allege things that never happened.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .events import FireEvents, PresenceEvents
from .scenario import Scenario

__all__ = [
    "ObservationWriter",
    "allegations",
    "launchers",
    "patrols",
    "thermal",
    "uav",
]

FloatArray = NDArray[np.float64]


@dataclass
class ObservationWriter:
    """Collects observation dicts and keeps a per-source sequence for ids."""

    sc: Scenario
    start_us: int
    wind_phase: FloatArray = field(default_factory=lambda: np.zeros(3))

    def __post_init__(self) -> None:
        self.records: list[tuple[int, dict[str, Any]]] = []
        self.outages: list[tuple[str, int, int]] = []  # (sensor, from, to): ground truth
        self.sensor_errors: Any = None  # each acoustic sensor's clock and survey errors: truth

    def lonlat(self, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        lon, lat = self.sc.frame.inverse(x, y)
        return np.round(lon, 7), np.round(lat, 7)

    def time_us(self, t: FloatArray | float) -> NDArray[np.int64]:
        return self.start_us + np.round(np.asarray(t, float) * 1e6).astype(np.int64)

    def add(self, t_us: int, record: dict[str, Any]) -> None:
        self.records.append((int(t_us), record))


_COMPASS = (
    "N",
    "NNE",
    "NE",
    "ENE",
    "E",
    "ESE",
    "SE",
    "SSE",
    "S",
    "SSW",
    "SW",
    "WSW",
    "W",
    "WNW",
    "NW",
    "NNW",
)


#: what a patrol may take a weapon for (a world where patrols misname some)
CONFUSED_WITH = {
    "mortar_lt120": "mortar_ge120",
    "mortar_ge120": "mortar_lt120",
    "artillery_lt100": "artillery_ge100",
    "artillery_ge100": "mlrs",
    "tank": "artillery_lt100",
    "mlrs": "artillery_ge100",
    "mlrs_heavy": "mlrs",
}


def patrols(
    rng: np.random.Generator,
    w: ObservationWriter,
    fire: FireEvents,
    misnames: float = 0.0,
    frng: np.random.Generator | None = None,
) -> NDArray[np.int64]:
    """OSCE-style reports from observation posts staffed 06:00-20:00: compass bearings, distance
    ranges, counts; a share ``misnames`` of the weapons they name is a neighbouring class.
    Returns how many reports each event got."""
    posts = w.sc.posts
    reported = np.zeros(len(fire), dtype=np.int64)
    seq = 0
    for phase, ex, ey, et in (
        ("outgoing", fire.ox, fire.oy, fire.t_launch),
        ("incoming", fire.ix, fire.iy, fire.t_impact),
    ):
        for p in range(posts["id"].size):
            dx, dy = ex - posts["x"][p], ey - posts["y"][p]
            d = np.hypot(dx, dy)
            hour = et / 3600.0 % 24.0
            ok = (d < 7_000.0) & (d > 200.0) & (hour >= 6.0) & (hour < 20.0)
            ok &= rng.uniform(size=d.size) < 0.75
            for i in np.flatnonzero(ok):
                seq += 1
                # from true north: a turned frame's y axis is not north (real_front.RotatedFrame)
                north = getattr(w.sc.frame, "angle_deg", 0.0)
                bearing = (
                    np.degrees(np.arctan2(dx[i], dy[i])) - north + rng.normal(0, 8.0)
                ) % 360.0
                sector = round(bearing / 22.5) % 16
                lo = max(0.0, np.floor(d[i] * rng.uniform(0.6, 0.85) / 500.0) * 0.5)
                hi = np.ceil(d[i] * rng.uniform(1.15, 1.4) / 500.0) * 0.5
                wp = str(fire.weapon[i])
                event = {"small_arms": "burst", "drone": "drone"}.get(wp, "explosion")
                minute = int(w.time_us(et[i]) // 60_000_000 * 60_000_000)
                count = int(fire.rounds[i])
                rec: dict[str, Any] = {
                    "id": f"{posts['id'][p]}-{seq:06d}",
                    "type": "patrol",
                    "source": "smm-patrols",
                    "time": minute,
                    "time_end": minute + 60_000_000,
                    "observer": [float(v) for v in w.lonlat(posts["x"][p], posts["y"][p])],
                    "event": event,
                    "count": count,
                    "bearing_deg": sector * 22.5,
                    "bearing_sigma_deg": 15.0,
                    "distance_km": [float(lo), float(hi)],
                    "assessment": phase,
                    "post": str(posts["id"][p]),
                    "note": f"{count} {event}s {lo:g}-{hi:g} km {_COMPASS[sector]} ({phase})",
                }
                if wp != "small_arms" and wp != "drone" and rng.uniform() < 0.4:
                    wrong = misnames > 0 and frng is not None and frng.uniform() < misnames
                    rec["weapon"] = CONFUSED_WITH.get(wp, wp) if wrong else wp
                w.add(minute, rec)
                reported[i] += 1
    return reported


OVERPASSES_H = (
    (0.5, "N", "VIIRS"),
    (1.3, "N20", "VIIRS"),
    (10.8, "N", "VIIRS"),
    (11.7, "N20", "VIIRS"),
)


def thermal(
    rng: np.random.Generator,
    w: ObservationWriter,
    fire: FireEvents,
    hours: float,
    background_per_pass: float = 5.0,
) -> NDArray[np.int64]:
    """VIIRS-like 375 m pixels of fires started by heavy impacts, plus unrelated fires (a mean
    of ``background_per_pass`` per overpass: field burning, industry, wildfires)."""
    heavy = np.isin(fire.weapon, ["artillery_ge100", "mlrs", "mlrs_heavy"])
    burns = heavy & (rng.uniform(size=len(fire)) < 0.3)
    burn_end = fire.t_impact + rng.uniform(3600.0, 8 * 3600.0, len(fire))
    seen = np.zeros(len(fire), dtype=np.int64)
    seq = 0
    days = int(np.ceil(hours / 24.0))
    passes = sorted((d * 24.0 + h, sat, ins) for d in range(days) for h, sat, ins in OVERPASSES_H)
    for t_h, sat, ins in passes:
        t = t_h * 3600.0
        if t > hours * 3600.0:
            break
        hits = np.flatnonzero(burns & (fire.t_impact <= t) & (burn_end > t))
        hits = hits[rng.uniform(size=hits.size) < 0.8]  # clouds
        n_bg = rng.poisson(background_per_pass)
        bx = rng.uniform(-w.sc.half_length_m, w.sc.half_length_m, n_bg)
        by = w.sc.line_at(bx) + rng.uniform(-60_000.0, 60_000.0, n_bg)
        xs = np.concatenate([fire.ix[hits], bx]) + rng.uniform(-187.5, 187.5, hits.size + n_bg)
        ys = np.concatenate([fire.iy[hits], by]) + rng.uniform(-187.5, 187.5, hits.size + n_bg)
        lon, lat = w.lonlat(xs, ys)
        t_us = int(w.time_us(t))
        seen[hits] += 1
        for k in range(xs.size):
            seq += 1
            w.add(
                t_us,
                {
                    "id": f"{sat}-{seq:06d}",
                    "type": "thermal",
                    "source": "firms-sim",
                    "time": t_us,
                    "position": [float(lon[k]), float(lat[k])],
                    "frp_mw": float(np.round(rng.uniform(1.0, 40.0), 2)),
                    "confidence": str(rng.choice(["n", "h"])),
                    "satellite": sat,
                    "instrument": ins,
                    "scan_km": 0.39,
                    "track_km": 0.36,
                },
            )
    return seen


def uav(
    rng: np.random.Generator, w: ObservationWriter, pres: PresenceEvents, max_sightings: int = 3
) -> NDArray[np.int64]:
    """One to ``max_sightings`` UAV sightings of each piece of equipment while it stands
    there."""
    seq = 0
    sightings = np.zeros(len(pres), dtype=np.int64)
    crossing = set(np.flatnonzero(["C6" in v for v in pres.violations]).tolist())
    for i in range(len(pres)):
        k = int(rng.integers(1, max_sightings + 1))
        sightings[i] = k
        ts = np.sort(rng.uniform(pres.t_start[i], pres.t_end[i], k))
        for t in ts:
            seq += 1
            sigma = float(rng.choice([15.0, 25.0, 40.0]))
            x = pres.x[i] + rng.normal(0, sigma)
            y = pres.y[i] + rng.normal(0, sigma)
            lon, lat = w.lonlat(np.array([x]), np.array([y]))
            t_us = int(w.time_us(t))
            rec: dict[str, Any] = {
                "id": f"uav-{seq:06d}",
                "type": "uav",
                "source": "uav-ops",
                "time": t_us,
                "position": [float(lon[0]), float(lat[0])],
                "position_sigma_m": sigma,
                "object": str(pres.weapon[i]),
                "count": int(pres.count[i]),
                "image_sha256": f"{rng.integers(0, 2**63):016x}" * 4,
            }
            if i in crossing or rng.uniform() < 0.3:
                rec["side"] = w.sc.parties[int(pres.side[i])]
            w.add(t_us, rec)
    return sightings


def launchers(
    frng: np.random.Generator, w: ObservationWriter, fire: FireEvents, share: float
) -> int:
    """A UAV sees the launcher of a share of the firing events at its firing position, within
    twenty minutes of the firing (counter-battery reconnaissance): the independent knowledge
    of a weapon class that calibration learns from."""
    seen = np.flatnonzero(
        (frng.uniform(size=len(fire)) < share) & ~np.isin(fire.weapon, ["small_arms", "drone"])
    )
    for k, i in enumerate(seen):
        sigma = float(frng.choice([10.0, 20.0, 30.0]))
        lon, lat = w.lonlat(
            np.array([fire.ox[i] + frng.normal(0, sigma)]),
            np.array([fire.oy[i] + frng.normal(0, sigma)]),
        )
        t_us = int(w.time_us(fire.t_launch[i] + frng.uniform(-1200.0, 1200.0)))
        rec: dict[str, Any] = {
            "id": f"uav-l{k + 1:06d}",
            "type": "uav",
            "source": "uav-ops",
            "time": t_us,
            "position": [float(lon[0]), float(lat[0])],
            "position_sigma_m": sigma,
            "object": str(fire.weapon[i]),
            "count": 1,
            "note": "launcher at a firing position",
        }
        if frng.uniform() < 0.3:
            rec["side"] = w.sc.parties[int(fire.side[i])]
        w.add(t_us, rec)
    return int(seen.size)


def allegations(
    rng: np.random.Generator,
    w: ObservationWriter,
    fire: FireEvents,
    hours: float,
    rate: float = 1.0,
) -> int:
    """Each party alleges shelling of its side: mostly true (a real impact), some false; a mean
    of ``6 * rate`` true and ``2.5 * rate`` false allegations per party and day."""
    parties = w.sc.parties
    n_made = 0
    for filer in (0, 1):
        other = 1 - filer
        filer_holds = (w.sc.line_at(fire.ix) < fire.iy) == (filer == 0)
        real = np.flatnonzero((fire.side == other) & filer_holds & (fire.weapon != "small_arms"))
        n_true = min(real.size, rng.poisson(6 * rate * hours / 24.0))
        picks = rng.choice(real, n_true, replace=False) if n_true else np.array([], dtype=int)
        n_false = rng.poisson(2.5 * rate * hours / 24.0)
        fx = rng.uniform(-w.sc.half_length_m + 20_000, w.sc.half_length_m - 20_000, n_false)
        fy = w.sc.line_at(fx) + (1 if filer == 0 else -1) * rng.uniform(1_000, 10_000, n_false)
        ft = rng.uniform(0, hours * 3600.0, n_false)
        xs = np.concatenate([fire.ix[picks] + rng.normal(0, 800.0, picks.size), fx])
        ys = np.concatenate([fire.iy[picks] + rng.normal(0, 800.0, picks.size), fy])
        ts = np.concatenate([fire.t_impact[picks], ft])
        lon, lat = w.lonlat(xs, ys)
        for k in range(xs.size):
            n_made += 1
            start = int(w.time_us(ts[k]) // 600_000_000 * 600_000_000)
            w.add(
                start,
                {
                    "id": f"{parties[filer]}-{n_made:05d}",
                    "type": "allegation",
                    "source": f"party-{parties[filer]}",
                    "time": start,
                    "time_end": start + 1_800_000_000,
                    "party": parties[filer],
                    "accused": parties[other],
                    "position": [float(lon[k]), float(lat[k])],
                    "radius_km": float(rng.choice([2.0, 3.0, 5.0])),
                    "event": "explosion",
                    "description": "Shelling of positions and settlements reported by local units.",
                },
            )
    return n_made
