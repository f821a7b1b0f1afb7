"""NASA FIRMS active-fire CSV, as FIRMS publishes it.

Every product's columns are read (the header decides, in any order and either case):

========================================  ==============================================
product                                   columns
========================================  ==============================================
MODIS C6.1 near-real-time (MCD14DL)       latitude, longitude, brightness, scan, track,
                                          acq_date, acq_time, satellite, instrument,
                                          confidence, version, bright_t31, frp, daynight
MODIS C6.1 archive (MCD14ML)              the same + ``type``
VIIRS 375 m S-NPP / NOAA-20 / NOAA-21     latitude, longitude, bright_ti4, scan, track,
near-real-time                            acq_date, acq_time, satellite, instrument,
                                          confidence, version, bright_ti5, frp, daynight
VIIRS 375 m archive (standard processing) the same + ``type``
country files and the country API         ``country_id`` first, then the columns above
reduced extracts researchers pass around  LATITUDE, LONGITUDE, ACQ_DATE
========================================  ==============================================

Each row becomes a ``thermal`` observation of source ``firms``. Its id is the detection's
full identity: the date, the time (``----`` where the file has none), the satellite and the
instrument (``x`` where absent), the position **as published**, normalised (trailing
zeros dropped: ``48.10`` and ``48.1`` are one position), and the product version where the
file gives one (a near-real-time row and its archive row are two observations). So re-ingesting an overlapping
download is a no-op, and two rows that differ in any of these are two observations. A row
with no ``acq_time`` covers its whole UTC day (``time`` to ``time_end``).

``satellite`` is normalised (``Terra``, ``Aqua``; ``N`` for S-NPP, ``N20`` for NOAA-20,
which archive files write ``1``, ``N21`` for NOAA-21, written ``2``), the published value
kept as ``firms_satellite`` where it differs; a missing ``instrument`` follows from the
satellite. Columns the format does not name (``bright_ti4``, ``version``, ``daynight``,
...) are kept as extra fields; FIRMS' ``type`` becomes ``firms_type``.

The same detection published twice, and near-real-time rows superseded by their archive
rows, are reconciled by :mod:`truceline.sources.detections`.

>>> FirmsCsv.accepts(["LATITUDE", "LONGITUDE", "ACQ_DATE"])
True
>>> satellite_and_instrument("1", "")
('N20', 'VIIRS')
>>> position_text(48.120)
'48.12'
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._time import format_time, parse_time
from ..errors import InputError, InputErrors
from ..observations import MAX_ERRORS, Observation, ObservationBatch, merge, parse_record
from .base import Source
from .detections import position_text, reconcile

__all__ = ["FirmsCsv", "position_text", "satellite_and_instrument"]

_DAY_US = 86_400_000_000
REQUIRED = ("latitude", "longitude", "acq_date")
_RESERVED = {"id", "type", "source", "time", "time_end", "signature", "note", "position"}
_NUMERIC = {"frp": "frp_mw", "scan": "scan_km", "track": "track_km"}
_KNOWN = {*REQUIRED, "acq_time", "satellite", "instrument", "confidence", *_NUMERIC}

#: published satellite spellings -> (normalised satellite, instrument)
SATELLITES: dict[str, tuple[str, str]] = {
    "terra": ("Terra", "MODIS"),
    "t": ("Terra", "MODIS"),
    "aqua": ("Aqua", "MODIS"),
    "a": ("Aqua", "MODIS"),
    "n": ("N", "VIIRS"),
    "npp": ("N", "VIIRS"),
    "snpp": ("N", "VIIRS"),
    "s-npp": ("N", "VIIRS"),
    "suomi npp": ("N", "VIIRS"),
    "suomi-npp": ("N", "VIIRS"),
    "1": ("N20", "VIIRS"),
    "n20": ("N20", "VIIRS"),
    "noaa-20": ("N20", "VIIRS"),
    "noaa20": ("N20", "VIIRS"),
    "noaa 20": ("N20", "VIIRS"),
    "j1": ("N20", "VIIRS"),
    "2": ("N21", "VIIRS"),
    "n21": ("N21", "VIIRS"),
    "noaa-21": ("N21", "VIIRS"),
    "noaa21": ("N21", "VIIRS"),
    "noaa 21": ("N21", "VIIRS"),
    "j2": ("N21", "VIIRS"),
}


def satellite_and_instrument(satellite: str, instrument: str) -> tuple[str, str]:
    """The normalised satellite and the instrument (from the satellite where not given);
    an unknown satellite is kept as published."""
    known = SATELLITES.get(satellite.strip().lower())
    if known is None:
        return satellite.strip(), instrument.strip()
    return known[0], instrument.strip() or known[1]


def _times(date: str, hhmm: str, file: str, line: int) -> tuple[str, str | None]:
    """``time`` and ``time_end`` (RFC 3339) of a row: its minute, or its whole UTC day."""
    try:
        if hhmm:
            return format_time(parse_time(f"{date}T{hhmm[:2]}:{hhmm[2:]}:00Z")), None
        start = parse_time(f"{date}T00:00:00Z")
    except ValueError as exc:
        raise InputError(file, line, "acq_date", str(exc)) from None
    return format_time(start), format_time(start + _DAY_US - 1)


def _number(value: str, column: str, file: str, line: int) -> float:
    try:
        return float(value)
    except ValueError:
        raise InputError(file, line, column, f"{value!r} is not a number") from None


class FirmsCsv(Source):
    """FIRMS CSV: MODIS C6.1, VIIRS 375 m (S-NPP, NOAA-20, NOAA-21), archive or
    near-real-time, country files, or the 3-column reduced form."""

    def __init__(self, source: str = "firms") -> None:
        self.source = source
        self._times: dict[tuple[str, str], tuple[str, str | None]] = {}

    @staticmethod
    def accepts(header: Sequence[str]) -> bool:
        """Is this a FIRMS header (it names latitude, longitude and acq_date)?"""
        names = {h.strip().lower() for h in header}
        return all(c in names for c in REQUIRED)

    def read(self, path: Path) -> ObservationBatch:
        file = str(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            line = path.read_bytes()[: exc.start].count(b"\n") + 1
            raise InputError(file, line, None, f"not UTF-8 text ({exc.reason})") from None
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = [h.strip().lower() for h in next(reader)]
        except StopIteration:
            raise InputError(file, 1, None, "empty file: expected a FIRMS header") from None
        missing = [c for c in REQUIRED if c not in header]
        if missing:
            raise InputError(file, 1, missing[0], "column missing from the FIRMS header")
        batch = merge([self._rows(reader, header, file)])
        return reconcile(batch)

    def _rows(self, reader: Any, header: list[str], file: str) -> list[Observation]:
        """Every data row validated; all the errors (up to MAX_ERRORS) raised together."""
        errors: list[InputError] = []
        rows: list[Observation] = []
        width = len(header)
        for values in reader:
            line = reader.line_num
            if not values or all(not v.strip() for v in values):
                continue
            try:
                if len(values) != width:
                    raise InputError(
                        file, line, None, f"{len(values)} columns, the header has {width}"
                    )
                rows.append(self._row(dict(zip(header, values, strict=True)), file, line))
            except InputError as exc:
                errors.append(exc)
                if len(errors) >= MAX_ERRORS:
                    break
        if errors:
            raise InputErrors(errors)
        return rows

    def _row(self, row: dict[str, str], file: str, line: int) -> Observation:
        lat = _number(row["latitude"], "latitude", file, line)
        lon = _number(row["longitude"], "longitude", file, line)
        date = row["acq_date"].strip()
        hhmm = row.get("acq_time", "").strip()
        if hhmm:
            if not hhmm.isdigit() or len(hhmm) > 4:
                raise InputError(file, line, "acq_time", f"{hhmm!r} is not HHMM")
            hhmm = hhmm.zfill(4)
        times = self._times.get((date, hhmm))
        if times is None:
            times = self._times[(date, hhmm)] = _times(date, hhmm, file, line)
        start, end = times
        published_sat = row.get("satellite", "").strip()
        sat, instrument = satellite_and_instrument(published_sat, row.get("instrument", ""))
        version = row.get("version", "").strip()
        ident = (
            f"{date}T{hhmm or '----'}_{sat or 'x'}_{instrument or 'x'}"
            f"_{position_text(lat)}_{position_text(lon)}{'_' + version if version else ''}"
        )
        record: dict[str, Any] = {
            "id": ident,
            "type": "thermal",
            "source": self.source,
            "time": start,
            "position": [lon, lat],
        }
        if end is not None:
            record["time_end"] = end
        for column, name in _NUMERIC.items():
            if row.get(column, "").strip():
                record[name] = _number(row[column], column, file, line)
        conf = row.get("confidence", "").strip()
        if conf:
            record["confidence"] = (
                conf.lower() if conf.isalpha() else _number(conf, "confidence", file, line)
            )
        if sat:
            record["satellite"] = sat
            if sat != published_sat:
                record["firms_satellite"] = published_sat
        if instrument:
            record["instrument"] = instrument
        for column, value in row.items():
            if column not in _KNOWN and value.strip():
                # FIRMS columns that collide with our own names (``type``) get a prefix
                name = f"firms_{column}" if column in record or column in _RESERVED else column
                record[name] = value.strip()
        return parse_record(record, file, line)
