"""What the network watched on a report's day, sector by sector (:mod:`truceline.coverage`
does the counting): the sensors that reported, their gaps, the sensor uptime, the hours in
which the sector could locate a sound, its locatable area, and whether it was **observed**.

A sector is observed on a day only when, for at least ``observed_share`` of the day's hours
(75 % by default, 18 of 24), at least half of its band could locate sounds (``HOUR_SHARE``):
a sector that could locate for one hour of twenty-four, or only along its edges where its
neighbours' sensors reach, was not watched that day, and none of its zeros may be read as
"no violations".

The rows are plain values (numbers, not formatted text); the report renders them in its
language. Each sector also carries the probability that a firing of each class there would
have been counted, and the report bounds what may have gone undetected with it
(:mod:`truceline.detectability`).
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._time import format_time, parse_time
from ..agreement import Agreement
from ..confidence import default_model
from ..coverage import (
    heartbeat_up,
    locatable_area,
    sector_along,
    sensor_gaps,
    up_matrix,
)
from ..detectability import (
    ClassDetectability,
    CountingRule,
    counting_threshold,
    sector_detectability,
)
from ..weapons import DEFAULT_MODEL, FIRING_CLASSES

__all__ = [
    "DAY_US",
    "OBSERVED_SHARE",
    "DayCoverage",
    "day_coverage",
    "registered_only",
    "sector_key",
    "sector_of",
]

DAY_US = 86_400_000_000
HOURS = 24
OBSERVED_SHARE = 0.75
HOUR_SHARE = 0.5  # an hour counts towards "observed" when half the sector's band could locate


def registered_only(
    records: list[dict[str, Any]], registry: Collection[str]
) -> list[dict[str, Any]]:
    """The detections or heartbeats that may count towards coverage: where the mission keeps
    a sensor registry, only those of a registered sensor from its own source (a staff token
    may post detections naming any sensor, and invented sensors would make a dead sector
    look watched); with no registry, all.

    >>> rows = [{"sensor": "AS-1", "source": "AS-1"}, {"sensor": "FK-1", "source": "ana"},
    ...         {"sensor": "AS-1", "source": "ana"}]
    >>> len(registered_only(rows, {"AS-1"})), len(registered_only(rows, set()))
    (1, 3)
    """
    if not registry:
        return records
    return [
        r for r in records if r.get("sensor") in registry and r.get("source") == r.get("sensor")
    ]


def sector_key(k: int, sector_km: float) -> str:
    """The language-independent name of sector ``k`` (0-based), as the JSON keys it.

    >>> sector_key(2, 25.0)
    'sector 3 (km 50-75)'
    """
    return f"sector {k + 1} (km {k * sector_km:.0f}-{(k + 1) * sector_km:.0f})"


def sector_of(ag: Agreement, lon: Any, lat: Any, sector_km: float) -> np.ndarray[Any, Any]:
    """The sector (0-based) of each point (degrees) along the agreement's line of contact
    (:func:`truceline.coverage.sector_along`)."""
    x, y = ag.frame.forward(np.asarray(lon, float), np.asarray(lat, float))
    return sector_along(ag.line_local, x, y, sector_km)


@dataclass
class DayCoverage:
    rows: list[dict[str, Any]]
    gaps: list[dict[str, Any]]
    reporting: dict[str, tuple[float, float]]  # sensor -> (lon, lat), reporting that day
    silent: list[tuple[float, float]]  # positions of the sensors with a gap
    detectability: ClassDetectability | None = None  # P(a firing would be counted), per sector
    heartbeating: int = 0  # sensors whose up-time their heartbeats gave

    @property
    def blind(self) -> list[dict[str, Any]]:
        """The rows of the sectors that were not observed."""
        return [r for r in self.rows if not r["observed"]]


def _clock(t_us: int, day0: int) -> str:
    """HH:MM:SS on the report's day (24:00:00 at its end)."""
    if t_us >= day0 + DAY_US:
        return "24:00:00"
    return format_time(t_us)[11:19]


@functools.cache
def _shipped_rule() -> CountingRule:
    """The shipped confidence model's counting rule (read once, not once per report day)."""
    return counting_threshold(default_model())


def _gap_row(g: Any, sector: int, day0: int) -> dict[str, Any]:
    return {
        "sensor": g.sensor,
        "sector": sector + 1,
        "silent_from": _clock(g.start_us, day0),
        "silent_to": _clock(g.end_us, day0),
        "sounds_missed": g.missed,
        "hit_rate": round(float(g.hit_rate), 2),
    }


