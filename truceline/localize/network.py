"""What the network measured of itself, as plain data for the run's summary: the wind of
each window of time and space, and each sensor's clock and survey as the located events
told them (:mod:`truceline.localize.wind_field`, :mod:`truceline.localize.self_calibration`).

A commission member reads it as: "between 10:00 and 11:00 over this 75 km stretch the wind
was 4.2 m/s from the west, known to 0.6 m/s, from 38 events"; "sensor S-0132's clock ran
281 ms late: it was re-timed".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._time import format_time
from ..geo import LocalFrame
from .association import AcousticEvents
from .self_calibration import MIN_ROWS

__all__ = ["network_summary"]


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
        for j in np.flatnonzero(t.rows >= MIN_ROWS):
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
