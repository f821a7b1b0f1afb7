"""Time-difference-of-arrival (TDOA) localisation of impulsive sounds, vectorised over events.

Every event is a source at an unknown position ``(x, y)`` that emitted at an unknown time
``t0``; sensor ``i`` at ``(px, py, pz)`` hears it at ``t_i = t0 + d_i / c_i + noise`` with
``d_i`` the 3-D distance and ``c_i`` the speed of sound at that sensor. :func:`locate`
solves all events at once by damped Gauss-Newton (Levenberg-Marquardt) on padded arrays
``(events, picks)``, weighting each pick by ``1/sigma_i``; the covariance of the position is
the 2x2 block of ``(JᵀWJ)⁻¹``. A residual chi-square test rejects the worst pick of any event
whose fit is implausible, one at a time, and the event is solved again.

Example: a source at the centre of a 10 km square array of four sensors.

>>> import numpy as np
>>> px = np.array([[-5e3, 5e3, 5e3, -5e3]]); py = np.array([[-5e3, -5e3, 5e3, 5e3]])
>>> d = np.hypot(px, py); c = np.full_like(px, 340.0)
>>> fit = locate(px, py, np.zeros_like(px), 100.0 + d / c, np.full_like(px, 0.01), c,
...              np.ones_like(px, bool), np.array([1000.0]), np.array([-800.0]))
>>> [round(float(v), 3) + 0.0 for v in (fit.x[0], fit.y[0], fit.t0[0])]
[0.0, 0.0, 100.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from .bounds import crlb

__all__ = ["SOURCE_HEIGHT_M", "TdoaFit", "locate", "sound_speed"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

SOURCE_HEIGHT_M = 0.0  # a source stands on the ground: height above the sensors' mean
ILL_CONDITIONED = 1e10  # condition number of the scaled JᵀWJ: geometry is degenerate


def sound_speed(temperature_c: FloatArray | float) -> FloatArray:
    """Speed of sound in dry air (m/s): c = 331.3·√(1 + T/273.15).

    >>> round(float(sound_speed(0.0)), 1)
    331.3
    """
    return 331.3 * np.sqrt(1.0 + np.asarray(temperature_c, float) / 273.15)


@dataclass
class TdoaFit:
    """Solutions for ``E`` events; ``mask`` says which picks were kept."""

    x: FloatArray
    y: FloatArray
    t0: FloatArray
    cov: FloatArray  # (E, 2, 2) position covariance, m²
    chi2: FloatArray
    dof: NDArray[np.int64]
    mask: BoolArray  # (E, K) picks used in the final fit
    rejected: BoolArray  # (E, K) picks dropped by the chi-square test
    ill_conditioned: BoolArray  # geometry cannot fix the position (e.g. collinear sensors)
    converged: BoolArray
    crlb: FloatArray  # (E, 2, 2) Cramér-Rao bound of the position at the estimate, m²

    @property
    def n_picks(self) -> NDArray[np.int64]:
        return self.mask.sum(axis=1)


def _solve(
    px: FloatArray,
    py: FloatArray,
    dz2: FloatArray,
    t: FloatArray,
    w: FloatArray,
    c: FloatArray,
    mask: BoolArray,
    x: FloatArray,
    y: FloatArray,
    iterations: int,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, BoolArray]:
    """Levenberg-Marquardt over all events at once. ``w`` = 1/sigma² (0 where masked)."""
    w = np.where(mask, w, 0.0)
    d = np.sqrt((x[:, None] - px) ** 2 + (y[:, None] - py) ** 2 + dz2)
    wsum = np.maximum(w.sum(axis=1), 1e-300)
    t0 = (w * (t - d / c)).sum(axis=1) / wsum
    lam = np.full(x.shape, 1e-3)
    converged = np.zeros(x.shape, bool)

    def cost(x_: FloatArray, y_: FloatArray, t0_: FloatArray) -> FloatArray:
        d_ = np.sqrt((x_[:, None] - px) ** 2 + (y_[:, None] - py) ** 2 + dz2)
        r_ = t - t0_[:, None] - d_ / c
        return (w * r_ * r_).sum(axis=1)

    current = cost(x, y, t0)
    eye = np.eye(3)
    for _ in range(iterations):
        d = np.sqrt((x[:, None] - px) ** 2 + (y[:, None] - py) ** 2 + dz2)
        d = np.maximum(d, 1e-3)
        r = t - t0[:, None] - d / c
        jac = np.stack(
            [(x[:, None] - px) / (d * c), (y[:, None] - py) / (d * c), np.ones_like(d)], -1
        )
        jtw = jac * w[..., None]
        a = np.einsum("ekp,ekq->epq", jtw, jac)
        g = np.einsum("ekp,ek->ep", jtw, r)
        diag = np.einsum("epp->ep", a)
        damped = a + (lam[:, None] * np.maximum(diag, 1e-12))[:, :, None] * eye
        try:
            step = np.linalg.solve(damped, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(damped.reshape(-1, 3), g.reshape(-1), rcond=None)[0].reshape(
                g.shape
            )
        nx, ny, nt = x + step[:, 0], y + step[:, 1], t0 + step[:, 2]
        trial = cost(nx, ny, nt)
        better = trial <= current
        x = np.where(better, nx, x)
        y = np.where(better, ny, y)
        t0 = np.where(better, nt, t0)
        small = np.hypot(step[:, 0], step[:, 1]) < 1e-3
        converged |= better & small
        current = np.where(better, trial, current)
        lam = np.where(better, lam * 0.3, lam * 10.0)
        if converged.all():
            break
    d = np.maximum(np.sqrt((x[:, None] - px) ** 2 + (y[:, None] - py) ** 2 + dz2), 1e-3)
    jac = np.stack([(x[:, None] - px) / (d * c), (y[:, None] - py) / (d * c), np.ones_like(d)], -1)
    fisher = np.einsum("ekp,ekq->epq", jac * w[..., None], jac)
    return x, y, t0, fisher, current, converged


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
    g = -np.stack([xs, ys, r], -1)  # (E, K, 3)
    h = 0.5 * (r**2 - xs**2 - ys**2)
    v = valid.astype(float)
    m = v.sum(1)

    def wls(scale: FloatArray) -> tuple[FloatArray, FloatArray]:
        # W = B⁻¹ (I + 11ᵀ)⁻¹ B⁻¹ on the valid rows, B = diag(scale)
        bi = np.where(valid, 1.0 / np.maximum(scale, 1e-9), 0.0)
        gb, hb = g * bi[..., None], h * bi
        sg, sh = gb.sum(1), hb.sum(1)
        k = 1.0 / (1.0 + m)
        a = np.einsum("ekp,ekq->epq", gb, gb) - k[:, None, None] * np.einsum("ep,eq->epq", sg, sg)
        b = np.einsum("ekp,ek->ep", gb, hb) - k[:, None] * sg * sh[:, None]
        a = a + np.eye(3) * 1e-12 * np.abs(a).max(axis=(1, 2), keepdims=True)
        return np.linalg.solve(a, b[..., None])[..., 0], a

    za, _ = wls(np.ones_like(px))
    dist = np.hypot(za[:, :1] - xs, za[:, 1:2] - ys)
    za, info = wls(dist)
    x, y = za[:, 0], za[:, 1]
    # stage 2: (x - x1)², (y - y1)², r1² are all functions of (x, y)
    with np.errstate(all="ignore"):
        cov_a = np.linalg.inv(info)
        bp = np.stack([za[:, 0], za[:, 1], za[:, 2]], -1)
        psi = 4.0 * bp[:, :, None] * cov_a * bp[:, None, :]
        gp = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
        hp = bp**2
        psi_inv = np.linalg.pinv(psi)
        a2 = np.einsum("ip,eij,jq->epq", gp, psi_inv, gp)
        b2 = np.einsum("ip,eij,ej->ep", gp, psi_inv, hp)
        z2 = np.linalg.solve(a2 + np.eye(2) * 1e-18, b2[..., None])[..., 0]
        x2 = np.sign(x) * np.sqrt(np.abs(z2[:, 0]))
        y2 = np.sign(y) * np.sqrt(np.abs(z2[:, 1]))
    better = (
        np.isfinite(x2) & np.isfinite(y2) & (np.hypot(x2 - x, y2 - y) < 0.1 * np.hypot(x, y) + 50)
    )
    x = np.where(better, x2, x)
    y = np.where(better, y2, y)
    return x + x1, y + y1


def _collinear(px: FloatArray, py: FloatArray, mask: BoolArray, ratio: float = 0.02) -> BoolArray:
    """Sensors (nearly) on one line: the source and its mirror image fit equally well."""
    n = np.maximum(mask.sum(1), 1)
    mx = np.where(mask, px, 0.0).sum(1) / n
    my = np.where(mask, py, 0.0).sum(1) / n
    dx = np.where(mask, px - mx[:, None], 0.0)
    dy = np.where(mask, py - my[:, None], 0.0)
    sxx, syy, sxy = (dx * dx).sum(1), (dy * dy).sum(1), (dx * dy).sum(1)
    half_tr = (sxx + syy) / 2
    root = np.sqrt(np.maximum(half_tr**2 - (sxx * syy - sxy**2), 0.0))
    small, large = half_tr - root, half_tr + root
    return np.sqrt(np.maximum(small, 0.0)) < ratio * np.sqrt(np.maximum(large, 1e-300))


def locate(
    px: FloatArray,
    py: FloatArray,
    pz: FloatArray,
    t: FloatArray,
    sigma: FloatArray,
    c: FloatArray,
    mask: BoolArray,
    x0: FloatArray | None = None,
    y0: FloatArray | None = None,
    *,
    min_picks: int = 4,
    p_outlier: float = 1e-3,
    iterations: int = 25,
) -> TdoaFit:
    """Locate ``E`` events from padded ``(E, K)`` pick arrays (metres, seconds).

    ``x0, y0`` are starting positions (e.g. from association); without them the closed-form
    :func:`chan_ho` solution is the start. Picks whose normalised
    residual makes the fit's chi-square exceed its ``1 - p_outlier`` quantile are dropped,
    worst first, while more than ``min_picks`` remain.
    """
    mask = mask.copy()
    rejected = np.zeros_like(mask)
    zmean = np.where(mask, pz, 0.0).sum(1) / np.maximum(mask.sum(1), 1)
    dz2 = (pz - (zmean + SOURCE_HEIGHT_M)[:, None]) ** 2
    w = 1.0 / np.maximum(sigma, 1e-6) ** 2
    if x0 is None or y0 is None:
        x0, y0 = chan_ho(px, py, t, c, mask)
        bad = ~(np.isfinite(x0) & np.isfinite(y0))
        if bad.any():  # fall back to the centroid of the sensors
            n = np.maximum(mask.sum(1), 1)
            x0 = np.where(bad, np.where(mask, px, 0.0).sum(1) / n, x0)
            y0 = np.where(bad, np.where(mask, py, 0.0).sum(1) / n, y0)
    x, y = np.asarray(x0, float).copy(), np.asarray(y0, float).copy()
    active = np.ones(x.shape, bool)
    t0 = np.zeros_like(x)
    fisher = np.zeros((x.size, 3, 3))
    cost = np.zeros_like(x)
    converged = np.zeros(x.shape, bool)
    for _ in range(max(1, int(mask.shape[1]) - min_picks + 1)):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        sx, sy, st0, sf, sc, sconv = _solve(
            px[idx],
            py[idx],
            dz2[idx],
            t[idx],
            w[idx],
            c[idx],
            mask[idx],
            x[idx],
            y[idx],
            iterations,
        )
        x[idx], y[idx], t0[idx], fisher[idx], cost[idx], converged[idx] = sx, sy, st0, sf, sc, sconv
        n = mask[idx].sum(1)
        dof = n - 3
        limit = chi2.isf(p_outlier, np.maximum(dof, 1))
        bad = (sc > limit) & (n > min_picks)
        if not bad.any():
            break
        sub = idx[bad]
        d = np.sqrt((x[sub, None] - px[sub]) ** 2 + (y[sub, None] - py[sub]) ** 2 + dz2[sub])
        z = np.abs(t[sub] - t0[sub, None] - d / c[sub]) * np.sqrt(w[sub])
        z = np.where(mask[sub], z, -1.0)
        worst = np.argmax(z, axis=1)
        mask[sub, worst] = False
        rejected[sub, worst] = True
        active[:] = False
        active[sub] = True
    scale = 1.0 / np.sqrt(np.maximum(np.einsum("epp->ep", fisher), 1e-300))
    cond = np.linalg.cond(fisher * scale[:, :, None] * scale[:, None, :])
    ill = ~np.isfinite(cond) | (cond > ILL_CONDITIONED) | _collinear(px, py, mask)
    cov = np.full((x.size, 2, 2), np.nan)
    ok = ~ill
    if ok.any():
        cov[ok] = np.linalg.inv(fisher[ok])[:, :2, :2]
    bound = crlb(px, py, pz, x, y, c, np.sqrt(1.0 / w), mask, source_z=zmean + SOURCE_HEIGHT_M)
    return TdoaFit(
        crlb=bound,
        x=x,
        y=y,
        t0=t0,
        cov=cov,
        chi2=cost,
        dof=(mask.sum(1) - 3).astype(np.int64),
        mask=mask,
        rejected=rejected,
        ill_conditioned=ill,
        converged=converged,
    )
