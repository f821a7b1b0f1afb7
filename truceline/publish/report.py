"""The daily report: what a mission publishes about one day, in HTML, Markdown and PDF.

Contents: the evidence tree head it was computed from; a summary written from the figures;
violations (incidents with confidence ≥ 0.5 that break a clause, less those an analyst
rejected) by clause, by party, by weapon class and by region (any region layer, else 25 km
sectors of the line: every one, in order), each split into those an analyst verified and
those only the automatic analysis found; a map of the day; the trend against the previous 7
and 30 days, over the days the mechanism observed (a day with no data is "not observed",
never zero); **coverage** (which sectors the network could locate sounds in for at least
``observed_share`` of the day's hours, and the sensors' gaps); every incident with its place,
grid reference, confidence, attribution and evidence; and a methodology note.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from statistics import median
from typing import Any

import shapely

from .._time import format_time, parse_time
from ..agreement import Agreement
from ..coverage import n_sectors_of
from ..detectability import bounds_by_sector
from ..i18n import Language, language
from ..places import describe_features
from .day_coverage import DAY_US, OBSERVED_SHARE, DayCoverage, day_coverage, sector_key, sector_of

__all__ = [
    "DAY_US",
    "KNOWN_DAYS",
    "NOT_LOCATED",
    "OUTSIDE",
    "DailyReport",
    "SensorCalibration",
    "build_report",
    "natural_key",
    "period_reports",
    "trend_means",
    "witness_statement",
    "witnessed_head",
]

FIRM = 0.5
NOT_LOCATED = "(not located)"
OUTSIDE = "(outside the regions)"
Counts = dict[str, dict[str, int]]


@dataclass(frozen=True)
class SensorCalibration:
    """What the run measured of the clocks and surveys of the sensors that reported on the
    day (:mod:`truceline.localize.self_calibration`): how many it could measure, the median
    size of their clock corrections, and the sensors it re-timed or re-surveyed (their
    clock or position was off by more than its uncertainty allows)."""

    run: int
    log_index: int | None  # the run's log entry (it holds the hash of every record)
    measured: int
    corrected: list[dict[str, Any]]  # the records of the flagged sensors
    median_clock_s: float | None

    def as_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "log_index": self.log_index,
            "measured": self.measured,
            "median_abs_clock_offset_s": self.median_clock_s,
            "corrected": self.corrected,
        }


@dataclass
class DailyReport:
    """Everything the report says about one day (the renderers write it in a language)."""

    date: str
    ag: Agreement = field(repr=False)
    tree_head: dict[str, Any] | None
    by_clause: Counts  # clause id -> {"all": n, "verified": n}, every clause
    by_party: Counts  # party id (or "undetermined") -> counts, every party
    by_weapon: Counts  # weapon class -> counts, most first
    by_region: list[dict[str, Any]]  # every region or sector, in natural order
    trend: list[tuple[str, int | None]]  # 30 days before and the day; None: not observed
    coverage: DayCoverage
    incidents: list[dict[str, Any]]  # properties, with "_geometry" and "_place"
    rejected: int = 0  # violations an analyst rejected (not counted)
    calibration: SensorCalibration | None = None  # the sensors' clocks and surveys, as measured
    undetected: list[dict[str, Any]] = field(default_factory=list)  # per sector: the bound
    not_covered: list[str] = field(default_factory=list)  # classes no sector could count
    undetected_rule_alone: int = 0  # sensors that count a firing heard at one point
    observed_share: float = OBSERVED_SHARE
    sector_km: float = 25.0
    regions_given: bool = False
    figures: dict[tuple[str, str], bytes] = field(default_factory=dict, repr=False)

    def figure(self, name: str, lang: str, make: Any) -> bytes:
        """A figure in a language, made once (the HTML, the Markdown and the PDF share it)."""
        if (name, lang) not in self.figures:
            self.figures[(name, lang)] = make()
        return self.figures[(name, lang)]

    @property
    def agreement(self) -> str:
        return self.ag.id

    @property
    def total(self) -> int:
        return sum(c["all"] for c in self.by_party.values())

    @property
    def verified(self) -> int:
        return sum(c["verified"] for c in self.by_party.values())

    @property
    def sensors_reporting(self) -> int:
        return len(self.coverage.reporting)

    def as_json(self) -> dict[str, Any]:
        """The report's figures, language-independent (``report-DATE.json``)."""
        return {
            "date": self.date,
            "agreement": self.agreement,
            "tree_head": self.tree_head,
            "violations": {"all": self.total, "verified": self.verified},
            "rejected": self.rejected,
            "by_clause": self.by_clause,
            "by_party": self.by_party,
            "by_weapon": self.by_weapon,
            "by_region": self.by_region,
            "trend": self.trend,
            "observed_share": self.observed_share,
            "coverage": self.coverage.rows,
            "gaps": self.coverage.gaps,
            "sensor_calibration": None if self.calibration is None else self.calibration.as_json(),
            "undetected": self.undetected,
            "not_covered": self.not_covered,
        }


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


