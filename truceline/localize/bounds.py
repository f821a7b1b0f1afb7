"""Cramér-Rao lower bounds: the best accuracy any unbiased estimator can reach for a geometry.

For time-of-arrival noise σᵢ at sensor i and an unknown emission time, the position is fixed
by the time *differences* to a reference sensor 1. With range differences
dᵢ − d₁ (i = 2..n), their Jacobian G (rows uᵢ − u₁, uᵢ the unit vector from sensor i to the
source) and their covariance Q = c²(diag(σᵢ²) + σ₁²·11ᵀ) (for equal σ: c²σ²(I + 11ᵀ)),

    CRLB = (Gᵀ Q⁻¹ G)⁻¹   (2x2, m²).

Reported beside each estimate, √trace(CRLB) is the physical limit of its accuracy: an
estimator that reaches it is as good as the geometry allows; one far above it is not.

>>> import numpy as np
>>> px = np.array([[-5e3, 5e3, 5e3, -5e3]]); py = np.array([[-5e3, -5e3, 5e3, 5e3]])
>>> b = crlb(px, py, np.zeros_like(px), np.array([0.0]), np.array([0.0]),
...          np.full_like(px, 340.0), np.full_like(px, 0.01), np.ones_like(px, bool))
>>> round(float(np.sqrt(np.trace(b[0]))), 2)  # metres, centre of a 10 km square, 10 ms picks
3.4
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["crlb"]

FloatArray = NDArray[np.float64]


def crlb(
    px: FloatArray,
    py: FloatArray,
    pz: FloatArray,
    x: FloatArray,
    y: FloatArray,
    c: FloatArray,
    sigma: FloatArray,
    mask: NDArray[np.bool_],
    source_z: FloatArray | None = None,
) -> FloatArray:
    """CRLB (E, 2, 2) of each event's position from padded (E, K) arrays; the first valid
    pick of each row is the reference. NaN where fewer than three sensors."""
    e = px.shape[0]
    zs = (
        np.where(mask, pz, 0.0).sum(1) / np.maximum(mask.sum(1), 1)
        if source_z is None
        else source_z
    )
    dx, dy = x[:, None] - px, y[:, None] - py
    d = np.maximum(np.sqrt(dx * dx + dy * dy + (zs[:, None] - pz) ** 2), 1e-3)
    ux, uy = dx / d, dy / d
    ref = np.argmax(mask, axis=1)
    rows = np.arange(e)
    others = mask.copy()
    others[rows, ref] = False
    g = np.stack([ux - ux[rows, ref][:, None], uy - uy[rows, ref][:, None]], -1)  # (E, K, 2)
    cbar = np.where(mask, c, 0.0).sum(1) / np.maximum(mask.sum(1), 1)
    var = (cbar[:, None] * sigma) ** 2  # range variance per sensor
    dinv = np.where(others, 1.0 / np.maximum(var, 1e-300), 0.0)
    s1 = var[rows, ref]
    # Sherman-Morrison: Q⁻¹ = D⁻¹ − s₁ D⁻¹11ᵀD⁻¹ / (1 + s₁ Σ D⁻¹)
    gd = g * dinv[..., None]  # D⁻¹G
    ftd = np.einsum("ekp,ekq->epq", g, gd)  # GᵀD⁻¹G
    v = gd.sum(axis=1)  # GᵀD⁻¹1
    fisher = ftd - (s1 / (1.0 + s1 * dinv.sum(1)))[:, None, None] * np.einsum("ep,eq->epq", v, v)
    out = np.full((e, 2, 2), np.nan)
    ok = (mask.sum(1) >= 3) & (np.abs(np.linalg.det(fisher)) > 0)
    out[ok] = np.linalg.inv(fisher[ok])
    return out
