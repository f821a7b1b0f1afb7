"""Clauses scored: per clause precision, recall and F1 (against every true violation and
against those of events the network could locate); the withdrawal clauses judged on fire
pooled; and the reliability of the stated violation probabilities.

Only a true event's finding incident counts as a match: every clause of any other counted
incident (a duplicate, a wrong pair, nothing true near it) is a false violation.
"""

from __future__ import annotations

from typing import Any

from ..reliability import max_gap, reliability_table
from .figures import ratio as _ratio

__all__ = ["clause_figures", "violation_reliability", "withdrawal_on_fire"]


def violation_reliability(matches: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """Stated violation probabilities against the truth, every clause of every matched
    incident that any truth or probability names (a clause not listed is below 0.05)."""
    clauses = sorted(
        {c for t, _ in matches for c in t["violations"]}
        | {c for _, i in matches for c in (i.get("violation_probabilities") or {})}
    )
    p, hit = [], []
    for t, i in matches:
        probs = i.get("violation_probabilities") or {}
        for c in clauses:
            p.append(float(probs.get(c, 0.0)))
            hit.append(c in t["violations"])
    table = reliability_table(p, hit)
    return {"bins": table, "max_gap_bins_of_100": max_gap(table)}


def withdrawal_on_fire(
    truth: list[dict[str, Any]],
    incs: list[dict[str, Any]],
    fire: list[tuple[dict[str, Any], dict[str, Any]]],
) -> dict[str, Any]:
    """Precision, recall and F1 of the withdrawal clauses (presence rules judged on fire:
    every clause a fire truth breaches other than the fire and air clauses) pooled."""
    fire_clauses = {c for t in truth if t["kind"] == "fire" for c in t["violations"]}
    common = (
        set.intersection(*[set(t["violations"]) for t in truth if t["kind"] == "fire"])
        if fire_clauses
        else set()
    )
    drone = {
        c
        for t in truth
        if t["kind"] == "fire" and t["weapon"] in ("drone", "aircraft")
        for c in t["violations"]
    }
    withdrawal = (
        fire_clauses
        - common
        - (
            drone
            - {
                c
                for t in truth
                if t["kind"] == "fire" and t["weapon"] not in ("drone", "aircraft")
                for c in t["violations"]
            }
        )
    )
    tp = fp = fn = 0
    matched_t = {t["id"] for t, _ in fire}
    matched_i = {i["id"] for _, i in fire}
    for t, i in fire:
        tv, iv = set(t["violations"]) & withdrawal, set(i.get("violations") or []) & withdrawal
        tp, fp, fn = tp + len(tv & iv), fp + len(iv - tv), fn + len(tv - iv)
    fp += sum(
        len(set(i.get("violations") or []) & withdrawal)
        for i in incs
        if i["kind"] in ("fire", "air") and i["id"] not in matched_i
    )
    fn += sum(
        len(set(t["violations"]) & withdrawal)
        for t in truth
        if t["kind"] == "fire" and t["id"] not in matched_t
    )
    p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return {
        "clauses": sorted(withdrawal),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "precision": p,
        "recall": r,
        "f1": _f1(p, r),
    }


def clause_figures(
    truth: list[dict[str, Any]],
    incs: list[dict[str, Any]],
    matches: list[tuple[dict[str, Any], dict[str, Any]]],
) -> dict[str, Any]:
    counts: dict[str, list[int]] = {}

    def bump(clause: str, k: int) -> None:
        # [tp, fp, fn, fn of locatable truth]
        counts.setdefault(clause, [0, 0, 0, 0])[k] += 1

    matched_t = {t["id"] for t, _ in matches}
    matched_i = {i["id"] for _, i in matches}
    for t, i in matches:
        tv, iv = set(t["violations"]), set(i.get("violations") or [])
        for c in tv & iv:
            bump(c, 0)
        for c in iv - tv:
            bump(c, 1)
        for c in tv - iv:
            bump(c, 2)
            bump(c, 3)
    for i in incs:
        if i["id"] not in matched_i:
            for c in i.get("violations") or []:
                bump(c, 1)
    for t in truth:
        if t["id"] not in matched_t:
            for c in t["violations"]:
                bump(c, 2)
                if t.get("locatable", True):
                    bump(c, 3)
    out = {}
    for clause, (tp, fp, fn, fn_loc) in sorted(counts.items()):
        p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        r_loc = _ratio(tp, tp + fn_loc)
        out[clause] = {
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": p,
            "recall": r,
            "f1": _f1(p, r),
            "fn_locatable": fn_loc,
            "recall_locatable": r_loc,
            "f1_locatable": _f1(p, r_loc),
        }
    return out


def _f1(p: float | None, r: float | None) -> float:
    return round(2 * p * r / (p + r), 4) if p and r else 0.0
