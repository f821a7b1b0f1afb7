"""Which arrival of an event is an outlier: the test of its worst residual.

A pick made on a later arrival (an echo, a second phase) or by a clock that jumped is off by
tens to hundreds of milliseconds. The chi-square test of the whole fit spreads one such pick
over every degree of freedom: among ten arrivals a pick 60 ms late, with 10 ms noise, moves
the source instead of failing the fit, and the stated uncertainty never learns of it. The
worst arrival is therefore also tested on its own, as the statistics of regression do: its
residual over its noise, corrected for the share of it the fit itself absorbed (the
leverage, taken here as its mean, ``k / n``), and over the scatter of the *other* arrivals
where they fit worse than their noise (the externally studentised residual, so a noise that
was understated does not make every arrival look stray), against the normal quantile that
allows one false rejection in ``1 / p`` events whatever their number of arrivals
(Bonferroni).

>>> import numpy as np
>>> z = np.array([[0.5, -1.0, 0.8, 0.3, -0.6, 1.1, -0.4, 0.2, 0.9, 6.0]])
>>> mask = np.ones_like(z, bool)
>>> bool(worst_is_outlier(np.abs(z), mask, (z**2).sum(1), min_picks=4)[0])
True
>>> bool(worst_is_outlier(np.abs(z[:, :9]), mask[:, :9], (z[:, :9]**2).sum(1), min_picks=4)[0])
False
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2, norm

__all__ = ["PICK_OUTLIER_P", "failing", "worst_is_outlier"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: the share of events in which a good arrival may be dropped as an outlier
PICK_OUTLIER_P = 0.01
#: the unknowns of a fit (position east and north, emission time)
UNKNOWNS = 3


def worst_is_outlier(
    z: FloatArray, mask: BoolArray, cost: FloatArray, min_picks: int, p: float = PICK_OUTLIER_P
) -> BoolArray:
    """For each event (row), whether its worst arrival fails the studentised residual test.

    ``z`` (E, K) are the arrivals' absolute residuals over their noise, ``mask`` which are
    used, ``cost`` (E,) the fit's chi-square. Events with no more than ``min_picks``
    arrivals are never tested (nothing could be dropped)."""
    n = mask.sum(1)
    worst = np.where(mask, z, -1.0).max(1)
    free = np.maximum(n - UNKNOWNS - 1, 1)
    others = np.maximum((cost - worst**2) / free, 1.0)  # never less noise than stated
    absorbed = np.sqrt(np.clip(1.0 - UNKNOWNS / np.maximum(n, 1), 0.05, 1.0))
    t = worst / absorbed / np.sqrt(others)
    limit = norm.isf(p / (2.0 * np.maximum(n, 1)))
    return np.asarray((n > min_picks) & (n > UNKNOWNS + 1) & (t > limit), bool)


def failing(
    z: FloatArray, mask: BoolArray, cost: FloatArray, min_picks: int, p_outlier: float
) -> BoolArray:
    """The events whose whole fit fails the chi-square test at ``p_outlier`` (with more than
    ``min_picks`` arrivals), or whose worst arrival fails on its own (a pick made late)."""
    n = mask.sum(1)
    limit = chi2.isf(p_outlier, np.maximum(n - 3, 1))
    bad = ((cost > limit) & (n > min_picks)) | worst_is_outlier(z, mask, cost, min_picks)
    return np.asarray(bad, bool)