def witness_statement(head: dict[str, Any] | None, lang: Language | None = None) -> str:
    """One sentence on who vouches for the log: its published key and the newest head a
    quorum of witnesses cosigned (or that none has been yet), in ``lang``.

    >>> witness_statement({"log_key": "K", "cosigned": {"tree_size": 9, "root_hash": "ab",
    ...     "cosigners": {"FR": 1, "party-N": 2}}})
    'Log key (as published): K. Newest head cosigned by a quorum of witnesses: tree size 9, root ab, cosigned by FR, party-N.'
    """
    lang = lang or language("en")
    head = head or {}
    key = head.get("log_key") or lang.gettext("not published in the agreement")
    c = head.get("cosigned")
    if not c:
        return lang.gettext(
            "Log key (as published): {key}. No head is cosigned by a quorum of witnesses yet."
        ).format(key=key)
    return lang.gettext(
        "Log key (as published): {key}. Newest head cosigned by a quorum of witnesses: "
        "tree size {size}, root {root}, cosigned by {names}."
    ).format(
        key=key, size=c["tree_size"], root=c["root_hash"], names=", ".join(sorted(c["cosigners"]))
    )


def _day(text: str) -> str:
    return text[:10]


def _violating(props: dict[str, Any]) -> bool:
    return bool(props["violations"]) and props["confidence"] >= FIRM


def natural_key(text: str) -> list[Any]:
    """Sort key that orders numbers inside names as numbers.

    >>> sorted(["sector 10", "sector 2", "sector 1"], key=natural_key)
    ['sector 1', 'sector 2', 'sector 10']
    """
    return [int(p) if p.isdigit() else p.lower() for p in re.split(r"(\d+)", text)]


def _counts(keys: Iterable[str], firm: list[dict[str, Any]], of: Any) -> Counts:
    """``{key: {"all": n, "verified": n}}`` for every key given and every key found."""
    out: Counts = {k: {"all": 0, "verified": 0} for k in keys}
    for p in firm:
        for k in of(p):
            row = out.setdefault(k, {"all": 0, "verified": 0})
            row["all"] += 1
            row["verified"] += p.get("status") == "verified"
    return out


