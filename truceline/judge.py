"""Judgement: which clauses of the agreement each incident breaches.

- ``fire`` rules: every fire or air incident (of the rule's classes, if it names any).
- ``air`` rules: incidents of kind ``air`` (drone or aircraft strikes).
- ``presence`` rules: equipment of the rule's classes on its owner's side, closer to the line
  than ``within_km`` (measured in metres in the agreement's frame from the equipment's
  position to the line of contact) or inside the rule's ``area``. Presence incidents use the
  equipment's position; fire incidents use their origin when it is located and the weapon
  class is known, since a gun that fired from 10 km was present at 10 km. The owner is the
  party the incident is attributed to.
- ``crossing`` rules: incidents of kind ``crossing``.

Nothing before the agreement's ``effective_from`` is a violation.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely

from .agreement import Agreement, Rule
from .incidents import Attribution, Fused

__all__ = ["judge"]


def judge(
    incidents: Sequence[Fused], attributions: Sequence[Attribution], ag: Agreement
) -> list[tuple[str, ...]]:
    """The clauses (ids, in the agreement's order) each incident breaches, in order."""
    located = [k for k, i in enumerate(incidents) if i.origin is not None]
    origins = [o for k in located if (o := incidents[k].origin) is not None]
    x = np.array([o.x for o in origins])
    y = np.array([o.y for o in origins])
    dist = ag.distance_to_line_m(x, y) if located else np.zeros(0)
    owner = ag.owner_index(x, y) if located else np.zeros(0, np.int64)
    where = {k: j for j, k in enumerate(located)}
    out: list[tuple[str, ...]] = []
    for k, (inc, att) in enumerate(zip(incidents, attributions, strict=True)):
        if inc.time_start_us < ag.effective_from_us:
            out.append(())
            continue
        j = where.get(k)
        at = None if j is None else (float(x[j]), float(y[j]), float(dist[j]), int(owner[j]))
        out.append(tuple(c.id for c in ag.clauses if _breaches(c.rule, inc, att, at, ag)))
    return out


def _breaches(
    rule: Rule,
    inc: Fused,
    att: Attribution,
    at: tuple[float, float, float, int] | None,
    ag: Agreement,
) -> bool:
    """Does the incident breach the rule? ``at`` is its origin (x, y, distance to the line,
    owner index) where it was located."""
    if rule.kind == "fire" and inc.kind in ("fire", "air"):
        return rule.classes is None or inc.weapon in rule.classes
    if rule.kind == "air" and inc.kind == "air":
        return rule.applies_to_weapon(inc.weapon)
    if rule.kind == "crossing" and inc.kind == "crossing":
        return rule.classes is None or inc.weapon in rule.classes
    if (
        rule.kind != "presence"
        or at is None
        or inc.kind not in ("presence", "fire", "air")
        or not rule.applies_to_weapon(inc.weapon)
        or att.attributed_to is None
        or at[3] < 0
        or ag.party_ids[at[3]] != att.attributed_to
    ):
        return False
    x, y, dist, _ = at
    return (rule.within_km is not None and dist < rule.within_km * 1000.0) or (
        rule.area_local is not None and bool(shapely.contains_xy(rule.area_local, x, y))
    )
