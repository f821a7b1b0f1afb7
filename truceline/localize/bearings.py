"""Bearing fixes for patrol reports.

- :func:`range_bearing_fix`: one observer with a bearing and a distance range. The event lies
  on an arc; we return its centre and a covariance whose along-range axis is the range
  interval (uniform, so σ = width/√12) and whose cross-range axis is the arc
  (σ = mid-range × σ_bearing). The Gaussian is a first approximation of the arc-shaped region;
  fusion gates with it and never treats it as a point.
- :func:`stansfield_fix`: several observers' bearings on one event, Stansfield's weighted
  least squares (1947): minimise Σ (d_i sin(θ_i - φ_i))² / (d_i σ_i)² linearised about an
  estimate, iterated; covariance (AᵀWA)⁻¹.

Bearings are degrees clockwise from true north; positions are metres (x east, y north).

>>> import numpy as np
>>> x, y, cov = stansfield_fix(np.array([0.0, 10_000.0]), np.array([0.0, 0.0]),
...                            np.array([45.0, 315.0]), np.array([2.0, 2.0]))
>>> round(float(x)), round(float(y))
(5000, 5000)
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["bearing_residual_deg", "range_bearing_fix", "stansfield_fix"]

FloatArray = NDArray[np.float64]


def range_bearing_fix(
    ox: FloatArray,
    oy: FloatArray,
    bearing_deg: FloatArray,
    sigma_deg: FloatArray,
    d_min: FloatArray,
    d_max: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Centre ``(x, y)`` and ``(N, 2, 2)`` covariance of range-and-bearing reports (vectorised)."""
    theta = np.radians(bearing_deg)
    mid = (np.asarray(d_min, float) + np.asarray(d_max, float)) / 2.0
    ux, uy = np.sin(theta), np.cos(theta)
    x = ox + mid * ux
    y = oy + mid * uy
    s_along = np.maximum((np.asarray(d_max) - np.asarray(d_min)) / np.sqrt(12.0), 50.0)
    s_cross = np.maximum(mid * np.radians(sigma_deg), 50.0)
    u = np.stack([ux, uy], -1)
    v = np.stack([-uy, ux], -1)
    cov = (s_along**2)[:, None, None] * np.einsum("ni,nj->nij", u, u) + (s_cross**2)[
        :, None, None
    ] * np.einsum("ni,nj->nij", v, v)
    return x, y, cov


def bearing_residual_deg(
    ox: FloatArray | float,
    oy: FloatArray | float,
    bearing_deg: FloatArray | float,
    x: FloatArray,
    y: FloatArray,
) -> FloatArray:
    """Signed angle (degrees, -180..180) from a reported bearing to the direction of (x, y)."""
    toward = np.degrees(np.arctan2(x - ox, y - oy))
    return (toward - bearing_deg + 180.0) % 360.0 - 180.0


def stansfield_fix(
    ox: FloatArray,
    oy: FloatArray,
    bearing_deg: FloatArray,
    sigma_deg: FloatArray,
    iterations: int = 10,
) -> tuple[float, float, FloatArray]:
    """Stansfield's weighted least-squares fix from two or more bearings.

    Raises ``ValueError`` when the bearings are (nearly) parallel: no fix exists.
    """
    theta = np.radians(bearing_deg)
    sig = np.radians(sigma_deg)
    # Start: unweighted intersection of the bearing lines, n_i · p = n_i · o_i.
    normal = np.column_stack([np.cos(theta), -np.sin(theta)])
    rhs = normal[:, 0] * ox + normal[:, 1] * oy
    a0 = normal.T @ normal
    if np.linalg.cond(a0) > 1e8:
        raise ValueError("bearings are parallel: no fix")
    p = np.linalg.solve(a0, normal.T @ rhs)
    cov = np.full((2, 2), np.nan)
    for _ in range(iterations):
        d = np.maximum(np.hypot(p[0] - ox, p[1] - oy), 1.0)
        w = 1.0 / (d * sig) ** 2
        a = (normal * w[:, None]).T @ normal
        b = (normal * w[:, None]).T @ rhs
        new = np.linalg.solve(a, b)
        cov = np.linalg.inv(a)
        if np.hypot(*(new - p)) < 0.01:
            p = new
            break
        p = new
    return float(p[0]), float(p[1]), cov
