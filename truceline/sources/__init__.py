"""Source adapters: one per real-world format, each turning a file into observations.

A new format is a subclass of :class:`Source` with one method, :meth:`Source.read`.
:func:`read_source` picks the adapter from the file name.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import InputError
from ..observations import ObservationBatch
from .base import Source
from .firms import FirmsCsv
from .jsonl import JsonlObservations

__all__ = ["FirmsCsv", "JsonlObservations", "Source", "read_source"]


def read_source(path: Path) -> ObservationBatch:
    """Read one file with the adapter its suffix calls for."""
    if not path.exists():
        raise InputError(str(path), None, None, "no such file")
    suffix = path.suffix.lower()
    adapter: Source
    if suffix in (".jsonl", ".ndjson", ".json"):
        adapter = JsonlObservations()
    elif suffix == ".csv":
        adapter = FirmsCsv()
    else:
        raise InputError(str(path), None, None, "unknown format (expected .jsonl or FIRMS .csv)")
    return adapter.read(path)
