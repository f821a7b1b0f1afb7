"""UAV sightings of equipment: grouped (same object class, within the gate and the window)
into ``presence`` incidents. Equipment whose markings identify one party, standing in
another party's control area, has crossed the line: its kind is ``crossing``."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..agreement import Agreement
from ..observations import Observation, Uav
from .draft import Draft
from .gating import Located, group_point, groups
from .params import FusionParams

__all__ = ["uav_drafts"]

S = 1_000_000


def _same_object(a: Observation, b: Observation) -> bool:
    ma, mb = a.model, b.model
    return not (isinstance(ma, Uav) and isinstance(mb, Uav) and ma.object != mb.object)


def uav_drafts(
    sightings: list[Observation],
    ag: Agreement,
    prm: FusionParams,
    xy: Callable[[list[float]], tuple[float, float]],
) -> tuple[list[Draft], dict[str, int]]:
    """Presence (or crossing) drafts from UAV sightings."""
    items: list[Located] = []
    for o in sightings:
        assert isinstance(o.model, Uav)
        x, y = xy(o.model.position)
        var = o.model.position_sigma_m**2
        items.append((o, x, y, np.diag([var, var])))
    out = []
    for members in groups(items, prm.gate_chi2, int(prm.uav_window_h * 3600 * S), _same_object):
        t0, t1, p = group_point(members)
        d = Draft("presence", t0, t1, origin=p)
        for m in members:
            d.add("uav", m[0].ref, prm.strength_uav)
            model = m[0].model
            assert isinstance(model, Uav)
            d.weapon, d.weapon_basis = model.object, "identified from the air (UAV)"
            if model.side:
                d.marking = model.side
        out.append(d)
    _mark_crossings(out, ag)
    return out, {"sightings": len(items)}


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
