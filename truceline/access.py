"""Who may see and do what: roles, and the disclosure policy, as pure functions.

Roles (a bearer token carries one; no token is ``public``):

Every writer writes only under its own ``source`` (its token's name), so nobody writes in
another's name or takes another's ``(source, id)``.

- ``sensor``: bound to one registered sensor (:mod:`truceline.sensors`): submits acoustic,
  thermal and UAV observations as that sensor (a detection names its own sensor, at its
  surveyed position); reads what the public reads.
- ``monitor``: submits patrol, UAV and thermal observations; reads everything.
- ``analyst``: submits any observation but an allegation, reviews incidents (status,
  publication), opens cases, registers sensors.
- ``commissioner``: reads everything, opens cases, signs rulings and reopenings (for its
  member state, an ISO 3166-1 code: :func:`member_state`).
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
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAP_FIELDS",
    "PUBLIC_FIELDS",
    "ROLES",
    "Disclosure",
    "Principal",
    "case_event_visible",
    "may_act_on_case",
    "may_open_case",
    "may_prove",
    "may_register_sensor",
    "may_see_accusation",
    "may_see_evidence",
    "may_see_observation",
    "may_submit",
    "may_submit_any",
    "member_state",
    "valid_role",
    "view_case",
    "view_health",
    "view_incident",
]

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


def member_state(text: str) -> str:
    """A commissioner's member state as its ISO 3166-1 alpha-2 code, or ``ValueError``.

    The text is NFKC-normalised and upper-cased; it may hold no invisible or format
    character (a zero-width space after ``FR`` would otherwise make a second "state") and
    must then be exactly two letters that ISO 3166-1 assigns (checked with ``pycountry``,
    whose own lookup ignores case: the code is upper-cased here, so ``fr`` and ``FR`` are one
    state).

    >>> member_state("fr"), member_state("ＤＥ")
    ('FR', 'DE')
    >>> member_state("FR\u200b")
    Traceback (most recent call last):
    ValueError: member state 'FR\u200b' holds an invisible or format character
    >>> member_state("XX")
    Traceback (most recent call last):
    ValueError: member state 'XX' is not an ISO 3166-1 alpha-2 code
    """
    import pycountry

    if not isinstance(text, str):
        raise ValueError("a member state is an ISO 3166-1 alpha-2 code such as FR")
    norm = unicodedata.normalize("NFKC", text)
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for c in norm):
        raise ValueError(f"member state {text!r} holds an invisible or format character")
    code = norm.strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", code) or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"member state {text!r} is not an ISO 3166-1 alpha-2 code")
    return code


SENSOR_TYPES = ("acoustic", "status", "thermal", "uav")
MONITOR_TYPES = ("patrol", "uav", "thermal")


def may_submit_any(who: Principal) -> str | None:
    """None if ``who`` may submit observations at all (checked before the body is read)."""
    if who.role in ("public", "commissioner"):
        return f"{who.role} may not submit observations"
    return None


def may_submit(
    who: Principal, kind: str, source: str, party: str | None, sensor: str | None = None
) -> str | None:
    """None if ``who`` may submit an observation of this type and source (filed by
    ``party``, for an allegation; heard by ``sensor``, for an acoustic detection), else the
    reason it may not.

    Every writer writes only under its own ``source`` (the token's name), so nobody can
    file in another's name or take another's ``(source, id)``; a sensor's detection and its
    heartbeat (``status``) name the sensor itself (the position is checked against the
    registry by the store).

    >>> may_submit(Principal("AS-1", "sensor"), "allegation", "AS-1", "S")
    'a sensor submits acoustic, status, thermal and uav observations'
    >>> may_submit(Principal("AS-1", "sensor"), "acoustic", "AS-1", None, "AS-2")
    'a sensor reports its own detections only (AS-1), not those of AS-2'
    >>> may_submit(Principal("mon-1", "monitor"), "patrol", "AS-1", None)
    'mon-1 writes only under its own source mon-1, not AS-1'
    >>> may_submit(Principal("party-N", "party:N"), "allegation", "party-N", "N") is None
    True
    """
    if who.role in ("public", "commissioner"):
        return "this role may not submit observations"
    if source != who.name:
        return f"{who.name} writes only under its own source {who.name}, not {source}"
    if who.role == "analyst":
        if kind == "status":
            return "a heartbeat comes from its sensor's own token"
        return "allegations are filed by the parties" if kind == "allegation" else None
    if who.role == "sensor":
        if kind not in SENSOR_TYPES:
            return f"a sensor submits {', '.join(SENSOR_TYPES[:-1])} and {SENSOR_TYPES[-1]} observations"
        if kind in ("acoustic", "status") and sensor != who.name:
            return f"a sensor reports its own detections only ({who.name}), not those of {sensor}"
        return None
    if who.role == "monitor":
        if kind in MONITOR_TYPES:
            return None
        return "a monitor submits patrol, uav and thermal observations"
    if who.party is not None:
        if kind != "allegation" or party != who.party:
            return f"a party submits only allegations filed as party {who.party}"
        return None
    return "this role may not submit observations"


def may_register_sensor(who: Principal) -> str | None:
    """None if ``who`` may register (or re-survey) a sensor: analysts only."""
    return None if who.role == "analyst" else f"{who.role} may not register sensors"


def view_health(who: Principal, counts: dict[str, int]) -> dict[str, int]:
    """What ``GET /v1/health`` tells ``who`` beyond "ok": staff the live counts (observations,
    log size), nobody else anything (a live count tells the public when hidden evidence
    arrives)."""
    return dict(counts) if who.is_staff else {}


#: what the public is shown of a published incident as it is (the locations are coarsened
#: and the sources counted, separately); anything not named here is withheld
PUBLIC_FIELDS = (
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

#: the properties the dashboard's map, timeline and filters load for every incident (of
#: what the caller may see); the dossier asks for the rest
MAP_FIELDS = (
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
    "origin",
    "origin_sigma_m",
    "origin_cov_m2",
    "impact",
    "impact_sigma_m",
    "impact_cov_m2",
    "alleged_by",
    "disclosure",
    "track",  # a tracked flight's path and where it crossed the line (not in the public view)
    "crossing",
)


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
    concerned: bool = False,
) -> dict[str, Any] | None:
    """The incident as ``who`` may see it (a new feature), or None if it may not.

    ``review`` is the analysts' (status, published) decision, if any. ``concerned``: ``who``
    is the party the commission accuses over the incident in a case it opened on it, and is
    shown it as it would be were it attributed to it: a party cannot answer an accusation
    it may not read. (Only a case's card asks this, never the incident's own routes:
    :func:`truceline.api.cases._accused_view`.)
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
    if party is not None and (props.get("attributed_to") == party or concerned):
        if public:
            return full
        # in full, but not the other party's unpublished allegations: who alleged, how many
        # and which observations are withheld (the dossier withholds their bodies too)
        props["alleged_by"] = [p for p in props.get("alleged_by") or [] if p == party]
        # and the verdicts only on allegations filed under the caller's own source: a ref
        # names the other party's allegation, and its sequence tells how many it filed
        props["allegations"] = {
            ref: v
            for ref, v in (props.get("allegations") or {}).items()
            if ref.split(":", 1)[0] == who.name
        }
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
    coarse = {k: props[k] for k in PUBLIC_FIELDS if k in props}
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
    # the basis is withheld, but not whether the shares were multiplied by P(real): without
    # it the dossier cannot say what the undetermined rest means
    from .attribution import multiplied

    coarse["attribution_multiplied"] = multiplied(props.get("attribution_basis"))
    coarse["disclosure"] = (
        f"location rounded to {step:g}°, published after {policy.delay_hours:g} h"
    )
    geom = feature.get("geometry")
    if geom and geom.get("coordinates"):
        geom = {"type": "Point", "coordinates": _coarsen_point(geom["coordinates"], step)}
    return {"type": "Feature", "id": props["id"], "geometry": geom, "properties": coarse}


def may_see_evidence(who: Principal, seen: dict[str, Any]) -> bool:
    """Whether ``who`` is shown an incident's supporting observations at all (``seen``: the
    incident's properties as :func:`view_incident` gave them): staff always; a party when it
    sees the incident in full (not the public's coarsened view); the public never."""
    return who.is_staff or (who.party is not None and "disclosure" not in seen)


def may_see_observation(who: Principal, seen: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether ``who`` is shown one supporting observation of an incident it may see the
    evidence of: a party is not shown the other party's allegations until the incident is
    published."""
    public = bool(seen.get("published")) and seen.get("status") == "verified"
    return not (
        who.party is not None
        and body.get("type") == "allegation"
        and body.get("party") != who.party
        and not public
    )


#: the commissioners' signatures (on rulings and reopenings): drafts until in force
DRAFT_EVENTS = ("ruling", "reopen")


def view_case(
    who: Principal,
    events: list[dict[str, Any]],
    state: dict[str, Any],
    incident_visible: bool = False,
) -> tuple[list[dict[str, Any]], dict[str, Any]] | None:
    """A case's events and state as ``who`` may see them, or None. Staff see everything; the
    parties of the case see it without drafts (the commissioners' signatures on rulings and
    reopenings; the ruling in force and earlier rulings are shown, with their signatures),
    and with each signature on closing the reply window early as it is made (a notice:
    the party may still reply until the window closes);
    the public sees a ruled case's ruling in force with its dissents, and earlier rulings,
    and the case's incident id only when it may see that incident (``incident_visible``):
    a ruling must not name an incident the disclosure rules still withhold."""
    if who.is_staff:
        return events, state
    undrafted = {**state, "proposals": [], "reopen_proposals": []}
    if who.party is not None and who.party in (state["accused"], state["filed_by"]):
        return [e for e in events if e["kind"] not in DRAFT_EVENTS], undrafted
    if state["status"] == "ruled" or state["earlier_rulings"]:
        keep = ("status", "incident", "accused", "opened", "ruling", "earlier_rulings")
        shown = {k: state[k] for k in keep}
        if not incident_visible:
            shown["incident"] = None
        return [], shown
    return None


def may_see_accusation(who: Principal, state: dict[str, Any]) -> bool:
    """Whether ``who`` is shown what a case alleges (its summary, and of its incident what
    :func:`view_incident` lets ``who`` see): the commission's staff and the case's parties;
    the public sees a ruling, not the accusation."""
    return who.is_staff or (
        who.party is not None and who.party in (state.get("accused"), state.get("filed_by"))
    )


def may_open_case(who: Principal, on_allegation: bool) -> str | None:
    """None if ``who`` may open a case (on an allegation, or on an incident), else why not:
    analysts and commissioners may; a party only on its own allegation."""
    if who.party is None and who.role not in ("analyst", "commissioner"):
        return f"{who.role} may not open cases"
    if who.party is not None and not on_allegation:
        return "a party opens cases only on its own allegations"
    return None


def may_act_on_case(who: Principal, action: str) -> str | None:
    """None if ``who`` may ``reply`` to, sign a ``ruling`` on, sign the ``reopen`` of, or
    ``close_replies`` (the reply window, early) of a case it sees (commissioners act for the
    member state their token names)."""
    if action == "reply":
        return None if who.party is not None else "only parties reply"
    if who.role != "commissioner":
        return f"{who.role} may not do this"
    if action in ("ruling", "reopen", "close_replies") and not who.member_state:
        return "this commissioner's token names no member state"
    return None


def case_event_visible(
    who: Principal, events: list[dict[str, Any]], state: dict[str, Any], seq: int
) -> bool:
    """Whether ``who`` sees event ``seq`` of a case (``state`` is the case's state): an event
    :func:`view_case` shows it, or a signature or dissent on a ruling it is shown (in force,
    or earlier). What a proof of the event's log entry may show follows from this."""
    seen = view_case(who, events, state)
    if seen is None or not 0 <= seq < len(events):
        return False
    shown, shown_state = seen
    ev = events[seq]
    if any(e is ev for e in shown):
        return True
    if ev["kind"] != "ruling":
        return False
    from .review import ruling_id

    rid = ruling_id(ev)
    mark = {"by": ev["by"], "member_state": ev["member_state"], "time": ev["time"]}
    for r in [shown_state.get("ruling"), *shown_state.get("earlier_rulings", [])]:
        if r is None or r["id"] != rid:
            continue
        for s in [*r["signatures"], *r["dissents"]]:
            if {k: s[k] for k in mark} == mark:
                return True
    return False


#: log entries anyone may prove: what a published figure is computed from, and the keys
#: that check it (the log's, sources', witnesses'); they carry no salt
PUBLIC_ENTRY_KINDS = ("run", "agreement", "key", "policy", "tree_head", "witness")


def may_prove(
    who: Principal,
    entry: dict[str, Any],
    sees_case_event: Callable[[int, int], bool],
    sees_incident: Callable[[str], bool],
) -> bool:
    """Whether ``who`` may have an inclusion proof of a log entry (and so the entry itself):
    a proof follows the visibility of what it proves. Staff any; others the log's public
    entries, their own observations, the reviews of incidents they may see now
    (``sees_incident``: a published incident only once the public may see it), and the case
    events they may see (``sees_case_event(case, seq)``: :func:`case_event_visible`), with
    the files attached to them."""
    if who.is_staff:
        return True
    kind = entry["kind"]
    if kind in PUBLIC_ENTRY_KINDS:
        return True
    if kind == "observation":
        return bool(entry["observation"].get("source") == who.name and who.role != "public")
    if kind == "incident_review":
        return sees_incident(str(entry["incident"]))
    if kind in ("case_event", "attachment"):  # a file: for who may see its event
        # the event's place in its case: entries logged since carry no ``seq`` (it counted
        # hidden events), and the caller adds it from the store
        return "seq" in entry and sees_case_event(int(entry["case"]), int(entry["seq"]))
    return False
