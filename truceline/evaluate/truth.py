"""The simulator's ground truth (FORMATS.md §4) and the incidents to score, in one frame."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .._time import parse_time
from ..errors import InputError
from ..geo import LocalFrame, frame_for_bounds
from ..incidents import read_incidents

__all__ = ["read_scored", "read_truth"]


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


def read_scored(
    truth_path: Path, incidents_path: Path
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The truth and every located incident (whatever its confidence), each with its points
    in metres (``_o``, ``_i``) and times (``_t``, ``_t_end``) in one local frame."""
    truth = read_truth(truth_path)
    incs = [p for p in read_incidents(incidents_path) if p["kind"] != "unlocated"]
    pts = [t["origin"] for t in truth] + [t["impact"] for t in truth if t.get("impact")]
    lons = [p[0] for p in pts] or [0.0]
    lats = [p[1] for p in pts] or [0.0]
    frame = frame_for_bounds(min(lons), min(lats), max(lons), max(lats))
    for t in truth:
        t["_o"], t["_i"] = _xy(frame, t["origin"]), _xy(frame, t.get("impact"))
    for inc in incs:
        inc["_o"], inc["_i"] = _xy(frame, inc.get("origin")), _xy(frame, inc.get("impact"))
        inc["_t"] = parse_time(inc["time_start"])
        inc["_t_end"] = parse_time(inc["time_end"])
    return truth, incs


def _xy(frame: LocalFrame, p: list[float] | None) -> tuple[float, float] | None:
    if p is None:
        return None
    x, y = frame.forward(np.array([p[0]]), np.array([p[1]]))
    return float(x[0]), float(y[0])
