"""The sensor registry: every acoustic sensor the mission runs, with its surveyed position and
its operator, and the rule a detection must meet to be evidence from that sensor.

A sensor is registered by an analyst (``truceline sensor add``, ``POST /v1/sensors``); each
registration is an entry of the evidence log. A sensor's bearer token and signing key are
bound to it: its observations' ``source`` is the sensor's id. A detection that names a
registered sensor must come from that sensor's source and be reported at its surveyed
position, within the registration's tolerance (horizontally: the height is not checked);
otherwise it is refused, not corrected: the log keeps what a source sent, byte for byte (its
signature covers the position), and a detection whose position is wrong is evidence of a
fault or a forgery, not of a sound.

>>> s = Sensor("AS-1", (36.0, 48.0, 120.0), "ops-north")
>>> detection_problem(s, "AS-1", [36.0003, 48.0001, 120.0]) is None
True
>>> detection_problem(s, "AS-1", [36.01, 48.0])
'position [36.01, 48.0] is not within the tolerance of the surveyed position of AS-1'
>>> detection_problem(s, "AS-2", [36.0, 48.0])
'sensor AS-1 reports under its own source AS-1, not AS-2'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["DEFAULT_TOLERANCE_M", "Sensor", "detection_problem", "distance_m"]

#: how far a detection's reported position may lie from the sensor's surveyed one
DEFAULT_TOLERANCE_M = 50.0
_EARTH_M = 6_371_008.8


@dataclass(frozen=True)
class Sensor:
    """A registered sensor: its id (also its observations' ``source``), its surveyed
    position ``(lon, lat[, elevation_m])``, who operates it, and the tolerance its
    detections' positions are held to."""

    id: str
    position: tuple[float, ...]
    operator: str
    tolerance_m: float = DEFAULT_TOLERANCE_M

    def as_dict(self) -> dict[str, object]:
        return {
            "sensor": self.id,
            "position": list(self.position),
            "operator": self.operator,
            "tolerance_m": self.tolerance_m,
        }


def distance_m(a: Sequence[float], b: Sequence[float]) -> float:
    """Great-circle distance in metres between two ``[lon, lat]`` points (haversine; the
    elevations are ignored: a sensor's surveyed height is not what is checked).

    >>> round(distance_m([36.0, 48.0], [36.0, 48.001]))
    111
    """
    lon1, lat1, lon2, lat2 = (math.radians(v) for v in (a[0], a[1], b[0], b[1]))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * _EARTH_M * math.asin(min(1.0, math.sqrt(h)))


def detection_problem(sensor: Sensor, source: str, position: Sequence[float]) -> str | None:
    """Why a detection that names ``sensor`` is not evidence from it (its ``source`` is not
    the sensor's, or its position is not the surveyed one), or None."""
    if source != sensor.id:
        return f"sensor {sensor.id} reports under its own source {sensor.id}, not {source}"
    # the answer says neither how far off the position is nor the tolerance: the caller may
    # be the sensor's token, not staff, and three refused distances would trilaterate it
    if distance_m(position, sensor.position) > sensor.tolerance_m:
        where = f"the surveyed position of {sensor.id}"
        return f"position {list(position)} is not within the tolerance of {where}"
    return None