def build_report(
    date: str,
    features: list[dict[str, Any]],
    ag: Agreement,
    tree_head: dict[str, Any] | None,
    acoustic: list[dict[str, Any]],
    regions: list[tuple[str, shapely.Geometry]] | None = None,
    sector_km: float = 25.0,
    known_sensors: dict[str, tuple[float, float]] | None = None,
    observed_days: Collection[str] | None = None,
    observed_share: float = OBSERVED_SHARE,
    calibration: dict[str, Any] | None = None,
    status: list[dict[str, Any]] | None = None,
) -> DailyReport:
    """Everything the report says about ``date`` (YYYY-MM-DD), from a run's incidents (as
    reviewed: ``status`` is the analysts' where they gave one) and the day's acoustic
    detections (for coverage). ``known_sensors`` (id → lon, lat), the sensors seen on earlier
    days, lets a sensor that fell silent for the whole day show; ``observed_days`` are the
    days on which the mechanism received any observation (default: the days of the
    detections and incidents given); ``calibration`` is what the run measured of the
    sensors' clocks and surveys (:meth:`Store.run_calibration`), of which the report shows
    the sensors that reported on the day; ``status`` the sensors' heartbeats (from the day
    before too), which say when a sensor was working."""
    day0 = parse_time(f"{date}T00:00:00Z")
    today = [f for f in features if _day(f["properties"]["time_start"]) == date]
    violating = [f for f in today if _violating(f["properties"])]
    firm = [f for f in violating if f["properties"].get("status") != "rejected"]
    props = [f["properties"] for f in firm]
    weapons = Counter(p.get("weapon", "unknown") for p in props)
    if observed_days is None:
        observed_days = {o["time"][:10] for o in acoustic}
        observed_days |= {_day(f["properties"]["time_start"]) for f in features}
    cov = day_coverage(
        acoustic, ag, day0, sector_km, known_sensors or {}, observed_share, status=status or ()
    )
    places = describe_features(today)
    return DailyReport(
        date=date,
        ag=ag,
        tree_head=tree_head,
        by_clause=_counts([c.id for c in ag.clauses], props, lambda p: p["violations"]),
        by_party=_counts(
            [*ag.party_ids, "undetermined"], props, lambda p: [p["attributed_to"] or "undetermined"]
        ),
        by_weapon=_counts(sorted(weapons, key=lambda w: -weapons[w]), props, _weapon_of),
        by_region=_by_region(firm, ag, regions, sector_km),
        trend=_trend(features, day0, set(observed_days)),
        coverage=cov,
        incidents=[
            f["properties"] | {"_geometry": f.get("geometry"), "_place": place}
            for f, place in zip(today, places, strict=True)
        ],
        rejected=len(violating) - len(firm),
        calibration=_calibration_of(calibration, cov.reporting),
        undetected=_undetected(firm, ag, cov, sector_km),
        not_covered=_not_covered(cov),
        undetected_rule_alone=cov.detectability.rule.alone if cov.detectability else 0,
        observed_share=observed_share,
        sector_km=sector_km,
        regions_given=bool(regions),
    )


#: what the network's sounds cannot count at all: small arms (too quiet to locate beyond a
#: few hundred metres) and the air classes (a drone's or aircraft's launch is nearly silent;
#: their strikes are joined from tracks, :mod:`truceline.tracking`)
NEVER_COVERED = ("small_arms", "drone", "aircraft")


def _undetected(
    firm: list[dict[str, Any]], ag: Agreement, cov: DayCoverage, sector_km: float
) -> list[dict[str, Any]]:
    """Per sector: the firings counted as violations, the probability that a firing of the
    least audible covered class would have been counted, and the 95 % bound on the firings
    missed (:func:`truceline.detectability.bounds_by_sector`)."""
    if cov.detectability is None:
        return []
    fire = [
        f for f in firm
        if f["properties"].get("kind") == "fire" and (f.get("geometry") or {}).get("coordinates")
    ]  # fmt: skip
    lon = [f["geometry"]["coordinates"][0] for f in fire]
    lat = [f["geometry"]["coordinates"][1] for f in fire]
    counted = Counter(int(k) for k in sector_of(ag, lon, lat, sector_km)) if fire else Counter()
    rows = bounds_by_sector(cov.detectability, counted)
    for r in rows:
        r["sector"] = sector_key(r["sector"], sector_km)
    return rows


def _not_covered(cov: DayCoverage) -> list[str]:
    det = cov.detectability
    if det is None:
        return list(NEVER_COVERED)
    return [*NEVER_COVERED, *(c for c in det.classes if c not in det.covered())]


def _calibration_of(
    calibration: dict[str, Any] | None, reporting: Collection[str]
) -> SensorCalibration | None:
    """The run's sensor records for the sensors that reported on the day."""
    if calibration is None:
        return None
    mine = [r for r in calibration["sensors"] if r["sensor"] in reporting]
    return SensorCalibration(
        run=calibration["run"],
        log_index=calibration["log_index"],
        measured=len(mine),
        corrected=sorted((r for r in mine if r["flagged"]), key=lambda r: natural_key(r["sensor"])),
        median_clock_s=float(median(abs(r["clock_offset_s"]) for r in mine)) if mine else None,
    )


def _weapon_of(p: dict[str, Any]) -> list[str]:
    return [p.get("weapon", "unknown")]


def _trend(
    features: list[dict[str, Any]], day0: int, observed: set[str]
) -> list[tuple[str, int | None]]:
    """Violations per day for the 30 days before ``day0`` and that day; None for a day on
    which the mechanism received nothing (not observed, which is not zero)."""
    daily = Counter(
        _day(f["properties"]["time_start"])
        for f in features
        if _violating(f["properties"]) and f["properties"].get("status") != "rejected"
    )
    out: list[tuple[str, int | None]] = []
    for d in range(30, -1, -1):
        key = format_time(day0 - d * DAY_US)[:10]
        out.append((key, int(daily.get(key, 0)) if key in observed else None))
    return out


