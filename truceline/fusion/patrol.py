"""Patrol reports: each joins the incident it fits (by its range-bearing fix, or by its bearing
alone); the rest are grouped and fixed by Stansfield's method where two or more posts took
bearings, else by combining their range-bearing fixes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..incidents import Point
from ..localize.bearings import bearing_residual_deg, range_bearing_fix, stansfield_fix
from ..observations import Observation, Patrol
from .draft import Draft
from .gating import Candidates, combine, components, mahalanobis, point
from .params import FusionParams

__all__ = ["fuse_patrols"]

FloatArray = NDArray[np.float64]
S = 1_000_000  # microseconds per second
BEARING_ONLY_RANGE_M = 40_000.0  # how far a bearing-only report may reach for an incident


@dataclass
class _Left:
    """A patrol report that joined no incident: its fix (or observer) and observer position."""

    obs: Observation
    x: float
    y: float
    cov: FloatArray | None
    ox: float
    oy: float


def fuse_patrols(
    patrols: list[Observation],
    drafts: list[Draft],
    prm: FusionParams,
    xy: Callable[[list[float]], tuple[float, float]],
) -> tuple[list[Draft], dict[str, int]]:
    """Join each patrol report to the draft it fits; return the new drafts of the rest."""
    pts = Candidates.of(drafts, ("origin", "impact"))
    left: list[_Left] = []
    matched = 0
    for o in patrols:
        m = o.model
        assert isinstance(m, Patrol)
        ox, oy = xy(m.observer)
        t1 = m.time_end if m.time_end is not None else m.time
        window = (m.time - int(prm.patrol_slack_s * S), t1 + int(60 * S))
        fix: tuple[float, float, FloatArray | None] = (ox, oy, None)
        if m.distance_km is not None:
            fx, fy, fcov = range_bearing_fix(
                np.array([ox]),
                np.array([oy]),
                np.array([m.bearing_deg]),
                np.array([m.bearing_sigma_deg]),
                np.array([m.distance_km[0] * 1000]),
                np.array([m.distance_km[1] * 1000]),
            )
            fix = (float(fx[0]), float(fy[0]), fcov[0])
            best = pts.best(fix[0], fix[1], fcov[0], window, prm.gate_chi2)
        else:
            best = _by_bearing(pts, m, ox, oy, window, prm.bearing_gate_sigma)
        if best >= 0:
            drafts[best].add("patrol", o.ref, prm.strength_patrol)
            patrol_weapon(drafts[best], m)
            matched += 1
        else:
            left.append(_Left(o, fix[0], fix[1], fix[2], ox, oy))
    return _patrol_drafts(left, prm), {"reports": len(patrols), "joined": matched}


def _by_bearing(
    pts: Candidates, m: Patrol, ox: float, oy: float, window: tuple[int, int], gate: float
) -> int:
    """The draft a bearing-only report points at best (angular residual within the gate)."""
    cand = pts.near(ox, oy, BEARING_ONLY_RANGE_M, window)
    if cand.size == 0:
        return -1
    res = bearing_residual_deg(ox, oy, m.bearing_deg, pts.x[cand], pts.y[cand])
    dist = np.maximum(np.hypot(pts.x[cand] - ox, pts.y[cand] - oy), 1.0)
    pos_deg = np.degrees(np.sqrt(np.trace(pts.cov[cand], axis1=1, axis2=2)) / dist)
    z = np.abs(res) / np.hypot(m.bearing_sigma_deg, pos_deg)
    k = int(np.argmin(z))
    return int(pts.draft[cand[k]]) if z[k] <= gate else -1


def _patrol_drafts(left: list[_Left], prm: FusionParams) -> list[Draft]:
    """Patrol reports that fit no incident, grouped by time, event and position."""
    n = len(left)
    pairs = []
    for i in range(n):
        for j in range(i + 1, n):
            a, b = left[i], left[j]
            ma, mb = a.obs.model, b.obs.model
            assert isinstance(ma, Patrol) and isinstance(mb, Patrol)
            if abs(ma.time - mb.time) > prm.patrol_slack_s * S or ma.event != mb.event:
                continue
            if a.cov is None or b.cov is None:
                continue
            if (
                mahalanobis(np.array(a.x - b.x), np.array(a.y - b.y), a.cov + b.cov)
                <= prm.gate_chi2
            ):
                pairs.append((i, j))
    labels = components(n, pairs)
    out: list[Draft] = []
    for lab in np.unique(labels):
        members = [left[k] for k in np.flatnonzero(labels == lab)]
        models = [m.obs.model for m in members if isinstance(m.obs.model, Patrol)]
        t0 = min(m.time for m in models)
        t1 = max(m.time_end or m.time for m in models)
        fix = _group_fix(members, models, t0)
        d = Draft("fire" if fix is not None else "unlocated", t0, t1, impact=fix)
        for m, pm in zip(members, models, strict=True):
            d.add("patrol", m.obs.ref, prm.strength_patrol)
            patrol_weapon(d, pm)
        out.append(d)
    return out


def _group_fix(members: list[_Left], models: list[Patrol], t0: int) -> Point | None:
    """Stansfield's fix from two or more posts' bearings, else the combined range fixes."""
    if len({(m.ox, m.oy) for m in members}) >= 2:
        try:
            x, y, cov = stansfield_fix(
                np.array([m.ox for m in members]),
                np.array([m.oy for m in members]),
                np.array([pm.bearing_deg for pm in models]),
                np.array([pm.bearing_sigma_deg for pm in models]),
            )
            return point(x, y, cov, t0)
        except ValueError:
            pass
    located = [(m.x, m.y, m.cov) for m in members if m.cov is not None]
    return combine(located, t0) if located else None


def patrol_weapon(d: Draft, m: Patrol) -> None:
    """A patrol's assessment is evidence of the weapon class (weighed with everything else by
    :func:`truceline.weapon_class.classify`): its ``weapon`` field, and its ``event`` when
    that is a drone or an aircraft (seen or heard, a strike from the air, whatever the
    acoustic sensors made of the explosion)."""
    if m.event in ("drone", "aircraft"):
        d.reports.append(("patrol_event", m.event))
    if m.weapon and m.weapon != "unknown":
        d.reports.append(("patrol", m.weapon))
