"""The sound of a flight's impact, heard by too few sensors to be located on its own.

A strike drone's warhead is heard like a small shell, and often by only three sensors. The
associator (:mod:`truceline.localize.association`) needs four to place an event by itself:
three arrival times fix the three unknowns (east, north, emission time) with nothing left
over to tell a real event from three unrelated picks. At a track's end the track supplies
what is missing: where and when to listen. Three picks of three sensors (of as many
sources) that agree on one emission, at a point the flight could have reached flying on, are
that flight's impact; the same three picks anywhere else mean nothing.

1. **Where to listen.** From ``before_s`` before the track's end to ``after_s`` after, within
   ``max(gate_m, 3σ_end)`` plus half the distance flown meanwhile of where the track, flying
   on at its last velocity, would then have been: the gate :func:`truceline.tracking.flights.
   join_strikes` uses for a located strike.
2. **Search.** On a ``grid_m`` grid over that corridor (coarser where it would exceed
   ``max_grid_points``), each unused pick of a sensor within
   ``range_m`` gives an emission time (its arrival less the travel time). Picks *agree* where
   their emission times differ by at most ``k_sigma`` standard deviations of the pick's
   timing, of the sound speed (``travel_error`` of the travel time: wind, temperature) and of
   the grid's spacing. The grid point where the most sensors agree (ties: the one nearest the
   prediction) wins if at least ``min_sensors`` do.
3. **Fit.** Gauss-Newton over (east, north, emission time), the picks' arrival times with
   their standard deviations and the track's prediction as a prior on position (one third of
   the gate: the gate is three of its sigmas). The covariance is the inverse of the
   information matrix: with three picks the prior carries part of it, as it should.
4. **Strength.** Found, the flight ended in a strike with the odds of its prior times
   ``likelihood_ratio`` (:class:`truceline.tracking.flights.FlightParams`).

>>> import numpy as np
>>> from truceline.localize.picks import Picks
>>> sx, sy = np.array([0.0, 4000.0, 0.0]), np.array([0.0, 0.0, 4000.0])
>>> d = np.hypot(sx - 1500.0, sy - 1000.0)  # an impact at (1500, 1000) at t = 100 s
>>> p = Picks(np.array(["a", "b", "c"], object), np.arange(3), sx, sy, np.zeros(3),
...           100.0 + d / 340.0, np.full(3, 0.01), np.full(3, 340.0), np.ones(3, np.int8), 0)
>>> fix = heard_impact(p, np.zeros(3, bool), 1200.0, 900.0, 95.0, 0.0, 0.0, 200.0,
...                    ImpactSearch())
>>> round(fix.x, -1), round(fix.y, -1), round(fix.t_s, 1), fix.sensors
(1500.0, 1000.0, 100.0, 3)
>>> heard_impact(p, np.zeros(3, bool), 1200.0, 900.0, 1000.0, 0.0, 0.0, 200.0,
...              ImpactSearch()) is None  # the same picks, long before the track ends
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..localize.picks import Picks

__all__ = ["ImpactFix", "ImpactSearch", "heard_impact"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class ImpactSearch:
    """Where and how an impact is listened for at a track's end (see the module)."""

    before_s: float = 60.0
    after_s: float = 180.0
    gate_m: float = 1_500.0
    range_m: float = 12_000.0  # how far a sensor hears a drone's warhead
    grid_m: float = 100.0
    k_sigma: float = 3.0
    travel_error: float = 0.02  # of the travel time: the sound speed's error (wind, temperature)
    min_sensors: int = 3
    iterations: int = 10
    #: the grid is made coarser where the corridor would need more points than this (a
    #: fast flight's long corridor), so that memory and time stay bounded
    max_grid_points: int = 40_000


@dataclass(frozen=True)
class ImpactFix:
    """An impact found at a track's end: position (local metres), emission time (seconds in
    the picks' frame), position covariance (m²), the picks it rests on and how many distinct
    sensors (of as many sources) heard it."""

    x: float
    y: float
    t_s: float
    cov: FloatArray
    picks: IntArray
    sensors: int


