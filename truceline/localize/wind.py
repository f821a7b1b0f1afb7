"""Sound in moving air: the wind carries the sound, so its speed along each path is c + w·n
(n the unit vector from the source to the sensor). An unknown wind shifts every located
source downwind by about the wind speed times the travel time (150 m at 5 m/s and 30 s)
while the arrival times still fit: a fit that ignores it is confidently wrong.

:func:`refine_in_wind` solves each event again with the wind as two more unknowns with a
prior (from ``met`` observations when there are any, else a zero mean and a spread for the
air the network may meet): the position moves by what the arrivals say about the wind, and
its covariance is the marginal of the five unknowns (x, y, t0, wind east, wind north) — the
bound *with* the wind's uncertainty, not the still-air one.

>>> import numpy as np
>>> px = np.array([[-8e3, 8e3, 8e3, -8e3, 0.0, 0.0]]); py = np.array([[-8e3, -8e3, 8e3, 8e3, 11e3, -11e3]])
>>> w = np.array([4.0, 0.0]); c = 340.0
>>> d = np.hypot(px - 500.0, py - 200.0); n_x = (px - 500.0) / d; n_y = (py - 200.0) / d
>>> t = 10.0 + d / (c + w[0] * n_x + w[1] * n_y)
>>> fit = refine_in_wind(px, py, np.zeros_like(px), t, np.full_like(px, 0.01), np.full_like(px, c),
...     np.ones_like(px, bool), np.array([0.0]), np.array([0.0]), np.array([10.0]),
...     np.zeros((1, 2)), np.array([6.0]))
>>> err = float(np.hypot(fit.x[0] - 500.0, fit.y[0] - 200.0))
>>> sd = float(np.sqrt(np.trace(fit.cov[0])))  # stated 1-sigma, the wind's share included
>>> err < 2 * sd, round(float(fit.wind[0, 0]))  # six sensors tell the wind only roughly
(True, 3)
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.typing import NDArray

from .outliers import failing

__all__ = ["WindFit", "refine_in_wind", "refine_rejecting"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]


@dataclass(frozen=True)
class WindFit:
    x: FloatArray
    y: FloatArray
    t0: FloatArray
    wind: FloatArray  # (E, 2) east, north (m/s)
    cov: FloatArray  # (E, 2, 2) position covariance with t0 and the wind marginalised
    wind_cov: FloatArray  # (E, 2, 2)
    cost: FloatArray  # the arrivals' chi-square (without the prior's term)


def _model(
    px: FloatArray,
    py: FloatArray,
    dz2: FloatArray,
    c: FloatArray,
    x: FloatArray,
    y: FloatArray,
    wind: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Travel times, the distances, the effective speed c + w·n of each path, and the
    (unnormalised) vectors from the source to the sensors."""
    ex, ey = px - x[:, None], py - y[:, None]  # source -> sensor
    d = np.maximum(np.sqrt(ex * ex + ey * ey + dz2), 1e-3)
    ceff = c + (wind[:, :1] * ex + wind[:, 1:] * ey) / d
    return d / ceff, d, ceff, np.stack([ex, ey], -1)


def refine_in_wind(
    px: FloatArray,
    py: FloatArray,
    dz2: FloatArray,
    t: FloatArray,
    sigma: FloatArray,
    c: FloatArray,
    mask: BoolArray,
    x: FloatArray,
    y: FloatArray,
    t0: FloatArray,
    wind_mean: FloatArray,
    wind_sigma: FloatArray,
    iterations: int = 8,
) -> WindFit:
    """Levenberg-Marquardt over (x, y, t0, wind east, wind north) for every event at once,
    from the still-air solution (``x``, ``y``, ``t0``), with the prior N(``wind_mean``,
    ``wind_sigma``² I) on the wind. Padded (E, K) arrays as :func:`truceline.localize.tdoa.locate`
    takes them; ``sigma`` is each pick's timing standard deviation."""
    e = x.size
    w = np.where(mask, 1.0 / np.maximum(sigma, 1e-6) ** 2, 0.0)
    prior = 1.0 / np.maximum(np.asarray(wind_sigma, float), 1e-3) ** 2
    state = np.column_stack([x, y, t0, wind_mean])
    lam = np.full(e, 1e-3)

    def cost_of(s: FloatArray) -> FloatArray:
        travel, *_ = _model(px, py, dz2, c, s[:, 0], s[:, 1], s[:, 3:5])
        r = t - s[:, 2:3] - travel
        dw = s[:, 3:5] - wind_mean
        return np.asarray((w * r * r).sum(1) + prior * (dw * dw).sum(1), float)

    cost = cost_of(state)
    for _ in range(iterations):
        a, g = _normal_equations(px, py, dz2, t, w, c, state, wind_mean, prior)
        damped = a + lam[:, None, None] * np.eye(5) * np.diagonal(a, axis1=1, axis2=2)[:, :, None]
        ok = np.isfinite(damped).all(axis=(1, 2)) & (np.abs(np.linalg.det(damped)) > 0)
        step = np.zeros((e, 5))
        step[ok] = np.linalg.solve(damped[ok], g[ok][..., None])[..., 0]
        trial = state + step
        new = cost_of(trial)
        better = new <= cost
        state = np.where(better[:, None], trial, state)
        cost = np.where(better, new, cost)
        lam = np.where(better, np.maximum(lam * 0.3, 1e-7), lam * 10.0)
        if (np.abs(step[:, :2]).sum(1) < 1e-3).all():
            break
    a, _ = _normal_equations(px, py, dz2, t, w, c, state, wind_mean, prior)
    cov5 = np.full((e, 5, 5), np.nan)
    ok = np.isfinite(a).all(axis=(1, 2)) & (np.abs(np.linalg.det(a)) > 0)
    cov5[ok] = np.linalg.inv(a[ok])
    dw = state[:, 3:5] - wind_mean
    return WindFit(
        x=state[:, 0],
        y=state[:, 1],
        t0=state[:, 2],
        wind=state[:, 3:5],
        cov=cov5[:, :2, :2],
        wind_cov=cov5[:, 3:5, 3:5],
        cost=cost - prior * (dw * dw).sum(1),
    )


