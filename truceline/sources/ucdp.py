"""UCDP Georeferenced Event Dataset (GED) CSV, as UCDP publishes it, into ``event_report``
observations (source and dataset ``ucdp_ged``; the id is GED's own ``id``).

GED codes how precisely it knows where and when (codebook, Högbladh 2019-2023):

=============  =====================================================  ================
``where_prec``  the event is known to be                               ``radius_km``
=============  =====================================================  ================
1               at the named place (village, town, site)               5
2               within about 25 km of the named place ("near X")       25
3               somewhere in the second-order division (raion)         35
4               somewhere in the first-order division (oblast)         100
5               in a larger area (between places, a region, a road)    150
6               somewhere in the country                               700
7               at sea or in international airspace                    50
=============  =====================================================  ================

The radius is read as the circle holding the event with 95 % probability (a raion of
Ukraine is 1,000-4,000 km², an equal-area radius of 18-36 km; an oblast 26,000-33,000 km²,
about 92-102 km; a named city spans up to 10-15 km, so even code 1 is not a shell crater).
``date_prec`` 1-5 (the day; 2-6 days; a week; a month; a year) is already written out by
GED as ``date_start`` .. ``date_end``: the time window is those days, whole (UTC).

``type_of_violence`` names the kind of event (``event_type``: state-based armed conflict,
non-state conflict, one-sided violence); GED says nothing of weapons, so ``event`` is not
set. ``side_a`` and ``side_b`` are the ``actors``, ``best`` the ``fatalities`` and
``where_description`` the ``description``; every other column is kept under its own name.
GED records only events with at least one death: it is not a list of every firing.

>>> UcdpGedCsv.accepts(["id", "latitude", "longitude", "where_prec", "date_prec",
...     "date_start", "date_end", "type_of_violence"])
True
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..observations import ObservationBatch
from ._csv import day_end, day_start, read_csv, utc_day
from .base import Source

__all__ = ["RADIUS_KM", "UcdpGedCsv"]

REQUIRED = (
    "id",
    "latitude",
    "longitude",
    "where_prec",
    "date_prec",
    "date_start",
    "date_end",
    "type_of_violence",
)
RADIUS_KM = {1: 5.0, 2: 25.0, 3: 35.0, 4: 100.0, 5: 150.0, 6: 700.0, 7: 50.0}
VIOLENCE = {1: "state-based armed conflict", 2: "non-state conflict", 3: "one-sided violence"}
_MAPPED = {"id", "latitude", "longitude", "geom_wkt", "side_a", "side_b", "best"}
_RESERVED = {"type", "source", "time", "time_end", "position", "signature", "note"}
_DATES = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y",
)


def _code(row: dict[str, str], column: str, allowed: Sequence[int], file: str, line: int) -> int:
    text = row[column].strip()
    try:
        value = int(float(text))
    except ValueError:
        raise InputError(file, line, column, f"{text!r} is not a number") from None
    if value not in allowed:
        raise InputError(
            file, line, column, f"{value} is not one of {', '.join(map(str, allowed))}"
        )
    return value


def _day(row: dict[str, str], column: str, file: str, line: int) -> datetime:
    iso = row.get(f"{column}_iso", "").strip()  # written by some re-publishers
    try:
        return utc_day(iso or row[column], _DATES)
    except ValueError as exc:
        raise InputError(file, line, column, str(exc)) from None


def _float(row: dict[str, str], column: str, file: str, line: int) -> float:
    try:
        return float(row[column])
    except ValueError:
        raise InputError(file, line, column, f"{row[column]!r} is not a number") from None


def ged_record(row: dict[str, str], file: str, line: int) -> dict[str, Any]:
    """One GED row as an ``event_report`` record (before validation)."""
    where = _code(row, "where_prec", tuple(RADIUS_KM), file, line)
    _code(row, "date_prec", (1, 2, 3, 4, 5), file, line)
    violence = _code(row, "type_of_violence", tuple(VIOLENCE), file, line)
    first, last = _day(row, "date_start", file, line), _day(row, "date_end", file, line)
    if last < first:
        raise InputError(file, line, "date_end", "is before date_start")
    ident = row["id"].strip()
    record: dict[str, Any] = {
        "id": ident,
        "type": "event_report",
        "source": "ucdp_ged",
        "time": day_start(first),
        "dataset": "ucdp_ged",
        "dataset_id": ident,
        "position": [_float(row, "longitude", file, line), _float(row, "latitude", file, line)],
        "radius_km": RADIUS_KM[where],
        "time_window": [day_start(first), day_end(last)],
        "event_type": VIOLENCE[violence],
    }
    actors = [row.get(c, "").strip() for c in ("side_a", "side_b")]
    if any(actors):
        record["actors"] = [a for a in actors if a]
    best = row.get("best", "").strip()
    if best:
        try:
            record["fatalities"] = int(float(best))
        except ValueError:
            raise InputError(file, line, "best", f"{best!r} is not a number") from None
    desc = row.get("where_description", "").strip()
    if desc:
        record["description"] = desc
    for column, value in row.items():
        if column not in _MAPPED and column not in record and value.strip():
            record[f"ged_{column}" if column in _RESERVED else column] = value.strip()
    return record


class UcdpGedCsv(Source):
    """UCDP GED CSV (any GED version's columns; ``*_iso`` date columns used where present)."""

    @staticmethod
    def accepts(header: Sequence[str]) -> bool:
        names = {h.strip().lower() for h in header}
        return all(c in names for c in REQUIRED)

    def read(self, path: Path) -> ObservationBatch:
        return read_csv(path, REQUIRED, "UCDP GED", ged_record)
