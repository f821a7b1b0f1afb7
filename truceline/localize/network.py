"""What the network measured of itself, as plain data for the run's summary: the wind of
each window of time and space, and each sensor's clock and survey as the located events
told them (:mod:`truceline.localize.wind_field`, :mod:`truceline.localize.self_calibration`).

A commission member reads it as: "between 10:00 and 11:00 over this 75 km stretch the wind
was 4.2 m/s from the west, known to 0.6 m/s, from 38 events"; "sensor S-0132's clock ran
281 ms late: it was re-timed".
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

from .._time import format_time
from ..geo import LocalFrame
from .association import AcousticEvents

__all__ = ["calibration_digest", "calibration_record", "network_summary", "sensor_history"]


def network_summary(ev: AcousticEvents | None, frame: LocalFrame) -> dict[str, Any]:
    """``{"wind": [...], "wind_variation_ms": τ, "sensors": [...], "flagged": [...]}``
    (empty lists where nothing was measured)."""
    out: dict[str, Any] = {"wind": [], "wind_variation_ms": None, "sensors": [], "flagged": []}
    if ev is None:
        return out
    w = ev.winds
    if w is not None and len(w.events):
        lon, lat = frame.inverse(w.cell_x, w.cell_y)
        out["wind_variation_ms"] = round(float(w.tau), 3)
        for k in range(len(w.events)):
            start = ev.t_ref_us + round(float(w.start_s[k]) * 1e6)
            out["wind"].append(
                {
                    "start": format_time(start),
                    "end": format_time(start + round(w.window_s * 1e6)),
                    "centre": [round(float(lon[k]), 5), round(float(lat[k]), 5)],
                    "cell_km": round(w.cell_m / 1000.0, 1),
                    "east_ms": round(float(w.wind[k, 0]), 2),
                    "north_ms": round(float(w.wind[k, 1]), 2),
                    "sigma_ms": round(float(w.sigma[k]), 2),
                    "events": int(w.events[k]),
                }
            )
    t = ev.sensors
    if t is not None and t.names is not None:
        for j in np.flatnonzero(t.known):
            rec = {
                "sensor": str(t.names[j]),
                "at": format_time(ev.t_ref_us + round(float(t.t_centre[j]) * 1e6)),
                "clock_offset_s": round(float(t.clock_s[j]), 4),
                "clock_sd_s": round(float(t.clock_sd[j]), 4),
                "clock_drift_s_per_h": round(float(t.drift_s_per_h[j]), 5),
                "position_error_m": [round(float(t.dx[j]), 1), round(float(t.dy[j]), 1)],
                "position_sd_m": round(float(t.position_sd[j]), 1),
                "residuals": int(t.rows[j]),
                "flagged": bool(t.flagged[j]),
            }
            out["sensors"].append(rec)
        out["flagged"] = [r["sensor"] for r in out["sensors"] if r["flagged"]]
    return out


def calibration_record(network: dict[str, Any]) -> dict[str, Any]:
    """What a run's log entry says of the sensors' calibration: how many sensors the run
    measured, how many it flagged (re-timed or re-surveyed) and the SHA-256 of their
    records. The records themselves are in the run's ``summary.json`` (staff see it: they
    name sensors, and a run entry is public); the hash binds them to the log, so a record
    shown later (in a report, in a sensor's history) can be checked against the entry.

    >>> rec = calibration_record({"sensors": [{"sensor": "S1", "flagged": True}]})
    >>> rec["sensors"], rec["flagged"], rec["sha256"][:12]
    (1, 1, 'da747e438aa7')
    """
    sensors = network.get("sensors") or []
    return {
        "sensors": len(sensors),
        "flagged": sum(bool(r.get("flagged")) for r in sensors),
        "sha256": calibration_digest(sensors),
    }


def calibration_digest(sensors: list[dict[str, Any]]) -> str:
    """SHA-256 of the sensors' records as canonical JSON (sorted keys, no spaces, UTF-8)."""
    text = json.dumps(sensors, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def sensor_history(
    runs: list[tuple[int, int | None, dict[str, Any]]], sensor: str
) -> list[dict[str, Any]]:
    """A sensor's calibration run by run, oldest first, from ``(run id, log index, summary)``
    rows: what each run measured of its clock and survey (runs that could not measure it,
    too few residuals, are left out).

    >>> summary = {"network": {"sensors": [{"sensor": "S1", "clock_offset_s": 0.1}]}}
    >>> sensor_history([(1, 7, summary), (2, 9, {})], "S1")
    [{'run': 1, 'log_index': 7, 'sensor': 'S1', 'clock_offset_s': 0.1}]
    """
    out = []
    for run, index, summary in sorted(runs, key=lambda r: r[0]):
        for rec in (summary.get("network") or {}).get("sensors") or []:
            if rec.get("sensor") == sensor:
                out.append({"run": run, "log_index": index, **rec})
    return out
