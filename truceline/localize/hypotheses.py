"""One event from one anchor pick: the hypotheses (closed-form sources from the anchor and
one pick at each of three nearby sensors), their votes, and the refinement that accepts
an event or not (steps 3-5 of :mod:`truceline.localize.association`)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .picks import Picks
from .wind_field import WindWindows

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
    #: the wind the network measured in a first pass (None: not yet measured)
    wind_field: WindWindows | None = None


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
    """The event anchored at local pick ``a``: local pick indices and position, or None.

    Where the network has measured the wind (``prm.wind_field``), the search runs in the
    frame of the moving air: a uniform wind w carries the sound as if each sensor had been
    at ``s - w·(t - t_a)`` when it heard it (``t_a`` the anchor's time), and in that frame
    the sound spreads at c in every direction, so still-air hypotheses and votes hold again
    (only the field's remaining uncertainty is left to the wind unknowns)."""
    ga = lo + a
    mean, sd = _wind_prior_at(p, ga, prm)
    if prm.wind_field is None or not np.any(mean):
        return _event_at(p, sensors, lo, a, end, used, neighbours, accept, prm, (mean, sd))
    hi = lo + end
    dt = p.t[ga:hi] - p.t[ga]
    sub = replace(_window(p, ga, hi), x=p.x[ga:hi] - mean[0] * dt, y=p.y[ga:hi] - mean[1] * dt)
    found = _event_at(
        sub, sensors, 0, 0, end - a, used[a:end], neighbours, accept, prm, (np.zeros(2), sd)
    )
    if found is None:
        return None
    picks, x, y = found
    # back from the air's frame: the source is where the air was when the sound left it
    back = float(np.hypot(x - p.x[ga], y - p.y[ga])) / float(p.c[ga])
    return picks + a, x + float(mean[0]) * back, y + float(mean[1]) * back


def _window(p: Picks, lo: int, hi: int) -> Picks:
    """The picks ``[lo, hi)`` as a Picks of their own (views, not copies)."""
    return Picks(
        ref=p.ref[lo:hi],
        sensor=p.sensor[lo:hi],
        x=p.x[lo:hi],
        y=p.y[lo:hi],
        z=p.z[lo:hi],
        t=p.t[lo:hi],
        sigma=p.sigma[lo:hi],
        c=p.c[lo:hi],
        cls=p.cls[lo:hi],
        t_ref_us=p.t_ref_us,
    )


def _event_at(
    p: Picks,
    sensors: cKDTree,
    lo: int,
    a: int,
    end: int,
    used: NDArray[np.bool_],
    neighbours: int,
    accept: int,
    prm: Params,
    prior: tuple[FloatArray, float],
) -> tuple[IntArray, float, float] | None:
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
    early = dist * prior[1] / p.c[gc] ** 2
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
    refined = _refine(p, lo, a, cand, chosen, (x, y, t0), zs, prm, prior)
    if refined is None:
        return None
    chosen, x, y = refined
    if chosen.size < accept:
        return None
    if _pick_fraction(p, sensors, chosen + lo, x, y, prm.min_picks) < prm.min_pick_fraction:
        return None
    return np.sort(chosen), x, y


def _refine(
    p: Picks,
    lo: int,
    a: int,
    cand: IntArray,
    chosen: IntArray,
    start: tuple[float, float, float],
    zs: float,
    prm: Params,
    prior: tuple[FloatArray, float],
) -> tuple[IntArray, float, float] | None:
    """Step 5: refine the winning hypothesis and choose its picks again, loosely then
    tightly (one per sensor); None when the anchor itself no longer fits."""
    x, y, t0 = start
    wind, wind_sd = prior
    for tight in (False, True):
        chosen = _one_per_sensor(p, lo, chosen, x, y, t0, zs, wind)
        if chosen.size < prm.min_picks or chosen[0] != a:
            return None
        if prm.wind_sigma_ms is None:
            x, y, t0 = _gauss_newton(p, chosen + lo, x, y, t0, zs, prm.model_sigma_s)
        else:
            # in a wind, the picks are chosen by how well they fit the event *in its wind*:
            # a still-air fit leaves residuals of seconds far up- and downwind, where the
            # rounds of a salvo seconds apart would fit as well as the right one
            x, y, t0, wind, wind_sd = _gauss_newton_wind(
                p, chosen + lo, x, y, t0, zs, prm.model_sigma_s, *prior
            )
        every = np.concatenate(([a], cand)) + lo
        resid = p.t[every] - t0 - _travel(p, every, x, y, zs, wind)
        limit = 4.0 * np.sqrt(p.sigma[every] ** 2 + prm.model_sigma_s**2)
        # what the wind's remaining uncertainty may still do, growing with the distance
        d_every = np.hypot(x - p.x[every], y - p.y[every])
        limit = limit + 0.6 * wind_sd * d_every / p.c[every] ** 2
        if not tight:
            limit = np.maximum(limit, 0.1)
        keep = (np.abs(resid) <= limit) & (d_every <= prm.max_range_m)
        if not keep[0]:
            return None
        chosen = np.concatenate(([a], cand[keep[1:]]))
    chosen = _one_per_sensor(p, lo, chosen, x, y, t0, zs, wind)
    if chosen[0] != a:
        return None
    return chosen, x, y


def _wind_prior_at(p: Picks, ga: int, prm: Params) -> tuple[FloatArray, float]:
    """The wind expected at an anchor pick: the measured field's there (from a first pass),
    else none with the spread of an unknown wind."""
    if prm.wind_field is not None:
        mean, sd = prm.wind_field.at(p.t[ga : ga + 1], p.x[ga : ga + 1], p.y[ga : ga + 1])
        if np.isfinite(sd[0]):
            return mean[0], float(np.clip(sd[0], 0.3, _wind_allowance(prm)))
    return np.zeros(2), _wind_allowance(prm)


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
    # each sensor ranked by its nearest candidate (in the air's frame one sensor's picks
    # stand at slightly different places), its picks in time order
    _, inv = np.unique(sens, return_inverse=True)
    nearest = np.full(inv.max() + 1, np.inf)
    np.minimum.at(nearest, inv, dist)
    near_order = np.lexsort((p.t[gc], sens, nearest[inv]))
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


def _travel(p: Picks, g: IntArray, x: float, y: float, zs: float, wind: FloatArray) -> FloatArray:
    """Travel times from (x, y) to the sensors of picks ``g`` in a wind (c + w·n)."""
    ex, ey = p.x[g] - x, p.y[g] - y
    d = np.maximum(_dist3(ex, ey, p.z[g] - zs), 1.0)
    return np.asarray(d / (p.c[g] + (wind[0] * ex + wind[1] * ey) / d), float)


def _one_per_sensor(
    p: Picks,
    lo: int,
    local: IntArray,
    x: float,
    y: float,
    t0: float,
    zs: float,
    wind: FloatArray,
) -> IntArray:
    """Keep, per sensor, the pick that best fits the source; the anchor (first) always stays."""
    g = local + lo
    res = np.abs(p.t[g] - t0 - _travel(p, g, x, y, zs, wind))
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


def _gauss_newton_wind(
    p: Picks,
    g: IntArray,
    x: float,
    y: float,
    t0: float,
    zs: float,
    model_sigma_s: float,
    wind_mean: FloatArray,
    wind_sigma_ms: float,
    steps: int = 4,
) -> tuple[float, float, float, FloatArray, float]:
    """A few Gauss-Newton steps for one event with the wind as two more unknowns (prior
    N(``wind_mean``, ``wind_sigma_ms``²)): the source, its emission time, the wind, and the
    wind's remaining uncertainty (the larger axis' standard deviation)."""
    px, py, c, t = p.x[g], p.y[g], p.c[g], p.t[g]
    dz2 = (zs - p.z[g]) ** 2
    w = 1.0 / (p.sigma[g] ** 2 + model_sigma_s**2)
    prior = 1.0 / wind_sigma_ms**2
    s = np.array([x, y, t0, float(wind_mean[0]), float(wind_mean[1])])
    a = np.eye(5)
    for _ in range(steps):
        ex, ey = px - s[0], py - s[1]
        d = np.maximum(np.sqrt(ex * ex + ey * ey + dz2), 1.0)
        ceff = c + (s[3] * ex + s[4] * ey) / d
        r = t - s[2] - d / ceff
        jac = np.column_stack(
            [-ex / (d * ceff), -ey / (d * ceff), np.ones_like(d), -ex / ceff**2, -ey / ceff**2]
        )
        a = (jac * w[:, None]).T @ jac
        a[3, 3] += prior
        a[4, 4] += prior
        grad = (jac * w[:, None]).T @ r
        grad[3:] -= prior * (s[3:] - wind_mean)
        try:
            step = np.linalg.solve(a, grad)
        except np.linalg.LinAlgError:
            break
        s = s + step
        if abs(step[0]) + abs(step[1]) < 0.01:
            break
    try:
        wind_cov = np.linalg.inv(a)[3:, 3:]
        sd = float(np.sqrt(max(np.linalg.eigvalsh(wind_cov)[-1], 0.0)))
    except np.linalg.LinAlgError:
        sd = wind_sigma_ms
    return float(s[0]), float(s[1]), float(s[2]), s[3:5].copy(), min(sd, wind_sigma_ms)
