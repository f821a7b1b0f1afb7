"""Launch-to-impact pairing: a launch and a later impact whose distance and time difference
fit one weapon class's range and time of flight become one firing with an origin, an impact
and a weapon class.

Candidates are all (launch, impact) pairs with the impact 0-120 s after the launch and within
the longest range. Each candidate is scored, per weapon class, by the log-likelihood of its
time of flight (Gaussian, the class's relative spread plus the localisation timing error)
plus a log prior favouring fire across the line; the best class names the weapon. Pairs are
then chosen greedily by score (best first), each launch and each impact at most once, with
ties broken by event index, so the result is deterministic.

>>> import numpy as np
>>> pairs = pair_events(np.array([0.0]), np.array([0.0]), np.array([10.0]),
...                     np.array([0.0]), np.array([-16_000.0]), np.array([60.0]))
>>> pairs.launch.tolist(), pairs.impact.tolist(), pairs.weapon.tolist()
([0], [0], ['artillery_ge100'])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from ..weapons import FIRING_CLASSES, WEAPONS

__all__ = ["Pairs", "pair_events"]

FloatArray = NDArray[np.float64]
MAX_TOF_S = 120.0
GATE = 3.5  # largest |z| of the time of flight accepted for a class


@dataclass
class Pairs:
    launch: NDArray[np.int64]
    impact: NDArray[np.int64]
    weapon: NDArray[np.str_]
    tof_z: FloatArray  # normalised time-of-flight residual for the chosen class


def pair_events(
    lx: FloatArray,
    ly: FloatArray,
    lt: FloatArray,
    ix: FloatArray,
    iy: FloatArray,
    it: FloatArray,
    *,
    same_side: NDArray[np.bool_] | None = None,
    timing_sigma_s: float = 0.5,
) -> Pairs:
    """Pair launches (``lx, ly, lt``) with impacts (``ix, iy, it``); metres and seconds.

    ``same_side[i, j]`` (optional, dense or None) marks pairs whose impact lies on the
    launch's own side of the line; they are allowed but scored down (short rounds happen).
    """
    empty = Pairs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.str_), np.zeros(0))
    if lx.size == 0 or ix.size == 0:
        return empty
    max_range = max(WEAPONS[w].max_range_m for w in FIRING_CLASSES) * 1.05
    tree_i = cKDTree(np.column_stack([ix, iy]))
    near = tree_i.query_ball_point(np.column_stack([lx, ly]), max_range)
    li = np.repeat(np.arange(lx.size), [len(n) for n in near]).astype(np.int64)
    ii = np.array([j for n in near for j in sorted(n)], dtype=np.int64)
    if ii.size == 0:
        return empty
    dt = it[ii] - lt[li]
    keep = (dt > 0.0) & (dt <= MAX_TOF_S)
    li, ii, dt = li[keep], ii[keep], dt[keep]
    dist = np.hypot(ix[ii] - lx[li], iy[ii] - ly[li])
    best_score = np.full(li.size, -np.inf)
    best_class = np.full(li.size, "unknown", dtype=object)
    best_z = np.full(li.size, np.inf)
    for w in FIRING_CLASSES:
        wp = WEAPONS[w]
        expected = dist / wp.ground_speed_ms
        sd = np.hypot(wp.tof_rel_sigma * expected, timing_sigma_s)
        z = (dt - expected) / sd
        in_range = (dist >= wp.min_range_m * 0.95) & (dist <= wp.max_range_m * 1.05)
        # log-likelihood of the time of flight and of the range (uniform over the class's span)
        score = -0.5 * z**2 - np.log(sd) - np.log(wp.max_range_m - wp.min_range_m)
        score = np.where(in_range & (np.abs(z) <= GATE), score, -np.inf)
        better = score > best_score
        best_score = np.where(better, score, best_score)
        best_class = np.where(better, w, best_class)
        best_z = np.where(better, z, best_z)
    ok = np.isfinite(best_score)
    li, ii, best_score, best_class, best_z = (
        li[ok],
        ii[ok],
        best_score[ok],
        best_class[ok],
        best_z[ok],
    )
    if same_side is not None and li.size:
        best_score = best_score - 3.0 * same_side[li, ii]
    order = np.lexsort((ii, li, -best_score))
    taken_l = np.zeros(lx.size, bool)
    taken_i = np.zeros(ix.size, bool)
    out_l, out_i, out_w, out_z = [], [], [], []
    for k in order:
        a, b = li[k], ii[k]
        if taken_l[a] or taken_i[b]:
            continue
        taken_l[a] = taken_i[b] = True
        out_l.append(a)
        out_i.append(b)
        out_w.append(best_class[k])
        out_z.append(best_z[k])
    return Pairs(
        np.array(out_l, dtype=np.int64),
        np.array(out_i, dtype=np.int64),
        np.array(out_w, dtype=np.str_),
        np.array(out_z, dtype=float),
    )
