from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from truceline._time import format_time, parse_time


def test_offsets_are_normalised_to_utc() -> None:
    assert parse_time("2026-03-01T12:00:00+02:00") == parse_time("2026-03-01T10:00:00Z")
    assert parse_time("2026-03-01T12:00:00-00:30") == parse_time("2026-03-01T12:30:00Z")


def test_microseconds_survive() -> None:
    us = parse_time("2026-03-01T12:00:00.123456Z")
    assert us % 1_000_000 == 123_456
    assert format_time(us) == "2026-03-01T12:00:00.123456Z"
    assert parse_time("2026-03-01T12:00:00.250Z") % 1_000_000 == 250_000


@pytest.mark.parametrize(
    "bad",
    [
        "2026-03-01T12:00:00",  # no offset
        "2026-03-01",
        "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z",
        "yesterday",
        "2026-03-01T12:00:00.1234567Z",  # below a microsecond
        "2026-03-01T25:00:00Z",
    ],
)
def test_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_time(bad)


@given(st.integers(min_value=0, max_value=4_000_000_000_000_000))
def test_round_trip(us: int) -> None:
    assert parse_time(format_time(us)) == us
