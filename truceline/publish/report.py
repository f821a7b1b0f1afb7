"""The daily report: what a mission publishes about one day, in HTML, Markdown and PDF.

Contents: the evidence tree head it was computed from; headline counts of violations
(incidents with confidence ≥ 0.5 that break a clause) by clause, by party, by weapon class
and by region (any region layer, else 25 km sectors of the line); a map of the day; the
trend against the previous 7 and 30 days; **coverage** (which sensors reported, and the
sectors of the line no network could locate events in that day, so that "0 violations" is
never read as "nothing happened"); every incident with its confidence, attribution and
evidence; and a methodology note.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from .._time import format_time, parse_time
from ..agreement import Agreement
from ..coverage import locatable_area, n_sectors_of, sensor_gaps, up_matrix
from .figures import map_png, trend_png

__all__ = [
    "DAY_US",
    "KNOWN_DAYS",
    "DailyReport",
    "build_report",
    "period_reports",
    "witness_statement",
    "witnessed_head",
]

DAY_US = 86_400_000_000
FIRM = 0.5


@dataclass
class DailyReport:
    date: str
    agreement: str
    tree_head: dict[str, Any] | None
    by_clause: dict[str, int]
    by_party: dict[str, int]
    by_weapon: dict[str, int]
    by_region: dict[str, int]
    trend: list[tuple[str, int]]  # (date, violations) for the 30 days before and the day
    coverage: list[dict[str, Any]]
    gaps: list[dict[str, Any]]
    sensors_reporting: int
    incidents: list[dict[str, Any]]
    map_png: bytes = b""
    trend_png: bytes = b""
    notes: list[str] = field(default_factory=list)


def witnessed_head(head: Any, ag: Agreement, cosigned: Any) -> dict[str, Any] | None:
    """The tree head a report cites (a :class:`~truceline.evidence.TreeHead` or None) as a
    dict, with the log's key as the agreement publishes it (``log_key``) and the newest head
    a quorum of witnesses cosigned (``cosigned``: a :class:`~truceline.evidence.CosignedHead`,
    its cosignatures checked, or None)."""
    if head is None:
        return None
    return {
        **head.as_dict(),
        "log_key": ag.log_key,
        "cosigned": cosigned.as_dict() if cosigned is not None else None,
    }


def witness_statement(head: dict[str, Any] | None) -> str:
    """One sentence on who vouches for the log: its published key and the newest head a
    quorum of witnesses cosigned (or that none has been yet).

    >>> witness_statement({"log_key": "K", "cosigned": {"tree_size": 9, "root_hash": "ab",
    ...     "cosigners": {"FR": 1, "party-N": 2}}})
    'Log key (as published): K. Newest head cosigned by a quorum of witnesses: tree size 9, root ab, cosigned by FR, party-N.'
    """
    head = head or {}
    key = head.get("log_key") or "not published in the agreement"
    c = head.get("cosigned")
    if not c:
        return f"Log key (as published): {key}. No head is cosigned by a quorum of witnesses yet."
    names = ", ".join(sorted(c["cosigners"]))
    return (
        f"Log key (as published): {key}. Newest head cosigned by a quorum of witnesses: "
        f"tree size {c['tree_size']}, root {c['root_hash']}, cosigned by {names}."
    )


def _day(text: str) -> str:
    return text[:10]


def _violating(props: dict[str, Any]) -> bool:
    return bool(props["violations"]) and props["confidence"] >= FIRM


def build_report(
    date: str,
    features: list[dict[str, Any]],
    ag: Agreement,
    tree_head: dict[str, Any] | None,
    acoustic: list[dict[str, Any]],
    regions: list[tuple[str, shapely.Geometry]] | None = None,
    sector_km: float = 25.0,
    known_sensors: dict[str, tuple[float, float]] | None = None,
) -> DailyReport:
    """Everything the report says about ``date`` (YYYY-MM-DD), from a run's incidents and
    the day's acoustic detections (for coverage). ``known_sensors`` (id → lon, lat), the
    sensors seen on earlier days, lets a sensor that fell silent for the whole day show."""
    day0 = parse_time(f"{date}T00:00:00Z")
    today = [f for f in features if _day(f["properties"]["time_start"]) == date]
    firm = [f for f in today if _violating(f["properties"])]
    by_clause = Counter(c for f in firm for c in f["properties"]["violations"])
    by_party = Counter(f["properties"]["attributed_to"] or "undetermined" for f in firm)
    by_weapon = Counter(f["properties"].get("weapon", "unknown") for f in firm)
    by_region = _by_region(firm, ag, regions, sector_km)
    daily = Counter(
        _day(f["properties"]["time_start"]) for f in features if _violating(f["properties"])
    )
    trend = []
    for d in range(30, -1, -1):
        t = day0 - d * DAY_US
        key = _iso_day(t)
        trend.append((key, int(daily.get(key, 0))))
    coverage, gaps, reporting, positions = _coverage(
        acoustic, ag, day0, sector_km, known_sensors or {}
    )
    rep = DailyReport(
        date=date,
        agreement=ag.id,
        tree_head=tree_head,
        by_clause=dict(sorted(by_clause.items())),
        by_party=dict(sorted(by_party.items())),
        by_weapon=dict(sorted(by_weapon.items(), key=lambda kv: -kv[1])),
        by_region=dict(sorted(by_region.items())),
        trend=trend,
        coverage=coverage,
        gaps=gaps,
        sensors_reporting=len(reporting),
        incidents=[f["properties"] | {"_geometry": f.get("geometry")} for f in today],
    )
    gap_sensors = {g["sensor"] for g in gaps}
    rep.map_png = map_png(
        today,
        ag,
        date,
        [p for s, p in reporting.items() if s not in gap_sensors],
        [positions[s] for s in sorted(gap_sensors)],
    )
    rep.trend_png = trend_png(trend)
    return rep


def _by_region(
    firm: list[dict[str, Any]],
    ag: Agreement,
    regions: list[tuple[str, shapely.Geometry]] | None,
    sector_km: float,
) -> Counter[str]:
    """Violations per region of the layer, else per sector of the line (all at once)."""
    counts: Counter[str] = Counter()
    located = [
        f["geometry"]["coordinates"] for f in firm if (f.get("geometry") or {}).get("coordinates")
    ]
    counts["(not located)"] += len(firm) - len(located)
    if not located:
        return +counts
    lon = np.array([c[0] for c in located])
    lat = np.array([c[1] for c in located])
    if regions:
        name = np.full(lon.size, "(outside the regions)", dtype=object)
        for n, g in reversed(regions):  # the first region that contains a point wins
            name[shapely.contains_xy(g, lon, lat)] = n
        counts.update(str(n) for n in name)
    else:
        x, y = ag.frame.forward(lon, lat)
        along = shapely.line_locate_point(ag.line_local, shapely.points(x, y))
        for k in (np.asarray(along) // (sector_km * 1000)).astype(int):
            counts[f"sector {k + 1} (km {k * sector_km:.0f}-{(k + 1) * sector_km:.0f})"] += 1
    return +counts


def _clock(t_us: int, day0: int) -> str:
    """HH:MM:SS on the report's day (24:00:00 at its end)."""
    if t_us >= day0 + DAY_US:
        return "24:00:00"
    return format_time(t_us)[11:19]


