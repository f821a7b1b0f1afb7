"""The Special Commission's case workflow, as pure functions over a case's event history.

A case is the list of what happened to it, in order; its state is computed from that list,
never stored beside it, so the history cannot disagree with the state and reopening keeps
everything. Every event is also an entry of the evidence log.

Events (``kind``):

- ``opened``: from an incident or an allegation; names the accused party and the reply
  deadline (``reply_by``).
- ``reply``: the accused party's answer (or the filer's), accepted until the deadline.
- ``ruling``: a commissioner's signature on a ruling — ``decision`` (``violation``,
  ``no_violation``, ``undetermined``), ``responsible`` party, ``clause``, ``remedy`` — or a
  dissent from it (``position``: ``sign`` or ``dissent``, with ``reason``). Signatures are on
  the ruling's exact content: two commissioners sign the same ruling only if every field is
  the same.
- ``reopen``: a commissioner's signature on reopening a ruled case (new evidence):
  ``reason`` and ``reply_days``, signed on that exact content like a ruling. The case
  reopens when commissioners of ``quorum`` member states have signed the same reopening:
  undoing a ruling takes as many states as making it. The earlier ruling stays in the
  history, no longer in force, and a new reply window opens.
- ``replies_closed``: a commissioner closes the reply window early, which is allowed once
  every party of the case (the accused and the filer) has replied in this round; rulings
  may then be signed before the deadline, and no further reply is taken.
- ``close_signed``: while a party has not replied, a commissioner's signature, with a
  reason, on closing the window early by decision of the commission; it closes when
  commissioners of ``quorum`` member states have signed (as many as a ruling takes). The
  parties are shown each signature and its reason as it is made: a notice that the
  commission is moving to close the window, while they may still reply.
- ``reopened``: how a case was reopened before reopening needed a quorum (one
  commissioner, at once); such events in a log are read as they were, never written now.

A ruling takes effect when commissioners from at least ``quorum`` different member states
have signed it; its dissents are published with it. A member state counts only as its
ISO 3166-1 code (:func:`truceline.access.member_state`): a look-alike is no second state.
Reply windows are at least a configured minimum (:func:`check_reply_days`).

>>> t0 = 1_772_323_200_000_000
>>> events = [
...     opened(t0, "analyst-1", incident="inc-1", accused="S", reply_days=7),
...     ruling(t0 + 1, "com-fr", "FR", "violation", "S", "C1", "Cease fire."),
...     ruling(t0 + 2, "com-de", "DE", "violation", "S", "C1", "Cease fire."),
... ]
>>> state = case_state(events, now_us=t0 + 3, quorum=2)
>>> state["status"], state["ruling"]["decision"], state["ruling"]["signed_by_states"]
('ruled', 'violation', ['DE', 'FR'])
>>> early = [events[0], reply(t0 + 1, "party-S", "S", "We deny it.")]
>>> case_state(early, t0 + 2, quorum=2)["all_replied"]
True
>>> early.append(close_replies(t0 + 3, "com-fr"))
>>> case_state(early, t0 + 4, quorum=2)["status"]  # rulings may now be signed
'under_review'
>>> events.append(reopen(t0 + 4, "com-fr", "FR", "New imagery.", reply_days=7))
>>> case_state(events, t0 + 5, quorum=2)["status"]  # one state cannot undo a ruling
'ruled'
>>> events.append(reopen(t0 + 6, "com-de", "DE", "New imagery.", reply_days=7))
>>> case_state(events, t0 + 7, quorum=2)["status"]
'awaiting_reply'
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ._time import format_time
from .errors import ReviewError

__all__ = [
    "DECISIONS",
    "ReviewError",
    "accusation",
    "case_state",
    "check_event",
    "check_reply_days",
    "close_replies",
    "close_signed",
    "has_words",
    "opened",
    "reopen",
    "reopened",
    "reply",
    "ruling",
    "ruling_id",
]

DECISIONS = ("violation", "no_violation", "undetermined")
DAY_US = 86_400_000_000


def opened(
    t_us: int,
    by: str,
    *,
    accused: str,
    incident: str | None = None,
    allegation: str | None = None,
    filed_by: str | None = None,
    reply_days: float = 7.0,
    summary: str = "",
) -> dict[str, Any]:
    return {
        "kind": "opened",
        "time": format_time(t_us),
        "by": by,
        "incident": incident,
        "allegation": allegation,
        "accused": accused,
        "filed_by": filed_by,
        "reply_by": format_time(t_us + int(reply_days * DAY_US)),
        "summary": summary,
    }


def reply(
    t_us: int, by: str, party: str, text: str, attachments: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """A party's reply; ``attachments`` describe its files (``sha256``, ``name``,
    ``media_type``, ``size``: the log holds them, the store the bytes)."""
    ev = {"kind": "reply", "time": format_time(t_us), "by": by, "party": party, "text": text}
    return {**ev, "attachments": attachments} if attachments else ev


def ruling(
    t_us: int,
    by: str,
    member_state: str,
    decision: str,
    responsible: str | None,
    clause: str | None,
    remedy: str,
    position: str = "sign",
    reason: str = "",
) -> dict[str, Any]:
    return {
        "kind": "ruling",
        "time": format_time(t_us),
        "by": by,
        "member_state": member_state,
        "position": position,
        "reason": reason,
        "decision": decision,
        "responsible": responsible,
        "clause": clause,
        "remedy": remedy,
    }


def close_replies(t_us: int, by: str) -> dict[str, Any]:
    """A commissioner closes the reply window early (every party has replied)."""
    return {"kind": "replies_closed", "time": format_time(t_us), "by": by}


def close_signed(t_us: int, by: str, member_state: str, reason: str) -> dict[str, Any]:
    """A commissioner's signature on closing the reply window early while a party has not
    replied (the window closes when ``quorum`` member states have signed)."""
    return {"kind": "close_signed", "time": format_time(t_us), "by": by,
            "member_state": member_state, "reason": reason}  # fmt: skip


def reopened(t_us: int, by: str, reason: str, reply_days: float = 7.0) -> dict[str, Any]:
    """A reopening as it was logged before reopening needed a quorum (read, never written)."""
    return {
        "kind": "reopened",
        "time": format_time(t_us),
        "by": by,
        "reason": reason,
        "reply_by": format_time(t_us + int(reply_days * DAY_US)),
    }


def reopen(
    t_us: int, by: str, member_state: str, reason: str, reply_days: float = 7.0
) -> dict[str, Any]:
    """A commissioner's signature on reopening a ruled case."""
    return {
        "kind": "reopen",
        "time": format_time(t_us),
        "by": by,
        "member_state": member_state,
        "reason": reason,
        "reply_days": reply_days,
    }


