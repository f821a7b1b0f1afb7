"""RFC 3339 times as exact integer microseconds since the Unix epoch (UTC).

Integers keep microsecond precision exactly through any round trip; floats of seconds are
made only inside the numerical core, relative to a nearby reference time.

>>> us = parse_time("2026-03-01T12:00:00.250+01:00")
>>> format_time(us)
'2026-03-01T11:00:00.250000Z'
>>> format_time(parse_time("2026-03-01T12:00:00Z"))
'2026-03-01T12:00:00Z'
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

__all__ = ["EPOCH", "format_time", "parse_time"]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_time(text: str) -> int:
    """Parse an RFC 3339 timestamp with a mandatory offset into microseconds since the epoch.

    Digits past the sixth fractional digit must be zero (no precision is silently lost).
    Raises ``ValueError`` with a readable message otherwise (also for a time that falls
    outside the years 1-9999 once converted to UTC, and for a trailing newline).

    >>> parse_time("0001-01-01T00:00:00+01:00")
    Traceback (most recent call last):
    ValueError: '0001-01-01T00:00:00+01:00' is outside the years 1-9999 in UTC
    >>> parse_time("2026-03-01T12:00:00Z\\n")
    Traceback (most recent call last):
    ValueError: '2026-03-01T12:00:00Z\\n' is not an RFC 3339 time with an offset
    """
    if not isinstance(text, str):
        raise ValueError(f"expected an RFC 3339 string, got {type(text).__name__}")
    m = _RFC3339.fullmatch(text)  # fullmatch: "$" would also match before a final newline
    if not m:
        raise ValueError(f"{text!r} is not an RFC 3339 time with an offset")
    year, month, day, hh, mm, ss = (int(g) for g in m.groups()[:6])
    frac = m.group(7) or ""
    digits = frac[1:]
    if len(digits) > 6 and int(digits[6:]) != 0:
        raise ValueError(f"{text!r} has sub-microsecond precision")
    micro = int((digits + "000000")[:6]) if digits else 0
    offset = m.group(8)
    try:
        if ss == 60:
            raise ValueError("leap seconds are not supported")
        dt = datetime(year, month, day, hh, mm, ss, micro, tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"{text!r}: {exc}") from None
    if offset not in ("Z", "z"):
        sign = 1 if offset[0] == "+" else -1
        oh, om = int(offset[1:3]), int(offset[4:6])
        if oh > 23 or om > 59:
            raise ValueError(f"{text!r} has an invalid offset")
        try:
            dt -= sign * timedelta(hours=oh, minutes=om)
        except OverflowError:
            raise ValueError(f"{text!r} is outside the years 1-9999 in UTC") from None
    delta = dt - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def format_time(us: int) -> str:
    """Format microseconds since the epoch as RFC 3339 UTC (``Z``), microseconds if non-zero;
    the year always in four digits (``strftime``'s ``%Y`` writes the year 1 as ``1``).

    >>> format_time(parse_time("0001-01-01T12:00:00Z")), format_time(1_500_000)
    ('0001-01-01T12:00:00Z', '1970-01-01T00:00:01.500000Z')
    """
    dt = EPOCH + timedelta(microseconds=int(us))
    fraction = f".{dt.microsecond:06d}" if dt.microsecond else ""
    return f"{dt.year:04d}-{dt:%m-%dT%H:%M:%S}{fraction}Z"
