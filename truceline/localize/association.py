"""Association of acoustic detections into events, then batched TDOA localisation.

Which detections belong to the same bang is not given: the input is a flat stream of picks
from many sensors, with overlapping events, misses and false alarms. The associator works
like the back-projection associators of seismology (REAL, GaMMA): it takes the earliest
unexplained pick as the *anchor* (for a source inside the network the nearest sensor hears
it first), back-projects every later pick of nearby sensors onto a grid of candidate
sources around the anchor, and keeps the grid node whose predicted time differences explain
the most picks. The candidate set is then refined by least squares while the tolerance
shrinks from the grid's resolution to the picks' own timing noise. An event is accepted
when at least ``min_picks`` sensors agree with a plausible chi-square; its picks are then
explained and never reused. Anchors that explain nothing are left as unassociated picks
(false alarms, or events heard by too few sensors).

The result does not depend on input order: picks are processed in ``(time, ref)`` order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from ..geo import LocalFrame
from ..observations import Acoustic, Observation
from .tdoa import TdoaFit, locate, sound_speed

__all__ = ["AcousticEvents", "Picks", "associate", "picks_from"]

FloatArray = NDArray[np.float64]
CLASS_CODES = {"launch": 0, "impact": 1, "unknown": 2}


@dataclass
class Picks:
    """Acoustic detections as arrays, sorted by (time, ref); times in s from ``t_ref_us``."""

    ref: NDArray[np.object_]
    sensor: NDArray[np.int64]
    x: FloatArray
    y: FloatArray
    z: FloatArray
    t: FloatArray
    sigma: FloatArray
    c: FloatArray
    cls: NDArray[np.int8]
    t_ref_us: int

    def __len__(self) -> int:
        return int(self.t.size)


def picks_from(
    observations: Sequence[Observation], frame: LocalFrame, default_temperature_c: float = 10.0
) -> Picks:
    """Build :class:`Picks` from ``acoustic`` observations (others are ignored)."""
    obs = [o for o in observations if isinstance(o.model, Acoustic)]
    if not obs:
        empty = np.zeros(0)
        return Picks(
            np.zeros(0, object),
            np.zeros(0, np.int64),
            empty,
            empty,
            empty,
            empty,
            empty,
            empty,
            np.zeros(0, np.int8),
            0,
        )
    models = [o.model for o in obs if isinstance(o.model, Acoustic)]
    t_us = np.array([m.time for m in models], dtype=np.int64)
    t_ref = int(t_us.min())
    refs = np.array([o.ref for o in obs], dtype=object)
    order = np.lexsort((refs.astype(str), t_us))
    models = [models[i] for i in order]
    sensors = [m.sensor for m in models]
    _, sensor_idx = np.unique(np.array(sensors), return_inverse=True)
    lon = np.array([m.position[0] for m in models])
    lat = np.array([m.position[1] for m in models])
    z = np.array([m.position[2] if len(m.position) > 2 else 0.0 for m in models])
    x, y = frame.forward(lon, lat)
    temp = np.array(
        [default_temperature_c if m.temperature_c is None else m.temperature_c for m in models]
    )
    return Picks(
        ref=refs[order],
        sensor=sensor_idx.astype(np.int64),
        x=x,
        y=y,
        z=z,
        t=(t_us[order] - t_ref) / 1e6,
        sigma=np.array([m.sigma_s for m in models]),
        c=sound_speed(temp),
        cls=np.array([CLASS_CODES[m.class_] for m in models], dtype=np.int8),
        t_ref_us=t_ref,
    )


@dataclass
class AcousticEvents:
    """Located acoustic events: one row per event, ``picks[i]`` the indices of its picks."""

    fit: TdoaFit
    picks: list[NDArray[np.int64]]
    cls: NDArray[np.int8]  # 0 launch, 1 impact, 2 unknown (majority of the picks' labels)
    unassociated: NDArray[np.int64]
    rejected: NDArray[np.int64]  # picks dropped by the chi-square test
    stats: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.picks)


def _grid(radius_m: float, spacing_m: float) -> FloatArray:
    ax = np.arange(-radius_m, radius_m + spacing_m / 2, spacing_m)
    gx, gy = np.meshgrid(ax, ax)
    keep = gx**2 + gy**2 <= radius_m**2
    return np.column_stack([gx[keep], gy[keep]])


def _pad(groups: list[NDArray[np.int64]], p: Picks) -> tuple[FloatArray, ...]:
    k = max(len(g) for g in groups)
    idx = np.zeros((len(groups), k), dtype=np.int64)
    mask = np.zeros((len(groups), k), dtype=bool)
    for i, g in enumerate(groups):
        idx[i, : len(g)] = g
        mask[i, : len(g)] = True
    return (p.x[idx], p.y[idx], p.z[idx], p.t[idx], p.sigma[idx], p.c[idx], mask, idx)  # type: ignore[return-value]


def associate(
    p: Picks,
    *,
    min_picks: int = 4,
    max_distance_m: float = 50_000.0,
    source_radius_m: float = 40_000.0,
    grid_spacing_m: float = 1_000.0,
    model_sigma_s: float = 0.02,
    progress: Callable[[int], None] | None = None,
) -> AcousticEvents:
    """Group picks into events and locate every event (batched)."""
    n = len(p)
    used = np.zeros(n, bool)
    groups: list[NDArray[np.int64]] = []
    starts: list[tuple[float, float]] = []
    if n:
        grid = _grid(source_radius_m, grid_spacing_m)
        c_min = float(p.c.min())
        span = max_distance_m / c_min
        hi = np.searchsorted(p.t, p.t + span, side="right")
        done = 0
        for sweep in range(2):  # a second sweep finds events whose picks others blocked
            for a in range(n):
                if sweep == 0 and progress is not None and a - done >= 2000:
                    progress(a - done)
                    done = a
                if used[a]:
                    continue
                cand = np.arange(a, hi[a])
                cand = cand[~used[cand]]
                near = np.hypot(p.x[cand] - p.x[a], p.y[cand] - p.y[a]) <= max_distance_m
                cand = cand[near]
                if np.unique(p.sensor[cand]).size < min_picks:
                    continue
                group, start = _best_event(p, a, cand, grid, min_picks, model_sigma_s)
                if group is not None:
                    used[group] = True
                    groups.append(group)
                    starts.append(start)
        if progress is not None:
            progress(n - done)
    if not groups:
        z = np.zeros((0, 1))
        empty = locate(z, z, z, z, z, z, np.zeros((0, 1), bool), np.zeros(0), np.zeros(0))
        return AcousticEvents(
            empty,
            [],
            np.zeros(0, np.int8),
            np.flatnonzero(~used),
            np.zeros(0, np.int64),
            {"picks": n, "events": 0},
        )
    px, py, pz, pt, ps, pc, mask, idx = _pad(groups, p)
    sig = np.sqrt(ps**2 + model_sigma_s**2)
    x0 = np.array([s[0] for s in starts])
    y0 = np.array([s[1] for s in starts])
    fit = locate(px, py, pz, pt, sig, pc, mask.astype(bool), x0, y0, min_picks=min_picks)
    idx_i = idx.astype(np.int64)
    picks = [idx_i[i][fit.mask[i]] for i in range(len(groups))]
    rejected = idx_i[fit.rejected.astype(bool)]
    used[rejected] = False
    cls = np.array([_majority(p.cls[g]) for g in picks], dtype=np.int8)
    stats = {
        "picks": n,
        "events": len(groups),
        "associated": int(sum(len(g) for g in picks)),
        "unassociated": int((~used).sum()),
        "rejected_by_chi2": int(rejected.size),
        "ill_conditioned": int(fit.ill_conditioned.sum()),
    }
    return AcousticEvents(fit, picks, cls, np.flatnonzero(~used), rejected, stats)


def _majority(labels: NDArray[np.int8]) -> int:
    launch, impact = int((labels == 0).sum()), int((labels == 1).sum())
    if launch > impact:
        return 0
    if impact > launch:
        return 1
    return 2


def _best_event(
    p: Picks,
    a: int,
    cand: NDArray[np.int64],
    grid: FloatArray,
    min_picks: int,
    model_sigma_s: float,
    n_starts: int = 3,
) -> tuple[NDArray[np.int64] | None, tuple[float, float]]:
    """Back-project ``cand`` around anchor ``a``; refine the best few grid nodes; return the
    picks of the refined event that explains the most picks (with the anchor), or None."""
    gx = p.x[a] + grid[:, 0]
    gy = p.y[a] + grid[:, 1]
    da = np.hypot(gx - p.x[a], gy - p.y[a]) / p.c[a]
    dj = np.hypot(gx[:, None] - p.x[cand], gy[:, None] - p.y[cand]) / p.c[cand]
    r = (p.t[cand] - p.t[a])[None, :] - (dj - da[:, None])
    tol = 2.5
    score = np.clip(1.0 - (r / tol) ** 2, 0.0, None)
    # one vote per sensor: a sensor's best pick counts, never two of its picks
    total = _per_sensor_max(score, p.sensor[cand])
    best: tuple[int, float, NDArray[np.int64], tuple[float, float]] | None = None
    taken: list[tuple[float, float]] = []
    for node in np.argsort(-total, kind="stable")[: 50 * n_starts]:
        if len(taken) >= n_starts:
            break
        x, y = float(gx[node]), float(gy[node])
        if any(np.hypot(x - u, y - v) < 3_000.0 for u, v in taken):
            continue
        taken.append((x, y))
        got = _refine(p, a, cand, _select(r[node], cand, p, tol), x, y, min_picks, model_sigma_s)
        if got is not None and (best is None or (got[0].size, -got[1]) > (best[2].size, -best[1])):
            best = (int(node), got[1], got[0], got[2])
    if best is None:
        return None, taken[0] if taken else (float(p.x[a]), float(p.y[a]))
    return best[2], best[3]


def _refine(
    p: Picks,
    a: int,
    cand: NDArray[np.int64],
    chosen: NDArray[np.int64],
    x: float,
    y: float,
    min_picks: int,
    model_sigma_s: float,
) -> tuple[NDArray[np.int64], float, tuple[float, float]] | None:
    """Least squares from a grid node while the tolerance shrinks to the picks' own noise."""
    for tol_k in (1.0, 0.4, None):
        if chosen.size < min_picks or a not in chosen:
            return None
        fit = _fit_one(p, chosen, x, y, model_sigma_s, min_picks)
        if fit.ill_conditioned[0] or not np.isfinite(fit.x[0]):
            return None
        x, y = float(fit.x[0]), float(fit.y[0])
        t0 = float(fit.t0[0])
        pred = t0 + np.sqrt((x - p.x[cand]) ** 2 + (y - p.y[cand]) ** 2) / p.c[cand]
        res = p.t[cand] - pred
        limit = 4.0 * np.sqrt(p.sigma[cand] ** 2 + model_sigma_s**2)
        if tol_k is not None:
            limit = np.maximum(limit, tol_k)
        chosen = _select(res, cand, p, limit)
    if chosen.size < min_picks or a not in chosen:
        return None
    fit = _fit_one(p, chosen, x, y, model_sigma_s, min_picks)
    kept = chosen[fit.mask[0]]
    if kept.size < min_picks or a not in kept or fit.ill_conditioned[0]:
        return None
    return np.sort(kept), float(fit.chi2[0]), (float(fit.x[0]), float(fit.y[0]))