def check_reply_days(days: float, minimum: float) -> None:
    """Refuse a reply window shorter than the configured minimum (or not a number).

    >>> check_reply_days(7, 2)
    >>> check_reply_days(1e-5, 2)
    Traceback (most recent call last):
    truceline.errors.ReviewError: the reply window must be at least 2 days (got 1e-05)
    """
    if not (isinstance(days, int | float) and minimum <= days <= 90):
        raise ReviewError(f"the reply window must be at least {minimum:g} days (got {days:g})")


def _state_code(text: Any) -> str | None:
    """The ISO 3166-1 code of a signature's member state, or None (it does not count)."""
    from .access import member_state

    try:
        return member_state(str(text))
    except ValueError:
        return None


def _content(ev: dict[str, Any]) -> dict[str, Any]:
    return {k: ev[k] for k in ("decision", "responsible", "clause", "remedy")}


def ruling_id(ev: dict[str, Any]) -> str:
    """The id of a ruling's content (what signatures are on)."""
    text = json.dumps(_content(ev), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _states(signatures: list[dict[str, Any]]) -> list[str]:
    """The distinct member states (ISO codes) of signatures; look-alikes count as nothing."""
    return sorted({c for s in signatures if (c := _state_code(s["member_state"])) is not None})


def _reopen_signed(reopenings: dict[str, dict[str, Any]], ev: dict[str, Any]) -> list[str]:
    """Add a reopen signature to its proposal (same reason and window); the states that
    have signed that proposal."""
    rid = _reopen_id(ev)
    prop = reopenings.setdefault(
        rid, {"id": rid, "reason": ev["reason"], "reply_days": ev["reply_days"], "signatures": []}
    )
    prop["signatures"].append(
        {"by": ev["by"], "member_state": ev["member_state"], "time": ev["time"]}
    )
    prop["signed_by_states"] = _states(prop["signatures"])
    return list(prop["signed_by_states"])


def _reopen_id(ev: dict[str, Any]) -> str:
    text = json.dumps(
        {"reason": ev["reason"], "reply_days": ev["reply_days"]},
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def case_state(events: list[dict[str, Any]], now_us: int, quorum: int) -> dict[str, Any]:
    """The state of a case from its history: ``status`` (``awaiting_reply``,
    ``under_review``, ``ruled``), the reply deadline, replies, the proposed rulings with
    their signatures and dissents, and the ruling in force (if any)."""
    from ._time import parse_time

    if not events or events[0]["kind"] != "opened":
        raise ReviewError("a case starts with an 'opened' event")
    first = events[0]
    reply_by = parse_time(first["reply_by"])
    proposals: dict[str, dict[str, Any]] = {}
    reopenings: dict[str, dict[str, Any]] = {}
    in_force: dict[str, Any] | None = None
    history_rulings: list[dict[str, Any]] = []
    replies = []
    replied: set[str] = set()  # the parties that replied since the case was (re)opened
    closed_early: dict[str, Any] | None = None
    closing: list[dict[str, Any]] = []  # signatures on closing the window by decision
    for ev in events[1:]:
        if ev["kind"] == "reply":
            replies.append(ev)
            replied.add(ev["party"])
        elif ev["kind"] == "replies_closed":
            closed_early = {"by": ev["by"], "time": ev["time"], "by_decision": False}
            reply_by = min(reply_by, parse_time(ev["time"]))
        elif ev["kind"] == "close_signed" and closed_early is None:
            closed_early = _close_signed(closing, ev, quorum)
            if closed_early is not None:
                reply_by = min(reply_by, parse_time(ev["time"]))
        elif ev["kind"] == "ruling":
            prop = _ruling_signed(proposals, ev)
            if in_force is None and len(prop["signed_by_states"]) >= quorum:
                in_force = prop
        elif ev["kind"] == "reopen" and in_force is not None:
            if len(_reopen_signed(reopenings, ev)) >= quorum:
                history_rulings.append({**in_force, "superseded": ev["time"]})
                in_force, proposals, reopenings = None, {}, {}
                t = parse_time(ev["time"])
                reply_by = t + int(float(ev["reply_days"]) * DAY_US)
                replied, closed_early, closing = set(), None, []
        elif ev["kind"] == "reopened":
            if in_force is not None:
                history_rulings.append({**in_force, "superseded": ev["time"]})
            in_force = None
            proposals, reopenings = {}, {}
            reply_by = parse_time(ev["reply_by"])
            replied, closed_early, closing = set(), None, []
    for prop in proposals.values():
        prop.setdefault("signed_by_states", [])
    if in_force is not None:
        status = "ruled"
    elif closed_early is None and now_us <= reply_by:
        status = "awaiting_reply"
    else:
        status = "under_review"
    parties = {first["accused"], first["filed_by"]} - {None}
    return {
        "status": status,
        "incident": first["incident"],
        "allegation": first["allegation"],
        "accused": first["accused"],
        "filed_by": first["filed_by"],
        "opened": first["time"],
        "reply_by": format_time(reply_by),
        "reply_open": in_force is None and closed_early is None and now_us <= reply_by,
        "all_replied": parties <= replied,
        "replies_closed_early": closed_early,
        "close_signatures": closing if closed_early is None else [],
        "replies": replies,
        "proposals": sorted(proposals.values(), key=lambda p: p["id"]),
        "reopen_proposals": sorted(reopenings.values(), key=lambda p: p["id"]),
        "ruling": in_force,
        "earlier_rulings": history_rulings,
        "quorum": quorum,
    }


def _close_signed(
    closing: list[dict[str, Any]], ev: dict[str, Any], quorum: int
) -> dict[str, Any] | None:
    """Add a signature on closing the window by decision; the closing, once ``quorum``
    member states have signed."""
    closing.append({k: ev[k] for k in ("by", "member_state", "time", "reason")})
    if len(_states(closing)) < quorum:
        return None
    return {"by": ev["by"], "time": ev["time"], "by_decision": True,
            "signed_by_states": _states(closing),
            "reasons": [c["reason"] for c in closing]}  # fmt: skip


def _ruling_signed(proposals: dict[str, dict[str, Any]], ev: dict[str, Any]) -> dict[str, Any]:
    """Add a signature or a dissent to its ruling's proposal; the proposal."""
    rid = ruling_id(ev)
    prop = proposals.setdefault(rid, {"id": rid, **_content(ev), "signatures": [], "dissents": []})
    who = {"by": ev["by"], "member_state": ev["member_state"], "time": ev["time"]}
    if ev["position"] == "dissent":
        prop["dissents"].append({**who, "reason": ev["reason"]})
    else:
        prop["signatures"].append(who)
    prop["signed_by_states"] = _states(prop["signatures"])
    return prop


def check_event(events: list[dict[str, Any]], ev: dict[str, Any], now_us: int, quorum: int) -> None:
    """Refuse an event the case's state does not allow, with the reason."""
    state = case_state(events, now_us, quorum)
    kind = ev["kind"]
    if kind == "reply":
        # who may reply first: the state of a case is none of another party's business
        if ev["party"] not in (state["accused"], state["filed_by"]):
            raise ReviewError("only the accused party or the filer may reply")
        if state["status"] == "ruled":
            raise ReviewError("the case is ruled; replies are closed")
        if not state["reply_open"]:
            raise ReviewError(f"the reply window closed at {state['reply_by']}")
    elif kind == "ruling":
        if _state_code(ev.get("member_state")) is None:
            raise ReviewError("a ruling is signed for a member state (an ISO 3166-1 code)")
        if ev["decision"] not in DECISIONS:
            raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}")
        if ev["position"] not in ("sign", "dissent"):
            raise ReviewError("position must be sign or dissent")
        if ev["decision"] == "violation" and not ev["responsible"]:
            raise ReviewError("a violation ruling names the responsible party")
        if state["reply_open"]:
            raise ReviewError(
                f"the parties may reply until {state['reply_by']}; rule after, or close the "
                "window early once every party has replied"
            )
        taken = [
            p
            for p in state["proposals"]
            if any(x["by"] == ev["by"] for x in p["signatures"] + p["dissents"])
        ]
        if state["status"] == "ruled":
            in_force = state["ruling"]
            if ev["position"] != "dissent" or ruling_id(ev) != in_force["id"]:
                raise ReviewError("the case is ruled: only a dissent from the ruling in force")
            if taken:
                raise ReviewError("this commissioner has already taken a position")
        elif taken:
            raise ReviewError("this commissioner has already taken a position in this round")
    elif kind == "replies_closed":
        if not state["reply_open"]:
            raise ReviewError(f"the reply window is already closed (at {state['reply_by']})")
        if not state["all_replied"]:
            raise ReviewError(
                "the reply window closes early at once only when every party of the case has "
                f"replied; before, by decision of commissioners of {quorum} member states, "
                "each signing with a reason"
            )
    elif kind == "close_signed":
        _check_close_signature(state, ev)
    elif kind == "reopen":
        if state["status"] != "ruled":
            raise ReviewError("only a ruled case can be reopened")
        if not has_words(ev.get("reason")):
            raise ReviewError("a reopening needs a reason")
        if _state_code(ev.get("member_state")) is None:
            raise ReviewError("a reopening is signed for a member state (an ISO 3166-1 code)")
        if any(s["by"] == ev["by"] for p in state["reopen_proposals"] for s in p["signatures"]):
            raise ReviewError("this commissioner has already signed a reopening of this ruling")
    else:
        raise ReviewError(f"unknown event {kind}")


#: letters that are drawn as nothing (the Hangul fillers, the Khmer inherent vowels)
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u17b4\u17b5")


def has_words(text: Any) -> bool:
    """Whether ``text`` says anything: a visible letter or a digit somewhere (spaces,
    zero-width characters and the letters drawn as nothing alone are no reason).

    >>> has_words("No answer."), has_words(" \u200b\u2060\ufeff"), has_words(None)
    (True, False, False)
    >>> has_words("\u3164\u115f\uffa0"), has_words("Відповіді немає")
    (False, True)
    """
    return isinstance(text, str) and any(ch.isalnum() and ch not in BLANK_LETTERS for ch in text)


def _check_close_signature(state: dict[str, Any], ev: dict[str, Any]) -> None:
    if not state["reply_open"]:
        raise ReviewError(f"the reply window is already closed (at {state['reply_by']})")
    if state["all_replied"]:
        raise ReviewError("every party has replied: the window closes at once, without a vote")
    if _state_code(ev.get("member_state")) is None:
        raise ReviewError("closing is signed for a member state (an ISO 3166-1 code)")
    if not has_words(ev.get("reason")):
        raise ReviewError("closing the window before a party has replied needs a reason")
    if any(c["by"] == ev["by"] for c in state["close_signatures"]):
        raise ReviewError("this commissioner has already signed the closing of this window")


def accusation(
    first: dict[str, Any],
    seen: dict[str, Any] | None,
    clauses: dict[str, str],
    place: str | None = None,
    evidence: int | None = None,
) -> dict[str, Any]:
    """What a case alleges, as its card shows it: the case's summary (its ``opened``
    event's), and of its incident as the reader may see it (``seen``: its properties, or
    None) the clauses it breaches with their texts, its time, place label and weapon, and
    how many supporting observations the reader may see (``evidence``).

    >>> first = opened(0, "ana-1", incident="i1", accused="S", summary="Mortar fire.")
    >>> seen = {"violations": ["C1"], "time_start": "t0", "time_end": "t1", "weapon": "mortar"}
    >>> a = accusation(first, seen, {"C1": "No firing."}, "2 km N of Avdiivka", 3)
    >>> a["clauses"], a["place"], a["evidence_count"], a["summary"]
    ([{'id': 'C1', 'text': 'No firing.'}], '2 km N of Avdiivka', 3, 'Mortar fire.')
    >>> accusation(first, None, {})["clauses"]  # an incident the reader may not see
    []
    """
    props = seen or {}
    return {
        "summary": first.get("summary") or "",
        "clauses": [{"id": c, "text": clauses.get(c, "")} for c in props.get("violations") or []],
        "time_start": props.get("time_start"),
        "time_end": props.get("time_end"),
        "place": place or None,
        "weapon": props.get("weapon"),
        "evidence_count": evidence,
    }
