"""Which incident of a later run an incident became: how a case follows the incident it was
opened on.

An incident's id hashes its supporting observations, so a later run in which it gained (or
lost) support gives it a new id, and a case naming the old id would find nothing: its card
went blank for everyone, and a party could blank an accusation by filing an allegation that
joined the incident. A case therefore follows its incident by what supports it. The rule
(:data:`RULE`):

- the incident's **sensed** observations are its supporting observations that are not
  allegations (a party's claim is no evidence of the event, and must not steer which
  incident a case is about);
- its **successor** is the incident of the latest run that shares the most of them, at
  least one; of incidents sharing as many, the one starting nearest in time to it, then
  the smaller id (``tied`` says how many others shared as many);
- without any (nothing of the latest run shares a sensed observation, or it had none),
  there is **no successor**: the case keeps the incident as its last run found it, and says
  so.

>>> old = {"properties": {"id": "a", "time_start": "2026-03-01T12:00:00Z",
...                       "observations": ["s:1", "s:2", "party-N:a1"]}}
>>> new = [{"properties": {"id": "b", "time_start": "2026-03-01T12:00:00Z",
...                        "observations": ["s:1", "s:2", "party-N:a1", "party-S:a9"]}}]
>>> feature, info = successor(old, {"s:1", "s:2"}, new, run=2)
>>> feature["properties"]["id"], info["superseded_by"], info["shared"], info["of"]
('b', 'b', 2, 2)
>>> successor(old, {"s:1", "s:2"}, [], run=2)[1]["superseded_by"] is None
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ._time import parse_time

__all__ = ["RULE", "successor"]

RULE = (
    "the latest run's incident sharing the most of its supporting observations other than "
    "allegations (at least one); among as many, the one starting nearest in time, then the "
    "smaller id; none: the incident as its last run found it"
)


def successor(
    original: Mapping[str, Any],
    sensed: set[str],
    candidates: Iterable[Mapping[str, Any]],
    run: int | None,
) -> tuple[Mapping[str, Any], dict[str, Any]]:
    """The feature a case on ``original`` (a feature no longer in the latest run ``run``)
    now reads, and how it was found (``incident``, ``superseded_by``: the successor's id or
    None, ``run``, ``shared`` of ``of`` sensed observations, ``tied``, ``rule``): the
    successor among ``candidates`` (the latest run's features), else ``original``."""
    p = original["properties"]
    t0 = parse_time(p["time_start"])
    scored = []
    for f in candidates:
        q = f["properties"]
        shared = len(sensed.intersection(q.get("observations") or ()))
        if shared:
            scored.append((-shared, abs(parse_time(q["time_start"]) - t0), q["id"], f))
    scored.sort(key=lambda s: s[:3])
    info: dict[str, Any] = {
        "incident": p["id"],
        "superseded_by": None,
        "run": run,
        "shared": 0,
        "of": len(sensed),
        "tied": 0,
        "rule": RULE,
    }
    if not scored:
        return original, info
    best = scored[0]
    info.update(
        superseded_by=best[2],
        shared=-best[0],
        tied=sum(1 for s in scored[1:] if s[0] == best[0]),
    )
    return best[3], info
