"""ACLED CSV (the 31 columns of the codebook since March 2023, or older exports with
``data_id``, ``iso3`` and numeric actor codes) into ``event_report`` observations (source
and dataset ``acled``; the id is ACLED's ``event_id_cnty``).

ACLED codes how precisely it knows where and when (ACLED codebook):

===================  ========================================================  =========
``geo_precision``    the event is known to be                                  radius_km
===================  ========================================================  =========
1                    in the named town (coordinates of the town or district)   5
2                    near the town, or in a small part of a region             25
3                    in a larger region (its capital or a natural location)    100
===================  ========================================================  =========

``time_precision`` 1 is the day itself; 2 a week or weekend, coded to its middle (the
window is the date ± 3 days); 3 only the month, coded to its middle (the window is that
calendar month). ``event_type`` is ACLED's ``event_type: sub_event_type``; a shelling,
grenade or remote explosive is an ``explosion`` and an armed clash a ``shot`` of the patrol
vocabulary, and an air or drone strike is left to ``event_type`` (ACLED does not say which).
``actor1`` and ``actor2`` are the ``actors``, ``notes`` the ``description``; every other
column is kept, ACLED's ``source`` as ``acled_source``.

>>> AcledCsv.accepts(["event_id_cnty", "event_date", "latitude", "longitude",
...     "geo_precision", "time_precision", "event_type"])
True
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..observations import ObservationBatch
from ._csv import day_end, day_start, read_csv, utc_day
from .base import Source

__all__ = ["RADIUS_KM", "AcledCsv"]

REQUIRED = (
    "event_id_cnty",
    "event_date",
    "latitude",
    "longitude",
    "geo_precision",
    "time_precision",
    "event_type",
)
RADIUS_KM = {1: 5.0, 2: 25.0, 3: 100.0}
#: ACLED sub-event types that are a patrol-vocabulary event
EVENTS = {
    "shelling/artillery/missile attack": "explosion",
    "remote explosive/landmine/ied": "explosion",
    "grenade": "explosion",
    "armed clash": "shot",
}
_DATES = ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%d %b %Y", "%d-%b-%Y")
_MAPPED = {"event_id_cnty", "latitude", "longitude", "actor1", "actor2", "notes", "fatalities"}
_RESERVED = {"id", "type", "time", "time_end", "position", "signature", "note"}


def _code(row: dict[str, str], column: str, file: str, line: int) -> int:
    text = row[column].strip()
    if text not in ("1", "2", "3"):
        raise InputError(file, line, column, f"{text!r} is not one of 1, 2, 3")
    return int(text)


def _window(day: datetime, precision: int) -> tuple[datetime, datetime]:
    """First and last day of the time window of an event dated ``day``."""
    if precision == 1:
        return day, day
    if precision == 2:
        return day - timedelta(days=3), day + timedelta(days=3)
    last = calendar.monthrange(day.year, day.month)[1]
    return datetime(day.year, day.month, 1, tzinfo=UTC), datetime(
        day.year, day.month, last, tzinfo=UTC
    )


def acled_record(row: dict[str, str], file: str, line: int) -> dict[str, Any]:
    """One ACLED row as an ``event_report`` record (before validation)."""
    geo = _code(row, "geo_precision", file, line)
    when = _code(row, "time_precision", file, line)
    try:
        day = utc_day(row["event_date"], _DATES)
    except ValueError as exc:
        raise InputError(file, line, "event_date", str(exc)) from None
    first, last = _window(day, when)
    try:
        position = [float(row["longitude"]), float(row["latitude"])]
    except ValueError:
        raise InputError(file, line, "latitude", "latitude and longitude must be numbers") from None
    ident = row["event_id_cnty"].strip()
    sub = row.get("sub_event_type", "").strip()
    record: dict[str, Any] = {
        "id": ident,
        "type": "event_report",
        "source": "acled",
        "time": day_start(first),
        "dataset": "acled",
        "dataset_id": ident,
        "position": position,
        "radius_km": RADIUS_KM[geo],
        "time_window": [day_start(first), day_end(last)],
        "event_type": f"{row['event_type'].strip()}: {sub}" if sub else row["event_type"].strip(),
    }
    if sub.lower() in EVENTS:
        record["event"] = EVENTS[sub.lower()]
    actors = [row.get(c, "").strip() for c in ("actor1", "actor2")]
    if any(actors):
        record["actors"] = [a for a in actors if a]
    fatalities = row.get("fatalities", "").strip()
    if fatalities:
        if not fatalities.isdigit():
            raise InputError(file, line, "fatalities", f"{fatalities!r} is not a whole number")
        record["fatalities"] = int(fatalities)
    if row.get("notes", "").strip():
        record["description"] = row["notes"].strip()
    for column, value in row.items():
        if column not in _MAPPED and column not in record and value.strip():
            record[f"acled_{column}" if column in _RESERVED else column] = value.strip()
    if "source" in row and row["source"].strip():
        record["acled_source"] = row["source"].strip()
    return record


class AcledCsv(Source):
    """ACLED CSV export (current or older column sets)."""

    @staticmethod
    def accepts(header: Sequence[str]) -> bool:
        names = {h.strip().lower() for h in header}
        return all(c in names for c in REQUIRED)

    def read(self, path: Path) -> ObservationBatch:
        return read_csv(path, REQUIRED, "ACLED", acled_record)