def _per_sensor_max(score: FloatArray, sensors: NDArray[np.int64]) -> FloatArray:
    uniq, inv = np.unique(sensors, return_inverse=True)
    if uniq.size == sensors.size:
        return score.sum(axis=1)
    best = np.zeros((score.shape[0], uniq.size))
    np.maximum.at(best.T, inv, score.T)
    return best.sum(axis=1)


def _select(
    res: FloatArray, cand: NDArray[np.int64], p: Picks, limit: FloatArray | float
) -> NDArray[np.int64]:
    """Picks within ``limit`` of the prediction, one per sensor (the closest)."""
    ok = np.abs(res) <= limit
    idx, r = cand[ok], np.abs(res[ok])
    order = np.lexsort((r, p.sensor[idx]))
    idx = idx[order]
    first = np.ones(idx.size, bool)
    first[1:] = p.sensor[idx][1:] != p.sensor[idx][:-1]
    return np.sort(idx[first])


def _fit_one(
    p: Picks, chosen: NDArray[np.int64], x: float, y: float, model_sigma_s: float, min_picks: int
) -> TdoaFit:
    sl = chosen[None, :]
    return locate(
        p.x[sl],
        p.y[sl],
        p.z[sl],
        p.t[sl],
        np.sqrt(p.sigma[sl] ** 2 + model_sigma_s**2),
        p.c[sl],
        np.ones(sl.shape, bool),
        np.array([x]),
        np.array([y]),
        min_picks=min_picks,
        iterations=15,
    )
