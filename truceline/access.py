"""Who may see and do what: roles, and the disclosure policy, as pure functions.

Roles (a bearer token carries one; no token is ``public``):

- ``sensor``: submits observations for its own source only (the token's name); reads what
  the public reads.
- ``monitor``: submits patrol, UAV and thermal observations; reads everything.
- ``analyst``: submits anything, reviews incidents (status, publication), opens cases.
- ``commissioner``: reads everything, opens cases, signs rulings (for its member state).
- ``party:<ID>``: files allegations in its own name (its token's name is its ``source``);
  sees in full the incidents attributed to it (without the other party's unpublished
  allegations) and its own unplaced allegations, and the cases where it is accused or the
  filer; replies to those cases. Filing an allegation does not open the other side's
  incidents to it.
- ``public``: published, verified incidents only, after a delay and with coarsened
  locations; ruled cases.

>>> who = Principal("party-N", "party:N")
>>> who.party, who.is_staff
('N', False)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["ROLES", "Disclosure", "Principal", "may_submit", "view_incident"]

ROLES = ("sensor", "monitor", "analyst", "commissioner", "public")
STAFF = ("monitor", "analyst", "commissioner")


@dataclass(frozen=True)
class Principal:
    name: str
    role: str  # one of ROLES, or "party:<ID>"
    member_state: str | None = None

    @property
    def party(self) -> str | None:
        return self.role.split(":", 1)[1] if self.role.startswith("party:") else None

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF


PUBLIC = Principal("public", "public")


def valid_role(role: str, parties: tuple[str, ...] | None = None) -> bool:
    if role in ROLES:
        return True
    if role.startswith("party:") and len(role) > len("party:"):
        return parties is None or role.split(":", 1)[1] in parties
    return False


SENSOR_TYPES = ("acoustic", "thermal", "uav")
MONITOR_TYPES = ("patrol", "uav", "thermal")


def may_submit(who: Principal, kind: str, source: str, party: str | None) -> str | None:
    """None if ``who`` may submit an observation of this type and source (filed by
    ``party``, for an allegation), else the reason it may not.

    A sensor and a party write only under their own ``source`` (the token's name), so
    nobody can file in another's name or take another's ``(source, id)``.

    >>> may_submit(Principal("AS-1", "sensor"), "allegation", "AS-1", "S")
    'a sensor submits acoustic, thermal and uav observations'
    >>> may_submit(Principal("party-N", "party:N"), "allegation", "party-N", "N") is None
    True
    """
    if who.role == "analyst":
        return None
    if who.role == "sensor":
        if kind not in SENSOR_TYPES:
            return f"a sensor submits {', '.join(SENSOR_TYPES[:-1])} and {SENSOR_TYPES[-1]} observations"
        return None if source == who.name else f"a sensor token may submit only for {who.name}"
    if who.role == "monitor":
        if kind in MONITOR_TYPES:
            return None
        return "a monitor submits patrol, uav and thermal observations"
    if who.party is not None:
        if kind != "allegation" or party != who.party:
            return f"a party submits only allegations filed as party {who.party}"
        return None if source == who.name else f"a party token files only as source {who.name}"
    return "this role may not submit observations"


@dataclass(frozen=True)
class Disclosure:
    """What the public sees: only published, verified incidents, ``delay_hours`` after they
    ended, positions rounded to ``coarsen_deg`` degrees."""

    delay_hours: float = 24.0
    coarsen_deg: float = 0.05


def _coarse(value: float, step: float) -> float:
    return round(math.floor(value / step) * step + step / 2, 6)


def _coarsen_point(p: list[float] | None, step: float) -> list[float] | None:
    return None if p is None else [_coarse(p[0], step), _coarse(p[1], step)]


def view_incident(
    who: Principal,
    feature: dict[str, Any],
    review: tuple[str, bool] | None,
    now_us: int,
    policy: Disclosure,
) -> dict[str, Any] | None:
    """The incident as ``who`` may see it (a new feature), or None if it may not.

    ``review`` is the analysts' (status, published) decision, if any.
    """
    from ._time import parse_time

    props = dict(feature["properties"])
    status, published = review if review is not None else (props["status"], False)
    props["status"], props["published"] = status, published
    full = {**feature, "properties": props}
    if who.is_staff:
        return full
    party = who.party
    public = published and status == "verified"
    if party is not None and props.get("attributed_to") == party:
        if public:
            return full
        # in full, but not the other party's unpublished allegations: who alleged, how many
        # and which observations are withheld (the dossier withholds their bodies too)
        props["alleged_by"] = [p for p in props.get("alleged_by") or [] if p == party]
        props.pop("observations", None)
        props.pop("sources", None)
        return full
    if (
        party is not None
        and props.get("kind") == "unlocated"
        and props.get("alleged_by") == [party]
    ):
        return full  # its own allegation, that nothing has placed yet
    if not public:
        return None
    if parse_time(props["time_end"]) > now_us - int(policy.delay_hours * 3.6e9):
        return None
    step = policy.coarsen_deg
    coarse = {
        k: props[k]
        for k in (
            "id",
            "kind",
            "time_start",
            "time_end",
            "weapon",
            "confidence",
            "attribution",
            "attributed_to",
            "violations",
            "status",
            "published",
        )
        if k in props
    }
    sigma = step * 111_000 / 2
    coarse["origin"] = _coarsen_point(props.get("origin"), step)
    coarse["impact"] = _coarsen_point(props.get("impact"), step)
    coarse["origin_sigma_m"] = (
        max(props.get("origin_sigma_m") or 0.0, sigma) if props.get("origin") else None
    )
    coarse["impact_sigma_m"] = (
        max(props.get("impact_sigma_m") or 0.0, sigma) if props.get("impact") else None
    )
    coarse["sources"] = props.get("sources")
    coarse["disclosure"] = (
        f"location rounded to {step:g}°, published after {policy.delay_hours:g} h"
    )
    geom = feature.get("geometry")
    if geom and geom.get("coordinates"):
        geom = {"type": "Point", "coordinates": _coarsen_point(geom["coordinates"], step)}
    return {"type": "Feature", "id": props["id"], "geometry": geom, "properties": coarse}