def refine_rejecting(
    px: FloatArray,
    py: FloatArray,
    dz2: FloatArray,
    t: FloatArray,
    sigma: FloatArray,
    c: FloatArray,
    mask: BoolArray,
    x: FloatArray,
    y: FloatArray,
    t0: FloatArray,
    wind_mean: FloatArray,
    wind_sigma: FloatArray,
    min_picks: int = 4,
    p_outlier: float = 1e-3,
) -> tuple[WindFit, BoolArray, BoolArray]:
    """:func:`refine_in_wind` with the chi-square outlier test done *in the wind*: while an
    event's arrivals fit worse than the ``1 - p_outlier`` quantile allows, its worst pick
    (by its residual in the wind model) is dropped and the event solved again, as long as
    more than ``min_picks`` remain. A still-air test would drop the very picks that tell the
    wind (those far up- and downwind), leaving arrivals that cannot see it. Returns the fit,
    the picks kept and the picks dropped."""
    mask = mask.copy()
    rejected = np.zeros_like(mask)
    fit = refine_in_wind(px, py, dz2, t, sigma, c, mask, x, y, t0, wind_mean, wind_sigma)
    active = np.ones(x.size, bool)
    for _ in range(max(1, int(mask.shape[1]) - min_picks + 1)):
        n = mask.sum(1)
        cand = np.flatnonzero(active & (n > min_picks) & np.isfinite(fit.x))
        if p_outlier <= 0.0 or cand.size == 0:
            break
        travel, *_ = _model(
            px[cand], py[cand], dz2[cand], c[cand], fit.x[cand], fit.y[cand], fit.wind[cand]
        )
        z = np.abs(t[cand] - fit.t0[cand, None] - travel) / np.maximum(sigma[cand], 1e-6)
        bad = failing(z, mask[cand], fit.cost[cand], min_picks, p_outlier)
        if not bad.any():
            break
        sub = cand[bad]
        worst = np.argmax(np.where(mask[sub], z[bad], -1.0), axis=1)
        mask[sub, worst], rejected[sub, worst] = False, True
        again = refine_in_wind(
            px[sub],
            py[sub],
            dz2[sub],
            t[sub],
            sigma[sub],
            c[sub],
            mask[sub],
            fit.x[sub],
            fit.y[sub],
            fit.t0[sub],
            wind_mean[sub],
            np.asarray(wind_sigma)[sub],
        )
        fit = _set_rows(fit, sub, again)
        active[:] = False
        active[sub] = True
    return fit, mask, rejected


def _set_rows(fit: WindFit, rows: NDArray[np.int64], part: WindFit) -> WindFit:
    out = {}
    for f in fields(fit):
        a = getattr(fit, f.name).copy()
        a[rows] = getattr(part, f.name)
        out[f.name] = a
    return replace(fit, **out)


def _normal_equations(
    px: FloatArray,
    py: FloatArray,
    dz2: FloatArray,
    t: FloatArray,
    w: FloatArray,
    c: FloatArray,
    state: FloatArray,
    wind_mean: FloatArray,
    prior: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """JᵀWJ (+ the wind's prior information) and JᵀWr (+ its pull), (E, 5, 5) and (E, 5)."""
    travel, d, ceff, n = _model(px, py, dz2, c, state[:, 0], state[:, 1], state[:, 3:5])
    r = t - state[:, 2:3] - travel
    jac = np.empty((*r.shape, 5))
    # the prediction t0 + d/(c + w·n), n = (sensor - source)/d, by each unknown (the change
    # of n with the source's position is the wind's small share of c, left out)
    jac[..., 0] = -n[..., 0] / (d * ceff)  # moving the source towards a sensor shortens it
    jac[..., 1] = -n[..., 1] / (d * ceff)
    jac[..., 2] = 1.0
    jac[..., 3] = -n[..., 0] / (ceff * ceff)  # a wind towards the sensor shortens it
    jac[..., 4] = -n[..., 1] / (ceff * ceff)
    wj = jac * w[..., None]
    a = np.einsum("ekp,ekq->epq", wj, jac)
    g = np.einsum("ekp,ek->ep", wj, r)
    a[:, 3, 3] += prior
    a[:, 4, 4] += prior
    g[:, 3:5] += prior[:, None] * (wind_mean - state[:, 3:5])
    return a, g
