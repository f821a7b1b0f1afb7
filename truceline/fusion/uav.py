"""UAV sightings of equipment: grouped (same object class, within the gate and the window)
into ``presence`` incidents. Equipment whose markings identify one party, standing in
another party's control area, has crossed the line: its kind is ``crossing``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..agreement import Agreement
from ..observations import Observation, Uav
from ..weapons import FIRING_CLASSES
from .draft import Draft
from .gating import Candidates, Located, group_point, groups
from .params import FusionParams

__all__ = ["uav_drafts"]

S = 1_000_000


def _same_object(a: Observation, b: Observation) -> bool:
    ma, mb = a.model, b.model
    return not (isinstance(ma, Uav) and isinstance(mb, Uav) and ma.object != mb.object)


LAUNCHER_WINDOW_S = 1_800.0  # a launcher seen this long before or after a firing from there


def uav_drafts(
    sightings: list[Observation],
    drafts: list[Draft],
    ag: Agreement,
    prm: FusionParams,
    xy: Callable[[list[float]], tuple[float, float]],
) -> tuple[list[Draft], dict[str, int]]:
    """A sighting of a weapon that fires, at the firing position of an incident and near its
    time, is that incident's launcher: it joins it (and says what class it is). The other
    sightings become presence (or crossing) drafts."""
    items: list[Located] = []
    pts = Candidates.of(drafts, ("origin",))
    launchers = 0
    for o in sightings:
        m = o.model
        assert isinstance(m, Uav)
        x, y = xy(m.position)
        var = m.position_sigma_m**2
        cov = np.diag([var, var])
        if m.object in FIRING_CLASSES:
            slack = int(LAUNCHER_WINDOW_S * S)
            best = pts.best(x, y, cov, (m.time - slack, m.time + slack), prm.gate_chi2)
            if best >= 0 and drafts[best].kind == "fire":
                drafts[best].add("uav", o.ref, prm.strength_uav)
                drafts[best].reports.append(("uav", m.object))
                launchers += 1
                continue
        items.append((o, x, y, cov))
    out = []
    for members in groups(items, prm.gate_chi2, int(prm.uav_window_h * 3600 * S), _same_object):
        t0, t1, p = group_point(members)
        d = Draft("presence", t0, t1, origin=p)
        for member in members:
            d.add("uav", member[0].ref, prm.strength_uav)
            model = member[0].model
            assert isinstance(model, Uav)
            d.reports.append(("uav", model.object))
            if model.side:
                d.marking = model.side
        out.append(d)
    _mark_crossings(out, ag)
    return out, {"sightings": len(sightings), "launchers": launchers}


def _mark_crossings(drafts: list[Draft], ag: Agreement) -> None:
    """Equipment marked as one party's, standing in another's control area, has crossed."""
    marked = [d for d in drafts if d.marking and d.origin is not None]
    if not marked:
        return
    owner = ag.owner_index(
        np.array([d.origin.x for d in marked if d.origin]),
        np.array([d.origin.y for d in marked if d.origin]),
    )
    for d, k in zip(marked, owner, strict=True):
        if k >= 0 and ag.party_ids[k] != d.marking:
            d.kind = "crossing"
