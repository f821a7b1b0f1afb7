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
from functools import cached_property

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from .closed_form import chan_ho, inv3
from .wind import refine_in_wind

__all__ = ["SOURCE_HEIGHT_M", "TdoaFit", "chan_ho", "locate", "sound_speed"]

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
    wind: FloatArray | None = None  # (E, 2) the wind each event's fit found (east, north)
    wind_cov: FloatArray | None = None  # (E, 2, 2)

    @cached_property
    def n_picks(self) -> NDArray[np.int64]:
        """Picks used per event (computed once: callers index it event by event)."""
        return np.asarray(self.mask.sum(axis=1), dtype=np.int64)


@dataclass
class _System:
    """Normal equations JᵀWJ (upper triangle) and JᵀWr of the TOA model, and the cost rᵀWr."""

    a11: FloatArray
    a12: FloatArray
    a13: FloatArray
    a22: FloatArray
    a23: FloatArray
    a33: FloatArray
    g1: FloatArray
    g2: FloatArray
    g3: FloatArray
    cost: FloatArray

    def where(self, keep: BoolArray, other: _System) -> _System:
        return _System(
            *(
                np.where(keep, a, b)
                for a, b in zip(self.__dict__.values(), other.__dict__.values(), strict=True)
            )
        )

    def position_info(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        """The 2x2 information of (x, y) with t0 eliminated (Schur complement)."""
        a33 = np.maximum(self.a33, 1e-300)
        return (
            self.a11 - self.a13**2 / a33,
            self.a12 - self.a13 * self.a23 / a33,
            self.a22 - self.a23**2 / a33,
        )


def _system(
    px: FloatArray,
    py: FloatArray,
    dz2: FloatArray,
    t: FloatArray,
    w: FloatArray,
    c: FloatArray,
    x: FloatArray,
    y: FloatArray,
    t0: FloatArray,
) -> _System:
    dx = x[:, None] - px
    dy = y[:, None] - py
    d = np.maximum(np.sqrt(dx * dx + dy * dy + dz2), 1e-3)
    dc = d * c
    jx = dx / dc
    jy = dy / dc
    r = t - t0[:, None] - d / c
    wjx = w * jx
    wjy = w * jy
    wr = w * r
    return _System(
        (wjx * jx).sum(1),
        (wjx * jy).sum(1),
        wjx.sum(1),
        (wjy * jy).sum(1),
        wjy.sum(1),
        w.sum(1),
        (wr * jx).sum(1),
        (wr * jy).sum(1),
        wr.sum(1),
        (wr * r).sum(1),
    )


def _step(s: _System, lam: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Solve (A + λ·diag(A)) δ = g for every event (Levenberg-Marquardt step)."""
    a = np.empty((s.a11.size, 3, 3))
    a[:, 0, 0] = s.a11 * (1 + lam)
    a[:, 1, 1] = s.a22 * (1 + lam)
    a[:, 2, 2] = s.a33 * (1 + lam)
    a[:, 0, 1] = a[:, 1, 0] = s.a12
    a[:, 0, 2] = a[:, 2, 0] = s.a13
    a[:, 1, 2] = a[:, 2, 1] = s.a23
    inv, _ = inv3(a)
    dx = inv[:, 0, 0] * s.g1 + inv[:, 0, 1] * s.g2 + inv[:, 0, 2] * s.g3
    dy = inv[:, 1, 0] * s.g1 + inv[:, 1, 1] * s.g2 + inv[:, 1, 2] * s.g3
    dt = inv[:, 2, 0] * s.g1 + inv[:, 2, 1] * s.g2 + inv[:, 2, 2] * s.g3
    bad = ~(np.isfinite(dx) & np.isfinite(dy) & np.isfinite(dt))
    return np.where(bad, 0.0, dx), np.where(bad, 0.0, dy), np.where(bad, 0.0, dt)


def _solve(
    px: FloatArray,
    py: FloatArray,
    dz2: FloatArray,
    t: FloatArray,
    w: FloatArray,
    c: FloatArray,
    x: FloatArray,
    y: FloatArray,
    iterations: int,
) -> tuple[FloatArray, FloatArray, FloatArray, _System, BoolArray]:
    """Levenberg-Marquardt over all events at once. ``w`` = 1/sigma², 0 where masked.

    Events leave the working set as soon as they converge, so a few slow ones do not make
    the whole batch iterate.
    """
    x, y = x.copy(), y.copy()
    d = np.sqrt((x[:, None] - px) ** 2 + (y[:, None] - py) ** 2 + dz2)
    t0 = (w * (t - d / c)).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-300)
    state = _system(px, py, dz2, t, w, c, x, y, t0)
    lam = np.full(x.shape, 1e-4)
    converged = np.zeros(x.shape, bool)
    act = np.arange(x.size)
    sub = state
    a_px, a_py, a_dz2, a_t, a_w, a_c = px, py, dz2, t, w, c
    for _ in range(iterations):
        sx, sy, st = _step(sub, lam[act])
        nx, ny, nt = x[act] + sx, y[act] + sy, t0[act] + st
        trial = _system(a_px, a_py, a_dz2, a_t, a_w, a_c, nx, ny, nt)
        better = trial.cost <= sub.cost * (1 + 1e-12) + 1e-300
        x[act] = np.where(better, nx, x[act])
        y[act] = np.where(better, ny, y[act])
        t0[act] = np.where(better, nt, t0[act])
        sub = trial.where(better, sub)
        done = better & (np.abs(sx) + np.abs(sy) < 1e-3)
        lam[act] = np.where(better, np.maximum(lam[act] * 0.1, 1e-9), lam[act] * 10.0)
        for name, value in sub.__dict__.items():
            getattr(state, name)[act] = value
        converged[act[done]] = True
        if done.all():
            break
        keep = ~done
        act = act[keep]
        sub = _System(*(v[keep] for v in sub.__dict__.values()))
        a_px, a_py, a_dz2, a_t, a_w, a_c = (a[keep] for a in (a_px, a_py, a_dz2, a_t, a_w, a_c))
    return x, y, t0, state, converged


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
    return np.asarray(np.sqrt(np.maximum(small, 0.0)) < ratio * np.sqrt(np.maximum(large, 1e-300)))


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
    sigma_pick: FloatArray | None = None,
    wind_mean: FloatArray | None = None,
    wind_sigma: FloatArray | None = None,
) -> TdoaFit:
    """Locate ``E`` events from padded ``(E, K)`` pick arrays (metres, seconds).

    ``x0, y0`` are starting positions (e.g. from association); without them the closed-form
    :func:`chan_ho` solution is the start. Picks whose normalised
    residual makes the fit's chi-square exceed its ``1 - p_outlier`` quantile are dropped,
    worst first, while more than ``min_picks`` remain.

    ``crlb`` is the Cramér-Rao bound at the estimate for timing noise ``sigma_pick`` (the
    pick noise alone, when ``sigma`` also carries a model error); without it, ``sigma``: the
    still-air bound.

    With ``wind_mean`` (E, 2) and ``wind_sigma`` (E,), each event is then solved again with
    the wind as two more unknowns with that prior (:func:`truceline.localize.wind.refine_in_wind`):
    the position and ``cov`` account for the wind (the bound with the wind's uncertainty).
    """
    fit = _locate_still(
        px, py, pz, t, sigma, c, mask, x0, y0, min_picks, p_outlier, iterations, sigma_pick
    )
    if wind_mean is None or wind_sigma is None or fit.x.size == 0:
        return fit
    zmean = np.where(fit.mask, pz, 0.0).sum(1) / np.maximum(fit.mask.sum(1), 1)
    dz2 = (pz - (zmean + SOURCE_HEIGHT_M)[:, None]) ** 2
    wf = refine_in_wind(
        px, py, dz2, t, sigma, c, fit.mask, fit.x, fit.y, fit.t0, wind_mean, wind_sigma
    )
    cov = wf.cov.copy()
    cov[fit.ill_conditioned] = np.nan
    keep = np.isfinite(wf.x) & np.isfinite(wf.y)
    return TdoaFit(
        x=np.where(keep, wf.x, fit.x),
        y=np.where(keep, wf.y, fit.y),
        t0=np.where(keep, wf.t0, fit.t0),
        cov=np.where(keep[:, None, None], cov, fit.cov),
        chi2=np.where(keep, wf.cost, fit.chi2),
        dof=fit.dof,
        mask=fit.mask,
        rejected=fit.rejected,
        ill_conditioned=fit.ill_conditioned,
        converged=fit.converged,
        crlb=fit.crlb,
        wind=np.where(keep[:, None], wf.wind, np.nan),
        wind_cov=wf.wind_cov,
    )


def _locate_still(
    px: FloatArray,
    py: FloatArray,
    pz: FloatArray,
    t: FloatArray,
    sigma: FloatArray,
    c: FloatArray,
    mask: BoolArray,
    x0: FloatArray | None,
    y0: FloatArray | None,
    min_picks: int,
    p_outlier: float,
    iterations: int,
    sigma_pick: FloatArray | None,
) -> TdoaFit:
    """Still air: every event, in buckets of similar size for large batches."""
    e, k = mask.shape
    n = mask.sum(1)
    if e < 1024 or k <= 8:
        return _locate_padded(
            px,
            py,
            pz,
            t,
            sigma,
            c,
            mask,
            x0,
            y0,
            min_picks=min_picks,
            p_outlier=p_outlier,
            iterations=iterations,
            sigma_pick=sigma_pick,
        )
    # Events heard by few sensors need few columns: solve them in buckets of similar size,
    # each with its own padding (the answer is the same, the work is less).
    order = np.argsort(~mask, axis=1, kind="stable")  # valid columns first, in their order
    edges = np.unique(np.quantile(n, [0.0, 0.5, 0.8, 1.0]).astype(int))
    parts: list[tuple[NDArray[np.int64], NDArray[np.int64], TdoaFit]] = []
    lo = -1
    for hi in edges[1:] if edges.size > 1 else edges:
        rows = np.flatnonzero((n > lo) & (n <= hi))
        lo = hi
        if rows.size == 0:
            continue
        cols = order[rows, : max(int(n[rows].max()), 1)]
        r = rows[:, None]
        fit = _locate_padded(
            px[r, cols],
            py[r, cols],
            pz[r, cols],
            t[r, cols],
            sigma[r, cols],
            c[r, cols],
            mask[r, cols],
            None if x0 is None else x0[rows],
            None if y0 is None else y0[rows],
            min_picks=min_picks,
            p_outlier=p_outlier,
            iterations=iterations,
            sigma_pick=None if sigma_pick is None else sigma_pick[r, cols],
        )
        parts.append((rows, cols, fit))
    return _scatter(parts, e, k)


def _scatter(
    parts: list[tuple[NDArray[np.int64], NDArray[np.int64], TdoaFit]], e: int, k: int
) -> TdoaFit:
    """Put the buckets' results back in the original row and column order."""
    out = TdoaFit(
        x=np.zeros(e),
        y=np.zeros(e),
        t0=np.zeros(e),
        cov=np.zeros((e, 2, 2)),
        chi2=np.zeros(e),
        dof=np.zeros(e, np.int64),
        mask=np.zeros((e, k), bool),
        rejected=np.zeros((e, k), bool),
        ill_conditioned=np.zeros(e, bool),
        converged=np.zeros(e, bool),
        crlb=np.zeros((e, 2, 2)),
    )
    for rows, cols, fit in parts:
        for name in ("x", "y", "t0", "cov", "chi2", "dof", "ill_conditioned", "converged", "crlb"):
            getattr(out, name)[rows] = getattr(fit, name)
        r = rows[:, None]
        out.mask[r, cols] = fit.mask
        out.rejected[r, cols] = fit.rejected
    return out


def _locate_padded(
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
    sigma_pick: FloatArray | None = None,
) -> TdoaFit:
    """Solve one padded batch (see :func:`locate`)."""
    mask = mask.copy()
    rejected = np.zeros_like(mask)
    zmean = np.where(mask, pz, 0.0).sum(1) / np.maximum(mask.sum(1), 1)
    dz2 = (pz - (zmean + SOURCE_HEIGHT_M)[:, None]) ** 2
    w = 1.0 / np.maximum(sigma, 1e-6) ** 2
    x, y = _start(px, py, t, c, mask, x0, y0)
    w = np.where(mask, w, 0.0)
    active = np.ones(x.shape, bool)
    t0 = np.zeros_like(x)
    state: _System | None = None
    converged = np.zeros(x.shape, bool)
    for _ in range(max(1, int(mask.shape[1]) - min_picks + 1)):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        every = idx.size == x.size
        sl = slice(None) if every else idx
        sx, sy, st0, sub_state, sconv = _solve(
            px[sl], py[sl], dz2[sl], t[sl], w[sl], c[sl], x[sl], y[sl], iterations
        )
        x[sl], y[sl], t0[sl], converged[sl] = sx, sy, st0, sconv
        if state is None:
            state = sub_state
        else:
            for name, value in sub_state.__dict__.items():
                getattr(state, name)[idx] = value
        n = mask[sl].sum(1)
        limit = chi2.isf(p_outlier, np.maximum(n - 3, 1))
        bad = (sub_state.cost > limit) & (n > min_picks)
        if not bad.any():
            break
        sub = idx[bad]
        d = np.sqrt((x[sub, None] - px[sub]) ** 2 + (y[sub, None] - py[sub]) ** 2 + dz2[sub])
        z = np.abs(t[sub] - t0[sub, None] - d / c[sub]) * np.sqrt(w[sub])
        worst = np.argmax(np.where(mask[sub], z, -1.0), axis=1)  # the worst pick goes
        mask[sub, worst], w[sub, worst], rejected[sub, worst] = False, 0.0, True
        active[:] = False
        active[sub] = True
    assert state is not None
    cov, ill = _position_covariance(state)
    ill |= _collinear(px, py, mask)
    cov[ill] = np.nan
    if sigma_pick is None:
        bound = cov.copy()
    else:
        wp = np.where(mask, 1.0 / np.maximum(sigma_pick, 1e-6) ** 2, 0.0)
        bound, _ = _position_covariance(_system(px, py, dz2, t, wp, c, x, y, t0))
        bound[ill] = np.nan
    return TdoaFit(
        crlb=bound,
        x=x,
        y=y,
        t0=t0,
        cov=cov,
        chi2=state.cost,
        dof=(mask.sum(1) - 3).astype(np.int64),
        mask=mask,
        rejected=rejected,
        ill_conditioned=ill,
        converged=converged,
    )


def _start(
    px: FloatArray,
    py: FloatArray,
    t: FloatArray,
    c: FloatArray,
    mask: BoolArray,
    x0: FloatArray | None,
    y0: FloatArray | None,
) -> tuple[FloatArray, FloatArray]:
    """Starting positions: the given ones, else Chan-Ho's, else the sensors' centroid."""
    if x0 is None or y0 is None:
        x0, y0 = chan_ho(px, py, t, c, mask)
        bad = ~(np.isfinite(x0) & np.isfinite(y0))
        if bad.any():  # fall back to the centroid of the sensors
            n = np.maximum(mask.sum(1), 1)
            x0 = np.where(bad, np.where(mask, px, 0.0).sum(1) / n, x0)
            y0 = np.where(bad, np.where(mask, py, 0.0).sum(1) / n, y0)
    return np.asarray(x0, float).copy(), np.asarray(y0, float).copy()


def _position_covariance(state: _System) -> tuple[FloatArray, BoolArray]:
    """(E, 2, 2) covariance of (x, y) with t0 eliminated, and which geometries are degenerate."""
    p11, p12, p22 = state.position_info()
    det = p11 * p22 - p12 * p12
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.abs(p12) / np.sqrt(p11 * p22)
        cond = (1 + r) / (1 - r) * np.maximum(p11, p22) / np.minimum(p11, p22)
        cov = (
            np.stack([np.stack([p22, -p12], -1), np.stack([-p12, p11], -1)], -2)
            / det[:, None, None]
        )
    ill = ~np.isfinite(cond) | (cond > ILL_CONDITIONED) | (det <= 0) | (p11 <= 0) | (p22 <= 0)
    return cov, ill
