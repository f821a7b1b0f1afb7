"""Scoring what the network measured of itself (the run summary's ``network``: winds and
sensor clocks) against the simulator's ``network_truth.json``.

Figures: for every window with at least ``MIN_WIND_EVENTS`` events, the error of its wind
against the true wind at its centre and middle time, and whether the stated 1σ (per
component, so 2.45σ for the vector at 95 %) holds it; for every sensor whose true clock was
off by at least ``BIG_CLOCK_S``, whether it was flagged and re-timed, and how far the fitted
offset is from the truth; the error of every fitted clock.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .._time import parse_time
from ..geo import frame_for_bounds

__all__ = ["BIG_CLOCK_S", "MIN_WIND_EVENTS", "score_network"]

MIN_WIND_EVENTS = 30
BIG_CLOCK_S = 0.1


def score_network(truth_path: Path, summary: dict[str, Any]) -> dict[str, Any]:
    """The network figures, or ``{}`` where the run measured nothing."""
    truth = json.loads(truth_path.read_text(encoding="utf-8"))
    net = summary.get("network") or {}
    out: dict[str, Any] = {}
    if net.get("wind"):
        out["wind"] = _wind(truth["wind"], net["wind"])
    if truth.get("sensors"):
        start = parse_time(truth["wind"]["times"][0])
        out["clocks"] = _clocks(truth["sensors"], net.get("sensors", []), start)
    return out


def _wind(truth: dict[str, Any], windows: list[dict[str, Any]]) -> dict[str, Any]:
    times = np.array([parse_time(t) for t in truth["times"]])
    pts = np.array(truth["points"], dtype=float)
    east, north = np.array(truth["east"]), np.array(truth["north"])
    frame = frame_for_bounds(pts[:, 0].min(), pts[:, 1].min(), pts[:, 0].max(), pts[:, 1].max())
    px, py = frame.forward(pts[:, 0], pts[:, 1])
    errs, held, big = [], [], []
    for w in windows:
        if w["events"] < MIN_WIND_EVENTS:
            continue
        mid = (parse_time(w["start"]) + parse_time(w["end"])) // 2
        cx, cy = frame.forward(np.array([w["centre"][0]]), np.array([w["centre"][1]]))
        i = int(np.argmin(np.abs(times - mid)))
        j = int(np.argmin(np.hypot(px - cx[0], py - cy[0])))
        e = float(np.hypot(w["east_ms"] - east[i, j], w["north_ms"] - north[i, j]))
        errs.append(e)
        held.append(e <= 2.45 * w["sigma_ms"])
        big.append(e > 1.0)
    if not errs:
        return {"windows": 0}
    return {
        "windows": len(errs),
        "median_error_ms": round(float(np.median(errs)), 3),
        "max_error_ms": round(float(np.max(errs)), 3),
        "within_1_ms": round(1.0 - float(np.mean(big)), 4),
        "inside_stated_95": round(float(np.mean(held)), 4),
    }


def _clocks(
    truth: list[dict[str, Any]], fitted: list[dict[str, Any]], start_us: int
) -> dict[str, Any]:
    """``start_us``: the truth's clock epoch (the start of the simulated day)."""
    fit_by = {f["sensor"]: f for f in fitted}
    flagged = {f["sensor"] for f in fitted if f["flagged"]}
    errs, big_seen, big_total = [], 0, 0
    for s in truth:
        got = fit_by.get(s["sensor"])
        if got is None:
            big_total += int(abs(s["clock_offset_s"]) >= BIG_CLOCK_S)
            continue
        hours = (parse_time(got["at"]) - start_us) / 3.6e9
        true = s["clock_offset_s"] + s["clock_drift_s_per_h"] * hours
        errs.append(got["clock_offset_s"] - true)
        if abs(true) >= BIG_CLOCK_S:
            big_total += 1
            good = abs(got["clock_offset_s"] - true) < 0.02
            big_seen += int(s["sensor"] in flagged and good)
    e = np.abs(np.array(errs)) if errs else np.zeros(0)
    return {
        "sensors_fitted": len(errs),
        "median_abs_error_s": round(float(np.median(e)), 4) if e.size else None,
        "p90_abs_error_s": round(float(np.percentile(e, 90)), 4) if e.size else None,
        "off_by_100ms": big_total,
        "off_by_100ms_corrected": big_seen,
        "flagged": len(flagged),
    }
