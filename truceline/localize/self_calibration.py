"""The network calibrates itself: each sensor's clock and surveyed position, from the stream
of events it located.

A sensor whose clock runs 100 ms early hears every event 100 ms early; one surveyed 5 m
east of where it stands hears the sources to its east a little late and those to its west
a little early. Against the events the *other* sensors locate, both show as a pattern in
its residuals (arrival time less the time the located event predicts there):

    r = b + d·(t - t̄) - (u · e) / c

with ``b`` its clock offset, ``d`` its drift, ``e`` the error of its surveyed position
(reported less true) and ``u`` the unit vector from the source to it. Each sensor's four
terms are fitted to its residuals over the events heard well by many sensors, robustly (a
pick of the wrong round of a salvo must not move a clock) and with priors (a clock is
usually right to a few milliseconds, a survey to a few metres). A sensor whose clock or
position is off by more than its terms' uncertainty allows is *flagged*: re-timed and
re-surveyed by the analysis, and listed for the operators.

Residuals are taken not only from the picks an event used but from the pick of every
sensor in range nearest to the predicted arrival: a clock 100 ms off has its picks
rejected as outliers, and would otherwise never be seen.

>>> import numpy as np
>>> rng = np.random.default_rng(1)
>>> n = 200; u = rng.normal(size=(n, 2)); u /= np.hypot(*u.T)[:, None]
>>> r = 0.1 - (u @ np.array([4.0, -3.0])) / 340.0 + rng.normal(0, 0.01, n)
>>> terms = fit_terms(r, np.zeros(n), u, np.full(n, 0.01), 340.0)
>>> round(terms[0], 3), [round(float(v)) for v in terms[2:4]]
(0.1, [4, -3])
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .picks import Picks
from .tdoa import TdoaFit
from .wind import refine_in_wind

__all__ = ["SensorTerms", "apply_terms", "fit_terms", "sensor_terms"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: the priors: a clock is right to this (s), drifts by this (s per hour), a survey to this
#: (m); a clock that is plainly off (a reset, a lost time source) may be off by anything
#: up to ``CLOCK_FAR_S``, and is taken to be when its residuals say so beyond doubt
CLOCK_PRIOR_S = 0.01
CLOCK_FAR_S = 1.0
DRIFT_PRIOR_S_PER_H = 0.01
POSITION_PRIOR_M = 5.0
#: events that teach the sensors: heard by this many, fitting their noise, not in a salvo
MIN_PICKS = 8
MAX_MISFIT = 3.0
#: the leave-one-out fits are solved in batches of at most this many padded cells (rows
#: times the widest event): their memory is bounded by it, not by the day
LOO_CELLS = 500_000
MAX_IN_TRAINS = 0.2  # (share of its picks in trains of arrivals: a salvo's rounds mix up)
#: a residual farther than this from the prediction is another sound
WINDOW_S = 0.6
#: a sensor needs this many residuals before its terms are trusted; from fewer (at least
#: ``MIN_CLOCK_ROWS``) only a clock plainly off is believed (by ``FLAG_CLOCK_FEW_S`` or more,
#: beyond ``FLAG_Z`` standard deviations, every residual agreeing): a quiet stretch of the
#: line, whose sensors hear a few bangs an hour, still has its reset clocks found within
#: the hour
MIN_ROWS = 10
MIN_CLOCK_ROWS = 5
FLAG_CLOCK_FEW_S = 0.08
MAX_ONE_SIDED = 0.85
#: flagged when a term is off by more than this many standard deviations and this much
FLAG_Z = 4.0
FLAG_CLOCK_S = 0.02
FLAG_POSITION_M = 15.0
HUBER_K = 2.5  # residuals beyond this many σ are down-weighted
ROUNDS = 4


@dataclass(frozen=True)
class SensorTerms:
    """Each sensor's fitted terms (indexed like ``Picks.sensor``)."""

    clock_s: FloatArray  # offset at ``t_centre`` (s): subtract it from the sensor's times
    clock_sd: FloatArray
    drift_s_per_h: FloatArray
    drift_sd: FloatArray
    dx: FloatArray  # survey error, reported less true (m): subtract it from the position
    dy: FloatArray
    position_sd: FloatArray  # (larger axis) m
    t_centre: FloatArray  # the time the offset refers to (s, picks' time base)
    rows: IntArray  # residuals the terms were fitted to
    flagged: NDArray[np.bool_]
    names: NDArray[np.str_] | None = None  # each sensor's name

    def __len__(self) -> int:
        return int(self.clock_s.size)

    @property
    def known(self) -> NDArray[np.bool_]:
        """The sensors whose terms are applied: fitted from enough residuals, or whose
        clock a few residuals showed plainly off."""
        return np.asarray((self.rows >= MIN_ROWS) | self.flagged, bool)