def _up(
    ids: np.ndarray[Any, Any],
    gaps: list[Any],
    day0: int,
    heard: tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]],
    beats: list[dict[str, Any]],
) -> np.ndarray[Any, Any]:
    """Each sensor's hours up: from its first detection to its last, less its gaps; where
    it sends heartbeats, its word replaces that inference (less its gaps still)."""
    up = up_matrix(ids, gaps, day0, HOURS, heard)
    if beats:
        said, sent = heartbeat_up(
            ids,
            ((b["sensor"], parse_time(b["time"]), b["state"] == "up", float(b["interval_s"]))
             for b in beats),
            day0,
            HOURS,
        )  # fmt: skip
        up[sent] = said[sent] & up_matrix(ids, gaps, day0, HOURS)[sent]
    return up


def day_coverage(
    acoustic: list[dict[str, Any]],
    ag: Agreement,
    day0: int,
    sector_km: float,
    known: dict[str, tuple[float, float]],
    observed_share: float = OBSERVED_SHARE,
    rule: CountingRule | None = None,
    hours: Iterable[int] | None = None,
    status: Iterable[dict[str, Any]] = (),
) -> DayCoverage:
    """Per sector of the line: the sensors that reported that day, their gaps, the hours in
    which the sector could locate events, its locatable area, and whether it was observed.
    ``known`` sensors (from earlier days) that did not report are tested for a day-long gap.
    ``rule``: how many sensors must hear a firing for it to be counted (default: the
    shipped confidence model's, :func:`truceline.detectability.counting_threshold`), for
    the chance that a firing of each class would have been counted
    (:mod:`truceline.detectability`) over the day's ``hours`` (default: all 24).
    ``status``: the sensors' heartbeats (``status`` observations, from before the day too:
    one sent at 23:55 holds into it); a sensor that sends them is up when they say so (less
    its gaps), not only from its first detection to its last, and one that heard nothing
    all day is still known to have been working."""
    day = [o for o in acoustic if day0 <= parse_time(o["time"]) < day0 + DAY_US]
    reporting = {o["sensor"]: (o["position"][0], o["position"][1]) for o in day}
    beats = [b for b in status if parse_time(b["time"]) < day0 + DAY_US]
    beating = {b["sensor"]: (b["position"][0], b["position"][1]) for b in beats}
    positions = known | beating | reporting
    ids = np.array(sorted(positions))
    heard = np.array([s in reporting for s in ids], dtype=bool)
    if ids.size:
        x, y = ag.frame.forward([positions[s][0] for s in ids], [positions[s][1] for s in ids])
        xy = np.column_stack([x, y])
        index = {s: i for i, s in enumerate(ids)}
        det_s = np.array([index[o["sensor"]] for o in day], dtype=np.int64)
        det_t = np.array([parse_time(o["time"]) for o in day], dtype=np.int64)
        gaps = sensor_gaps(ids, xy, det_s, det_t, day0, day0 + DAY_US)
        first = np.full(ids.size, np.iinfo(np.int64).max)
        last = np.full(ids.size, np.iinfo(np.int64).min)
        np.minimum.at(first, det_s, det_t)
        np.maximum.at(last, det_s, det_t)
        up = _up(ids, gaps, day0, (first, last), beats)
        lon, lat = [positions[s][0] for s in ids], [positions[s][1] for s in ids]
        sector = sector_of(ag, lon, lat, sector_km)
    else:
        xy, gaps, up = np.zeros((0, 2)), [], np.zeros((0, HOURS), bool)
        sector = np.zeros(0, int)
    areas = locatable_area(xy, up, ag.line_local, sector_km)
    gap_sector = {str(s): int(k) for s, k in zip(ids, sector, strict=True)}
    rows = []
    for area in areas:
        k = area.sector
        mine = sector == k
        rows.append(
            {
                "sector": sector_key(k, sector_km),
                "number": k + 1,
                "sensors_reporting": int((mine & heard).sum()),
                "gaps": sum(1 for g in gaps if gap_sector[g.sensor] == k),
                "sensor_uptime": round(float(up[mine].mean()), 4) if mine.any() else None,
                "hours_able_to_locate": area.hours_able_to_locate,
                "hours_observed": area.hours_with(HOUR_SHARE),
                "locatable_km2": round(area.mean_km2),
                "locatable_share": round(float(area.share), 4),
                "observed": area.hours_with(HOUR_SHARE) >= observed_share * HOURS,
            }
        )
    gap_rows = [_gap_row(g, gap_sector[g.sensor], day0) for g in gaps]
    silent = [positions[s] for s in sorted({g.sensor for g in gaps})]
    classes = [DEFAULT_MODEL.classes[c] for c in FIRING_CLASSES]
    rule = rule or _shipped_rule()
    det = sector_detectability(xy, up, ag.line_local, classes, rule, sector_km, hours=hours)
    return DayCoverage(rows, gap_rows, reporting, silent, det, len(beating))
