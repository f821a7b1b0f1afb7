"""Source adapters: one per real-world format, each turning a file into observations.

A new format is a subclass of :class:`Source` with one method, :meth:`Source.read`.
:func:`read_source` picks the adapter from the file name; :func:`read_observations` reads
several files as one all-or-nothing batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError, InputErrors
from ..observations import Observation, ObservationBatch, merge
from .base import Source
from .firms import FirmsCsv
from .jsonl import JsonlObservations

__all__ = ["FirmsCsv", "JsonlObservations", "Source", "read_observations", "read_source"]


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


def read_observations(paths: Sequence[str | Path]) -> ObservationBatch:
    """Read observation files: ``*.jsonl`` (FORMATS §2) or FIRMS ``*.csv``; all-or-nothing.

    Every file is validated before anything is returned; errors of all files are reported
    together.
    """
    errors: list[InputError] = []
    parts: list[list[Observation]] = []
    for path in paths:
        try:
            parts.append(read_source(Path(path)).observations)
        except InputErrors as exc:
            errors.extend(exc.errors)
        except InputError as exc:
            errors.append(exc)
    if errors:
        raise InputErrors(errors)
    return merge(parts)