def fit_terms(
    r: FloatArray, dt_h: FloatArray, u: FloatArray, sigma: FloatArray, c: float
) -> tuple[float, float, float, float, FloatArray]:
    """One sensor's terms from its residuals ``r`` (s) at hours ``dt_h`` from its centre
    time, with ``u`` (N, 2) the unit vectors from the sources to it and ``sigma`` each
    residual's standard deviation: (clock, drift, dx, dy, covariance 4x4), by iteratively
    reweighted least squares with Huber's weights and the priors. A clock the residuals put
    plainly off (beyond ``FLAG_Z`` standard deviations and ``FLAG_CLOCK_S``, with the wide
    prior) is fitted with the wide prior; every other with the tight one."""
    far = _fit_terms(r, dt_h, u, sigma, c, CLOCK_FAR_S)
    if abs(far[0]) > max(FLAG_CLOCK_S, FLAG_Z * float(np.sqrt(far[4][0, 0]))):
        return far
    return _fit_terms(r, dt_h, u, sigma, c, CLOCK_PRIOR_S)


def _fit_terms(
    r: FloatArray,
    dt_h: FloatArray,
    u: FloatArray,
    sigma: FloatArray,
    c: float,
    clock_prior: float,
) -> tuple[float, float, float, float, FloatArray]:
    a = np.column_stack([np.ones_like(r), dt_h, -u[:, 0] / c, -u[:, 1] / c])
    prior = np.diag(
        [
            1 / clock_prior**2,
            1 / DRIFT_PRIOR_S_PER_H**2,
            1 / POSITION_PRIOR_M**2,
            1 / POSITION_PRIOR_M**2,
        ]
    )
    # start from the median, so that a clock far off is not pulled in by the prior
    theta = np.array([float(np.median(r)) if clock_prior > 0.1 else 0.0, 0.0, 0.0, 0.0])
    h = np.ones_like(r)
    cov = np.linalg.inv(prior)
    for _ in range(ROUNDS):
        z = (r - a @ theta) / sigma
        h = _huber(z)
        w = h / sigma**2
        info = (a * w[:, None]).T @ a + prior
        cov = np.asarray(np.linalg.inv(info), float)
        theta = cov @ ((a * w[:, None]).T @ r)
    # the scatter of the residuals beyond their stated noise widens the terms' uncertainty
    scale = _scatter((r - a @ theta) / sigma, h, 4)
    return float(theta[0]), float(theta[1]), float(theta[2]), float(theta[3]), cov * scale


def _huber(z: FloatArray) -> FloatArray:
    """Huber's weights of standardised residuals ``z``."""
    return np.where(np.abs(z) <= HUBER_K, 1.0, HUBER_K / np.maximum(np.abs(z), 1e-9))


def _scatter(z: FloatArray, h: FloatArray, unknowns: int) -> float:
    """How much the weighted residuals ``z`` scatter beyond their stated noise (a variance
    factor, at least 1), with ``unknowns`` terms fitted to them."""
    return max(1.0, float(np.sum(h * z * z) / max(float(np.sum(h)) - unknowns, 1.0)))


