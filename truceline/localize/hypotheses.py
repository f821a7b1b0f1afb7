"""One event from one anchor pick: the hypotheses (closed-form sources from the anchor and
one pick at each of three nearby sensors), their votes, and the refinement that accepts
an event or not (steps 3-5 of :mod:`truceline.localize.association`)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .picks import Picks

__all__ = ["Params", "event_at"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class Params:
    """The associator's settings (see :func:`truceline.localize.association.associate`)."""

    min_picks: int
    max_range_m: float
    model_sigma_s: float
    neighbours: int
    loose_s: float
    min_pick_fraction: float
    strong_picks: int
    wind_sigma_ms: float | None = None  # the prior spread of an unknown wind (None: still air)
    met_wind_sigma_ms: float = 1.5  # how far the wind may differ from a met station's report


def event_at(
    p: Picks,
    sensors: cKDTree,
    lo: int,
    a: int,
    end: int,
    used: NDArray[np.bool_],
    neighbours: int,
    accept: int,
    prm: Params,
) -> tuple[IntArray, float, float] | None:
    """The event anchored at local pick ``a``: local pick indices and position, or None."""
    ga = lo + a
    cand = np.arange(a + 1, end)
    cand = cand[~used[cand]]
    if cand.size < prm.min_picks - 1:
        return None
    gc = cand + lo
    dx, dy = p.x[gc] - p.x[ga], p.y[gc] - p.y[ga]
    dist = np.hypot(dx, dy)
    dt = p.t[gc] - p.t[ga]
    # in a wind, sound downwind arrives early by up to distance · wind / c²
    early = dist * _wind_allowance(prm) / p.c[gc] ** 2
    ok = (dist <= 2 * prm.max_range_m) & (dt <= dist / p.c[gc] + prm.loose_s + early)
    ok &= p.sensor[gc] != p.sensor[ga]
    cand, dist = cand[ok], dist[ok]
    if np.unique(p.sensor[cand + lo]).size < prm.min_picks - 1:
        return None
    members = _near_members(p, lo, cand, dist, neighbours)
    if members is None:
        return None
    zs = float(p.z[ga])
    # the nearest three sensors first; all trios only when they explain too little
    nearest = [(0, 1, 2)]
    every_trio = list(itertools.combinations(range(len(members)), 3))
    found = None
    for trios in (nearest, every_trio):
        hyp = _solve_trios(p, lo, a, members, trios)
        if hyp is None:
            continue
        vote = _vote(p, lo, cand, hyp, zs, prm.loose_s)
        if found is None or vote[1] > found[1]:
            found = vote
        if found[1] + 1 >= accept or len(every_trio) == 1:
            break
    if found is None or found[1] + 1 < accept:
        return None
    (x, y, t0), _, res_best = found
    chosen = np.concatenate(([a], cand[res_best < prm.loose_s]))
    for tight in (False, True):
        chosen = _one_per_sensor(p, lo, chosen, x, y, t0, zs)
        if chosen.size < prm.min_picks or chosen[0] != a:
            return None
        x, y, t0 = _gauss_newton(p, chosen + lo, x, y, t0, zs, prm.model_sigma_s)
        every = np.concatenate(([a], cand)) + lo
        resid = (
            p.t[every] - t0 - _dist3(x - p.x[every], y - p.y[every], zs - p.z[every]) / p.c[every]
        )
        limit = 4.0 * np.sqrt(p.sigma[every] ** 2 + prm.model_sigma_s**2)
        # a still-air fit misses an unknown wind's effect, which grows with the distance
        d_every = np.hypot(x - p.x[every], y - p.y[every])
        limit = limit + 0.6 * _wind_allowance(prm) * d_every / p.c[every] ** 2
        if not tight:
            limit = np.maximum(limit, 0.1)
        keep = (np.abs(resid) <= limit) & (
            np.hypot(x - p.x[every], y - p.y[every]) <= prm.max_range_m
        )
        if not keep[0]:
            return None
        chosen = np.concatenate(([a], cand[keep[1:]]))
    chosen = _one_per_sensor(p, lo, chosen, x, y, t0, zs)
    if chosen.size < accept or chosen[0] != a:
        return None
    if _pick_fraction(p, sensors, chosen + lo, x, y, prm.min_picks) < prm.min_pick_fraction:
        return None
    return np.sort(chosen), x, y


