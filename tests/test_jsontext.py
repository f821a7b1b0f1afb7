"""The JSON decoder's limits, fuzzed (issue 14, hole 9): whatever text or value comes in,
reading observations either gives a batch every entry of which the evidence log can hold
exactly, or an InputError naming the line; never another exception."""

from __future__ import annotations

import contextlib
import json
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.errors import InputError
from truceline.evidence import canonical
from truceline.jsontext import MAX_DEPTH, MAX_INT, decode_json, json_problem
from truceline.observations import parse_lines, parse_objects

BASE = {
    "id": "t1",
    "type": "thermal",
    "source": "s",
    "time": "2026-03-01T12:00:00Z",
    "position": [36.0, 48.0],
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([2**53 - 1, 2**53, -(2**53), 2**64, 2**70]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec=None), max_size=8),  # lone surrogates included
    st.sampled_from(["\ud800", "a\udfffb", "\u2028", "\x00", "0001-01-01T00:00:00+01:00"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=12,
)


def _deep(n: int) -> Any:
    v: Any = 1
    for _ in range(n):
        v = [v]
    return v


def _check(batch: Any) -> None:
    for o in batch.observations:
        canonical(json.loads(o.body))  # the log can hold every accepted body exactly


@settings(max_examples=300, deadline=None)
@given(
    field=st.sampled_from(["position", "frp_mw", "note", "id", "time", "extra", "source"]),
    value=values,
)
def test_any_value_in_any_field_is_accepted_exactly_or_refused_as_input(
    field: str, value: Any
) -> None:
    try:
        _check(parse_objects([{**BASE, field: value}], "fuzz"))
    except InputError as exc:
        assert exc.line == 1 and str(exc).startswith("fuzz:1")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_read_or_refused_as_input(text: str) -> None:
    with contextlib.suppress(InputError):
        _check(parse_lines(text.split("\n"), "fuzz"))


@settings(max_examples=100, deadline=None)
@given(depth=st.integers(min_value=0, max_value=3000), where=st.sampled_from(["extra", "more"]))
def test_nesting_is_refused_past_the_limit(depth: int, where: str) -> None:
    line = json.dumps({**BASE, where: _deep(depth)}) if depth < 900 else None
    text = line or json.dumps(BASE)[:-1] + f', "{where}": ' + "[" * depth + "]" * depth + "}"
    try:
        _check(parse_lines([text], "fuzz"))
        assert depth < MAX_DEPTH
    except InputError as exc:
        assert depth >= MAX_DEPTH - 1, str(exc)


def test_the_limits_themselves() -> None:
    assert json_problem({"n": MAX_INT}) is None and json_problem({"n": -MAX_INT}) is None
    assert json_problem({"n": MAX_INT + 1}) is not None
    assert json_problem({"x": math.nan}) == ("x", "not a finite number")
    assert decode_json('{"a": Infinity}')["a"] == math.inf  # decoded, then refused by field
    for text in ('{"a": 1e400}', '{"a": NaN}', '{"a": -Infinity}', '{"a": 18446744073709551616}'):
        assert json_problem(decode_json(text))[0] == "a"  # type: ignore[index]
