"""Who an export or a report is for, and what they are shown: the mission's own staff see
every incident as reviewed; the public sees exactly what the public API shows (published,
verified incidents after the delay, with coarsened locations), decided by the same function,
:func:`truceline.access.view_incident`.

>>> from truceline.access import Disclosure
>>> f = {"type": "Feature", "geometry": None, "properties": {"id": "inc-1", "kind": "fire",
...      "status": "automatic", "time_start": "2026-03-01T00:00:00Z",
...      "time_end": "2026-03-01T00:00:01Z"}}
>>> [g["properties"]["status"] for g in for_audience([f], {"inc-1": ("verified", True)},
...                                                   "internal", 0, Disclosure())]
['verified']
>>> for_audience([f], {}, "public", 10**18, Disclosure())      # not published: not shown
[]
"""

from __future__ import annotations

from typing import Any

from ..access import Disclosure, Principal, view_incident

__all__ = ["AUDIENCES", "for_audience"]

AUDIENCES = ("internal", "public")
_WHO = {
    "internal": Principal("truceline", "analyst"),
    "public": Principal("public", "public"),
}


def for_audience(
    features: list[dict[str, Any]],
    reviews: dict[str, tuple[str, bool]],
    audience: str,
    now_us: int,
    policy: Disclosure,
) -> list[dict[str, Any]]:
    """The incidents as ``audience`` (``internal`` or ``public``) is shown them at
    ``now_us``, with the analysts' ``reviews`` (id → (status, published)) applied."""
    if audience not in AUDIENCES:
        raise ValueError(f"audience must be one of {', '.join(AUDIENCES)}")
    who = _WHO[audience]
    seen = (
        view_incident(who, f, reviews.get(f["properties"]["id"]), now_us, policy) for f in features
    )
    return [f for f in seen if f is not None]
