"""The wind the network measures: within a window of time and space every event heard by
many sensors carries information on the same wind; together they tell it far better than
each alone (:func:`window_winds`), and each event is then located with that wind as its
prior. Windows with too little data say so with a wide prior.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["CELL_M", "WINDOW_S", "WindWindows", "window_winds"]

FloatArray = NDArray[np.float64]

#: a window of time and space in which the wind is one smooth field (its default size)
WINDOW_S = 3_600.0
CELL_M = 75_000.0


@dataclass(frozen=True)
class WindWindows:
    """The wind of each window of time and space, estimated from every event in it: a field
    the network measured (:meth:`at` gives it anywhere inside a window)."""

    start_s: FloatArray  # window start (s, in the picks' time base)
    cell_x: FloatArray  # the cell's centre (m, local frame)
    cell_y: FloatArray
    wind: FloatArray  # (W, 2) east, north at the window's centre
    sigma: FloatArray  # (W,) 1-sigma of each component (the larger axis)
    events: NDArray[np.int64]  # how many events told it
    params: FloatArray  # (W, 8) value and trends of each component (see ``_design``)
    window_s: float
    cell_m: float
    tau: float  # how much winds vary about the smooth field (m/s)

    def at(self, t: FloatArray, x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The wind (E, 2) and its 1-sigma (E,) at times and places (NaN outside every
        window): the field's value there, its uncertainty and the variation about it."""
        t, x, y = (np.atleast_1d(np.asarray(v, float)) for v in (t, x, y))
        key = np.stack(
            [np.floor(t / self.window_s), np.floor(x / self.cell_m), np.floor(y / self.cell_m)], 1
        )
        own = np.stack(
            [
                np.floor(self.start_s / self.window_s),
                np.floor(self.cell_x / self.cell_m),
                np.floor(self.cell_y / self.cell_m),
            ],
            1,
        )
        lookup = {tuple(k): i for i, k in enumerate(own.tolist())}
        idx = np.array([lookup.get(tuple(k), -1) for k in key.tolist()], dtype=np.int64)
        wind = np.full((t.size, 2), np.nan)
        sigma = np.full(t.size, np.nan)
        ok = idx >= 0
        if ok.any():
            i = idx[ok]
            centre = np.column_stack(
                [self.start_s[i] + self.window_s / 2, self.cell_x[i], self.cell_y[i]]
            )
            wind[ok] = np.einsum("eki,ei->ek", _design(t[ok], x[ok], y[ok], centre), self.params[i])
            sigma[ok] = np.sqrt(self.sigma[i] ** 2 + _varies(self.tau, wind[ok]) ** 2)
        return wind, sigma


