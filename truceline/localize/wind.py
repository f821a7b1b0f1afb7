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

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["WindFit", "WindWindows", "refine_in_wind", "window_winds"]

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


@dataclass(frozen=True)
class WindWindows:
    """The wind of each window of time and space, estimated from every event in it."""

    start_s: FloatArray  # window start (s, in the picks' time base)
    cell_x: FloatArray  # the cell's centre (m, local frame)
    cell_y: FloatArray
    wind: FloatArray  # (W, 2) east, north
    sigma: FloatArray  # (W,) 1-sigma of each component (the larger axis)
    events: NDArray[np.int64]  # how many events told it


def window_winds(
    t0: FloatArray,
    x: FloatArray,
    y: FloatArray,
    wind: FloatArray,
    wind_cov: FloatArray,
    prior_mean: FloatArray,
    prior_sigma: FloatArray,
    window_s: float = 3_600.0,
    cell_m: float = 75_000.0,
    variation_ms: float | None = None,
) -> tuple[FloatArray, FloatArray, WindWindows]:
    """A prior on each event's wind from the *other* events of its window (``window_s``
    seconds, ``cell_m`` square). Every event's arrivals carry information on the wind they
    crossed (its fit's wind, with the fit's own prior taken out again); within a window the
    wind is smooth — a value, a trend in time and a gradient in space, each component —
    fitted to all the events' information at once (generalised least squares, the trends
    held near zero by a prior). Each event gets the window's wind *without* itself (so no
    event's arrivals count twice) with its uncertainty, widened by how much winds still
    differ from the smooth field — ``variation_ms``, or by default estimated from how far
    the events' own winds scatter around it beyond what their uncertainties explain (a
    random-effects estimate pooled over the windows) — and the windows' estimates (to
    report). A window with little data gives a wide prior, so its events keep an honest
    uncertainty."""
    e = t0.size
    info, vec = _data_information(wind, wind_cov, prior_mean, prior_sigma)
    key = np.stack([np.floor(t0 / window_s), np.floor(x / cell_m), np.floor(y / cell_m)], 1)
    cells, label = np.unique(key, axis=0, return_inverse=True)
    label = label.ravel()
    centre = np.column_stack(
        [(cells[:, 0] + 0.5) * window_s, (cells[:, 1] + 0.5) * cell_m, (cells[:, 2] + 0.5) * cell_m]
    )
    design = _design(t0, x, y, centre[label])  # (E, 2, 8)
    contrib = np.einsum("eki,ekl,elj->eij", design, info, design)  # Aᵀ I A
    rhs_e = np.einsum("eki,ek->ei", design, vec)
    h_sum = np.zeros((len(cells), 8, 8))
    g_sum = np.zeros((len(cells), 8))
    np.add.at(h_sum, label, contrib)
    np.add.at(g_sum, label, rhs_e)
    base_info = np.zeros(len(cells))
    np.maximum.at(base_info, label, 1.0 / np.maximum(prior_sigma, 1e-3) ** 2)
    base_mean = np.zeros((len(cells), 2))
    for k in range(len(cells)):
        base_mean[k] = prior_mean[label == k].mean(axis=0)
    best: tuple[float, Any] | None = None
    for trends in (False, True):  # a constant wind per window, or one with trends
        p_info, p_vec = _trend_prior(base_info, base_mean, trends)
        loo_h = h_sum[label] - contrib + p_info[label]
        loo_g = g_sum[label] - rhs_e + p_vec[label]
        theta_cov = np.linalg.inv(loo_h)
        theta = np.einsum("eij,ej->ei", theta_cov, loo_g)
        mean = np.einsum("eki,ei->ek", design, theta)
        cov = np.einsum("eki,eij,elj->ekl", design, theta_cov, design)
        tau = _variation(info, vec, mean, cov) if variation_ms is None else variation_ms
        score = _predictive_score(info, vec, mean, cov, tau)
        if best is None or score < best[0]:
            best = (score, (p_info, p_vec, mean, cov, tau))
    assert best is not None
    p_info, p_vec, mean, cov, tau = best[1]
    sigma = np.sqrt(np.linalg.eigvalsh(cov)[:, -1] + tau**2)
    full_cov = np.linalg.inv(h_sum + p_info)
    full = np.einsum("wij,wj->wi", full_cov, g_sum + p_vec)
    windows = WindWindows(
        start_s=cells[:, 0] * window_s,
        cell_x=centre[:, 1],
        cell_y=centre[:, 2],
        wind=full[:, :2],
        sigma=np.sqrt(np.linalg.eigvalsh(full_cov[:, :2, :2])[:, -1]),
        events=np.bincount(label, minlength=len(cells)).astype(np.int64),
    )
    del e
    return mean, sigma, windows


