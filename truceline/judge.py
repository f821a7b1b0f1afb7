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

import numpy as np
import shapely

from .agreement import Agreement
from .incidents import Incident

__all__ = ["judge"]


def judge(incidents: list[Incident], ag: Agreement) -> None:
    """Set ``violations`` (clause ids, in the agreement's order) on every incident."""
    located = [i for i in incidents if i.origin is not None]
    x = np.array([i.origin.x for i in located if i.origin is not None])
    y = np.array([i.origin.y for i in located if i.origin is not None])
    dist = ag.distance_to_line_m(x, y) if located else np.zeros(0)
    owner = ag.owner_index(x, y) if located else np.zeros(0, np.int64)
    where = {id(inc): k for k, inc in enumerate(located)}
    for inc in incidents:
        inc.violations = []
        if inc.time_start_us < ag.effective_from_us:
            continue
        k = where.get(id(inc))
        for clause in ag.clauses:
            rule = clause.rule
            if rule.kind == "fire" and inc.kind in ("fire", "air"):
                if rule.classes is None or inc.weapon in rule.classes:
                    inc.violations.append(clause.id)
            elif rule.kind == "air" and inc.kind == "air" and rule.applies_to_weapon(inc.weapon):
                inc.violations.append(clause.id)
            elif rule.kind == "crossing" and inc.kind == "crossing":
                if rule.classes is None or inc.weapon in rule.classes:
                    inc.violations.append(clause.id)
            elif (
                rule.kind == "presence"
                and k is not None
                and inc.kind in ("presence", "fire", "air")
                and rule.applies_to_weapon(inc.weapon)
                and inc.attributed_to is not None
                and owner[k] >= 0
                and ag.party_ids[owner[k]] == inc.attributed_to
            ):
                if (rule.within_km is not None and dist[k] < rule.within_km * 1000.0) or (
                    rule.area_local is not None and shapely.contains_xy(rule.area_local, x[k], y[k])
                ):
                    inc.violations.append(clause.id)
