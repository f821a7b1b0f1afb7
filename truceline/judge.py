"""Judgement: the probability that each incident breaches each clause of the agreement.

Given that the incident happened as described (its ``confidence`` says how likely that is):

- ``fire`` rules: 1 for a fire or air incident, or, if the rule names classes, the
  probability that the weapon is one of them (for a tracked flight, times P(it ended in
  a strike)).
- ``air`` rules: the probability that the weapon is a drone or an aircraft (or one of the
  rule's classes); for a tracked flight, times P(it ended in a strike), or, for a rule
  with ``over_line``, times P(it flew beyond the line from its launch side)
  (:mod:`truceline.tracking.flights`). Only a tracked flight can breach ``over_line``. A
  rule with ``air_types`` (e.g. reconnaissance overflights) uses instead P(the object was
  one of those types): a tracked flight's type probabilities; for a strike no track
  followed, its P(drone) spread over the drone types by their priors (nothing says which).
- ``crossing`` rules: 1 for a crossing (equipment whose markings name a party, standing in
  another's area), times P(its class is one the rule names).
- ``presence`` rules (a withdrawal line ``within_km`` of the line of contact, or an ``area``):
  the probability that the weapon is of a restricted class **and** stood on its own side
  inside the zone, integrated over the class and over the position's uncertainty (the same
  fixed points as attribution). A fire incident's gun stood at its origin; one known only by
  its impact stood within its range of it, on the other side of the line: it was within a
  withdrawal line ``D`` of the line with probability ``min(1, D / (range − u))`` for an
  impact ``u`` beyond the line (any distance the gun could have fired from being as likely).
  Two clauses restricting different classes at different depths are each judged.

``violations`` are the clauses at or above the threshold (default 0.9); ``possible`` ones are
at 0.5 or more below it. Nothing before the agreement's ``effective_from`` breaches anything.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import shapely
from numpy.typing import NDArray

from .agreement import Agreement, Rule
from .attribution import standard_normal_points
from .incidents import Fused, Judgement, WeaponClass
from .tracking.air_types import AirTypeParams
from .weapons import DEFAULT_MODEL, WeaponModel

__all__ = ["DEFAULT_THRESHOLD", "judge"]

DEFAULT_THRESHOLD = 0.9
FloatArray = NDArray[np.float64]
AIR = ("drone", "aircraft")


def judge(
    incidents: Sequence[Fused],
    weapons: Sequence[WeaponClass],
    ag: Agreement,
    threshold: float = DEFAULT_THRESHOLD,
    model: WeaponModel = DEFAULT_MODEL,
) -> list[Judgement]:
    """The judgement of each incident, in order."""
    zones = _zone_probabilities(incidents, ag, model)
    out = []
    for k, (inc, wc) in enumerate(zip(incidents, weapons, strict=True)):
        probs: dict[str, float] = {}
        if inc.time_start_us >= ag.effective_from_us:
            for clause in ag.clauses:
                p = _probability(clause.rule, inc, wc, zones.get((k, clause.id)))
                if p >= 0.05:
                    probs[clause.id] = round(min(p, 1.0), 4)
        violations = tuple(c for c, p in probs.items() if p >= threshold)
        out.append(Judgement(probs, violations, threshold))
    return out


def _share(wc: WeaponClass, classes: Sequence[str] | None, default: Sequence[str] | None) -> float:
    """P(the weapon is one of ``classes``, or of ``default`` when the rule names none; 1 if
    neither names any)."""
    names = classes if classes is not None else default
    if names is None:
        return 1.0
    return float(sum(p for c, p in wc.probabilities.items() if c in names))


#: the drone types' priors (what an untracked drone strike was, before any evidence)
_DRONE_PRIORS = {t: a.prior for t, a in AirTypeParams().types.items() if t != "aircraft"}


def _typed_share(types: Sequence[str], inc: Fused, wc: WeaponClass) -> float:
    """P(the air object was one of ``types``): a tracked flight's type probabilities; for a
    strike no track followed, P(drone) times the drone types' share of the types' priors
    (nothing says which drone it was) plus P(aircraft) if ``aircraft`` is listed."""
    if inc.flight is not None and inc.flight.types:
        return float(sum(p for t, p in inc.flight.types.items() if t in types))
    listed = sum(p for t, p in _DRONE_PRIORS.items() if t in types) / sum(_DRONE_PRIORS.values())
    probs = wc.probabilities
    return probs.get("drone", 0.0) * listed + probs.get("aircraft", 0.0) * ("aircraft" in types)


def _probability(rule: Rule, inc: Fused, wc: WeaponClass, zone: dict[str, float] | None) -> float:
    kind = inc.kind
    if rule.kind == "fire":
        fired = 1.0 if inc.flight is None else inc.flight.p_strike  # a flight fires by striking
        return fired * _share(wc, rule.classes, None) if kind in ("fire", "air") else 0.0
    if rule.kind == "air":
        share = _share(wc, rule.classes, AIR) if kind in ("fire", "air") else 0.0
        if rule.air_types is not None:
            share = _typed_share(rule.air_types, inc, wc) if kind in ("fire", "air") else 0.0
        if inc.flight is not None:
            return share * (inc.flight.p_crossed if rule.over_line else inc.flight.p_strike)
        return 0.0 if rule.over_line else share
    if rule.kind == "crossing":
        return _share(wc, rule.classes, None) if kind == "crossing" else 0.0
    if rule.kind != "presence" or zone is None or rule.classes is None:
        return 0.0
    if kind not in ("fire", "air", "presence"):
        return 0.0
    return float(
        sum(p * zone.get(c, 0.0) for c, p in wc.probabilities.items() if c in rule.classes)
    )


def _zone_probabilities(
    incidents: Sequence[Fused], ag: Agreement, model: WeaponModel
) -> dict[tuple[int, str], dict[str, float]]:
    """For each incident and presence clause: P(it stood on its own side inside the zone),
    by class (the same for every class where the position is located)."""
    out: dict[tuple[int, str], dict[str, float]] = {}
    rules = [c for c in ag.clauses if c.rule.kind == "presence"]
    if not rules:
        return out
    located = [k for k, i in enumerate(incidents) if i.origin is not None]
    if located:
        pts = _points(incidents, located)
        for clause in rules:
            inside = _inside(pts, clause.rule, ag)
            for k, p in zip(located, inside, strict=True):
                crossing = incidents[k].kind == "crossing"
                out[(k, clause.id)] = {
                    c: 0.0 if crossing else float(p) for c in clause.rule.classes or ()
                }
    for k, inc in enumerate(incidents):
        if inc.origin is None and inc.impact is not None and inc.kind in ("fire", "air"):
            beyond = float(ag.distance_to_line_m([inc.impact.x], [inc.impact.y])[0])
            for clause in rules:
                if clause.rule.within_km is None:
                    continue  # an area: where the gun stood cannot be told from its impact
                d = clause.rule.within_km * 1000.0
                out[(k, clause.id)] = {
                    c: min(1.0, d / max(model.classes[c].max_range_m - beyond, 1.0))
                    for c in clause.rule.classes or ()
                    if c in model.classes
                }
    return out


def _points(incidents: Sequence[Fused], located: list[int]) -> FloatArray:
    """(N, S, 2) fixed points over each located position's uncertainty."""
    z = standard_normal_points()
    origins = [o for k in located if (o := incidents[k].origin) is not None]
    mean = np.array([[o.x, o.y] for o in origins])
    cov = np.array([np.nan_to_num(o.cov, nan=1e8) for o in origins])
    values, vectors = np.linalg.eigh(cov)
    scaled = vectors * np.sqrt(np.maximum(values, 1e-6))[:, None, :]
    return np.asarray(mean[:, None, :] + np.einsum("nij,kj->nki", scaled, z), float)