def _data_information(
    wind: FloatArray, wind_cov: FloatArray, prior_mean: FloatArray, prior_sigma: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """What each event's arrivals alone say of the wind, in information form (I, I·w):
    its fit's posterior less the prior the fit was given (kept positive)."""
    e = wind.shape[0]
    prior_info = 1.0 / np.maximum(prior_sigma, 1e-3) ** 2
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(wind_cov).all(axis=(1, 2)) & np.isfinite(wind).all(axis=1)
    info = np.zeros((e, 2, 2))
    vec = np.zeros((e, 2))
    if ok.any():
        post = np.linalg.inv(wind_cov[ok])
        data = post - prior_info[ok, None, None] * np.eye(2)
        vals, vecs = np.linalg.eigh(data)
        info[ok] = np.einsum("nij,nj,nkj->nik", vecs, np.maximum(vals, 0.0), vecs)
        vec[ok] = np.einsum("nij,nj->ni", post, wind[ok]) - prior_info[ok, None] * prior_mean[ok]
    return info, vec


#: how far the wind's trend may go, a priori: per hour, and per 50 km along each axis
TREND_MS_PER_H = 2.0
GRADIENT_MS_PER_50KM = 1.5


def _design(t0: FloatArray, x: FloatArray, y: FloatArray, centre: FloatArray) -> FloatArray:
    """(E, 2, 8): each wind component = value + trend·hours + gradient·(50 km units)."""
    dt = (t0 - centre[:, 0]) / 3600.0
    dx = (x - centre[:, 1]) / 50_000.0
    dy = (y - centre[:, 2]) / 50_000.0
    row = np.stack([np.ones_like(dt), dt, dx, dy], -1)  # (E, 4)
    out = np.zeros((t0.size, 2, 8))
    out[:, 0, 0:4] = row
    out[:, 1, 4:8] = row
    return out


def _trend_prior(
    base_info: FloatArray, base_mean: FloatArray, trends: bool
) -> tuple[FloatArray, FloatArray]:
    """Each window's prior on its 8 parameters: the base prior on the value (a met report,
    or the spread of an unknown wind), and trends held near zero (at zero, for a constant
    wind)."""
    n = base_info.size
    if trends:
        scale = np.array(
            [0.0, 1 / TREND_MS_PER_H**2, 1 / GRADIENT_MS_PER_50KM**2, 1 / GRADIENT_MS_PER_50KM**2]
        )
    else:
        scale = np.array([0.0, 1e8, 1e8, 1e8])
    diag = np.zeros((n, 8))
    diag[:, [0, 4]] = base_info[:, None]
    diag[:, 1:4] = scale[1:]
    diag[:, 5:8] = scale[1:]
    vec = np.zeros((n, 8))
    vec[:, 0] = base_info * base_mean[:, 0]
    vec[:, 4] = base_info * base_mean[:, 1]
    return np.einsum("ni,ij->nij", diag, np.eye(8)), vec


def _predictive_score(
    info: FloatArray, vec: FloatArray, mean: FloatArray, cov: FloatArray, tau: float
) -> float:
    """How well a window model predicts each event's own wind from the others (minus twice
    the log predictive density, over the events whose arrivals tell the wind): lower is
    better. Cross-validation picks the simplest model the data support."""
    good = np.linalg.eigvalsh(info)[:, 0] > 1.0 / 9.0
    if not good.any():
        return 0.0
    data_cov = np.linalg.inv(info[good])
    r = np.einsum("nij,nj->ni", data_cov, vec[good]) - mean[good]
    total = data_cov + cov[good] + tau**2 * np.eye(2)
    z2 = np.einsum("ni,nij,nj->n", r, np.linalg.inv(total), r)
    return float(np.sum(np.log(np.linalg.det(total)) + np.minimum(z2, 50.0)))


def _variation(info: FloatArray, vec: FloatArray, mean: FloatArray, cov: FloatArray) -> float:
    """How much events' winds differ from their window's beyond their uncertainties (m/s):
    the τ at which the events' standardised residuals average their degrees of freedom
    (DerSimonian-Laird's idea), from the events whose arrivals tell the wind to within 3
    m/s in every direction; at least 0.05 m/s."""
    vals = np.linalg.eigvalsh(info)
    good = vals[:, 0] > 1.0 / 9.0
    if good.sum() < 5:
        return 1.0  # too few events tell the wind: assume it varies
    data_cov = np.linalg.inv(info[good])
    own = np.einsum("nij,nj->ni", data_cov, vec[good])
    r = own - mean[good]
    base = data_cov + cov[good]

    def excess(tau: float) -> float:
        total = base + tau**2 * np.eye(2)
        z2 = np.einsum("ni,nij,nj->n", r, np.linalg.inv(total), r)
        return float(np.mean(np.minimum(z2, 50.0)) - 2.0)  # a few wild ones do not decide

    lo, hi = 0.0, 5.0
    if excess(lo) <= 0:
        return 0.05
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if excess(mid) > 0 else (lo, mid)
    return max(hi, 0.05)
