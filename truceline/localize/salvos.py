"""Salvos: the launches of one firing event heard one by one (an MLRS ripple a fraction of a
second apart, a battery's guns a few seconds and a hundred metres apart), and their impacts.

Located launches close together in space and time are one firing event's; so are impacts.
Two located events belong to one salvo when they are within ``radius_m`` (or three standard
deviations of their separation, if that is more) and ``gap_s`` seconds of each other;
salvos are the connected components of that relation, so the grouping does not depend on
the order of the events.

>>> import numpy as np
>>> x = np.array([0.0, 30.0, 5_000.0, 60.0]); y = np.zeros(4); t = np.array([0.0, 0.8, 1.0, 1.6])
>>> groups_of(x, y, t, np.full(4, 10.0), radius_m=300.0, gap_s=20.0).tolist()
[0, 0, 1, 0]
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .picks import Picks
from .tdoa import TdoaFit

__all__ = [
    "IMPACT_GAP_S",
    "IMPACT_RADIUS_M",
    "LAUNCH_GAP_S",
    "LAUNCH_RADIUS_M",
    "crowding",
    "groups_of",
    "in_trains",
    "salvo_centre",
    "witness_share",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: guns of a battery stand within a few hundred metres, but the rounds of a ripple a fraction
#: of a second apart are heard so close together that some of them are located far off
#: (picks of two rounds mixed up): they are still that salvo's
LAUNCH_RADIUS_M = 2_500.0
LAUNCH_GAP_S = 20.0  # and fire within this of each other
IMPACT_RADIUS_M = 2_500.0  # a salvo's impacts scatter within this (and some are located off)
IMPACT_GAP_S = 25.0


def groups_of(
    x: FloatArray,
    y: FloatArray,
    t: FloatArray,
    sd: FloatArray,
    *,
    radius_m: float,
    gap_s: float,
) -> NDArray[np.int64]:
    """A salvo label for each event (labels numbered by each salvo's earliest event)."""
    n = x.size
    if n == 0:
        return np.zeros(0, np.int64)
    sd = np.nan_to_num(sd, nan=1e4)
    reach = max(radius_m, 3.0 * float(np.sqrt(2.0) * sd.max()))
    pairs = np.array(sorted(cKDTree(np.column_stack([x, y])).query_pairs(reach)), dtype=np.int64)
    if pairs.size:
        i, j = pairs[:, 0], pairs[:, 1]
        dist = np.hypot(x[i] - x[j], y[i] - y[j])
        gate = np.maximum(radius_m, 3.0 * np.hypot(sd[i], sd[j]))
        keep = (dist <= gate) & (np.abs(t[i] - t[j]) <= gap_s)
        pairs = pairs[keep]
    if pairs.size == 0:
        raw = np.arange(n)
    else:
        graph = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n))
        raw = connected_components(graph, directed=False)[1]
    # number the salvos by their earliest event, so labels do not depend on the input order
    first: dict[int, int] = {}
    for k in np.lexsort((np.arange(n), t)):
        first.setdefault(int(raw[k]), len(first))
    return np.array([first[int(r)] for r in raw], dtype=np.int64)


RIPPLE_STRONG = 8  # a round heard by this many sensors is located well
RIPPLE_FIT_S = 0.1  # a weakly located round's picks fit a strong round's place within this


def ripple_positions(
    px: FloatArray,
    py: FloatArray,
    pt: FloatArray,
    pc: FloatArray,
    members: list[NDArray[np.int64]],
    x: FloatArray,
    y: FloatArray,
    t0: FloatArray,
    n_picks: NDArray[np.int64],
    events: NDArray[np.int64],
) -> tuple[FloatArray, FloatArray]:
    """Where each of ``events`` was fired from, for grouping them into salvos: its own
    position, unless it is a weakly located round whose arrivals fit a strong round's
    position (within ``LAUNCH_GAP_S``, with a time of its own) — a ripple's rounds come from
    one launcher, but a fraction of a second apart their picks get mixed up and some rounds
    are located kilometres off. ``px, py, pt, pc`` are the picks' sensor positions, times and
    sound speeds; ``members[e]`` the picks of event ``e``."""
    gx, gy = x[events].copy(), y[events].copy()
    strong = events[n_picks[events] >= RIPPLE_STRONG]
    if strong.size == 0:
        return gx, gy
    order = np.argsort(t0[strong], kind="stable")
    strong, st = strong[order], t0[strong][order]
    for k, e in enumerate(events):
        if n_picks[e] >= RIPPLE_STRONG:
            continue
        lo, hi = np.searchsorted(st, [t0[e] - LAUNCH_GAP_S, t0[e] + LAUNCH_GAP_S])
        g = members[e]
        for s in strong[lo:hi]:
            if np.hypot(x[s] - x[e], y[s] - y[e]) > 20_000.0:
                continue
            travel = np.hypot(px[g] - x[s], py[g] - y[s]) / pc[g]
            r = pt[g] - travel
            if np.mean(np.abs(r - np.median(r)) <= RIPPLE_FIT_S) >= 0.8:
                gx[k], gy[k] = x[s], y[s]
                break
    return gx, gy