def _inside(pts: FloatArray, rule: Rule, ag: Agreement) -> FloatArray:
    """P(inside the rule's zone and on some party's own side) for each position. Points far
    from every edge (four standard deviations) are decided by the centre alone."""
    n, s, _ = pts.shape
    centre = pts.mean(axis=1)
    spread = np.sqrt(((pts - centre[:, None, :]) ** 2).sum(-1).max(1))
    sure = np.zeros(n, bool)
    result = np.zeros(n)
    dist = ag.distance_to_line_m(centre[:, 0], centre[:, 1])
    owner = ag.owner_index(centre[:, 0], centre[:, 1])
    if rule.within_km is not None:
        edge = np.minimum(np.abs(dist - rule.within_km * 1000.0), dist)
        sure = edge > spread
        result = ((dist < rule.within_km * 1000.0) & (owner >= 0)).astype(float)
    if rule.area_local is not None:
        to_edge = shapely.distance(
            shapely.points(centre[:, 0], centre[:, 1]), shapely.boundary(rule.area_local)
        )
        in_area = shapely.contains_xy(rule.area_local, centre[:, 0], centre[:, 1]) & (owner >= 0)
        sure_area = (np.asarray(to_edge) > spread) & (dist > spread)
        if rule.within_km is None:
            sure, result = sure_area, in_area.astype(float)
        else:
            sure = sure & sure_area
            result = np.maximum(result, in_area)
    todo = np.flatnonzero(~sure)
    if todo.size:
        flat = pts[todo].reshape(-1, 2)
        own = ag.owner_index(flat[:, 0], flat[:, 1]) >= 0
        hit = np.zeros(flat.shape[0], bool)
        if rule.within_km is not None:
            hit |= ag.distance_to_line_m(flat[:, 0], flat[:, 1]) < rule.within_km * 1000.0
        if rule.area_local is not None:
            hit |= shapely.contains_xy(rule.area_local, flat[:, 0], flat[:, 1])
        result[todo] = (hit & own).reshape(todo.size, s).mean(axis=1)
    return result
