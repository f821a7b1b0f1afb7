"""Closed-form TDOA solutions: the starting point of the iterative solver
(:func:`truceline.localize.tdoa.locate`), and the 3x3 inverse both use."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["chan_ho", "inv3"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


def inv3(a: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Inverse of each symmetric-or-not (E, 3, 3) matrix by cofactors, and the determinants
    (much faster than a batched LAPACK call for 3x3; singular rows give inf/nan)."""
    c00 = a[:, 1, 1] * a[:, 2, 2] - a[:, 1, 2] * a[:, 2, 1]
    c01 = a[:, 1, 2] * a[:, 2, 0] - a[:, 1, 0] * a[:, 2, 2]
    c02 = a[:, 1, 0] * a[:, 2, 1] - a[:, 1, 1] * a[:, 2, 0]
    det = a[:, 0, 0] * c00 + a[:, 0, 1] * c01 + a[:, 0, 2] * c02
    adj = np.empty_like(a)
    adj[:, 0, 0] = c00
    adj[:, 1, 0] = c01
    adj[:, 2, 0] = c02
    adj[:, 0, 1] = a[:, 0, 2] * a[:, 2, 1] - a[:, 0, 1] * a[:, 2, 2]
    adj[:, 1, 1] = a[:, 0, 0] * a[:, 2, 2] - a[:, 0, 2] * a[:, 2, 0]
    adj[:, 2, 1] = a[:, 0, 1] * a[:, 2, 0] - a[:, 0, 0] * a[:, 2, 1]
    adj[:, 0, 2] = a[:, 0, 1] * a[:, 1, 2] - a[:, 0, 2] * a[:, 1, 1]
    adj[:, 1, 2] = a[:, 0, 2] * a[:, 1, 0] - a[:, 0, 0] * a[:, 1, 2]
    adj[:, 2, 2] = a[:, 0, 0] * a[:, 1, 1] - a[:, 0, 1] * a[:, 1, 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        return adj / det[:, None, None], det


def chan_ho(
    px: FloatArray, py: FloatArray, t: FloatArray, c: FloatArray, mask: BoolArray
) -> tuple[FloatArray, FloatArray]:
    """Closed-form TDOA positions (Chan & Ho 1994, 2-D), batched over events.

    Stage 1 solves the equations linearised by treating the range to the reference sensor
    (the first valid pick of each row) as a third unknown, by weighted least squares with
    the TDOA noise covariance (I + 11ᵀ), re-weighted once by the ranges it finds. Stage 2
    uses the relation between that range and the position to refine it; where stage 2 is
    ill-posed (the source on a sensor axis) the stage 1 answer is kept.

    >>> import numpy as np
    >>> px = np.array([[-5e3, 5e3, 5e3, -5e3, 0.0]]); py = np.array([[-5e3, -5e3, 5e3, 5e3, 8e3]])
    >>> t = np.hypot(px - 1200.0, py + 700.0) / 340.0 + 3.0
    >>> x, y = chan_ho(px, py, t, np.full_like(px, 340.0), np.ones_like(px, bool))
    >>> round(float(x[0]), 3), round(float(y[0]), 3)
    (1200.0, -700.0)
    """
    e = px.shape[0]
    rows = np.arange(e)
    ref = np.argmax(mask, axis=1)
    x1, y1, t1 = px[rows, ref], py[rows, ref], t[rows, ref]
    valid = mask.copy()
    valid[rows, ref] = False
    cbar = np.where(mask, c, 0.0).sum(1) / np.maximum(mask.sum(1), 1)
    xs, ys = px - x1[:, None], py - y1[:, None]
    r = cbar[:, None] * (t - t1[:, None])
    h = 0.5 * (r**2 - xs**2 - ys**2)
    k = 1.0 / (1.0 + valid.sum(1))
    cols = (-xs, -ys, -r)

    def wls(scale: FloatArray) -> tuple[FloatArray, FloatArray]:
        # weighted least squares with W = B⁻¹(I + 11ᵀ)⁻¹B⁻¹ on the valid rows, B = diag(scale);
        # (I + 11ᵀ)⁻¹ = I − 11ᵀ/(1 + m) (Sherman-Morrison)
        bi = np.where(valid, 1.0 / np.maximum(scale, 1e-9), 0.0)
        gb = [col * bi for col in cols]
        hb = h * bi
        sg = [v.sum(1) for v in gb]
        sh = hb.sum(1)
        a = np.empty((e, 3, 3))
        for i in range(3):
            for j in range(i, 3):
                a[:, i, j] = a[:, j, i] = (gb[i] * gb[j]).sum(1) - k * sg[i] * sg[j]
        b = np.stack([(gb[i] * hb).sum(1) - k * sg[i] * sh for i in range(3)], -1)
        inv, _ = inv3(a)
        return np.einsum("epq,eq->ep", inv, b), a

    za, _ = wls(np.ones_like(px))
    dist = np.hypot(za[:, :1] - xs, za[:, 1:2] - ys)
    za, info = wls(dist)
    x, y = za[:, 0], za[:, 1]
    # Stage 2: (x − x1)², (y − y1)² and r1² are all functions of (x, y). With B' = diag(za),
    # Ψ' = 4B'cov(za)B', so Ψ'⁻¹ = B'⁻¹·info·B'⁻¹ / 4 needs no inversion.
    with np.errstate(all="ignore"):
        pinv = info / (4.0 * za[:, :, None] * za[:, None, :])
        hp = za**2
        # G' = [[1, 0], [0, 1], [1, 1]]: (G'ᵀΨ'⁻¹G') and G'ᵀΨ'⁻¹h' written out
        a11 = pinv[:, 0, 0] + 2 * pinv[:, 0, 2] + pinv[:, 2, 2]
        a22 = pinv[:, 1, 1] + 2 * pinv[:, 1, 2] + pinv[:, 2, 2]
        a12 = pinv[:, 0, 1] + pinv[:, 0, 2] + pinv[:, 1, 2] + pinv[:, 2, 2]
        ph = np.einsum("eij,ej->ei", pinv, hp)
        b1, b2 = ph[:, 0] + ph[:, 2], ph[:, 1] + ph[:, 2]
        det = a11 * a22 - a12 * a12
        z1 = (a22 * b1 - a12 * b2) / det
        z2 = (a11 * b2 - a12 * b1) / det
        x2 = np.sign(x) * np.sqrt(np.abs(z1))
        y2 = np.sign(y) * np.sqrt(np.abs(z2))
    better = (
        np.isfinite(x2) & np.isfinite(y2) & (np.hypot(x2 - x, y2 - y) < 0.1 * np.hypot(x, y) + 50)
    )
    x = np.where(better, x2, x)
    y = np.where(better, y2, y)
    return x + x1, y + y1
