"""Satellite thermal anomalies: each joins the impact it fits (a fire started by a heavy
impact, seen within the window after it); the rest are grouped into fires of their own."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..observations import Observation, Thermal
from .draft import Draft
from .gating import Candidates, Located, group_point, groups
from .params import FusionParams

__all__ = ["fuse_thermal"]

S = 1_000_000


def fuse_thermal(
    thermals: list[Observation],
    drafts: list[Draft],
    prm: FusionParams,
    xy: Callable[[list[float]], tuple[float, float]],
) -> tuple[list[Draft], dict[str, int]]:
    """Join each detection to the impact it fits; return the new drafts of the rest."""
    pts = Candidates.of(drafts, ("impact",))
    left: list[Located] = []
    matched = 0
    window_us = int(prm.thermal_window_h * 3600 * S)
    for o in thermals:
        m = o.model
        assert isinstance(m, Thermal)
        x, y = xy(m.position)
        pixel = max(m.scan_km or 0.375, m.track_km or 0.375) * 1000.0
        var = pixel**2 / 12.0 + prm.thermal_geoloc_sigma_m**2
        cov = np.diag([var, var])
        t1 = m.time_end if m.time_end is not None else m.time
        best = pts.best(x, y, cov, (m.time - window_us, t1), prm.gate_chi2)
        if best >= 0:
            drafts[best].add("thermal", o.ref, prm.strength_thermal)
            matched += 1
        else:
            left.append((o, x, y, cov))
    new = []
    for members in groups(left, prm.gate_chi2, window_us):
        t0, t1, p = group_point(members)
        d = Draft("fire", t0, t1, impact=p)
        for member in members:
            d.add("thermal", member[0].ref, prm.strength_thermal)
        new.append(d)
    return new, {"detections": len(thermals), "joined": matched}