def _wind_allowance(prm: Params) -> float:
    """How strong a wind association allows for (m/s): the prior spread of an unknown one."""
    return float(prm.wind_sigma_ms or 0.0)


def _pick_fraction(p: Picks, sensors: cKDTree, g: IntArray, x: float, y: float, k: int) -> float:
    """Share of the known sensors within the distance of the k-th nearest pick that heard it."""
    radius = float(np.sort(np.hypot(p.x[g] - x, p.y[g] - y))[k - 1]) + 1.0
    around = len(sensors.query_ball_point([x, y], radius))
    heard = int(np.sum(np.hypot(p.x[g] - x, p.y[g] - y) <= radius))
    return heard / max(around, heard)


def _near_members(
    p: Picks, lo: int, cand: IntArray, dist: FloatArray, neighbours: int
) -> list[IntArray] | None:
    """Candidates of the nearest ``neighbours`` sensors (up to three earliest picks each)."""
    gc = cand + lo
    sens = p.sensor[gc]
    near_order = np.lexsort((p.t[gc], sens, dist))
    s_sorted = sens[near_order]
    new = np.empty(s_sorted.size, bool)
    new[0] = True
    np.not_equal(s_sorted[1:], s_sorted[:-1], out=new[1:])
    bounds = np.append(np.flatnonzero(new), s_sorted.size)
    n_groups = min(bounds.size - 1, neighbours)
    if n_groups < 3:
        return None
    return [
        cand[near_order[bounds[g] : min(bounds[g] + 3, bounds[g + 1])]] for g in range(n_groups)
    ]


SCORE_S = 0.08  # the timing scale a hypothesis is ranked by (pick noise, model error, wind)

#: the 27 ways to take one of (up to) three picks at each of three sensors
_PICK = np.array(list(itertools.product(range(3), repeat=3)), dtype=np.int64).T


def _solve_trios(
    p: Picks, lo: int, a: int, members: list[IntArray], trios: Sequence[tuple[int, ...]]
) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """Closed-form sources from the anchor and one pick at each sensor of each trio."""
    ga = lo + a
    table = np.full((len(members), 3), -1, dtype=np.int64)
    for g, m in enumerate(members):
        table[g, : m.size] = m
    tri = np.asarray(trios, dtype=np.int64)
    idx = np.stack(
        [
            table[tri[:, 0]][:, _PICK[0]],
            table[tri[:, 1]][:, _PICK[1]],
            table[tri[:, 2]][:, _PICK[2]],
        ],
        axis=-1,
    ).reshape(-1, 3)
    idx = idx[(idx >= 0).all(axis=1)] + lo  # (H, 3): one candidate pick at each sensor
    sx = p.x[idx] - p.x[ga]
    sy = p.y[idx] - p.y[ga]
    c = 0.5 * (p.c[idx] + p.c[ga])
    delta = c * (p.t[idx] - p.t[ga])  # range differences to the anchor
    mat = np.stack([2 * sx, 2 * sy, 2 * delta], axis=-1)
    rhs = sx**2 + sy**2 - delta**2
    det = np.linalg.det(mat)
    good = np.abs(det) > 1e-6 * np.abs(mat).max(axis=(1, 2)) ** 3
    if not good.any():
        return None
    sol = np.linalg.solve(mat[good], rhs[good][..., None])[..., 0]
    x, y, r = sol[:, 0], sol[:, 1], sol[:, 2]
    rng = np.hypot(x, y)
    consistent = (r >= -50.0) & (np.abs(rng - r) <= np.maximum(150.0, 0.05 * rng))
    if not consistent.any():
        return None
    x, y = x[consistent] + p.x[ga], y[consistent] + p.y[ga]
    t0 = p.t[ga] - rng[consistent] / p.c[ga]  # the anchor's own height is the source's
    return x, y, t0


