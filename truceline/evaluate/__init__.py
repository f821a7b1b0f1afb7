"""Scoring incidents against simulated ground truth (FORMATS.md §4): one scorer for the
README, the benchmarks and the tests.

**Matching** (:mod:`.matching`): origins to origins and impacts to impacts, one to one,
within fixed gates (1 km for a firing's points, 2 km for presence; an incident's own
uncertainty never widens them) and a minute of the true times; an incident is *right* only
when every point it has matched the same true event (a launch paired with another firing's
impact is wrong), and each true event is found by at most one incident (duplicates count
against precision).

**What is scored**: the headline figures (recall, precision, attribution, weapon class,
localisation, clauses) over the incidents a report counts (``confidence`` ≥
``min_confidence``, default 0.5); and *every* published incident, whatever its confidence,
in the confidence reliability table (``by_confidence``: how often incidents stated at each
confidence were real), so that what is published below the threshold is scored too.

**Figures** (:mod:`.figures`, :mod:`.clauses`): recall (of all true events and of those heard
by four sensors), precision, duplicates and wrong pairs; localisation of every point
assigned to a true event, with its maximum and the share beyond 1 km; attribution accuracy,
coverage, Brier score and reliability over the incidents with an origin; the weapon class;
per-clause F1; withdrawal clauses on fire; the reliability of violation probabilities; the
sides stated by every published firing position and by those near the line (:mod:`.sides`,
with the agreement beside the truth); and,
where the simulator wrote ``network_truth.json`` and the run a summary, the wind and clocks
the network measured (:mod:`.network`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..reliability import max_gap, reliability_table
from .clauses import clause_figures, violation_reliability, withdrawal_on_fire
from .figures import attribution_figures, detection_figures, fire_figures, location_figures
from .matching import (
    IMPACT_GATE_M,
    ORIGIN_GATE_M,
    PRESENCE_GATE_M,
    Match,
    match_fire,
    match_presence,
)
from .network import score_network
from .sides import line_distance, side_figures
from .truth import read_truth

__all__ = ["evaluate", "published_matches", "read_truth"]

FIRE_KINDS = ("fire", "air")
PRESENCE_KINDS = ("presence", "crossing")


def evaluate(truth_path: Path, incidents_path: Path, min_confidence: float = 0.5) -> dict[str, Any]:
    """Score an incidents GeoJSON against a truth JSONL; return every figure as a dict."""
    from .truth import read_scored

    truth, incs = read_scored(truth_path, incidents_path)
    counted = [i for i in incs if i["confidence"] >= min_confidence]
    report: dict[str, Any] = {
        "min_confidence": min_confidence,
        "gates_m": {"origin": ORIGIN_GATE_M, "impact": IMPACT_GATE_M, "presence": PRESENCE_GATE_M},
        "kinds": {},
    }
    found: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for kind, kinds in (("fire", FIRE_KINDS), ("presence", PRESENCE_KINDS)):
        tk = [t for t in truth if t["kind"] == kind]
        ik = [i for i in counted if i["kind"] in kinds]
        matches = (match_fire if kind == "fire" else match_presence)(tk, ik)
        pairs = [
            (tk[m.truth], ik[k]) for k, m in enumerate(matches) if m.found and m.truth is not None
        ]
        assigned = [(tk[m.truth], ik[k]) for k, m in enumerate(matches) if m.truth is not None]
        figs = detection_figures(tk, ik, matches) | attribution_figures(pairs, len(tk))
        origin = location_figures(assigned, "_o", "origin")
        figs["origin_location"] = origin
        figs["origin_error_m"] = {k: origin.get(k) for k in ("n", "median", "p90", "max")}
        if kind == "fire":
            impact = location_figures(assigned, "_i", "impact")
            figs |= fire_figures(pairs)
            figs["impact_location"] = impact
            figs["impact_error_m"] = {k: impact.get(k) for k in ("n", "median", "p90", "max")}
        report["kinds"][kind] = figs
        found += pairs
    published = published_matches(truth, incs)  # every published incident, matched once
    report["by_confidence"] = _by_confidence(published, min_confidence)
    fired = [(i, m) for i, m in published if i["kind"] in FIRE_KINDS]
    report["sides"] = side_figures(
        [t for t in truth if t["kind"] == "fire"],
        [i for i, _ in fired],
        [m for _, m in fired],
        line_distance(truth_path),
    )
    report["clauses"] = clause_figures(truth, counted, found)
    fire = [(t, i) for t, i in found if t["kind"] == "fire"]
    report["violation_reliability"] = violation_reliability(found)
    report["withdrawal_on_fire"] = withdrawal_on_fire(truth, counted, fire)
    network, summary = (
        truth_path.parent / "network_truth.json",
        incidents_path.parent / "summary.json",
    )
    if network.exists() and summary.exists():
        report["network"] = score_network(network, json.loads(summary.read_text(encoding="utf-8")))
    return report


def published_matches(
    truth: list[dict[str, Any]], incs: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], Match]]:
    """Every incident of ``incs`` (whatever its confidence) with its :class:`Match`: fire
    and air against the true firings, presence and crossing against the true presence."""
    out: list[tuple[dict[str, Any], Match]] = []
    for kind, kinds in (("fire", FIRE_KINDS), ("presence", PRESENCE_KINDS)):
        tk = [t for t in truth if t["kind"] == kind]
        ik = [i for i in incs if i["kind"] in kinds]
        matches = (match_fire if kind == "fire" else match_presence)(tk, ik)
        out += zip(ik, matches, strict=True)
    return out


def _by_confidence(
    pairs: list[tuple[dict[str, Any], Match]], min_confidence: float
) -> dict[str, Any]:
    """Every published incident, whatever its confidence: how often those stated at each
    confidence were real (right: a true event where and when it says), and how many below
    the counting threshold were published."""
    p = [float(inc["confidence"]) for inc, _ in pairs]
    real = [m.right for _, m in pairs]
    table = reliability_table(p, real)
    below = [r for q, r in zip(p, real, strict=True) if q < min_confidence]
    return {
        "incidents": len(p),
        "bins": table,
        "max_gap_bins_of_100": max_gap(table),
        "below_threshold": len(below),
        "below_threshold_real": round(sum(below) / len(below), 4) if below else None,
    }
