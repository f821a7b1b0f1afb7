"""Are the stated numbers honest? Reliability of probabilities and of uncertainty ellipses,
as :func:`truceline.evaluate.evaluate` reports them.

- A **reliability table** bins stated probabilities (0-0.1, ..., 0.9-1) and gives, per bin,
  how many were stated, their mean, and how often the thing happened: a probability is
  honest when the two agree in every bin with enough cases.
- An **ellipse test** counts how often the truth lies inside the stated 95 % ellipse
  (Mahalanobis distance² under the stated covariance ≤ 5.99): honest ellipses hold it 95 %
  of the time.

>>> table = reliability_table([0.05, 0.15, 0.92, 0.97], [False, False, True, True])
>>> table["0.9-1.0"]
{'n': 2, 'mean_p': 0.945, 'observed': 1.0}
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["CHI2_95_2DOF", "ellipse_share", "max_gap", "reliability_table"]

CHI2_95_2DOF = 5.991


def reliability_table(
    p: Sequence[float], happened: Sequence[bool], bins: int = 10
) -> dict[str, dict[str, float]]:
    """Stated probabilities ``p`` against what ``happened``, in ``bins`` equal bins."""
    pa = np.asarray(p, float)
    ha = np.asarray(happened, bool)
    out: dict[str, dict[str, float]] = {}
    which = np.minimum((pa * bins).astype(int), bins - 1)
    for b in range(bins):
        sel = which == b
        if not sel.any():
            continue
        out[f"{b / bins:.1f}-{(b + 1) / bins:.1f}"] = {
            "n": int(sel.sum()),
            "mean_p": round(float(pa[sel].mean()), 4),
            "observed": round(float(ha[sel].mean()), 4),
        }
    return out


def max_gap(table: dict[str, dict[str, float]], min_n: int = 100) -> float | None:
    """The largest |mean stated − observed| over the bins with at least ``min_n`` cases."""
    gaps = [abs(v["mean_p"] - v["observed"]) for v in table.values() if v["n"] >= min_n]
    return round(max(gaps), 4) if gaps else None


def ellipse_share(
    errors_xy: np.ndarray, covs: np.ndarray, chi2: float = CHI2_95_2DOF
) -> float | None:
    """Share of the truths (``errors_xy``: estimate − truth, (N, 2) m) inside the stated
    ellipses of covariance ``covs`` (N, 2, 2) at the chi-square level (95 % by default)."""
    ok = np.isfinite(covs).all(axis=(1, 2)) & (np.linalg.det(covs) > 0)
    if not ok.any():
        return None
    d2 = np.einsum("ni,nij,nj->n", errors_xy[ok], np.linalg.inv(covs[ok]), errors_xy[ok])
    return round(float(np.mean(d2 <= chi2)), 4)
