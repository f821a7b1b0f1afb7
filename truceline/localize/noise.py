"""How noisy the arrivals really are: the network measures it, as it measures its wind.

Each event's ellipse is the bound for the timing noise the analysis assumes (the sensors'
stated pick noise and a model error). How well the arrivals fit says how right that was:
the fit's chi-square over its degrees of freedom is, on average, the ratio of the true
noise variance to the assumed one. One event of six arrivals (three degrees of freedom)
tells it badly: for a noise stated exactly, its chi-square per degree of freedom lies
anywhere between 0.07 and 3.1 (95 % of the time), so it is not used alone. The events of one window of time and space (those that share a wind
window) are pooled, and each event's own ratio is moderated towards its window's, by the
degrees of freedom of each (an empirical Bayes estimate of a variance, as in the analysis
of many small experiments, Smyth 2004): an event whose arrivals fit worse than its
window's keeps its own ratio (an arrival no outlier test could single out may be why),
while a window whose arrivals fit better than assumed narrows its events' ellipses, though
never below the bound of the pick noise alone.

The degrees of freedom are the effective ones: the arrivals less the position and time
less the share of the wind the arrivals (not its prior) determined, so that a wind fitted
to the arrivals does not make them look quieter than they are.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> dof = np.full(400, 6.0)
>>> chi2 = 0.5 * rng.chisquare(6, 400)  # the arrivals fit twice as well as assumed
>>> s = noise_scale(chi2, dof, np.zeros(400), np.zeros(400), np.zeros(400))
>>> bool(0.4 < np.median(s) < 0.65), bool(s.min() > 0.2)
(True, True)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

# the arrivals' noise is pooled over the windows of time and space of the winds
from .wind_field import CELL_M, WINDOW_S

__all__ = ["noise_scale"]

FloatArray = NDArray[np.float64]

#: the weight, in degrees of freedom, of the assumption that the stated noise is right: a
#: window needs several times this many before it can say otherwise
PRIOR_DOF = 60.0
#: the weight, in degrees of freedom, of an event's window when moderating its own ratio
WINDOW_DOF = 10.0
#: events with fewer degrees of freedom than this do not tell their window's noise
MIN_DOF = 2.0


def noise_scale(
    chi2: FloatArray, dof: FloatArray, t0: FloatArray, x: FloatArray, y: FloatArray
) -> FloatArray:
    """The factor (E,) by which each event's covariance is scaled: its own chi-square per
    degree of freedom moderated towards its window's pooled one, which is itself moderated
    towards 1 (the noise as stated) by ``PRIOR_DOF``. ``dof`` are effective degrees of
    freedom (they may be fractional); an event with none gets its window's ratio."""
    chi2 = np.nan_to_num(np.asarray(chi2, float), nan=0.0, posinf=0.0)
    dof = np.nan_to_num(np.maximum(np.asarray(dof, float), 0.0))
    telling = dof >= MIN_DOF
    key = np.stack(
        [
            np.floor(np.nan_to_num(t0) / WINDOW_S),
            np.floor(np.nan_to_num(x) / CELL_M),
            np.floor(np.nan_to_num(y) / CELL_M),
        ],
        1,
    )
    _, label = np.unique(key, axis=0, return_inverse=True)
    label = label.ravel()
    cells = int(label.max()) + 1 if label.size else 0
    sum_chi2 = np.bincount(label, weights=np.where(telling, chi2, 0.0), minlength=cells)
    sum_dof = np.bincount(label, weights=np.where(telling, dof, 0.0), minlength=cells)
    window = (sum_chi2 + PRIOR_DOF) / (sum_dof + PRIOR_DOF)
    own = np.where(telling, chi2, 0.0)
    weight = np.where(telling, dof, 0.0)
    moderated = (own + WINDOW_DOF * window[label]) / (weight + WINDOW_DOF)
    # an event that fits worse than its window keeps its own ratio in full (an arrival the
    # outlier tests could not single out may be the cause): the window only ever reassures
    ratio = np.where(telling, own / np.maximum(weight, 1e-9), 0.0)
    return np.asarray(np.maximum(moderated, ratio), float)
