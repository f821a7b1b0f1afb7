"""What flies over the simulated line: the flights of drone strikes, reconnaissance drones,
long-range one-way drones and aircraft (a world with ``drones:``, e.g. ``field``).

The simulator's own physics of each type; the analysis classes tracks with its own, written
from public descriptions, and never reads these (:mod:`truceline.tracking.air_types`).

- **Strikes** (the firing events' drone strikes) fly from launch to impact over the whole
  time of flight the events gave them, along a path bent to one side (a waypoint off the
  straight line by up to a sixth of its length). A strike shorter than the first of
  ``fpv_range_m`` is an *FPV drone*, longer than the second a *loitering munition*, and in
  between either (the share of FPV falling linearly): an FPV flies straight at the speed
  the time of flight needs, low (``fpv_alt_m``), nine in ten on electric motors; a loitering
  munition cruises at ``loitering_speed_ms`` and circles over the target (300-800 m) until
  it dives, higher (``loitering_alt_m``), electric. Both dive over the last 30 s.
- **Reconnaissance drones** (``recon_per_hour``) take off 5-20 km behind the line, fly to
  a point up to 8 km beyond it (or, one in three, stay short of it), circle there for
  5-20 minutes and fly home; four in ten electric, the rest on small petrol engines.
- **One-way drones** (``one_way_per_hour``): a long-range petrol-engined drone, flying
  pre-programmed (no radio link) nearly straight from 45-70 km behind the line to as far
  beyond it, through a waypoint up to 15 km to one side, at ``one_way_speed_ms``; its
  strike falls outside the monitored area.
- **Aircraft** (``aircraft_per_hour``): fly a leg 15-35 km behind their side's line,
  along it for 40-120 km and back (one in five over the line and back), at
  ``aircraft_speed_ms``, with no engine tone a microphone array can name.

Engine tones: electric 250-400 Hz, petrol 80-160 Hz; radio links in one of three bands for
``link_share`` of the drones that have one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .events import FireEvents
from .world import Drones

__all__ = ["BANDS", "Flight", "draw_flights"]

FloatArray = NDArray[np.float64]
BANDS = (900.0, 2400.0, 5800.0)
ELECTRIC = {"fpv": 0.9, "loitering_munition": 1.0, "reconnaissance_drone": 0.4}


@dataclass
class Flight:
    """One flight: constant speed along ``path`` (metres, scenario frame).

    ``kind`` is what it did (``strike``, ``recon``, ``transit``: a one-way drone passing
    through, ``patrol``: an aircraft); ``type`` what it was (``fpv``,
    ``loitering_munition``, ``one_way_drone``, ``reconnaissance_drone``, ``aircraft``)."""

    id: str
    kind: str
    side: int
    t0: float
    t1: float
    path: FloatArray  # (N, 2) polyline
    speed: float
    alt: float
    band: float | None  # radio link band (MHz), None: no link
    f0: float | None  # engine tone (Hz), None: none a microphone array can name
    event: int | None = None  # the firing event of a strike
    type: str = "fpv"

    def at(self, t: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """x, y, altitude at times ``t`` (clipped to the flight)."""
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(self.path, axis=0).T))])
        s = np.clip((np.asarray(t, float) - self.t0) * self.speed, 0.0, cum[-1])
        x = np.interp(s, cum, self.path[:, 0])
        y = np.interp(s, cum, self.path[:, 1])
        left = self.t1 - np.asarray(t, float)
        alt = self.alt * np.clip(left / 30.0, 0.0, 1.0) if self.kind == "strike" else self.alt
        return x, y, np.broadcast_to(alt, x.shape).astype(float)


def _circle(cx: float, cy: float, r: float, length: float, phase: float) -> FloatArray:
    turns = max(length / (2 * np.pi * r), 0.0)
    a = phase + np.linspace(0.0, 2 * np.pi * turns, max(int(turns * 36), 2))
    return np.column_stack([cx + r * np.cos(a), cy + r * np.sin(a)])


def _length(p: FloatArray) -> float:
    return float(np.hypot(*np.diff(p, axis=0).T).sum())


def _tone(rng: np.random.Generator, kind: str) -> float:
    electric = rng.random() < ELECTRIC.get(kind, 0.0)
    return float(rng.uniform(250, 400) if electric else rng.uniform(80, 160))


def _link(rng: np.random.Generator, dr: Drones) -> float | None:
    return float(rng.choice(BANDS)) if rng.random() < dr.link_share else None


def _side(rng: np.random.Generator) -> tuple[int, float]:
    """A party drawn at random, and the sign of its side (the north party stands at +y)."""
    side = int(rng.integers(2))
    return side, 1.0 if side == 0 else -1.0


def _leg(
    rng: np.random.Generator,
    hours: float,
    kind: str,
    type_: str,
    side: int,
    path: FloatArray,
    speed: float,
) -> dict[str, Any]:
    """A flight along ``path`` at ``speed``, taking off at a time drawn in the day."""
    t0 = float(rng.uniform(0, hours * 3600.0))
    return {
        "kind": kind,
        "type": type_,
        "side": side,
        "t0": t0,
        "t1": t0 + _length(path) / speed,
        "path": path,
        "speed": speed,
    }


def _strike(rng: np.random.Generator, fire: FireEvents, i: int, dr: Drones) -> dict[str, Any]:
    a = np.array([fire.ox[i], fire.oy[i]])
    b = np.array([fire.ix[i], fire.iy[i]])
    d = float(np.hypot(*(b - a)))
    lo, hi = dr.fpv_range_m
    fpv = rng.random() < float(np.clip((hi - d) / max(hi - lo, 1.0), 0.0, 1.0))
    kind = "fpv" if fpv else "loitering_munition"
    normal = np.array([-(b - a)[1], (b - a)[0]]) / max(d, 1.0)
    mid = (a + b) / 2 + normal * rng.uniform(-d / 6, d / 6)
    path = np.vstack([a, mid, b])
    tof = max(float(fire.t_impact[i] - fire.t_launch[i]), 1.0)
    spare = float(rng.uniform(*dr.loitering_speed_ms)) * tof - _length(path)
    if not fpv and spare > 0:  # it loiters over the target, then strikes
        r = float(rng.uniform(300.0, 800.0))
        ring = _circle(b[0] - r, b[1], r, spare - 2 * r, 0.0)
        path = np.vstack([path, ring, b])
    alt = dr.fpv_alt_m if fpv else dr.loitering_alt_m
    return {
        "kind": "strike",
        "type": kind,
        "side": int(fire.side[i]),
        "t0": float(fire.t_launch[i]),
        "t1": float(fire.t_impact[i]),
        "path": path,
        "speed": _length(path) / tof,
        "alt": float(rng.uniform(*alt)),
        "band": _link(rng, dr),
        "f0": _tone(rng, kind),
        "event": int(i),
    }


def _recon(rng: np.random.Generator, sc: Any, hours: float, dr: Drones) -> dict[str, Any]:
    side, sign = _side(rng)
    x0 = float(rng.uniform(-0.9, 0.9) * sc.half_length_m)
    home = np.array([x0, float(sc.line_at(x0)) + sign * rng.uniform(5_000, 20_000)])
    x1 = x0 + float(rng.normal(0, 4_000))
    beyond = rng.uniform(0.5, 8_000) if rng.random() < 2 / 3 else -rng.uniform(1_000, 4_000)
    target = np.array([x1, float(sc.line_at(x1)) - sign * beyond])
    speed = float(rng.uniform(*dr.recon_speed_ms))
    r = float(rng.uniform(300.0, 800.0))
    ring = _circle(target[0] - r, target[1], r, speed * rng.uniform(300, 1200), 0.0)
    path = np.vstack([home, target, ring, target, home])
    return _leg(rng, hours, "recon", "reconnaissance_drone", side, path, speed) | {
        "alt": float(rng.uniform(*dr.recon_alt_m)),
        "band": _link(rng, dr),
        "f0": _tone(rng, "reconnaissance_drone"),
    }


def _one_way(rng: np.random.Generator, sc: Any, hours: float, dr: Drones) -> dict[str, Any]:
    side, sign = _side(rng)
    x0 = float(rng.uniform(-0.8, 0.8) * sc.half_length_m)
    x1 = float(np.clip(x0 + rng.normal(0, 20_000), -sc.half_length_m, sc.half_length_m))
    xm = (x0 + x1) / 2 + float(rng.uniform(-15_000, 15_000))
    start = [x0, float(sc.line_at(x0)) + sign * rng.uniform(45_000, 70_000)]
    end = [x1, float(sc.line_at(x1)) - sign * rng.uniform(45_000, 70_000)]
    path = np.array([start, [xm, float(sc.line_at(xm))], end])
    speed = float(rng.uniform(*dr.one_way_speed_ms))
    return _leg(rng, hours, "transit", "one_way_drone", side, path, speed) | {
        "alt": float(rng.uniform(*dr.one_way_alt_m)),
        "band": None,
        "f0": _tone(rng, "one_way_drone"),
    }


def _aircraft(rng: np.random.Generator, sc: Any, hours: float, dr: Drones) -> dict[str, Any]:
    side, sign = _side(rng)
    x0 = float(rng.uniform(-0.7, 0.7) * sc.half_length_m)
    x1 = x0 + float(rng.choice([-1.0, 1.0]) * rng.uniform(40_000, 120_000))
    back = float(rng.uniform(15_000, 35_000))
    depth = -float(rng.uniform(2_000, 10_000)) if rng.random() < 0.2 else back
    a = [x0, float(sc.line_at(x0)) + sign * back]
    b = [x1, float(sc.line_at(x1)) + sign * depth]
    path = np.array([a, b, a])
    speed = float(rng.uniform(*dr.aircraft_speed_ms))
    return _leg(rng, hours, "patrol", "aircraft", side, path, speed) | {
        "alt": float(rng.uniform(*dr.aircraft_alt_m)),
        "band": None,
        "f0": None,
    }


def draw_flights(
    rng: np.random.Generator, sc: Any, fire: FireEvents, hours: float, dr: Drones, seed: int
) -> list[Flight]:
    """The flights of the drone strikes, then of the reconnaissance drones, the one-way
    drones and the aircraft."""
    drawn = [_strike(rng, fire, int(i), dr) for i in np.flatnonzero(fire.weapon == "drone")]
    for rate, draw in (
        (dr.recon_per_hour, _recon),
        (dr.one_way_per_hour, _one_way),
        (dr.aircraft_per_hour, _aircraft),
    ):
        drawn += [draw(rng, sc, hours, dr) for _ in range(rng.poisson(rate * hours))]
    return [Flight(id=f"D{seed}-{k + 1:05d}", **v) for k, v in enumerate(drawn)]
