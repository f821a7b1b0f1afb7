"""Truceline's own observation format: JSON Lines (FORMATS.md §2)."""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..observations import ObservationBatch, parse_lines, split_lines
from .base import Source

__all__ = ["JsonlObservations"]


class JsonlObservations(Source):
    """One JSON object per line (lines end at a line feed); blank lines are ignored."""

    def read(self, path: Path) -> ObservationBatch:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(str(path), None, None, f"not UTF-8 text ({exc.reason})") from None
        return parse_lines(split_lines(text), str(path))  # not splitlines(): U+2028 is text