def heard_impact(
    p: Picks,
    used: NDArray[np.bool_],
    end_x: float,
    end_y: float,
    end_t_s: float,
    vx: float,
    vy: float,
    sigma_end_m: float,
    prm: ImpactSearch,
) -> ImpactFix | None:
    """The impact at the end of a track that ended at (``end_x``, ``end_y``) at ``end_t_s``
    (the picks' time frame) flying at (``vx``, ``vy``) m/s with radial 1-sigma
    ``sigma_end_m``, heard by picks not ``used``; None if there is none."""
    speed = math.hypot(vx, vy)
    g0 = max(prm.gate_m, 3.0 * sigma_end_m)
    reach = prm.range_m + g0 + speed * prm.after_s
    lo = np.searchsorted(p.t, end_t_s - prm.before_s)
    hi = np.searchsorted(p.t, end_t_s + prm.after_s + reach / 300.0, side="right")
    sel = np.arange(lo, hi)
    sel = sel[~used[sel]]
    sel = sel[np.hypot(p.x[sel] - end_x, p.y[sel] - end_y) < reach]
    if np.unique(p.sensor[sel]).size < prm.min_sensors:
        return None
    gx, gy, step = _corridor(end_x, end_y, vx * prm.after_s, vy * prm.after_s, g0, prm)
    sx, sy, st, ss, sc = p.x[sel], p.y[sel], p.t[sel], p.sigma[sel], p.c[sel]
    d = np.hypot(gx[:, None] - sx[None, :], gy[:, None] - sy[None, :])  # (grid, picks)
    heard = d < prm.range_m
    travel = d / sc[None, :]
    e = st[None, :] - travel  # the emission time each pick gives at each grid point
    grid_s = step / (2.0 * float(np.median(sc)))
    tol = prm.k_sigma * np.sqrt(ss[None, :] ** 2 + (prm.travel_error * travel) ** 2 + grid_s**2)
    names, idx = np.unique(p.sensor[sel], return_inverse=True)
    onehot = np.zeros((sel.size, names.size))
    onehot[np.arange(sel.size), idx] = 1.0
    best: tuple[int, float, int, int] | None = None  # (sensors, -distance, grid, anchor)
    for j in range(sel.size):
        ahead = e[:, j] - end_t_s
        dd = np.hypot(
            gx - end_x - vx * np.maximum(ahead, 0.0), gy - end_y - vy * np.maximum(ahead, 0.0)
        )
        valid = (
            heard[:, j]
            & (ahead >= -prm.before_s)
            & (ahead <= prm.after_s)
            & (dd < g0 + 0.5 * speed * np.maximum(ahead, 0.0))
        )
        if not valid.any():
            continue
        agree = heard & (np.abs(e - e[:, [j]]) <= np.maximum(tol, tol[:, [j]]))
        count = ((agree.astype(float) @ onehot) > 0).sum(axis=1)
        count = np.where(valid, count, 0)
        i = int(np.lexsort((dd, -count))[0])
        cand = (int(count[i]), -float(dd[i]), i, j)
        if count[i] >= prm.min_sensors and (best is None or cand[:2] > best[:2]):
            best = cand
    if best is None:
        return None
    _, _, i, j = best
    agree_i = heard[i] & (np.abs(e[i] - e[i, j]) <= np.maximum(tol[i], tol[i, j]))
    chosen = []  # one pick per sensor: the one nearest the anchor's emission
    for s in np.unique(idx[agree_i]):
        k = np.flatnonzero(agree_i & (idx == s))
        chosen.append(int(k[np.argmin(np.abs(e[i, k] - e[i, j]))]))
    rows = sel[np.array(chosen)]
    later = max(float(e[i, j]) - end_t_s, 0.0)
    gate = g0 + 0.5 * speed * later
    prior = (end_x + vx * later, end_y + vy * later, gate / 3.0)
    fix = _fit(p, rows, float(gx[i]), float(gy[i]), float(e[i, j]), prior, prm)
    if fix is None:
        return None
    sources = p.source if p.source is not None else p.sensor
    n = min(np.unique(p.sensor[rows]).size, np.unique(sources[rows]).size)
    if n < prm.min_sensors:
        return None
    return ImpactFix(fix[0], fix[1], fix[2], fix[3], rows.astype(np.int64), int(n))


def _corridor(
    x: float, y: float, dx: float, dy: float, margin: float, prm: ImpactSearch
) -> tuple[FloatArray, FloatArray, float]:
    """The grid over the box from (x, y) to (x + dx, y + dy) widened by ``margin``: its
    points and its step (``grid_m``, or coarser to keep within ``max_grid_points``)."""
    wide, high = abs(dx) + 2 * margin, abs(dy) + 2 * margin
    step = max(prm.grid_m, math.sqrt(wide * high / prm.max_grid_points))
    ax = np.arange(min(x, x + dx) - margin, max(x, x + dx) + margin + step, step)
    ay = np.arange(min(y, y + dy) - margin, max(y, y + dy) + margin + step, step)
    gx, gy = np.meshgrid(ax, ay)
    return gx.ravel(), gy.ravel(), float(step)


def _fit(
    p: Picks,
    rows: IntArray,
    x: float,
    y: float,
    t0: float,
    prior: tuple[float, float, float],
    prm: ImpactSearch,
) -> tuple[float, float, float, FloatArray] | None:
    """Gauss-Newton over (x, y, t0): the picks' arrival times and a prior on position;
    None if a pick's residual then exceeds ``k_sigma``."""
    sx, sy, st, sc = p.x[rows], p.y[rows], p.t[rows], p.c[rows]
    px, py, sp = prior
    theta = np.array([x, y, t0])
    info = np.eye(3)
    for _ in range(prm.iterations):
        d = np.maximum(np.hypot(theta[0] - sx, theta[1] - sy), 1.0)
        s = np.sqrt(p.sigma[rows] ** 2 + (prm.travel_error * d / sc) ** 2)
        r = np.r_[(st - theta[2] - d / sc) / s, (theta[0] - px) / sp, (theta[1] - py) / sp]
        jac = np.zeros((rows.size + 2, 3))
        jac[: rows.size, 0] = -(theta[0] - sx) / (d * sc * s)
        jac[: rows.size, 1] = -(theta[1] - sy) / (d * sc * s)
        jac[: rows.size, 2] = -1.0 / s
        jac[rows.size, 0] = jac[rows.size + 1, 1] = 1.0 / sp
        info = jac.T @ jac
        step = np.linalg.solve(info, -jac.T @ r)
        theta = theta + step
        if abs(step[0]) + abs(step[1]) < 0.1 and abs(step[2]) < 1e-4:
            break
    d = np.hypot(theta[0] - sx, theta[1] - sy)
    s = np.sqrt(p.sigma[rows] ** 2 + (prm.travel_error * d / sc) ** 2)
    if np.any(np.abs(st - theta[2] - d / sc) > prm.k_sigma * s):
        return None
    cov = np.linalg.inv(info)[:2, :2]
    return float(theta[0]), float(theta[1]), float(theta[2]), np.asarray(cov, float)
