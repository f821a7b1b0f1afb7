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

from .closed_form import chan_ho
from .noise import noise_scale
from .outliers import failing
from .still_air import System, collinear, position_covariance, solve, start, system
from .wind import refine_rejecting

__all__ = ["SOURCE_HEIGHT_M", "TdoaFit", "chan_ho", "locate", "sound_speed"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

SOURCE_HEIGHT_M = 0.0  # a source stands on the ground: height above the sensors' mean


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
    in_wind = wind_mean is not None and wind_sigma is not None
    # in a wind the still-air fit is only the start: its outlier test would drop the picks
    # that tell the wind, so the test is done in the wind model instead
    fit = _locate_still(
        px,
        py,
        pz,
        t,
        sigma,
        c,
        mask,
        x0,
        y0,
        min_picks,
        0.0 if in_wind else p_outlier,
        iterations,
        sigma_pick,
    )
    if wind_mean is None or wind_sigma is None or fit.x.size == 0:
        return fit
    return _in_wind(
        fit, px, py, pz, t, sigma, c, sigma_pick, wind_mean, wind_sigma, min_picks, p_outlier
    )


def _in_wind(
    fit: TdoaFit,
    px: FloatArray,
    py: FloatArray,
    pz: FloatArray,
    t: FloatArray,
    sigma: FloatArray,
    c: FloatArray,
    sigma_pick: FloatArray | None,
    wind_mean: FloatArray,
    wind_sigma: FloatArray,
    min_picks: int,
    p_outlier: float,
) -> TdoaFit:
    """Every event solved again from its still-air fit with the wind as two more unknowns
    (outliers tested in the wind); the bound is the still-air one at the new position."""
    zmean = np.where(fit.mask, pz, 0.0).sum(1) / np.maximum(fit.mask.sum(1), 1)
    dz2 = (pz - (zmean + SOURCE_HEIGHT_M)[:, None]) ** 2
    wf, kept, rejected = refine_rejecting(
        px,
        py,
        dz2,
        t,
        sigma,
        c,
        fit.mask,
        fit.x,
        fit.y,
        fit.t0,
        wind_mean,
        wind_sigma,
        min_picks=min_picks,
        p_outlier=p_outlier,
    )
    keep = np.isfinite(wf.x) & np.isfinite(wf.y)
    x, y, t0 = (np.where(keep, a, b) for a, b in ((wf.x, fit.x), (wf.y, fit.y), (wf.t0, fit.t0)))
    mask = np.where(keep[:, None], kept, fit.mask)
    wp = np.where(
        mask, 1.0 / np.maximum(sigma if sigma_pick is None else sigma_pick, 1e-6) ** 2, 0.0
    )
    bound, ill = position_covariance(system(px, py, dz2, t, wp, c, x, y, t0))
    ill |= collinear(px, py, mask)
    bound[ill] = np.nan
    cov = np.where(keep[:, None, None], wf.cov, fit.cov)
    cov[ill] = np.nan
    chi2_ = np.where(keep, wf.cost, fit.chi2)
    dof = (mask.sum(1) - 3).astype(np.int64)
    # how well the arrivals fit says how noisy they were: each event's covariance is scaled
    # by its chi-square per degree of freedom moderated towards its window's (an event of
    # four arrivals cannot tell, and takes its window's), never below the pick noise's bound
    # (:mod:`truceline.localize.noise`). The wind's share of the degrees of freedom is what
    # the arrivals, not the prior, determined of it.
    prior = 1.0 / np.maximum(np.asarray(wind_sigma, float), 1e-3) ** 2
    wind_used = np.clip(2.0 - prior * np.trace(wf.wind_cov, axis1=1, axis2=2), 0.0, 2.0)
    effective = np.where(keep, mask.sum(1) - 3 - np.nan_to_num(wind_used, nan=2.0), dof)
    scale = noise_scale(chi2_, effective, t0, x, y)
    floor = np.trace(bound, axis1=1, axis2=2) / np.trace(cov, axis1=1, axis2=2)
    scale = np.maximum(scale, np.nan_to_num(floor, nan=0.0))
    cov = cov * np.nan_to_num(scale, nan=1.0)[:, None, None]
    return TdoaFit(
        x=x,
        y=y,
        t0=t0,
        cov=cov,
        chi2=chi2_,
        dof=dof,
        mask=mask,
        rejected=np.where(keep[:, None], rejected, fit.rejected),
        ill_conditioned=ill,
        converged=fit.converged,
        crlb=bound,
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
    x, y = start(px, py, t, c, mask, x0, y0)
    w = np.where(mask, w, 0.0)
    active = np.ones(x.shape, bool)
    t0 = np.zeros_like(x)
    state: System | None = None
    converged = np.zeros(x.shape, bool)
    for _ in range(max(1, int(mask.shape[1]) - min_picks + 1)):
        idx = np.flatnonzero(active)
        if idx.size == 0 and state is not None:  # (no events at all: solved once, empty)
            break
        every = idx.size == x.size
        sl = slice(None) if every else idx
        sx, sy, st0, sub_state, sconv = solve(
            px[sl], py[sl], dz2[sl], t[sl], w[sl], c[sl], x[sl], y[sl], iterations
        )
        x[sl], y[sl], t0[sl], converged[sl] = sx, sy, st0, sconv
        if state is None:
            state = sub_state
        else:
            for name, value in sub_state.__dict__.items():
                getattr(state, name)[idx] = value
        if p_outlier <= 0.0:
            break
        d = np.sqrt((x[sl, None] - px[sl]) ** 2 + (y[sl, None] - py[sl]) ** 2 + dz2[sl])
        z = np.abs(t[sl] - t0[sl, None] - d / c[sl]) * np.sqrt(w[sl])
        bad = failing(z, mask[sl], sub_state.cost, min_picks, p_outlier)
        if not bad.any():
            break
        sub = idx[bad]
        worst = np.argmax(np.where(mask[sub], z[bad], -1.0), axis=1)  # the worst pick goes
        mask[sub, worst], w[sub, worst], rejected[sub, worst] = False, 0.0, True
        active[:] = False
        active[sub] = True
    assert state is not None
    cov, ill = position_covariance(state)
    ill |= collinear(px, py, mask)
    cov[ill] = np.nan
    if sigma_pick is None:
        bound = cov.copy()
    else:
        wp = np.where(mask, 1.0 / np.maximum(sigma_pick, 1e-6) ** 2, 0.0)
        bound, _ = position_covariance(system(px, py, dz2, t, wp, c, x, y, t0))
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