#: the share of a salvo's rounds' stated uncertainty their centre keeps whatever their number:
#: the rounds are heard through the same air by the same clocks, so their errors are shared
SHARED_ERROR = 0.5
SALVO_ROUNDS = 4  # rounds of robust reweighting
SALVO_Z2 = 9.21  # χ²₂ 99 %: a round this far from the others is down-weighted
SPREAD_STEPS = 30  # bisections of the spread on a log scale (to a part in a million)


def salvo_centre(x: FloatArray, y: FloatArray, cov: FloatArray) -> tuple[float, float, FloatArray]:
    """Where a salvo was fired from (or landed): the centre of its located rounds, and how
    well it is known.

    The rounds of a battery stand apart, those of a ripple land apart, and some rounds are
    located off (picks of two rounds mixed up): the centre is a random-effects mean — each
    round weighted by its own uncertainty plus the salvo's spread ``s²`` (the same in every
    direction: a battery's guns and a pattern's rounds have no preferred compass bearing),
    with rounds the others contradict down-weighted (Huber's weights). ``s²`` is the
    Paule-Mandel estimate: the spread at which the rounds scatter about their centre just as
    much as their own uncertainties and the spread together say they should (``_spread``).
    The centre's covariance is that of the mean, plus a share (``SHARED_ERROR``) of the best
    round's own: errors shared by every round (the wind, a clock) do not average out.

    >>> import numpy as np
    >>> x = np.array([0.0, 100.0, -100.0, 0.0, 2_000.0]); y = np.array([100.0, 0.0, 0.0, -100.0, 0.0])
    >>> cx, cy, c = salvo_centre(x, y, np.tile(np.eye(2) * 25.0, (5, 1, 1)))
    >>> bool(abs(cx) < 100.0), round(cy), bool(40.0 < np.sqrt(np.trace(c)) < 150.0)  # the stray barely counts
    (True, 0, True)

    Three guns that happen to stand in a row east-west still say the battery's spread, and
    so the centre's uncertainty, north-south too:

    >>> cx, cy, c = salvo_centre(np.array([-150.0, 0.0, 150.0]), np.zeros(3), np.tile(np.eye(2) * 25.0, (3, 1, 1)))
    >>> bool(c[1, 1] > 0.5 * c[0, 0])
    True
    """
    ok = np.isfinite(cov).all(axis=(1, 2)) & np.isfinite(x) & np.isfinite(y)
    if not ok.any():
        return float(x[0]), float(y[0]), cov[0]
    xy = np.column_stack([x[ok], y[ok]])
    c = cov[ok]
    best = c[int(np.argmin(np.trace(c, axis1=1, axis2=2)))]
    if xy.shape[0] == 1:
        return float(xy[0, 0]), float(xy[0, 1]), c[0]
    # a first, robust look (median, median absolute deviations) says which rounds are stray
    # before any of them can widen the spread until nothing is stray
    centre = np.median(xy, axis=0)
    mad2 = (1.4826 * np.median(np.abs(xy - centre), axis=0)) ** 2
    s2 = max(float(np.mean(mad2 - np.median(c[:, [0, 1], [0, 1]], axis=0))), 0.0)
    total = c[0]
    for _ in range(SALVO_ROUNDS):
        inv = np.linalg.inv(c + s2 * np.eye(2))
        d2 = np.einsum("ni,nij,nj->n", xy - centre, inv, xy - centre)
        h = np.minimum(1.0, SALVO_Z2 / np.maximum(d2, 1e-9))
        s2 = _spread(xy, c, h)
        centre, total = _weighted_mean(xy, c, h, s2)
    return float(centre[0]), float(centre[1]), total + SHARED_ERROR * best