def _vote(
    p: Picks,
    lo: int,
    cand: IntArray,
    hyp: tuple[FloatArray, FloatArray, FloatArray],
    zs: float,
    loose_s: float,
) -> tuple[tuple[float, float, float], int, FloatArray]:
    """The hypothesis that explains the sensors best (one pick each): its source, its votes
    (sensors with a pick within ``loose_s``) and the residuals of every candidate under it.

    Hypotheses are ranked by how *tightly* they explain the picks (a Gaussian kernel of
    ``SCORE_S`` on each sensor's best residual, summed), not by how many picks fall inside
    the loose window: in a ripple of rounds a fraction of a second apart every sensor has a
    pick near almost any time, and only the true source explains them to within the timing
    noise."""
    hx, hy, ht0 = hyp
    gc = cand + lo
    pred = (
        ht0[:, None] + _dist3(hx[:, None] - p.x[gc], hy[:, None] - p.y[gc], zs - p.z[gc]) / p.c[gc]
    )
    res = np.abs(p.t[gc] - pred)
    order = np.argsort(p.sensor[gc], kind="stable")
    sensors = p.sensor[gc][order]
    starts = np.flatnonzero(np.concatenate(([True], sensors[1:] != sensors[:-1])))
    fits = (res[:, order] < loose_s).astype(np.int8)
    votes = np.maximum.reduceat(fits, starts, axis=1).sum(axis=1)
    kernel = np.exp(-0.5 * (res[:, order] / SCORE_S) ** 2)
    score = np.maximum.reduceat(kernel, starts, axis=1).sum(axis=1)
    best = int(np.lexsort((-votes, -np.round(score, 9)))[0])
    return (float(hx[best]), float(hy[best]), float(ht0[best])), int(votes[best]), res[best]


def _dist3(dx: FloatArray | float, dy: FloatArray | float, dz: FloatArray | float) -> FloatArray:
    return np.asarray(np.sqrt(np.square(dx) + np.square(dy) + np.square(dz)), float)


def _one_per_sensor(
    p: Picks, lo: int, local: IntArray, x: float, y: float, t0: float, zs: float
) -> IntArray:
    """Keep, per sensor, the pick that best fits the source; the anchor (first) always stays."""
    g = local + lo
    res = np.abs(p.t[g] - t0 - _dist3(x - p.x[g], y - p.y[g], zs - p.z[g]) / p.c[g])
    res[0] = -1.0  # the anchor wins its sensor
    order = np.lexsort((res, p.sensor[g]))
    s = p.sensor[g][order]
    first = np.concatenate(([True], s[1:] != s[:-1]))
    kept = order[first]
    kept = np.concatenate(([0], np.sort(kept[kept != 0])))
    return local[kept]


def _gauss_newton(
    p: Picks,
    g: IntArray,
    x: float,
    y: float,
    t0: float,
    zs: float,
    model_sigma_s: float,
    steps: int = 3,
) -> tuple[float, float, float]:
    """A few Gauss-Newton steps for one event (association only needs a good start)."""
    px, py, c, t = p.x[g], p.y[g], p.c[g], p.t[g]
    dz2 = (zs - p.z[g]) ** 2
    w = 1.0 / (p.sigma[g] ** 2 + model_sigma_s**2)
    for _ in range(steps):
        dx, dy = x - px, y - py
        d = np.maximum(np.sqrt(dx * dx + dy * dy + dz2), 1.0)
        r = t - t0 - d / c
        jac = np.column_stack([dx / (d * c), dy / (d * c), np.ones_like(d)])
        a = (jac * w[:, None]).T @ jac
        try:
            step = np.linalg.solve(a, (jac * w[:, None]).T @ r)
        except np.linalg.LinAlgError:
            break
        x, y, t0 = x + float(step[0]), y + float(step[1]), t0 + float(step[2])
        if abs(step[0]) + abs(step[1]) < 0.01:
            break
    return x, y, t0
