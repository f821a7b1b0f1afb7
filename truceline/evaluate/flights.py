"""Tracks scored against the flights the simulator flew (``drones_truth.jsonl``).

The analysis never reads this file: the drones benchmark and the confidence fit do. A
flight's path is given every 10 s from its launch to its end; a track is *of* the flight
whose true position, at the track's own times, is nearest on average (under ``within_m``,
and the flight in the air for at least half the track's times).

>>> import numpy as np
>>> f = {"t_us": np.array([0.0, 10e6]), "x": np.array([0.0, 300.0]), "y": np.zeros(2)}
>>> [float(v) for v in position_at(f, np.array([5e6]))[0]]
[150.0]
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._time import parse_time
from ..agreement import Agreement
from ..incidents import Fused

__all__ = ["MATCH_M", "flights_of", "position_at", "read_flights", "truth_flights"]

MATCH_M = 1000.0
PATH_STEP_US = 10_000_000


def truth_flights(rows: Sequence[dict[str, Any]], ag: Agreement) -> list[dict[str, Any]]:
    """Each row of ``drones_truth.jsonl`` with its path in the agreement's frame (``x``,
    ``y``, times ``t_us``) and its start and end (``t0``, ``t1``, µs)."""
    out = []
    for r in rows:
        t0 = parse_time(r["time"])
        t1 = parse_time(r["time_end"])
        p = np.array(r["path"], float)
        x, y = ag.frame.forward(p[:, 0], p[:, 1])
        t = np.append(t0 + np.arange(len(p) - 1) * PATH_STEP_US, t1)[: len(p)]
        out.append({**r, "t_us": t.astype(float), "x": x, "y": y, "t0": t0, "t1": t1})
    return out


def read_flights(path: Path, ag: Agreement) -> list[dict[str, Any]]:
    """:func:`truth_flights` of a ``drones_truth.jsonl`` file (none if it is absent)."""
    if not path.exists():
        return []
    rows = [json.loads(s) for s in path.read_text(encoding="utf-8").splitlines() if s.strip()]
    return truth_flights(rows, ag)


def position_at(f: dict[str, Any], t_us: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A true flight's position at times ``t_us`` (interpolated along its path)."""
    return np.interp(t_us, f["t_us"], f["x"]), np.interp(t_us, f["t_us"], f["y"])


def flights_of(
    air: Sequence[Fused], flights: Sequence[dict[str, Any]], within_m: float = MATCH_M
) -> list[int | None]:
    """For each tracked incident of ``air``, the index of its true flight, or None."""
    out: list[int | None] = []
    for inc in air:
        assert inc.flight is not None
        t = np.array(inc.flight.t_us, float)
        best, best_d = None, within_m
        for k, f in enumerate(flights):
            live = (t >= f["t0"]) & (t <= f["t1"])
            if live.mean() < 0.5:
                continue
            x, y = position_at(f, t[live])
            d = float(np.mean(np.hypot(inc.flight.xy[live, 0] - x, inc.flight.xy[live, 1] - y)))
            if d < best_d:
                best, best_d = k, d
        out.append(best)
    return out