def _weighted_mean(
    xy: FloatArray, c: FloatArray, h: FloatArray, s2: float
) -> tuple[FloatArray, FloatArray]:
    """The rounds' mean weighted by ``h`` and by their uncertainty plus the spread ``s2``,
    and its covariance."""
    w = np.linalg.inv(c + s2 * np.eye(2)) * h[:, None, None]
    total = np.linalg.inv(w.sum(0))
    return total @ np.einsum("nij,nj->i", w, xy), total


def _spread(xy: FloatArray, c: FloatArray, h: FloatArray) -> float:
    """The salvo's spread (m², the same in each direction) beyond the rounds' own
    uncertainties: the Paule-Mandel estimate, the ``s²`` at which the rounds' weighted
    scatter about their mean, Σ hᵢ min(rᵢᵀ(Cᵢ + s²I)⁻¹rᵢ, z²), equals its expectation
    2(Σ hᵢ − 1) (it falls as ``s²`` grows; bisected on a log scale). Each round's share is
    capped at ``SALVO_Z2``, so a stray one cannot widen the spread until it no longer looks
    stray. Zero where the rounds scatter no more than their own uncertainties say."""
    target = 2.0 * (float(h.sum()) - 1.0)

    def excess(s2: float) -> float:
        centre, _ = _weighted_mean(xy, c, h, s2)
        r = xy - centre
        inv = np.linalg.inv(c + s2 * np.eye(2))
        d2 = np.minimum(np.einsum("ni,nij,nj->n", r, inv, r), SALVO_Z2)
        return float(h @ d2) - target

    if target <= 0.0 or excess(0.0) <= 0.0:
        return 0.0
    lo, hi = 1e-2, 4.0 * float(np.ptp(xy, axis=0).max() ** 2) + 1.0
    if excess(hi) > 0.0:
        return hi
    for _ in range(SPREAD_STEPS):
        mid = float(np.sqrt(lo * hi))
        lo, hi = (mid, hi) if excess(mid) > 0.0 else (lo, mid)
    return hi


#: events this close in time and space may be rounds of one salvo: their errors are shared
CROWD_S = 30.0
CROWD_M = 5_000.0


#: a pick with another of its sensor's this close in time is one of a train of arrivals (a
#: ripple's rounds): which round is which may be mixed up
TRAIN_S = 2.0


def in_trains(p: Picks, groups: list[IntArray]) -> FloatArray:
    """The share of each event's picks that are one of a train of arrivals at their sensor."""
    order = np.lexsort((p.t, p.sensor))
    t, s = p.t[order], p.sensor[order]
    gap = np.full(len(p), np.inf)
    same = s[1:] == s[:-1]
    d = np.where(same, t[1:] - t[:-1], np.inf)
    gap_sorted = np.minimum(np.append(d, np.inf), np.insert(d, 0, np.inf))
    gap[order] = gap_sorted
    return np.array([float(np.mean(gap[g] < TRAIN_S)) if len(g) else 0.0 for g in groups])


def witness_share(p: Picks, groups: list[IntArray], fit: TdoaFit) -> FloatArray:
    """How much each event may tell of the wind: a salvo's rounds together count once (their
    errors are shared), and an event whose picks are mostly ones of trains of arrivals, whose
    rounds may be mixed up into a source that seems to sit in still air, hardly at all."""
    train = in_trains(p, groups)
    return np.asarray((1.0 - train) ** 2 / crowding(fit), float)


def crowding(fit: TdoaFit) -> FloatArray:
    """How many events (itself included) each event shares its time and place with: the
    rounds of a salvo, whose picks may be mixed the same way, count as one witness of the
    wind, not as many."""
    pts = np.column_stack([fit.x, fit.y, fit.t0 * (CROWD_M / CROWD_S)])
    ok = np.isfinite(pts).all(axis=1)
    out = np.ones(fit.x.size)
    if ok.sum() > 1:
        tree = cKDTree(pts[ok])
        out[ok] = [len(n) for n in tree.query_ball_point(pts[ok], CROWD_M * np.sqrt(2.0), p=np.inf)]
    return out
