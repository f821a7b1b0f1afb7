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

__all__ = ["IMPACT_GAP_S", "IMPACT_RADIUS_M", "LAUNCH_GAP_S", "LAUNCH_RADIUS_M", "groups_of"]

FloatArray = NDArray[np.float64]

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
