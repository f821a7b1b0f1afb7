"""The sides stated, scored as probabilities: every published firing position, and those near
the line of contact, where a side is hardest to tell.

An incident's attribution says "the firing position lies in P's area with probability p".
It is right when a true firing of party P is where its origin is (the origin matched a true
origin within the fixed gate): an incident that matched nothing was fired by nobody, so
whatever side it states is wrong. Two figures:

- ``published``: every published fire or air incident with an origin, whatever its
  confidence: the top party's probability against whether it was right, in ten bins (an
  attribution that ignored P(real) would state 1 for the false incidents too).
- ``near_line``: the same for the published incidents whose origin lies within
  ``NEAR_LINE_M`` of the line of contact (read from the agreement beside the truth:
  ``near_line.published``); and the true firings that stood that close, each through the
  incident that found its origin: the probability stated for the party that really fired
  (which P(real) lowers even where the incident is real), and the side named.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from ..reliability import max_gap, reliability_table
from .figures import ratio
from .matching import Match

__all__ = ["NEAR_LINE_M", "line_distance", "side_figures"]

NEAR_LINE_M = 1_000.0


def _top(probs: dict[str, float]) -> tuple[str | None, float]:
    if not probs:
        return None, 0.0
    best = max(sorted(probs), key=lambda k: probs[k])
    return best, float(probs[best])


def side_figures(
    tk: list[dict[str, Any]],
    incs: list[dict[str, Any]],
    matches: list[Match],
    distance: Callable[[list[list[float]]], list[float]] | None,
) -> dict[str, Any]:
    """The figures of the module's docstring; ``tk`` the true firings, ``incs`` the published
    fire and air incidents with their :class:`Match`, ``distance`` the distance to the line
    of lon/lat points (None: no agreement to measure it)."""
    located = [(inc, m) for inc, m in zip(incs, matches, strict=True) if inc.get("_o") is not None]
    out: dict[str, Any] = {"published": _stated(tk, located)}
    if distance is not None:
        near = distance([inc["origin"] for inc, _ in located])
        close = [im for im, d in zip(located, near, strict=True) if d <= NEAR_LINE_M]
        out["near_line"] = _near_line(tk, incs, matches, distance([t["origin"] for t in tk]))
        out["near_line"]["published"] = _stated(tk, close)
    return out


def _stated(
    tk: list[dict[str, Any]], located: list[tuple[dict[str, Any], Match]]
) -> dict[str, Any]:
    """The top party's probability of each incident against whether it was right."""
    p, ok = [], []
    for inc, m in located:
        top, q = _top(dict(inc.get("attribution") or {}))
        p.append(q)
        ok.append(m.origin_truth is not None and top == tk[m.origin_truth]["side"])
    table = reliability_table(p, ok)
    return {
        "incidents": len(p),
        "brier": round(float(np.mean((np.array(p) - np.array(ok)) ** 2)), 4) if p else None,
        "reliability": table,
        "reliability_max_gap": max_gap(table),
    }


def _near_line(
    tk: list[dict[str, Any]],
    incs: list[dict[str, Any]],
    matches: list[Match],
    distance_m: list[float],
) -> dict[str, Any]:
    """The true firings that stood within ``NEAR_LINE_M`` of the line, each through its most
    confident incident with an origin that found it."""
    best: dict[int, dict[str, Any]] = {}
    for inc, m in zip(incs, matches, strict=True):
        t = m.origin_truth
        if t is not None and inc.get("_o") is not None:
            if t not in best or inc["confidence"] > best[t]["confidence"]:
                best[t] = inc
    near = [k for k, d in enumerate(distance_m) if d <= NEAR_LINE_M]
    found = [(tk[k]["side"], best[k]) for k in near if k in best]
    stated = [float((inc.get("attribution") or {}).get(side, 0.0)) for side, inc in found]
    named = [(side, inc["attributed_to"]) for side, inc in found if inc.get("attributed_to")]
    return {
        "within_m": NEAR_LINE_M,
        "true_firings": len(near),
        "located": len(found),
        "mean_p_true_side": round(float(np.mean(stated)), 4) if stated else None,
        "named": len(named),
        "named_accuracy": ratio(sum(1 for side, b in named if b == side), len(named)),
    }


def line_distance(truth_path: Path) -> Callable[[list[list[float]]], list[float]] | None:
    """The distance to the line of contact of the agreement beside the truth
    (``agreement.yaml``) of each lon/lat point, or None where there is no agreement."""
    path = truth_path.parent / "agreement.yaml"
    if not path.exists():
        return None
    from ..agreement import load_agreement

    ag = load_agreement(path)

    def distance(points: list[list[float]]) -> list[float]:
        if not points:
            return []
        x, y = ag.to_local(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
        return [float(d) for d in ag.distance_to_line_m(x, y)]

    return distance
