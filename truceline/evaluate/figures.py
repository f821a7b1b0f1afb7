"""The figures of one kind of incident: found and right, attribution, the weapon class, and
the localisation against its stated uncertainty."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ..reliability import ellipse_share, max_gap, reliability_table
from .matching import Match

__all__ = ["attribution_figures", "detection_figures", "fire_figures", "location_figures", "ratio"]

Pair = tuple[dict[str, Any], dict[str, Any]]


def ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _pct(values: Iterable[float], q: float) -> float | None:
    arr = np.asarray(list(values), float)
    return round(float(np.percentile(arr, q)), 1) if arr.size else None


def _dist(a: tuple[float, float] | None, b: tuple[float, float] | None) -> float | None:
    if a is None or b is None:
        return None
    return float(np.hypot(a[0] - b[0], a[1] - b[1]))


def detection_figures(
    tk: list[dict[str, Any]], ik: list[dict[str, Any]], matches: list[Match]
) -> dict[str, Any]:
    """Recall (of all true events, and of those heard by four sensors), precision (one
    incident per event: duplicates and wrong pairs count against it), and how many were
    wrong in which way."""
    found = {m.truth for m in matches if m.found}
    locatable = [k for k, t in enumerate(tk) if t.get("locatable", True)]
    return {
        "truth": len(tk),
        "truth_locatable": len(locatable),
        "incidents": len(ik),
        "matched": len(found),
        "recall": ratio(len(found), len(tk)),
        "recall_locatable": ratio(sum(1 for k in locatable if k in found), len(locatable)),
        "precision": ratio(len(found), len(ik)),
        "duplicates": sum(1 for m in matches if m.right and not m.found),
        "wrong_pairs": sum(
            1
            for m in matches
            if m.origin_truth is not None
            and m.impact_truth is not None
            and m.origin_truth != m.impact_truth
        ),
        "nothing_true_near": sum(1 for m in matches if m.truth is None),
    }


def attribution_figures(pairs: list[Pair], n_truth: int) -> dict[str, Any]:
    """Attribution over the incidents that found an event *and have an origin* (a side is
    said of where a gun stood; an impact alone says nothing of it): accuracy of the named
    side, coverage, the multi-class Brier score (parties and "undetermined") and the
    reliability of the top probability in ten bins."""
    with_origin = [(t, i) for t, i in pairs if i["_o"] is not None]
    attributed = [(t, i) for t, i in with_origin if i.get("attributed_to")]
    correct = sum(1 for t, i in attributed if i["attributed_to"] == t["side"])
    brier, top_p, top_ok = [], [], []
    for t, i in with_origin:
        probs = dict(i.get("attribution") or {})
        undetermined = max(0.0, 1.0 - sum(probs.values()))
        sides = set(probs) | {t["side"]}
        score = sum((probs.get(s, 0.0) - (1.0 if s == t["side"] else 0.0)) ** 2 for s in sides)
        brier.append(score + undetermined**2)
        if probs:
            top = max(sorted(probs), key=lambda k: probs[k])
            top_p.append(probs[top])
            top_ok.append(top == t["side"])
    table = reliability_table(top_p, top_ok)
    return {
        "with_origin": len(with_origin),
        "attributed": len(attributed),
        "attribution_accuracy": ratio(correct, len(attributed)),
        "coverage": ratio(len(attributed), n_truth),
        "brier": round(float(np.mean(brier)), 4) if brier else None,
        "reliability": table,
        "reliability_max_gap": max_gap(table),
    }


def fire_figures(pairs: list[Pair]) -> dict[str, Any]:
    """Launch and impact joined where both were heard; the weapon class named, how often
    and how rightly; the reliability of the class probabilities."""
    both = [
        (t, i)
        for t, i in pairs
        if min(t.get("detections", {}).get(k, 0) for k in ("launch", "impact")) >= 4
    ]
    joined = sum(1 for _, i in both if i["_o"] is not None and i["_i"] is not None)
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
        "joined": ratio(joined, len(both)),
        "joined_of": len(both),
        "weapon_accuracy": ratio(
            sum(1 for t, i in pairs if i.get("weapon") == t["weapon"]), len(pairs)
        ),
        "weapon_named_share": ratio(len(named), len(located)),
        "weapon_named_accuracy": ratio(right, len(named)),
        "weapon_reliability": reliability_table(top_p, top_ok),
    }


def _ratio_median(e: np.ndarray, s: np.ndarray) -> float | None:
    ok = np.isfinite(s) & (s > 0)
    return round(float(np.median(e[ok] / s[ok])), 3) if ok.any() else None


def location_figures(pairs: list[Pair], key: str, name: str) -> dict[str, Any]:
    """Every located point of the incidents assigned to a true event, however far off (no
    error is left out): median, 90th percentile and maximum error, the share beyond 1 km,
    the error against the stated uncertainty (√trace of the covariance: the bound with the
    nuisances, the wind, clocks, surveys and a salvo's spread, as the analysis estimated
    them) and against the still-air Cramér-Rao bound (the pick noise alone), and the share
    of truths inside the stated 95 % ellipse."""
    err, sd, crlb, vec, cov = [], [], [], [], []
    for t, i in pairs:
        d = _dist(t[key], i[key])
        if d is None:
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
        "median": _pct(e, 50),
        "p90": _pct(e, 90),
        "max": round(float(e.max()), 1),
        "beyond_1km": round(float(np.mean(e > 1_000.0)), 4),
        "median_error_over_crlb": _ratio_median(e, b),
        "within_3_crlb": round(float(np.mean(e[ok] <= 3 * b[ok])), 4) if ok.any() else None,
        "median_error_over_stated": _ratio_median(e, s_),
        "within_3_stated": round(float(np.nanmean(e <= 3 * s_)), 4),
        "inside_stated_95_ellipse": ellipse_share(np.array(vec), np.array(cov)) if cov else None,
    }
