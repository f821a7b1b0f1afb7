"""JSON as the evidence log can hold it exactly: strict decoding, and the check of a decoded
value's numbers, strings and nesting (RFC 8785 canonical JSON, which every log entry is,
holds only finite numbers, integers within ±(2⁵³ − 1) and Unicode text).

What a reader refuses here is bad input (a 4xx, exit 2), named by field, never an internal
error: ``NaN``, ``Infinity``, ``1e400``, 2⁶⁴, a lone surrogate ``"\\ud800"``, nesting 500 deep.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_INT",
    "canonical_text",
    "decode_json",
    "json_problem",
    "split_lines",
    "suspect",
]

#: how deep objects and arrays may nest in an observation (a position is 2 deep)
MAX_DEPTH = 16
#: the largest integer a JSON number holds exactly (RFC 8785, and so the evidence log)
MAX_INT = 2**53 - 1


def canonical_text(value: Any) -> str:
    """Compact JSON with sorted keys (``ValueError`` for NaN and infinities)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def decode_json(text: str) -> Any:
    """Decode JSON text; nesting too deep for the decoder is a ``ValueError`` (not a
    ``RecursionError``). ``NaN`` and ``Infinity`` decode, to be refused with the field they
    are in by :func:`json_problem`.

    >>> decode_json('{"a": [1, 2.5]}')
    {'a': [1, 2.5]}
    >>> json_problem(decode_json('{"a": [NaN]}'))
    ('a.0', 'not a finite number')
    >>> decode_json("[" * 100_000 + "]" * 100_000)
    Traceback (most recent call last):
    ValueError: nested deeper than 16
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(f"nested deeper than {MAX_DEPTH}") from None


def json_problem(value: Any, depth: int = 0, path: str = "") -> tuple[str, str] | None:
    """The first place (a dotted field path) and problem of a decoded JSON value that the
    evidence log cannot hold exactly: a number that is not finite (``1e400``), an integer
    beyond ±(2⁵³ − 1), a string with a lone surrogate (``"\\ud800"``), nesting deeper than
    :data:`MAX_DEPTH`. None when there is none.

    >>> json_problem({"count": 2**64})
    ('count', 'integer outside ±(2^53 - 1), the exact range of JSON numbers')
    >>> json_problem({"note": "\\ud800"})
    ('note', 'not Unicode text (a lone surrogate)')
    >>> json_problem({"a": [1.0, {"b": float("inf")}]})
    ('a.1.b', 'not a finite number')
    >>> json_problem({"id": "a1", "position": [30, 48]}) is None
    True
    """
    stack: list[tuple[Any, int, str]] = [(value, depth, path)]
    while stack:
        v, d, where = stack.pop()
        kind = type(v)
        if kind is str:
            if not _is_text(v):
                return where or "(value)", "not Unicode text (a lone surrogate)"
        elif kind is float:
            if not math.isfinite(v):
                return where or "(value)", "not a finite number"
        elif kind is int:
            if not -MAX_INT <= v <= MAX_INT:
                return (
                    where or "(value)",
                    "integer outside ±(2^53 - 1), the exact range of JSON numbers",
                )
        elif kind is dict or kind is list:
            if d >= MAX_DEPTH:
                return where or "(value)", f"nested deeper than {MAX_DEPTH}"
            items = v.items() if kind is dict else enumerate(v)
            for k, x in reversed(list(items)):
                if kind is dict and not _is_text(k):
                    return where or "(value)", "a member name is not Unicode text"
                stack.append((x, d + 1, f"{where}.{k}" if where else str(k)))
    return None


def _is_text(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: a run of 16 or more digits standing alone (an integer that may be too large to be exact)
_LONG_INT = re.compile(r"(?<![.\d])-?\d{16,}(?![.\deE])")


def suspect(record: dict[str, Any]) -> bool:
    """Whether a record may hold what :func:`json_problem` refuses (checked on its text, fast;
    the exact walk runs only when this says it may)."""
    try:
        text = canonical_text(record)
        text.encode("utf-8")
    except (ValueError, UnicodeEncodeError, RecursionError):
        return True
    return text.count("[") + text.count("{") > MAX_DEPTH or _LONG_INT.search(text) is not None


def split_lines(text: str) -> list[str]:
    """JSON Lines text into its lines: split at line feeds only (``str.splitlines`` also
    splits at U+2028, U+2029 and other characters JSON strings may hold raw), with a
    carriage return before the line feed dropped.

    >>> split_lines('{"a": "x\\u2028y"}\\r\\n{"b": 1}\\n')
    ['{"a": "x\\u2028y"}', '{"b": 1}', '']
    """
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
