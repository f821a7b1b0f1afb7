"""Weather stations: what a mission's own stations (or a met service) report of the wind
(FORMATS §2 ``met``), for worlds that have them (``met:`` in the world file)."""

from __future__ import annotations

import numpy as np

from .observe import ObservationWriter
from .world import Met, Wind

__all__ = ["met_reports"]


def met_reports(
    rng: np.random.Generator, w: ObservationWriter, hours: float, met: Met, wind: Wind
) -> int:
    """Every station's reports over ``hours``: the world's wind where and when it stands,
    plus its instrument's error; the number of reports."""
    h = w.sc.half_length_m
    spacing = met.spacing_km * 1_000.0
    along = np.arange(-h + spacing / 2.0, h, spacing)
    times = np.arange(0.0, hours * 3_600.0, met.every_min * 60.0)
    n = 0
    for side, offset in enumerate((-met.back_km * 1_000.0, met.back_km * 1_000.0)):
        lon, lat = w.lonlat(along, w.sc.line_at(along) + offset)
        for k in range(along.size):
            source = f"met-{side}{k:02d}"
            true = wind.at(times, np.full(times.size, along[k]), w.wind_phase)
            seen = true + rng.normal(0.0, met.wind_sigma_ms, true.shape)
            for j, t in enumerate(times):
                t_us = int(w.time_us(t))
                w.add(
                    t_us,
                    {
                        "id": f"{source}-{j + 1:06d}",
                        "type": "met",
                        "source": source,
                        "time": t_us,
                        "position": [float(lon[k]), float(lat[k])],
                        "wind_ms": [round(float(seen[j, 0]), 2), round(float(seen[j, 1]), 2)],
                    },
                )
                n += 1
    return n