def window_winds(
    t0: FloatArray,
    x: FloatArray,
    y: FloatArray,
    wind: FloatArray,
    wind_cov: FloatArray,
    prior_mean: FloatArray,
    prior_sigma: FloatArray,
    window_s: float = WINDOW_S,
    cell_m: float = CELL_M,
    variation_ms: float | None = None,
    misfit: FloatArray | None = None,
    share: FloatArray | None = None,
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
    uncertainty.

    The fit is robust: an event whose arrivals fit worse than their noise (``misfit``, its
    chi-square per degree of freedom) tells the wind that much less, and an event whose wind
    the others contradict (beyond the 99 % quantile) is down-weighted until it agrees
    (iteratively reweighted, Huber's weights on the Mahalanobis distance): a few events that
    mixed the rounds of a salvo must not move a window's wind. ``share`` scales each event's
    information (e.g. 1/k for the k rounds of one salvo, whose errors are shared)."""
    info, vec = _data_information(wind, wind_cov, prior_mean, prior_sigma)
    scale = np.ones(t0.size)
    if misfit is not None:
        scale /= np.maximum(np.nan_to_num(misfit, nan=1.0, posinf=1e6), 1.0)
    if share is not None:
        scale *= share
    info, vec = info * scale[:, None, None], vec * scale[:, None]
    key = np.stack([np.floor(t0 / window_s), np.floor(x / cell_m), np.floor(y / cell_m)], 1)
    cells, label = np.unique(key, axis=0, return_inverse=True)
    label = label.ravel()
    centre = np.column_stack(
        [(cells[:, 0] + 0.5) * window_s, (cells[:, 1] + 0.5) * cell_m, (cells[:, 2] + 0.5) * cell_m]
    )
    design = _design(t0, x, y, centre[label])  # (E, 2, 8)
    base_info = np.zeros(len(cells))
    np.maximum.at(base_info, label, 1.0 / np.maximum(prior_sigma, 1e-3) ** 2)
    base_mean = np.zeros((len(cells), 2))
    for k in range(len(cells)):
        base_mean[k] = prior_mean[label == k].mean(axis=0)
    weight = np.ones(t0.size)
    for _ in range(ROBUST_ROUNDS):
        fit = _windows_fit(
            info * weight[:, None, None],
            vec * weight[:, None],
            design,
            label,
            len(cells),
            base_info,
            base_mean,
            variation_ms,
        )
        z2 = _own_distance(info, vec, fit.mean, fit.cov, fit.tau)
        weight = np.minimum(1.0, ROBUST_Z2 / np.maximum(z2, 1e-9))
    sigma = np.sqrt(np.linalg.eigvalsh(fit.cov)[:, -1] + _varies(fit.tau, fit.mean) ** 2)
    windows = WindWindows(
        start_s=cells[:, 0] * window_s,
        cell_x=centre[:, 1],
        cell_y=centre[:, 2],
        wind=fit.full[:, [0, 4]],  # the value of each component at the window's centre
        sigma=np.sqrt(np.linalg.eigvalsh(fit.full_cov[:, [0, 4]][:, :, [0, 4]])[:, -1]),
        events=np.bincount(label, minlength=len(cells)).astype(np.int64),
        params=fit.full,
        window_s=window_s,
        cell_m=cell_m,
        tau=fit.tau,
    )
    return fit.mean, sigma, windows


#: winds vary about the smooth field of a window by at least this (m/s), and by at least
#: ``GUSTINESS`` of its speed: gusts and eddies (the surface layer's turbulence intensity is
#: 0.1-0.2 over open ground). A prior the data may raise but cannot lower: each event's own
#: wind is known to a metre a second or two, so their scatter cannot show a smaller
#: variation. Measured on ten field days (benchmarks/README.md, accuracy): with none, the
#: stated 95 % ellipses held the true origin 92.7 % of the time (86 % on the worst day);
#: with gusts of 0.1, 0.15 and 0.2 of the wind, 93.6, 93.7 and 93.5 %; a floor of 0.5 m/s
#: whatever the wind held 94.5 % but placed every bang in still air 20 % worse.
MIN_VARIATION_MS = 0.05
GUSTINESS = 0.15


def _varies(tau: float, wind: FloatArray) -> FloatArray:
    """How much the wind varies about the smooth field where it blows ``wind`` (E, 2): the
    measured variation ``tau``, or the gusts of a wind that strong, whichever is more."""
    return np.maximum(tau, GUSTINESS * np.nan_to_num(np.hypot(wind[:, 0], wind[:, 1])))


#: rounds of reweighting, and the squared Mahalanobis distance (χ²₂, 99 %) beyond which an
#: event's wind is down-weighted
ROBUST_ROUNDS = 3
ROBUST_Z2 = 9.21


@dataclass(frozen=True)
class _WindowsFit:
    mean: FloatArray  # (E, 2) each event's wind from the others of its window
    cov: FloatArray  # (E, 2, 2)
    tau: float
    full: FloatArray  # (W, 8) each window's parameters from all its events
    full_cov: FloatArray


def _windows_fit(
    info: FloatArray,
    vec: FloatArray,
    design: FloatArray,
    label: NDArray[np.int64],
    n_cells: int,
    base_info: FloatArray,
    base_mean: FloatArray,
    variation_ms: float | None,
) -> _WindowsFit:
    """The windows' winds from the events' (weighted) information: a constant wind per
    window, or one with trends, whichever predicts each event from the others better."""
    contrib = np.einsum("eki,ekl,elj->eij", design, info, design)  # Aᵀ I A
    rhs_e = np.einsum("eki,ek->ei", design, vec)
    h_sum = np.zeros((n_cells, 8, 8))
    g_sum = np.zeros((n_cells, 8))
    np.add.at(h_sum, label, contrib)
    np.add.at(g_sum, label, rhs_e)
    best: tuple[float, _WindowsFit] | None = None
    for trends in (False, True):  # a constant wind per window, or one with trends
        p_info, p_vec = _trend_prior(base_info, base_mean, trends)
        theta_cov = np.linalg.inv(h_sum[label] - contrib + p_info[label])
        theta = np.einsum("eij,ej->ei", theta_cov, g_sum[label] - rhs_e + p_vec[label])
        mean = np.einsum("eki,ei->ek", design, theta)
        cov = np.einsum("eki,eij,elj->ekl", design, theta_cov, design)
        tau = _variation(info, vec, mean, cov) if variation_ms is None else variation_ms
        score = _predictive_score(info, vec, mean, cov, tau)
        if best is None or score < best[0]:
            full_cov = np.asarray(np.linalg.inv(h_sum + p_info), float)
            full = np.asarray(np.einsum("wij,wj->wi", full_cov, g_sum + p_vec), float)
            best = (score, _WindowsFit(mean, cov, tau, full, full_cov))
    assert best is not None
    return best[1]


def _own_distance(
    info: FloatArray, vec: FloatArray, mean: FloatArray, cov: FloatArray, tau: float
) -> FloatArray:
    """How far each event's own wind is from what the others predict (squared Mahalanobis
    distance; 0 for events whose arrivals tell the wind too little to judge)."""
    out = np.zeros(mean.shape[0])
    good = np.linalg.eigvalsh(info)[:, 0] > 1e-6
    if good.any():
        data_cov = np.linalg.inv(info[good])
        r = np.einsum("nij,nj->ni", data_cov, vec[good]) - mean[good]
        total = data_cov + cov[good] + tau**2 * np.eye(2)
        out[good] = np.einsum("ni,nij,nj->n", r, np.linalg.inv(total), r)
    return out


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
    m/s in every direction; at least ``MIN_VARIATION_MS``."""
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
        return MIN_VARIATION_MS
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if excess(mid) > 0 else (lo, mid)
    return max(hi, MIN_VARIATION_MS)
