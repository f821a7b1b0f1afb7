"""NASA FIRMS active-fire CSV, as FIRMS publishes it (VIIRS or MODIS columns) or reduced to
``LATITUDE,LONGITUDE,ACQ_DATE``.

Each row becomes a ``thermal`` observation of source ``firms``. Its id is built from what
identifies a detection (date, time, satellite, position), so re-ingesting an overlapping
download is a no-op. A row with no ``acq_time`` covers its whole UTC day (``time`` to
``time_end``). Columns the format does not name (``bright_ti4``, ``version``, ``daynight``,
...) are kept as extra fields.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from .._time import format_time, parse_time
from ..errors import InputError, InputErrors
from ..observations import MAX_ERRORS, Observation, ObservationBatch, merge, parse_record
from .base import Source

__all__ = ["FirmsCsv"]

_DAY_US = 86_400_000_000
_REQUIRED = ("latitude", "longitude", "acq_date")
_RESERVED = {"id", "type", "source", "time", "time_end", "signature", "note", "position"}
_NUMERIC = {"frp": "frp_mw", "scan": "scan_km", "track": "track_km"}


def _number(value: str, column: str, file: str, line: int) -> float:
    try:
        return float(value)
    except ValueError:
        raise InputError(file, line, column, f"{value!r} is not a number") from None


class FirmsCsv(Source):
    """FIRMS CSV (MODIS C6.1, VIIRS 375 m, or the 3-column reduced form)."""

    def __init__(self, source: str = "firms") -> None:
        self.source = source

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
        missing = [c for c in _REQUIRED if c not in header]
        if missing:
            raise InputError(file, 1, missing[0], "column missing from the FIRMS header")
        return merge([self._rows(reader, header, file)])

    def _rows(self, reader: Any, header: list[str], file: str) -> list[Observation]:
        """Every data row validated; all the errors (up to MAX_ERRORS) raised together."""
        errors: list[InputError] = []
        rows: list[Observation] = []
        for values in reader:
            line = reader.line_num
            if not values or all(not v.strip() for v in values):
                continue
            try:
                if len(values) != len(header):
                    raise InputError(
                        file, line, None, f"{len(values)} columns, the header has {len(header)}"
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
        try:
            if hhmm:
                if not hhmm.isdigit() or len(hhmm) > 4:
                    raise InputError(file, line, "acq_time", f"{hhmm!r} is not HHMM")
                hhmm = hhmm.zfill(4)
                start = parse_time(f"{date}T{hhmm[:2]}:{hhmm[2:]}:00Z")
                end = None
            else:
                start = parse_time(f"{date}T00:00:00Z")
                end = start + _DAY_US - 1
        except ValueError as exc:
            raise InputError(file, line, "acq_date", str(exc)) from None
        sat = row.get("satellite", "").strip()
        ident = f"{date}T{hhmm or '----'}_{sat or 'x'}_{lat:.5f}_{lon:.5f}"
        record: dict[str, Any] = {
            "id": ident,
            "type": "thermal",
            "source": self.source,
            "time": format_time(start),
            "position": [lon, lat],
        }
        if end is not None:
            record["time_end"] = format_time(end)
        for column, name in _NUMERIC.items():
            if row.get(column, "").strip():
                record[name] = _number(row[column], column, file, line)
        conf = row.get("confidence", "").strip()
        if conf:
            record["confidence"] = (
                conf if conf.isalpha() else _number(conf, "confidence", file, line)
            )
        if sat:
            record["satellite"] = sat
        if row.get("instrument", "").strip():
            record["instrument"] = row["instrument"].strip()
        known = {*_REQUIRED, "acq_time", "satellite", "instrument", "confidence", *_NUMERIC}
        for column, value in row.items():
            if column not in known and value.strip():
                # FIRMS columns that collide with our own names (MODIS ``type``) get a prefix
                name = f"firms_{column}" if column in record or column in _RESERVED else column
                record[name] = value.strip()
        return parse_record(record, file, line)