def _iso_day(t_us: int) -> str:
    return format_time(t_us)[:10]


def _coverage(
    acoustic: list[dict[str, Any]],
    ag: Agreement,
    day0: int,
    sector_km: float,
    known: dict[str, tuple[float, float]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """Per sector of the line: the sensors that reported that day, their gaps, the hours in
    which the sector could locate events, and its locatable area (``truceline.coverage``).
    Also every gap, and the positions of the sensors reporting and of every sensor known.
    ``known`` sensors (from earlier days) that did not report are tested for a day-long gap."""
    day = [o for o in acoustic if day0 <= parse_time(o["time"]) < day0 + DAY_US]
    n_sectors = n_sectors_of(ag.line_local, sector_km)
    reporting = {o["sensor"]: (o["position"][0], o["position"][1]) for o in day}
    positions = known | reporting
    ids = np.array(sorted(positions))
    heard = np.array([s in reporting for s in ids], dtype=bool)
    if ids.size:
        x, y = ag.frame.forward([positions[s][0] for s in ids], [positions[s][1] for s in ids])
        xy = np.column_stack([x, y])
        index = {s: i for i, s in enumerate(ids)}
        det_s = np.array([index[o["sensor"]] for o in day])
        det_t = np.array([parse_time(o["time"]) for o in day])
        gaps = sensor_gaps(ids, xy, det_s, det_t, day0, day0 + DAY_US)
        first = np.full(ids.size, np.iinfo(np.int64).max)
        last = np.full(ids.size, np.iinfo(np.int64).min)
        np.minimum.at(first, det_s, det_t)
        np.maximum.at(last, det_s, det_t)
        up = up_matrix(ids, gaps, day0, 24, (first, last))
        along = shapely.line_locate_point(ag.line_local, shapely.points(x, y))
        sector_of = np.minimum((along // (sector_km * 1000)).astype(int), n_sectors - 1)
    else:
        xy, gaps, up = np.zeros((0, 2)), [], np.zeros((0, 24), bool)
        sector_of = np.zeros(0, int)
        heard = np.zeros(0, bool)
    areas = locatable_area(xy, up, ag.line_local, sector_km)
    gap_sector = {str(s): int(k) for s, k in zip(ids, sector_of, strict=True)}
    rows = []
    for area in areas:
        k = area.sector
        rows.append(
            {
                "sector": f"sector {k + 1} (km {k * sector_km:.0f}-{(k + 1) * sector_km:.0f})",
                "sensors_reporting": int(((sector_of == k) & heard).sum()),
                "gaps": sum(1 for g in gaps if gap_sector[g.sensor] == k),
                "sensor_uptime": f"{up[sector_of == k].mean():.0%}"
                if (sector_of == k).any()
                else "-",
                "hours_able_to_locate": area.hours_able_to_locate,
                "locatable_km2": round(area.mean_km2),
                "locatable_share": f"{area.share:.0%}",
                "observed": area.hours_able_to_locate > 0,
            }
        )
    gap_rows = [
        {
            "sensor": g.sensor,
            "sector": gap_sector[g.sensor] + 1,
            "silent from": _clock(g.start_us, day0),
            "silent to": _clock(g.end_us, day0),
            "sounds missed": g.missed,
            "hit rate": f"{g.hit_rate:.2f}",
        }
        for g in gaps
    ]
    return rows, gap_rows, reporting, positions


KNOWN_DAYS = 7  # a sensor heard from within this many days before a report's day is known


def period_reports(
    days: list[str],
    features: list[dict[str, Any]],
    ag: Agreement,
    tree_head: dict[str, Any] | None,
    acoustic: Iterable[dict[str, Any]],
    regions: list[tuple[str, shapely.Geometry]] | None = None,
) -> Iterator[DailyReport]:
    """The report of each day of a period, in order, from one read of the store: its
    incidents, and the acoustic detections of the period and of the ``KNOWN_DAYS`` before
    it (the sensors known to exist, so that one silent all day is reported)."""
    by_day: dict[str, list[dict[str, Any]]] = {d: [] for d in days}
    last_seen: dict[str, tuple[int, tuple[float, float]]] = {}
    for body in acoustic:
        day = body["time"][:10]
        if day in by_day:
            by_day[day].append(body)
        else:
            _seen(last_seen, body)
    previous: str | None = None
    for d in days:
        for o in by_day.get(previous or "", []):  # the day before joins what is known
            _seen(last_seen, o)
        t0 = parse_time(f"{d}T00:00:00Z")
        known = {s: p for s, (t, p) in last_seen.items() if t >= t0 - KNOWN_DAYS * DAY_US}
        yield build_report(d, features, ag, tree_head, by_day[d], regions, known_sensors=known)
        previous = d


def _seen(last_seen: dict[str, tuple[int, tuple[float, float]]], record: dict[str, Any]) -> None:
    """Keep each sensor's latest detection time and position."""
    t = parse_time(record["time"])
    if t > last_seen.get(record["sensor"], (-1, (0.0, 0.0)))[0]:
        last_seen[record["sensor"]] = (t, (record["position"][0], record["position"][1]))
