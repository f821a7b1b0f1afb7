"""Which incident is which true event: origins and impacts matched separately, with fixed
gates.

A true firing has an origin (where the gun stood, at the launch time) and an impact (where
the shell landed, at the impact time); an incident has either or both. Origins are matched
to origins and impacts to impacts, each one to one (the Hungarian algorithm on distance),
within a **fixed** gate (``ORIGIN_GATE_M``, ``IMPACT_GATE_M``: an incident's own stated
uncertainty never widens it) and a time tolerance. An incident is **right** when every point
it has matched the *same* true event: a launch paired with another firing's impact is
wrong, however close each point is to something true. Each true event is found by at most
one incident (the most confident right one); other right incidents of the same event are
duplicates, counted against precision.

Presence (equipment seen in a zone) has only an origin, matched within ``PRESENCE_GATE_M``
and a time overlap of an hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = [
    "IMPACT_GATE_M",
    "ORIGIN_GATE_M",
    "PRESENCE_GATE_M",
    "Match",
    "match_fire",
    "match_presence",
]

ORIGIN_GATE_M = 1_000.0
IMPACT_GATE_M = 1_000.0
PRESENCE_GATE_M = 2_000.0
FIRE_TIME_US = 60_000_000  # an incident's times within a minute of the true ones
PRESENCE_TIME_US = 3_600_000_000
BIG = 1e12


@dataclass(frozen=True)
class Match:
    """An incident's place in the truth: the true event it was assigned to (by its origin,
    else its impact; None: nothing true near it), whether it is right (every point it has
    matched that event), and whether it is the one incident that found that event."""

    truth: int | None
    right: bool
    found: bool
    origin_truth: int | None
    impact_truth: int | None


def _assign(
    t_pts: list[tuple[float, float] | None],
    t_times: list[int],
    i_pts: list[tuple[float, float] | None],
    i_times: list[int],
    gate: float,
    tol_us: int,
) -> dict[int, int]:
    """One-to-one incident -> truth for one kind of point, minimising the total distance."""
    ti = [k for k, p in enumerate(t_pts) if p is not None]
    ii = [k for k, p in enumerate(i_pts) if p is not None]
    if not ti or not ii:
        return {}
    tp = np.array([t_pts[k] for k in ti])
    ip = np.array([i_pts[k] for k in ii])
    d = np.hypot(tp[:, None, 0] - ip[None, :, 0], tp[:, None, 1] - ip[None, :, 1])
    dt = np.abs(np.array([t_times[k] for k in ti])[:, None] - np.array([i_times[k] for k in ii]))
    cost = np.where((d <= gate) & (dt <= tol_us), d, BIG)
    rows, cols = linear_sum_assignment(cost)
    return {ii[c]: ti[r] for r, c in zip(rows, cols, strict=True) if cost[r, c] < BIG}


def match_fire(tk: list[dict[str, Any]], ik: list[dict[str, Any]]) -> list[Match]:
    """A :class:`Match` for every incident of ``ik`` against the true firings ``tk``."""
    om = _assign(
        [t["_o"] for t in tk], [t["_t"] for t in tk],
        [i["_o"] for i in ik], [i["_t"] for i in ik], ORIGIN_GATE_M, FIRE_TIME_US,
    )  # fmt: skip
    im = _assign(
        [t["_i"] for t in tk], [t["_t_end"] for t in tk],
        [i["_i"] for i in ik], [i["_t_end"] for i in ik], IMPACT_GATE_M, FIRE_TIME_US,
    )  # fmt: skip
    raw = []
    for k, inc in enumerate(ik):
        o, m = om.get(k), im.get(k)
        needed = [x for x, has in ((o, inc["_o"] is not None), (m, inc["_i"] is not None)) if has]
        right = bool(needed) and all(x is not None for x in needed) and len(set(needed)) == 1
        raw.append((o if o is not None else m, right, o, m))
    return _found(raw, ik)


def match_presence(tk: list[dict[str, Any]], ik: list[dict[str, Any]]) -> list[Match]:
    """A :class:`Match` for every presence or crossing incident against the true presence."""
    cost = np.full((len(tk), len(ik)), BIG)
    for a, t in enumerate(tk):
        for b, inc in enumerate(ik):
            overlap = (inc["_t"] <= t["_t_end"] + PRESENCE_TIME_US) and (
                inc["_t_end"] >= t["_t"] - PRESENCE_TIME_US
            )
            if overlap and inc["_o"] is not None and t["_o"] is not None:
                d = float(np.hypot(t["_o"][0] - inc["_o"][0], t["_o"][1] - inc["_o"][1]))
                if d <= PRESENCE_GATE_M:
                    cost[a, b] = d
    found: dict[int, int] = {}
    if tk and ik:
        rows, cols = linear_sum_assignment(cost)
        found = {int(c): int(r) for r, c in zip(rows, cols, strict=True) if cost[r, c] < BIG}
    raw: list[tuple[int | None, bool, int | None, int | None]] = [
        (found.get(k), k in found, found.get(k), None) for k in range(len(ik))
    ]
    return _found(raw, ik)


def _found(
    raw: list[tuple[int | None, bool, int | None, int | None]], ik: list[dict[str, Any]]
) -> list[Match]:
    """Mark, for each true event, the most confident right incident as the one that found it."""
    best: dict[int, int] = {}
    for k, (truth, right, _, _) in enumerate(raw):
        if right and truth is not None:
            j = best.get(truth)
            if j is None or ik[k]["confidence"] > ik[j]["confidence"]:
                best[truth] = k
    chosen = set(best.values())
    return [Match(t, r, k in chosen, o, m) for k, (t, r, o, m) in enumerate(raw)]
