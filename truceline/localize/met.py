"""Weather from ``met`` observations, where and when a detection was made: the latest report
of the nearest station (within ``max_km``), valid until that station's next one.

>>> import numpy as np
>>> m = MetField(np.array([0.0]), np.array([0.0]), [np.array([0, 100])],
...              [np.array([[3.0, 0.0], [5.0, -1.0]])], [np.array([np.nan, 12.0])])
>>> wind, temp = m.at(np.array([1e3, 1e3, 1e6]), np.array([0.0, 0.0, 0.0]), np.array([50, 150, 150]))
>>> wind.tolist(), np.isnan(temp).tolist()
([[3.0, 0.0], [5.0, -1.0], [nan, nan]], [True, False, True])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from ..geo import LocalFrame
from ..observations import Met, Observation

__all__ = ["MetField", "met_field"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class MetField:
    """Stations (positions in the local frame) and each one's reports in time order."""

    x: FloatArray
    y: FloatArray
    times_us: list[NDArray[np.int64]]
    wind: list[FloatArray]  # (n, 2) per station
    temperature: list[FloatArray]  # (n,) per station, NaN where not reported
    max_km: float = 50.0

    def __len__(self) -> int:
        return int(self.x.size)

    def at(
        self, x: FloatArray, y: FloatArray, t_us: NDArray[np.int64]
    ) -> tuple[FloatArray, FloatArray]:
        """Wind (N, 2) and temperature (N,) at each point and time; NaN where no station in
        range had reported yet."""
        n = np.size(x)
        wind = np.full((n, 2), np.nan)
        temp = np.full(n, np.nan)
        if not len(self):
            return wind, temp
        dist, station = cKDTree(np.column_stack([self.x, self.y])).query(np.column_stack([x, y]))
        for s in np.unique(station[dist <= self.max_km * 1000.0]):
            sel = np.flatnonzero((station == s) & (dist <= self.max_km * 1000.0))
            k = np.searchsorted(self.times_us[s], t_us[sel], side="right") - 1
            ok = k >= 0
            wind[sel[ok]] = self.wind[s][k[ok]]
            temp[sel[ok]] = self.temperature[s][k[ok]]
        return wind, temp


def met_field(
    observations: Sequence[Observation], frame: LocalFrame, max_km: float = 50.0
) -> MetField:
    """The stations of the ``met`` observations (a station is a source at a position)."""
    by_station: dict[tuple[str, float, float], list[Met]] = {}
    for o in observations:
        if isinstance(o.model, Met):
            m = o.model
            by_station.setdefault((m.source, m.position[0], m.position[1]), []).append(m)
    keys = sorted(by_station)
    if not keys:
        z = np.zeros(0)
        return MetField(z, z, [], [], [], max_km)
    x, y = frame.forward([k[1] for k in keys], [k[2] for k in keys])
    times, winds, temps = [], [], []
    for k in keys:
        reports = sorted(by_station[k], key=lambda m: (m.time, m.id))
        times.append(np.array([m.time for m in reports], dtype=np.int64))
        winds.append(np.array([m.wind_ms for m in reports], dtype=float))
        temps.append(
            np.array([np.nan if m.temperature_c is None else m.temperature_c for m in reports])
        )
    return MetField(x, y, times, winds, temps, max_km)