def sensor_terms(
    p: Picks, fit: TdoaFit, groups: list[IntArray], in_trains: FloatArray, max_range_m: float
) -> SensorTerms:
    """Every sensor's terms from the located events (see the module's text)."""
    n_s = int(p.sensor.max()) + 1 if len(p) else 0
    rows = _residuals(p, fit, groups, in_trains, max_range_m)
    out = {k: np.zeros(n_s) for k in ("clock_s", "drift_s_per_h", "dx", "dy", "t_centre")}
    sd = {
        "clock_sd": np.full(n_s, CLOCK_FAR_S),
        "drift_sd": np.full(n_s, DRIFT_PRIOR_S_PER_H),
        "position_sd": np.full(n_s, POSITION_PRIOR_M),
    }
    count = np.bincount(rows[0], minlength=n_s).astype(np.int64)
    sensor, r, t, ux, uy, sig, c = rows
    rows_of = _by_value(sensor, n_s)
    for j in np.flatnonzero(count >= MIN_ROWS):
        mine = rows_of[j]
        tc = float(np.median(t[mine]))
        b, d, ex, ey, cov = fit_terms(
            r[mine],
            (t[mine] - tc) / 3600.0,
            np.column_stack([ux[mine], uy[mine]]),
            sig[mine],
            float(np.median(c[mine])),
        )
        out["clock_s"][j], out["drift_s_per_h"][j], out["dx"][j], out["dy"][j] = b, d, ex, ey
        out["t_centre"][j] = tc
        sd["clock_sd"][j] = np.sqrt(cov[0, 0])
        sd["drift_sd"][j] = np.sqrt(cov[1, 1])
        sd["position_sd"][j] = np.sqrt(np.linalg.eigvalsh(cov[2:, 2:])[-1])
    fitted = count >= MIN_ROWS
    off_clock = np.abs(out["clock_s"]) > np.maximum(FLAG_CLOCK_S, FLAG_Z * sd["clock_sd"])
    off_pos = np.hypot(out["dx"], out["dy"]) > np.maximum(
        FLAG_POSITION_M, FLAG_Z * sd["position_sd"]
    )
    flagged = (off_clock | off_pos) & fitted
    for k, (b, b_sd, tc) in _plain_clocks(rows, count).items():
        out["clock_s"][k], sd["clock_sd"][k], out["t_centre"][k] = b, b_sd, tc
        flagged[k] = True
    # the network's sensors tell how far clocks and surveys usually are off: each sensor's
    # terms are shrunk towards none by that much (empirical Bayes), so a few noisy residuals
    # do not move a good clock further than it was
    usual = fitted & ~flagged
    k_clock = _shrinkage(out["clock_s"][usual], sd["clock_sd"][usual])
    k_pos = _shrinkage(
        np.concatenate([out["dx"][usual], out["dy"][usual]]),
        np.concatenate([sd["position_sd"][usual]] * 2),
    )[: int(usual.sum())]
    out["clock_s"][usual] *= k_clock
    sd["clock_sd"][usual] *= np.sqrt(k_clock)
    out["dx"][usual] *= k_pos
    out["dy"][usual] *= k_pos
    sd["position_sd"][usual] *= np.sqrt(k_pos)
    return SensorTerms(**out, **sd, rows=count, flagged=flagged, names=p.sensor_names)


def _plain_clocks(rows: tuple[Any, ...], count: IntArray) -> dict[int, tuple[float, float, float]]:
    """The sensors with too few residuals for their four terms (at least ``MIN_CLOCK_ROWS``)
    whose clock alone is plainly off: by ``FLAG_CLOCK_FEW_S`` or more and beyond ``FLAG_Z``
    standard deviations of its robust mean (Huber's weights, the scatter beyond the stated
    noise widening it), every residual agreeing with it, and the bangs heard from more than
    one side (the mean of the unit vectors from them at most ``MAX_ONE_SIDED`` long: from
    one side a clock, a survey error and a wind error along that side look the same).
    Sensor index to (offset, its sd, the time it refers to)."""
    sensor, r, t, ux, uy, sig, _c = rows
    out: dict[int, tuple[float, float, float]] = {}
    rows_of = _by_value(sensor, count.size)
    for j in np.flatnonzero((count >= MIN_CLOCK_ROWS) & (count < MIN_ROWS)):
        mine = rows_of[j]
        # bangs from one side cannot tell a clock from a survey or a wind along that side
        if np.hypot(ux[mine].mean(), uy[mine].mean()) > MAX_ONE_SIDED:
            continue
        rj, sj = r[mine], sig[mine]
        b, h = float(np.median(rj)), np.ones_like(rj)
        for _ in range(ROUNDS):
            h = _huber((rj - b) / sj)
            w = h / sj**2
            b = float(np.sum(w * rj) / np.sum(w))
        z = (rj - b) / sj
        b_sd = float(np.sqrt(_scatter(z, h, 1) / np.sum(h / sj**2)))
        # every residual must say so (a late pick or another sound's, which the Huber mean
        # of a few can follow, is not a clock)
        agree = bool(np.all(np.abs(z) <= HUBER_K))
        if agree and abs(b) >= max(FLAG_CLOCK_FEW_S, FLAG_Z * b_sd):
            out[int(j)] = (b, b_sd, float(np.median(t[mine])))
    return out


