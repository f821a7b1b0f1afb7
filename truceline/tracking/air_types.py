"""What a tracked air object was: an FPV drone, a loitering munition, a long-range one-way
drone, a reconnaissance drone or an aircraft, as probabilities.

By Bayes' rule over the five types, from what the track shows (each feature is left out
where the track does not show it):

- **speed**: the median ground speed (wind moves it by several m/s, so each type's spread
  is wide); the likelihood is each type's normal density mixed with 5 % of a flat density
  up to 300 m/s, so one odd measurement cannot make a certainty;
- **altitude**: the median of the radar plots' altitudes, the same way (up to 12 km);
- **engine**: an engine tone above ``electric_hz`` is an electric motor's, below a
  combustion engine's (from the microphone arrays' ``f0_hz``);
- **circling**: the track turned through a full circle or more (the spread of its
  cumulative heading change: a loiter over a target or a point watched accumulates it, a
  path flown out and back or with noise does not);
- **deep**: it was first seen more than ``deep_m`` behind its own side's line (a drone
  launched far behind, or an aircraft);
- **struck**: a strike was joined with its end (:mod:`.flights`).

The types' figures are the analysis' own, written from public descriptions of such
weapons (FPV drones: low, tens of m/s, electric, 10-20 km; loitering munitions such as the
Lancet: cruising at 80-110 km/h, circling; one-way drones such as the Shahed/Geran: about
180 km/h at 1-3 km, a petrol engine, launched hundreds of km away; reconnaissance drones
such as the Orlan-10: 90-150 km/h, circling for hours, returning; aircraft: faster than
60 m/s), not the simulator's tables; ``benchmarks/drones.py`` measures how reliable the
probabilities are on a world that draws its own.

>>> p = classify(TypeEvidence(speed_ms=48.0, alt_m=1900.0, f0_hz=110.0, turns=0.1,
...     behind_m=38_000.0, struck=False))
>>> max(p, key=p.get), p["one_way_drone"] > 0.9
('one_way_drone', True)
>>> p = classify(TypeEvidence(speed_ms=27.0, turns=2.5, behind_m=9_000.0, struck=False))
>>> max(p, key=p.get)
'reconnaissance_drone'
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from ..vocabulary import AIR_TYPES

__all__ = ["AIR_TYPES", "AirType", "AirTypeParams", "TypeEvidence", "classify", "turns_of"]


@dataclass(frozen=True)
class AirType:
    """One type's prior and what it is like: speed and altitude (mean, spread), and the
    probabilities of an electric motor (given a tone is heard), of circling, of being
    first seen deep behind the line, and of a strike at the end of its track."""

    prior: float
    speed_ms: tuple[float, float]
    alt_m: tuple[float, float]
    electric: float
    circles: float
    deep: float
    strikes: float


def _types() -> dict[str, AirType]:
    return {
        "fpv": AirType(0.30, (25.0, 10.0), (100.0, 150.0), 0.9, 0.10, 0.02, 0.6),
        "loitering_munition": AirType(0.15, (30.0, 9.0), (1200.0, 700.0), 0.85, 0.5, 0.05, 0.6),
        "one_way_drone": AirType(0.15, (48.0, 10.0), (1800.0, 1200.0), 0.05, 0.03, 0.7, 0.15),
        "reconnaissance_drone": AirType(0.30, (27.0, 9.0), (1300.0, 900.0), 0.35, 0.7, 0.15, 0.02),
        "aircraft": AirType(0.10, (160.0, 70.0), (3500.0, 3000.0), 0.02, 0.2, 0.4, 0.05),
    }


@dataclass(frozen=True)
class AirTypeParams:
    types: dict[str, AirType] = field(default_factory=_types)
    electric_hz: float = 200.0
    deep_m: float = 25_000.0
    #: share of a flat density in each continuous likelihood (outliers)
    outlier: float = 0.05
    max_speed_ms: float = 300.0
    max_alt_m: float = 12_000.0


@dataclass(frozen=True)
class TypeEvidence:
    """What a track shows of its object (None: not shown)."""

    speed_ms: float
    alt_m: float | None = None
    f0_hz: float | None = None
    turns: float | None = None
    behind_m: float | None = None
    struck: bool | None = None


def _density(x: float, mean_sd: tuple[float, float], top: float, outlier: float) -> float:
    m, s = mean_sd
    normal = math.exp(-0.5 * ((x - m) / s) ** 2) / (s * math.sqrt(2 * math.pi))
    return (1.0 - outlier) * normal + outlier / top


def _binary(p: float, yes: bool) -> float:
    return p if yes else 1.0 - p


def classify(ev: TypeEvidence, params: AirTypeParams | None = None) -> dict[str, float]:
    """P(type | evidence) for each of :data:`AIR_TYPES` (rounded to 4 places)."""
    prm = params or AirTypeParams()
    post: dict[str, float] = {}
    for name, t in prm.types.items():
        p = t.prior * _density(ev.speed_ms, t.speed_ms, prm.max_speed_ms, prm.outlier)
        if ev.alt_m is not None:
            p *= _density(ev.alt_m, t.alt_m, prm.max_alt_m, prm.outlier)
        if ev.f0_hz is not None:
            p *= _binary(t.electric, ev.f0_hz > prm.electric_hz)
        if ev.turns is not None:
            p *= _binary(t.circles, ev.turns >= 1.0)
        if ev.behind_m is not None:
            p *= _binary(t.deep, ev.behind_m > prm.deep_m)
        if ev.struck is not None:
            p *= _binary(t.strikes, ev.struck)
        post[name] = p
    total = sum(post.values())
    if not total > 0 or not math.isfinite(total):
        return {name: round(t.prior, 4) for name, t in prm.types.items()}
    return {name: round(p / total, 4) for name, p in post.items()}


def turns_of(xy: ArrayLike, step_m: float = 200.0) -> float:
    """How many full circles a path turned through: the spread (max - min) of its
    cumulative signed heading change over points at least ``step_m`` apart, in turns.

    >>> a = np.linspace(0, 4 * np.pi, 200)
    >>> round(turns_of(np.column_stack([500 * np.cos(a), 500 * np.sin(a)])))
    2
    >>> round(turns_of(np.array([[0.0, 0.0], [5000.0, 0.0], [0.0, 10.0]])), 1)
    0.5
    """
    p = np.asarray(xy, float).reshape(-1, 2)
    if len(p) < 3:
        return 0.0
    keep = [0]
    for k in range(1, len(p)):
        if math.hypot(*(p[k] - p[keep[-1]])) >= step_m:
            keep.append(k)
    q = p[keep]
    if len(q) < 3:
        return 0.0
    heading = np.unwrap(np.arctan2(np.diff(q[:, 1]), np.diff(q[:, 0])))
    cum = heading - heading[0]
    return float((cum.max() - cum.min()) / (2 * math.pi))
