"""The still-air arrival-time model of :mod:`truceline.localize.tdoa`, vectorised over
events: normal equations, damped Gauss-Newton (Levenberg-Marquardt) steps, starting points
and the position covariance with the emission time eliminated."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .closed_form import chan_ho, inv3

__all__ = [
    "ILL_CONDITIONED",
    "System",
    "collinear",
    "position_covariance",
    "solve",
    "start",
    "system",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

ILL_CONDITIONED = 1e10  # condition number of the scaled JᵀWJ: geometry is degenerate


@dataclass
class System:
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

    def where(self, keep: BoolArray, other: System) -> System:
        return System(
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


def system(
    px: FloatArray,
    py: FloatArray,
    dz2: FloatArray,
    t: FloatArray,
    w: FloatArray,
    c: FloatArray,
    x: FloatArray,
    y: FloatArray,
    t0: FloatArray,
) -> System:
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
    return System(
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


def _step(s: System, lam: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
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


def solve(
    px: FloatArray,
    py: FloatArray,
    dz2: FloatArray,
    t: FloatArray,
    w: FloatArray,
    c: FloatArray,
    x: FloatArray,
    y: FloatArray,
    iterations: int,
) -> tuple[FloatArray, FloatArray, FloatArray, System, BoolArray]:
    """Levenberg-Marquardt over all events at once. ``w`` = 1/sigma², 0 where masked.

    Events leave the working set as soon as they converge, so a few slow ones do not make
    the whole batch iterate.
    """
    x, y = x.copy(), y.copy()
    d = np.sqrt((x[:, None] - px) ** 2 + (y[:, None] - py) ** 2 + dz2)
    t0 = (w * (t - d / c)).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-300)
    state = system(px, py, dz2, t, w, c, x, y, t0)
    lam = np.full(x.shape, 1e-4)
    converged = np.zeros(x.shape, bool)
    act = np.arange(x.size)
    sub = state
    a_px, a_py, a_dz2, a_t, a_w, a_c = px, py, dz2, t, w, c
    for _ in range(iterations):
        sx, sy, st = _step(sub, lam[act])
        nx, ny, nt = x[act] + sx, y[act] + sy, t0[act] + st
        trial = system(a_px, a_py, a_dz2, a_t, a_w, a_c, nx, ny, nt)
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
        sub = System(*(v[keep] for v in sub.__dict__.values()))
        a_px, a_py, a_dz2, a_t, a_w, a_c = (a[keep] for a in (a_px, a_py, a_dz2, a_t, a_w, a_c))
    return x, y, t0, state, converged


def collinear(px: FloatArray, py: FloatArray, mask: BoolArray, ratio: float = 0.02) -> BoolArray:
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


def start(
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


def position_covariance(state: System) -> tuple[FloatArray, BoolArray]:
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
