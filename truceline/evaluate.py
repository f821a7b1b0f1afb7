"""Scoring incidents against simulated ground truth (FORMATS.md §4).

Matching: a true event and an incident can match when their times agree (the incident starts
between 60 s before the true launch and 60 s after the true impact; for presence, their time
spans overlap within an hour) and a located point of the incident lies within its own
uncertainty of the corresponding true point: distance ≤ max(4σ, 300 m), origin against
origin or impact against impact. Among the feasible pairs, an optimal one-to-one assignment
minimises the sum of distance / gate (Hungarian algorithm).

Only incidents with ``confidence`` ≥ ``min_confidence`` (default 0.5) and a location count
as reported; ``unlocated`` incidents never do.

Figures (per kind): recall (of all true events and of the *locatable* ones, those heard by at
least four sensors), precision, localisation error (median and 90th percentile, metres),
attribution accuracy among attributed incidents, coverage (share of true events attributed),
the multi-class Brier score (parties + undetermined) and a reliability table, and precision,
recall and F1 of violations per clause, both against every true violation and against the
violations of locatable events (a violation nobody could hear is a limit of the network, not of
the analysis; both figures are reported).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from ._time import parse_time
from .errors import InputError
from .geo import frame_for_bounds
from .incidents import read_incidents
from .network_truth import score_network
from .reliability import ellipse_share, max_gap, reliability_table

__all__ = ["evaluate", "read_truth"]

BIG = 1e9


def read_truth(path: Path) -> list[dict[str, Any]]:
    """Read truth JSONL, checking the fields the evaluator needs."""
    out = []
    file = str(path)
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(file, n, None, f"not valid JSON ({exc.msg})") from None
        for key in ("id", "kind", "side", "time", "origin", "violations"):
            if key not in rec:
                raise InputError(file, n, key, "required field is missing")
        if rec["kind"] not in ("fire", "presence"):
            raise InputError(file, n, "kind", "must be fire or presence")
        try:
            rec["_t"] = parse_time(rec["time"])
            rec["_t_end"] = parse_time(rec.get("time_impact") or rec.get("time_end") or rec["time"])
        except ValueError as exc:
            raise InputError(file, n, "time", str(exc)) from None
        out.append(rec)
    return out


def _pct(values: Iterable[float], q: float) -> float | None:
    arr = np.asarray(list(values), float)
    return round(float(np.percentile(arr, q)), 1) if arr.size else None


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def evaluate(truth_path: Path, incidents_path: Path, min_confidence: float = 0.5) -> dict[str, Any]:
    """Score an incidents GeoJSON against a truth JSONL; return every figure as a dict."""
    truth = read_truth(truth_path)
    incs = [
        p
        for p in read_incidents(incidents_path)
        if p["kind"] != "unlocated" and p["confidence"] >= min_confidence
    ]
    pts = [t["origin"] for t in truth] + [t["impact"] for t in truth if t.get("impact")]
    lons = [p[0] for p in pts] or [0.0]
    lats = [p[1] for p in pts] or [0.0]
    frame = frame_for_bounds(min(lons), min(lats), max(lons), max(lats))

    def xy(p: list[float] | None) -> tuple[float, float] | None:
        if p is None:
            return None
        x, y = frame.forward(np.array([p[0]]), np.array([p[1]]))
        return float(x[0]), float(y[0])

    for t in truth:
        t["_o"], t["_i"] = xy(t["origin"]), xy(t.get("impact"))
    for inc in incs:
        inc["_o"], inc["_i"] = xy(inc.get("origin")), xy(inc.get("impact"))
        inc["_t"] = parse_time(inc["time_start"])
        inc["_t_end"] = parse_time(inc["time_end"])

    report: dict[str, Any] = {"min_confidence": min_confidence, "kinds": {}, "clauses": {}}
    matches: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for kind, inc_kinds in (("fire", ("fire", "air")), ("presence", ("presence", "crossing"))):
        tk = [t for t in truth if t["kind"] == kind]
        ik = [i for i in incs if i["kind"] in inc_kinds]
        pairs = _match(tk, ik, kind)
        matches += [(tk[a], ik[b]) for a, b in pairs]
        report["kinds"][kind] = _kind_figures(tk, ik, [(tk[a], ik[b]) for a, b in pairs])
    report["clauses"] = _clause_figures(truth, incs, matches)
    fire = [(t, i) for t, i in matches if t["kind"] == "fire"]
    report["kinds"]["fire"].update(_fire_figures(fire))
    report["violation_reliability"] = _violation_reliability(matches)
    report["withdrawal_on_fire"] = _withdrawal_on_fire(truth, incs, fire)
    network, summary = (
        truth_path.parent / "network_truth.json",
        incidents_path.parent / "summary.json",
    )
    if network.exists() and summary.exists():
        report["network"] = score_network(network, json.loads(summary.read_text(encoding="utf-8")))
    return report


def _match(tk: list[dict[str, Any]], ik: list[dict[str, Any]], kind: str) -> list[tuple[int, int]]:
    if not tk or not ik:
        return []
    cost = np.full((len(tk), len(ik)), BIG)
    it0 = np.array([i["_t"] for i in ik])
    it1 = np.array([i["_t_end"] for i in ik])
    for a, t in enumerate(tk):
        if kind == "fire":
            ok = (it0 >= t["_t"] - 60_000_000) & (it0 <= t["_t_end"] + 60_000_000)
        else:
            ok = (it0 <= t["_t_end"] + 3_600_000_000) & (it1 >= t["_t"] - 3_600_000_000)
        for b in np.flatnonzero(ok):
            inc = ik[b]
            best = BIG
            for tp, ip, sig in (("_o", "_o", "origin_sigma_m"), ("_i", "_i", "impact_sigma_m")):
                if t[tp] is None or inc[ip] is None:
                    continue
                d = float(np.hypot(t[tp][0] - inc[ip][0], t[tp][1] - inc[ip][1]))
                gate = max(4.0 * float(inc.get(sig) or 0.0), 300.0)
                if d <= gate:
                    best = min(best, d / gate)
            cost[a, b] = best
    rows, cols = linear_sum_assignment(cost)
    return [(int(r), int(c)) for r, c in zip(rows, cols, strict=True) if cost[r, c] < BIG]


def _dist(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float | None:
    if a is None or b is None:
        return None
    return float(np.hypot(a[0] - b[0], a[1] - b[1]))


def _kind_figures(
    tk: list[dict[str, Any]],
    ik: list[dict[str, Any]],
    pairs: list[tuple[dict[str, Any], dict[str, Any]]],
) -> dict[str, Any]:
    locatable = [t for t in tk if t.get("locatable", True)]
    matched_ids = {t["id"] for t, _ in pairs}
    attributed = [(t, i) for t, i in pairs if i.get("attributed_to")]
    correct = sum(1 for t, i in attributed if i["attributed_to"] == t["side"])
    brier = []
    reliability: dict[int, list[float]] = {}
    for t, i in pairs:
        probs = dict(i.get("attribution") or {})
        undetermined = max(0.0, 1.0 - sum(probs.values()))
        sides = set(probs) | {t["side"]}
        score = sum((probs.get(s, 0.0) - (1.0 if s == t["side"] else 0.0)) ** 2 for s in sides)
        brier.append(score + undetermined**2)
        if probs:
            top = max(sorted(probs), key=lambda k: probs[k])
            b = min(int(probs[top] * 10), 9)
            reliability.setdefault(b, [0, 0, 0.0])
            reliability[b][0] += 1
            reliability[b][1] += int(top == t["side"])
            reliability[b][2] += probs[top]
    origin_err = [d for t, i in pairs if (d := _dist(t["_o"], i["_o"])) is not None]
    impact_err = [d for t, i in pairs if (d := _dist(t["_i"], i["_i"])) is not None]
    weapon_ok = sum(1 for t, i in pairs if i.get("weapon") == t.get("weapon"))
    return {
        "truth": len(tk),
        "truth_locatable": len(locatable),
        "incidents": len(ik),
        "matched": len(pairs),
        "recall": _ratio(len(pairs), len(tk)),
        "recall_locatable": _ratio(
            sum(1 for t in locatable if t["id"] in matched_ids), len(locatable)
        ),
        "precision": _ratio(len(pairs), len(ik)),
        "attributed": len(attributed),
        "attribution_accuracy": _ratio(correct, len(attributed)),
        "coverage": _ratio(len(attributed), len(tk)),
        "brier": round(float(np.mean(brier)), 4) if brier else None,
        "reliability": {
            f"{b / 10:.1f}-{(b + 1) / 10:.1f}": {
                "n": int(n),
                "correct": int(c),
                "p_sum": round(ps, 4),
            }
            for b, (n, c, ps) in sorted(reliability.items())
        },
        "weapon_accuracy": _ratio(weapon_ok, len(pairs)),
        "origin_error_m": {
            "n": len(origin_err),
            "median": _pct(origin_err, 50),
            "p90": _pct(origin_err, 90),
        },
        "impact_error_m": {
            "n": len(impact_err),
            "median": _pct(impact_err, 50),
            "p90": _pct(impact_err, 90),
        },
    }


def _fire_figures(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """What issue-15-style scoring asks of fire: launch and impact joined where both were
    heard; the weapon class named, how often and how rightly; the reliability of the class
    probabilities; and the localisation against its stated uncertainty and the still-air
    bound."""
    both = [
        (t, i)
        for t, i in pairs
        if min(t.get("detections", {}).get(k, 0) for k in ("launch", "impact")) >= 4
    ]
    joined = sum(
        1
        for t, i in both
        if i["_o"] is not None
        and i["_i"] is not None
        and (_dist(t["_o"], i["_o"]) or BIG) <= 300.0
        and (_dist(t["_i"], i["_i"]) or BIG) <= 1_000.0
    )
    located = [(t, i) for t, i in pairs if i["_o"] is not None]
    named = [(t, i) for t, i in located if i.get("weapon", "unknown") != "unknown"]
    right = sum(1 for t, i in named if i["weapon"] == t["weapon"])
    top_p, top_ok = [], []
    for t, i in pairs:
        wp = i.get("weapon_probabilities") or {}
        if wp:
            top = max(sorted(wp), key=lambda k: wp[k])
            top_p.append(wp[top])
            top_ok.append(top == t["weapon"])
    return {
        "joined": _ratio(joined, len(both)),
        "joined_of": len(both),
        "weapon_named_share": _ratio(len(named), len(located)),
        "weapon_named_accuracy": _ratio(right, len(named)),
        "weapon_reliability": reliability_table(top_p, top_ok),
        "origin_location": _location_honesty(pairs, "_o", "origin"),
        "impact_location": _location_honesty(pairs, "_i", "impact"),
    }


def _location_honesty(
    pairs: list[tuple[dict[str, Any], dict[str, Any]]], key: str, name: str
) -> dict[str, Any]:
    """Errors against the stated uncertainty (√trace of the covariance) and the still-air
    Cramér-Rao bound; the share of truths inside the stated 95 % ellipse."""
    err, sd, crlb, vec, cov = [], [], [], [], []
    for t, i in pairs:
        if t[key] is None or i[key] is None:
            continue
        d = _dist(t[key], i[key])
        if d is None or d > 1_000.0:
            continue
        err.append(d)
        sd.append(float(i.get(f"{name}_sigma_m") or np.nan))
        crlb.append(float(i.get(f"{name}_crlb_m") or np.nan))
        c = i.get(f"{name}_cov_m2")
        if c:
            vec.append([i[key][0] - t[key][0], i[key][1] - t[key][1]])
            cov.append([[c[0], c[1]], [c[1], c[2]]])
    if not err:
        return {"n": 0}
    e, s_, b = np.array(err), np.array(sd), np.array(crlb)
    ok = np.isfinite(b) & (b > 0)
    return {
        "n": int(e.size),
        "median_error_over_crlb": round(float(np.median(e[ok] / b[ok])), 3) if ok.any() else None,
        "within_3_crlb": round(float(np.mean(e[ok] <= 3 * b[ok])), 4) if ok.any() else None,
        "within_3_stated": round(float(np.nanmean(e <= 3 * s_)), 4),
        "inside_stated_95_ellipse": ellipse_share(np.array(vec), np.array(cov)) if cov else None,
    }


def _violation_reliability(matches: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
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


def _withdrawal_on_fire(
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


def _clause_figures(
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
