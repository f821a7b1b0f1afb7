"""What could have gone undetected: the probability that a firing would have been located
and counted, and the bound it puts on what was missed.

"No violations in sector 12" is worth only as much as sector 12's chance of seeing one.
For a firing of a class at a point and an hour, this module computes, from the analysis'
own model of the classes (:mod:`truceline.weapons`: how loud each is, how much one firing
differs from another) and the sensors that were working:

1. **Hearing.** A sensor at distance ``d`` hears a sound of source level ``L`` (dB, by the
   class table: ``L = 20 log10(audible_m) + 12``, so that half the sensors hear it at its
   ``audible_m``) with probability Φ((L − 20 log10 d − 12) / σ_s): spreading loss, the
   sensors' 12 dB detection threshold, and σ_s (``SENSOR_SD_DB``) for the ground, the
   wind and the noise at each sensor.
2. **Locating and counting.** A firing is counted when at least ``k`` working sensors hear
   one of its points, ``k`` being the fewest sensors for which the run's confidence model
   puts an incident heard by the acoustic network alone at 0.5 or more
   (:func:`counting_threshold`). The chance of ``k`` or more of the nearby sensors is a
   sum over them (Poisson-binomial), averaged over the firing's own loudness (σ
   ``level_sd_db``, Gauss-Hermite).
3. **The bound.** If each firing of a sector-day is counted with probability ``p`` (the
   mean over the sector's band and the hours), ``k`` counted out of ``N`` is binomial, and
   the 95 % upper bound on the firings missed is the largest ``N − k`` for which seeing ``k``
   or fewer still has a 5 % chance (:func:`undetected_bound`). With none counted it is
   ``⌊ln 0.05 / ln(1 − p)⌋``: with ``p = 0.9``, at most 1; with ``p = 0.5``, at most 4.

The bound is conservative where it can be: a firing counts as seen only when one of its
points alone reaches ``k`` sensors (two points heard together count sooner), and each
sector-day uses the least audible of the classes it covers. A class the network cannot
count anywhere (small arms, drones: their launches are nearly silent) is named as not
covered, never bounded.

>>> round(float(hear_probability(np.array([10_000.0]), 92.0)[0]), 2)  # at its audible range
0.5
>>> undetected_bound(0.9, 0), undetected_bound(0.5, 0), undetected_bound(0.0, 0)
(1, 4, None)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from scipy.special import ndtr
from scipy.stats import binom

__all__ = [
    "SENSOR_SD_DB",
    "ClassDetectability",
    "CountingRule",
    "bounds_by_sector",
    "count_distribution",
    "counted_probability",
    "counting_threshold",
    "hear_probability",
    "heard_counts",
    "located_probability",
    "p_at_least",
    "sector_detectability",
    "undetected_bound",
]

FloatArray = NDArray[np.float64]

#: the sensors' detection threshold (dB of SNR) and the spread of what each sensor receives
#: of one sound about the spreading-loss law (ground, wind, local noise)
SNR_MIN_DB = 12.0
SENSOR_SD_DB = 4.0
#: a class counts as covered in a sector when a firing there is counted at least this often
COVERED_P = 0.05
GH_NODES = 5
NEAREST = 32
#: a typical located point's radial σ (m), for the confidence model's ``spread``
SIGMA_M = 20.0
_X, _W = np.polynomial.hermite_e.hermegauss(GH_NODES)  # standard normal nodes and weights
_W = _W / _W.sum()


def hear_probability(
    d_m: FloatArray, level_db: float | FloatArray, sensor_sd_db: float = SENSOR_SD_DB
) -> FloatArray:
    """P(a sensor ``d_m`` metres away hears a sound of source level ``level_db``)."""
    snr = np.asarray(level_db) - 20.0 * np.log10(np.maximum(d_m, 1.0)) - SNR_MIN_DB
    return np.asarray(ndtr(snr / sensor_sd_db), float)


def count_distribution(p: FloatArray, cap: int) -> FloatArray:
    """P(exactly j of independent events with probabilities ``p`` (..., M) happen) for
    j < ``cap``, and P(``cap`` or more) last: (..., cap + 1), by the exact recursion over
    the M events (the Poisson-binomial distribution, its tail folded).

    >>> count_distribution(np.array([0.5, 0.5, 0.5]), 2).round(3).tolist()
    [0.125, 0.375, 0.5]
    """
    p = np.asarray(p, float)
    dist = np.zeros((*p.shape[:-1], cap + 1))
    dist[..., 0] = 1.0
    for m in range(p.shape[-1]):
        q = p[..., m : m + 1]
        moved = dist * q
        dist = dist * (1.0 - q)
        dist[..., 1:] += moved[..., :-1]
        dist[..., cap] += moved[..., cap]  # the tail stays in the tail
    return dist


def p_at_least(p: FloatArray, k: int) -> FloatArray:
    """P(at least ``k`` of independent events with probabilities ``p`` (..., M) happen).

    >>> float(p_at_least(np.array([0.5, 0.5, 0.5]), 2))
    0.5
    """
    if k <= 0:
        return np.ones(np.shape(p)[:-1])
    return np.asarray(np.clip(count_distribution(p, k)[..., k], 0.0, 1.0), float)


def heard_counts(
    points: FloatArray,
    sensors: FloatArray,
    level_db: float,
    level_sd_db: float,
    cap: int,
    sensor_sd_db: float = SENSOR_SD_DB,
) -> FloatArray:
    """The distribution (P, ``cap`` + 1) of how many of the working ``sensors`` (S, 2) hear a
    sound at each of ``points`` (P, 2, metres), averaged over its loudness (class mean
    ``level_db``, σ ``level_sd_db``); the last column is ``cap`` or more."""
    n = len(points)
    out = np.zeros((n, cap + 1))
    out[:, 0] = 1.0
    if n == 0 or len(sensors) == 0:
        return out
    # the nearest ``NEAREST`` sensors only (the farther ones add little, and leaving them
    # out can only make the chance smaller: the bound stays on the safe side), and none
    # beyond where a sound three σ louder than its class is heard one time in a hundred
    loud = level_db + 3.0 * level_sd_db + 2.33 * sensor_sd_db
    reach = 10.0 ** ((loud - SNR_MIN_DB) / 20.0)
    m = min(NEAREST, len(sensors))
    d, _ = cKDTree(sensors).query(points, k=m, distance_upper_bound=reach)
    d = np.asarray(d, float).reshape(n, m)
    finite = np.isfinite(d)
    if not finite.any():
        return out
    out[:] = 0.0
    safe = np.where(finite, d, 1.0)
    for x, w in zip(_X, _W, strict=True):
        p = np.where(finite, hear_probability(safe, level_db + x * level_sd_db, sensor_sd_db), 0)
        out += w * count_distribution(p, cap)
    return out


def located_probability(
    points: FloatArray,
    sensors: FloatArray,
    level_db: float,
    level_sd_db: float,
    k: int,
    sensor_sd_db: float = SENSOR_SD_DB,
) -> FloatArray:
    """P(at least ``k`` of the working ``sensors`` hear a sound at each of ``points``)."""
    got = heard_counts(points, sensors, level_db, level_sd_db, k, sensor_sd_db)
    return np.asarray(got[:, k], float)


def counted_probability(launch: FloatArray, impact: FloatArray, rule: CountingRule) -> FloatArray:
    """P(a firing is counted) from the distributions (P, cap + 1) of how many sensors hear
    its launch and its impact (independent: two sounds, each of its own loudness): one point
    heard by ``rule.alone`` sensors, or both located (four each) by ``rule.together`` in all.

    >>> rule = CountingRule(alone=2, together=3)
    >>> half = np.array([[0.25, 0.5, 0.25]])  # 0, 1, 2+ sensors
    >>> round(float(counted_probability(half, half, rule)[0]), 4)
    0.4375
    """
    cap = launch.shape[1] - 1
    j = np.arange(cap + 1)
    ok = (j[:, None] >= rule.alone) | (j[None, :] >= rule.alone)
    ok |= (j[:, None] >= 4) & (j[None, :] >= 4) & (j[:, None] + j[None, :] >= rule.together)
    return np.asarray(np.einsum("pi,pj,ij->p", launch, impact, ok.astype(float)), float)


def undetected_bound(p: float, detected: int, confidence: float = 0.95) -> int | None:
    """The ``confidence`` upper bound on the firings missed when ``detected`` were counted
    and each is counted with probability ``p``: the largest ``N - detected`` for which
    P(at most ``detected`` of ``N``) is still ``1 - confidence`` or more. None when ``p``
    is too small for any bound (below ``COVERED_P``).

    >>> undetected_bound(0.8, 10)
    6
    """
    if not p >= COVERED_P:
        return None
    if p >= 1.0:
        return 0
    alpha = 1.0 - confidence
    if detected == 0:  # P(none of N) = (1 - p)^N
        return math.floor(math.log(alpha) / math.log1p(-p) + 1e-9)
    n = detected
    while binom.cdf(detected, n + 1, p) >= alpha:
        n += 1
    return n - detected


@dataclass(frozen=True)
class CountingRule:
    """How many sensors must hear a firing for it to be counted: ``alone`` at one point, or
    ``together`` over both points when each is located (heard by four)."""

    alone: int
    together: int


def counting_threshold(model: Any, sigma_m: float = SIGMA_M, most: int = 40) -> CountingRule:
    """The fewest sensors for which ``model`` (a :class:`truceline.confidence.ConfidenceModel`)
    puts a firing heard by the acoustic network alone, located to ``sigma_m``, at 0.5 or
    more: at one of its points, and over both (a launch and an impact joined are a stronger
    case, the model's ``both_points``).

    >>> from truceline.confidence import default_model
    >>> counting_threshold(default_model())
    CountingRule(alone=8, together=8)
    """
    from .confidence import family
    from .fusion.acoustic import acoustic_strength

    def first(both: float) -> int:
        for n in range(4, most + 1):
            s = min(max(acoustic_strength(n), 1e-9), 1.0 - 1e-9)
            x = {
                "family": family("fire", heard=True),
                "score": math.log(s / (1.0 - s)),
                "acoustic": math.log1p(n),
                "both_points": both,
                "spread": math.log(sigma_m),
            }
            if model.probability(x) >= 0.5:
                return n
        return most

    return CountingRule(first(0.0), max(first(1.0), 8))


@dataclass(frozen=True)
class ClassDetectability:
    """Per sector: the probability that a firing of each class would have been counted
    (mean over where it can stand in the band and over the hours), and the least of them
    over the covered classes (what the bound uses)."""

    classes: list[str]
    p: FloatArray  # (sectors, classes)
    rule: CountingRule
    hours: int

    def least(self) -> FloatArray:
        """Per sector, the smallest p over the classes covered somewhere on the line."""
        covered = self.covered()
        if not covered:
            return np.zeros(self.p.shape[0])
        idx = [self.classes.index(c) for c in covered]
        return np.asarray(self.p[:, idx].min(axis=1), float)

    def covered(self) -> list[str]:
        """The classes counted at least ``COVERED_P`` of the time in some sector."""
        return [c for j, c in enumerate(self.classes) if (self.p[:, j] >= COVERED_P).any()]


def sector_detectability(
    xy: FloatArray,
    up: NDArray[np.bool_],
    line: shapely.LineString,
    classes: Iterable[Any],
    rule: CountingRule,
    sector_km: float = 25.0,
    band_km: float = 10.0,
    grid_km: float = 2.5,
    hours: Iterable[int] | None = None,
) -> ClassDetectability:
    """For every sector of ``line`` and every class (:class:`truceline.weapons.ClassModel`),
    the mean over ``hours`` (default: all of ``up``'s) and over the points of the band a
    firing of the class can stand at (within its longest range of the line: a mortar fires
    from near it, a rocket launcher from anywhere in the band) of the probability that it
    would be counted (:func:`counted_probability`, its launch and impact each heard by the
    sensors working in that hour; both taken at the point, as a firing's two points are
    both near the line at that depth)."""
    from .coverage import band_grid, n_sectors_of

    classes = list(classes)
    grid, sector = band_grid(line, sector_km, band_km, grid_km)
    depth = np.asarray(shapely.distance(line, shapely.points(grid[:, 0], grid[:, 1])), float)
    n_sectors = n_sectors_of(line, sector_km)
    hs = list(range(up.shape[1])) if hours is None else list(hours)
    cap = max(rule.alone, rule.together)
    p = np.zeros((n_sectors, len(classes)))
    memo: dict[bytes, FloatArray] = {}
    for h in hs:
        key = np.packbits(up[:, h]).tobytes()
        if key not in memo:
            live = xy[up[:, h]]
            per = np.zeros((n_sectors, len(classes)))
            for j, c in enumerate(classes):
                here = depth <= max(float(c.max_range_m), grid_km * 1000.0)
                pts, sec = grid[here], sector[here]
                launch = heard_counts(pts, live, float(c.launch_level_db), c.level_sd_db, cap)
                if c.launch_heard < 1.0:  # a launch that is seldom heard at all
                    launch = launch * c.launch_heard
                    launch[:, 0] += 1.0 - c.launch_heard
                impact = heard_counts(pts, live, float(c.impact_level_db), c.level_sd_db, cap)
                at = counted_probability(launch, impact, rule)
                n = np.maximum(np.bincount(sec, minlength=n_sectors), 1)
                per[:, j] = np.bincount(sec, weights=at, minlength=n_sectors) / n
            memo[key] = per
        p += memo[key]
    p /= max(len(hs), 1)
    return ClassDetectability([c.name for c in classes], p, rule, len(hs))


def bounds_by_sector(
    det: ClassDetectability, detected: Mapping[int, int], confidence: float = 0.95
) -> list[dict[str, Any]]:
    """Per sector: the firings counted, the probability the least audible covered class
    would have been, and the bound on the firings missed (None: no bound)."""
    least = det.least()
    out = []
    for k in range(det.p.shape[0]):
        n = int(detected.get(k, 0))
        p = float(least[k])
        out.append(
            {
                "sector": k,
                "counted": n,
                "p_counted_least": round(p, 4),
                "undetected_at_most": undetected_bound(p, n, confidence),
                "p_counted": {c: round(float(det.p[k, j]), 4) for j, c in enumerate(det.classes)},
            }
        )
    return out
