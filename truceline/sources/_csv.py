"""Reading a CSV of an event dataset: the header checked, each row as a dict with its line
number, every bad row collected (up to ``MAX_ERRORS``) and raised together."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .._time import format_time
from ..errors import InputError, InputErrors
from ..observations import MAX_ERRORS, Observation, ObservationBatch, merge, parse_record

__all__ = ["DAY", "csv_header", "day_end", "day_start", "read_csv", "rows_of", "utc_day"]

DAY = timedelta(days=1)


def csv_header(path: Path) -> list[str]:
    """The first row of a CSV file, lower-cased and stripped (empty for an empty file)."""
    with path.open("rb") as fh:
        line = fh.readline()
    try:
        text = line.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(str(path), 1, None, f"not UTF-8 text ({exc.reason})") from None
    first = next(csv.reader([text]), [])
    return [h.strip().lower() for h in first]


def rows_of(
    path: Path, required: tuple[str, ...], what: str
) -> Iterator[tuple[int, dict[str, str]]]:
    """``(line, row)`` for every non-blank data row; the header must name ``required``."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[: exc.start].count(b"\n") + 1
        raise InputError(file, line, None, f"not UTF-8 text ({exc.reason})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(file, 1, missing[0], f"column missing from the {what} header")
    start = reader.line_num
    for values in reader:
        line = start + 1
        start = reader.line_num
        if not values or all(not v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield line, {"": f"{len(values)} columns, the header has {len(header)}"}
            continue
        yield line, dict(zip(header, values, strict=True))


def read_csv(
    path: Path,
    required: tuple[str, ...],
    what: str,
    record: Callable[[dict[str, str], str, int], dict[str, Any]],
) -> ObservationBatch:
    """Every row through ``record`` (which raises :class:`InputError` naming the field) and
    validated as an observation; all-or-nothing."""
    file = str(path)
    errors: list[InputError] = []
    rows: list[Observation] = []
    for line, row in rows_of(path, required, what):
        try:
            if "" in row and len(row) == 1:
                raise InputError(file, line, None, row[""])
            rows.append(parse_record(record(row, file, line), file, line))
        except InputError as exc:
            errors.append(exc)
            if len(errors) >= MAX_ERRORS:
                break
    if errors:
        raise InputErrors(errors)
    return merge([rows])


def utc_day(text: str, formats: tuple[str, ...]) -> datetime:
    """The UTC midnight of a date written in one of ``formats`` (``strptime`` codes)."""
    value = text.strip()
    for fmt in formats:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)
    raise ValueError(f"{value!r} is not a date ({' or '.join(formats)})")


def day_start(day: datetime) -> str:
    """RFC 3339 of a UTC datetime."""
    return format_time(int(day.timestamp()) * 1_000_000)


def day_end(day: datetime) -> str:
    """RFC 3339 of the last microsecond of a UTC day."""
    return format_time(int((day + DAY).timestamp()) * 1_000_000 - 1)