def _shrinkage(est: FloatArray, sd: FloatArray) -> FloatArray:
    """Each estimate's weight against none: τ² / (τ² + sd²), τ² the spread of the true
    terms (the robust spread of the estimates less their own noise)."""
    if est.size < MIN_ROWS:
        return np.ones_like(est)
    spread = (1.4826 * float(np.median(np.abs(est - np.median(est))))) ** 2
    tau2 = max(spread - float(np.median(sd**2)), 0.0)
    return np.asarray(tau2 / (tau2 + sd**2), float)


def _residuals(
    p: Picks, fit: TdoaFit, groups: list[IntArray], in_trains: FloatArray, max_range_m: float
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """(sensor, residual, time, u_x, u_y, sigma, c) of the pick of every sensor in range
    nearest to each teaching event's predicted arrival (within ``WINDOW_S``, and only where
    one pick is there: a salvo's rounds teach too, but the wrong round cannot be taken for
    the right one). The prediction at a sensor whose pick the event used comes from the
    event located *without* that pick (leave one out): an event pulls towards every pick it
    uses, and would hide most of a clock that is off."""
    n = np.array([len(g) for g in groups])
    misfit = fit.chi2 / np.maximum(fit.dof, 1)
    teach = np.flatnonzero(
        (n >= MIN_PICKS)
        & (misfit <= MAX_MISFIT)
        & (in_trains <= MAX_IN_TRAINS)
        & ~fit.ill_conditioned
        & np.isfinite(fit.x)
    )
    first = np.unique(p.sensor, return_index=True)[1]
    sx, sy = p.x[first], p.y[first]
    tree = cKDTree(np.column_stack([sx, sy]))
    by_sensor = _by_value(p.sensor, first.size)
    wind = np.nan_to_num(fit.wind) if fit.wind is not None else np.zeros((fit.x.size, 2))
    out: list[list[float]] = [[] for _ in range(7)]
    for e in teach:
        c = float(np.median(p.c[groups[e]]))
        own = set(p.sensor[groups[e]].tolist())
        for j in tree.query_ball_point([fit.x[e], fit.y[e]], max_range_m):
            if j in own:
                continue
            ex, ey = sx[j] - fit.x[e], sy[j] - fit.y[e]
            d = max(float(np.hypot(ex, ey)), 1.0)
            pred = fit.t0[e] + d / (c + (wind[e, 0] * ex + wind[e, 1] * ey) / d)
            mine = by_sensor[j]
            lo, hi = np.searchsorted(p.t[mine], [pred - WINDOW_S, pred + WINDOW_S])
            if hi - lo == 1:  # none, or more than one sound there: nothing to learn
                k = mine[int(lo)]
                row = (j, p.t[k] - pred, p.t[k], ex / d, ey / d, p.sigma[k], c)
                for lst, v in zip(out, row, strict=True):
                    lst.append(float(v))
    loo = _left_out(p, fit, groups, teach, wind)
    cols = [np.concatenate([np.array(a, dtype=float), b]) for a, b in zip(out, loo, strict=True)]
    keep = np.abs(cols[1]) <= WINDOW_S
    sensor = cols[0][keep].astype(np.int64)
    rest = [v[keep] for v in cols[1:]]
    # a residual also carries the event's own error: the noise of a pick plus the model's
    rest[4] = np.sqrt(rest[4] ** 2 + 0.02**2)
    return (sensor, *rest)


def _left_out(
    p: Picks, fit: TdoaFit, groups: list[IntArray], teach: IntArray, wind: FloatArray
) -> list[FloatArray]:
    """The residual of every pick the teaching events used, each against its event solved
    again without it (one row per event and left-out pick, in batches of at most
    :data:`LOO_CELLS` padded cells)."""
    if teach.size == 0:
        return [np.zeros(0) for _ in range(7)]
    sizes = np.array([len(groups[e]) for e in teach])
    k_max = int(sizes.max())
    per_batch = max(1, LOO_CELLS // k_max)  # rows
    batches, first, rows = [], 0, 0
    for k, n in enumerate(sizes.tolist()):
        if rows and rows + n > per_batch:
            batches.append(teach[first:k])
            first, rows = k, 0
        rows += n
    batches.append(teach[first:])
    parts = [_left_out_rows(p, fit, groups, b, wind, k_max) for b in batches]
    return [np.concatenate([part[i] for part in parts]) for i in range(7)]


def _left_out_rows(
    p: Picks, fit: TdoaFit, groups: list[IntArray], teach: IntArray, wind: FloatArray, k_max: int
) -> list[FloatArray]:
    """One batch of :func:`_left_out`: its events' rows, padded to ``k_max`` picks."""
    ev = np.repeat(teach, [len(groups[e]) for e in teach])
    idx = np.zeros((ev.size, k_max), np.int64)
    mask = np.zeros((ev.size, k_max), bool)
    out_col = np.zeros(ev.size, np.int64)
    r = 0
    for e in teach:
        g = groups[e]
        for m in range(len(g)):
            idx[r, : len(g)] = g
            mask[r, : len(g)] = True
            mask[r, m] = False
            out_col[r] = m
            r += 1
    rows = np.arange(ev.size)
    left = idx[rows, out_col]
    sd = np.sqrt(np.linalg.eigvalsh(fit.wind_cov[ev])[:, -1]) if fit.wind_cov is not None else None
    wind_sd = (
        np.clip(np.nan_to_num(sd, nan=5.0), 0.3, 5.0) if sd is not None else np.full(ev.size, 5.0)
    )
    c = np.broadcast_to(np.median(p.c[idx], axis=1)[:, None], idx.shape).copy()
    zmean = np.where(mask, p.z[idx], 0.0).sum(1) / np.maximum(mask.sum(1), 1)
    dz2 = (p.z[idx] - zmean[:, None]) ** 2
    sig = np.sqrt(p.sigma[idx] ** 2 + 0.02**2)
    wf = refine_in_wind(
        p.x[idx],
        p.y[idx],
        dz2,
        p.t[idx],
        sig,
        c,
        mask,
        fit.x[ev].copy(),
        fit.y[ev].copy(),
        fit.t0[ev].copy(),
        wind[ev],
        wind_sd,
        iterations=4,
    )
    ex, ey = p.x[left] - wf.x, p.y[left] - wf.y
    d = np.maximum(np.hypot(ex, ey), 1.0)
    pred = wf.t0 + d / (c[:, 0] + (wf.wind[:, 0] * ex + wf.wind[:, 1] * ey) / d)
    res = p.t[left] - pred
    ok = np.isfinite(res)
    return [
        v[ok].astype(float)
        for v in (p.sensor[left], res, p.t[left], ex / d, ey / d, p.sigma[left], c[:, 0])
    ]


def _by_value(values: IntArray, n: int) -> list[IntArray]:
    """For each ``j < n`` the indices where ``values == j``, in increasing order (what
    ``np.flatnonzero(values == j)`` gives, from one sort rather than ``n`` passes).

    >>> [v.tolist() for v in _by_value(np.array([2, 0, 2, 1, 0]), 4)]
    [[1, 4], [3], [0, 2], []]
    """
    order = np.argsort(values, kind="stable")
    edges = np.searchsorted(values[order], np.arange(n + 1))
    return [order[a:b] for a, b in itertools.pairwise(edges)]


def apply_terms(p: Picks, terms: SensorTerms) -> tuple[Picks, IntArray]:
    """The picks with each sensor whose terms could be fitted re-timed and re-surveyed, its
    pick noise widened by what is left unknown of its clock and position (so that what the
    calibration could not settle shows in the located events' uncertainty); and, since
    re-timed picks may change places, each new pick's index in ``p``."""
    j = p.sensor
    known = terms.known[j]
    shift = terms.clock_s[j] + terms.drift_s_per_h[j] * (p.t - terms.t_centre[j]) / 3600.0
    t = np.where(known, p.t - shift, p.t)
    x = np.where(known, p.x - terms.dx[j], p.x)
    y = np.where(known, p.y - terms.dy[j], p.y)
    var = terms.clock_sd[j] ** 2 + (terms.position_sd[j] / p.c) ** 2
    sigma = np.where(known, np.sqrt(p.sigma**2 + var), p.sigma)
    order = np.lexsort((p.ref.astype(str), t)).astype(np.int64)
    moved = replace(p, t=t, x=x, y=y, sigma=sigma)
    return _reordered(moved, order), order


def _reordered(p: Picks, order: IntArray) -> Picks:
    """The picks in a new order (re-timed picks may change places)."""
    if np.array_equal(order, np.arange(len(p))):
        return p
    n = len(p)
    fields: dict[str, Any] = {}
    for name in p.__dataclass_fields__:
        a = getattr(p, name)
        fields[name] = a[order] if isinstance(a, np.ndarray) and a.shape[:1] == (n,) else a
    return Picks(**fields)