def trend_means(trend: list[tuple[str, int | None]], days: int) -> tuple[float | None, int]:
    """The mean of the ``days`` days before the last, over those observed, and how many were.

    >>> trend_means([("a", None), ("b", 4), ("c", 2), ("d", 7)], 3)
    (3.0, 2)
    >>> trend_means([("a", None), ("d", 7)], 7)
    (None, 0)
    """
    seen = [c for _, c in trend[-days - 1 : -1] if c is not None]
    return (sum(seen) / len(seen) if seen else None), len(seen)


def _by_region(
    firm: list[dict[str, Any]],
    ag: Agreement,
    regions: list[tuple[str, shapely.Geometry]] | None,
    sector_km: float,
) -> list[dict[str, Any]]:
    """Violations per region of the layer, else per sector of the line: every region or
    sector (with its zeros), in natural order, then those not located or outside."""
    located = [f for f in firm if (f.get("geometry") or {}).get("coordinates")]
    lon = [f["geometry"]["coordinates"][0] for f in located]
    lat = [f["geometry"]["coordinates"][1] for f in located]
    if regions:
        names = sorted({n for n, _ in regions}, key=natural_key)
        where = []
        for lo, la in zip(lon, lat, strict=True):
            hit = next((n for n, g in regions if shapely.contains_xy(g, lo, la)), OUTSIDE)
            where.append(hit)
    else:
        n = n_sectors_of(ag.line_local, sector_km)
        names = [sector_key(k, sector_km) for k in range(n)]
        where = [sector_key(int(k), sector_km) for k in sector_of(ag, lon, lat, sector_km)]
    rows: dict[str, dict[str, Any]] = {n: {"region": n, "all": 0, "verified": 0} for n in names}
    extra: dict[str, dict[str, Any]] = {
        k: {"region": k, "all": 0, "verified": 0} for k in (NOT_LOCATED, OUTSIDE)
    }
    placed = {id(f) for f in located}
    pairs = [*zip(located, where, strict=True)]
    pairs += [(f, NOT_LOCATED) for f in firm if id(f) not in placed]
    for f, name in pairs:
        row = rows.get(name) or extra[name]
        row["all"] += 1
        row["verified"] += f["properties"].get("status") == "verified"
    return [*rows.values(), *(r for r in extra.values() if r["all"])]


KNOWN_DAYS = 7  # a sensor heard from within this many days before a report's day is known


def period_reports(
    days: list[str],
    features: list[dict[str, Any]],
    ag: Agreement,
    tree_head: dict[str, Any] | None,
    acoustic: Iterable[dict[str, Any]],
    regions: list[tuple[str, shapely.Geometry]] | None = None,
    observed_days: Collection[str] | None = None,
    observed_share: float = OBSERVED_SHARE,
    calibration: dict[str, Any] | None = None,
    status: Iterable[dict[str, Any]] = (),
) -> Iterator[DailyReport]:
    """The report of each day of a period, in order, from one read of the store: its
    incidents, and the acoustic detections of the period and of the ``KNOWN_DAYS`` before
    it (the sensors known to exist, so that one silent all day is reported)."""
    by_day: dict[str, list[dict[str, Any]]] = {d: [] for d in days}
    beats: dict[str, list[dict[str, Any]]] = {d: [] for d in days}
    for b in status:  # a heartbeat counts on its day and the next (it holds past midnight)
        t = parse_time(b["time"])
        for day in {format_time(t)[:10], format_time(t + DAY_US)[:10]}:
            if day in beats:
                beats[day].append(b)
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
        yield build_report(
            d,
            features,
            ag,
            tree_head,
            by_day[d],
            regions,
            known_sensors=known,
            observed_days=observed_days,
            observed_share=observed_share,
            calibration=calibration,
            status=beats[d],
        )
        previous = d


def _seen(last_seen: dict[str, tuple[int, tuple[float, float]]], record: dict[str, Any]) -> None:
    """Keep each sensor's latest detection time and position."""
    t = parse_time(record["time"])
    if t > last_seen.get(record["sensor"], (-1, (0.0, 0.0)))[0]:
        last_seen[record["sensor"]] = (t, (record["position"][0], record["position"][1]))
