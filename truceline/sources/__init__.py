"""Source adapters: one per real-world format, each turning a file into observations.

A new format is a subclass of :class:`Source` with one method, :meth:`Source.read`.
:func:`read_source` picks the adapter: by suffix for JSON Lines, and for ``.csv`` by the
header (FIRMS, UCDP GED or ACLED; an unknown header is an error that says what each format
expects). :func:`read_observations` reads several files as one all-or-nothing batch, and
reconciles thermal detections across them (:mod:`.detections`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import InputError, InputErrors
from ..observations import ObservationBatch, merge
from . import acled, firms, ucdp
from ._csv import csv_header
from .acled import AcledCsv
from .base import Source
from .detections import against_stored, current, reconcile
from .firms import FirmsCsv
from .jsonl import JsonlObservations
from .ucdp import UcdpGedCsv

__all__ = [
    "CSV_FORMATS",
    "AcledCsv",
    "FirmsCsv",
    "JsonlObservations",
    "Source",
    "UcdpGedCsv",
    "against_stored",
    "csv_adapter",
    "current",
    "read_observations",
    "read_source",
]

#: the CSV formats told apart by their header: (name, adapter, the columns it needs)
CSV_FORMATS: tuple[tuple[str, type[FirmsCsv | UcdpGedCsv | AcledCsv], tuple[str, ...]], ...] = (
    ("NASA FIRMS", FirmsCsv, firms.REQUIRED),
    ("UCDP GED", UcdpGedCsv, ucdp.REQUIRED),
    ("ACLED", AcledCsv, acled.REQUIRED),
)


def csv_adapter(path: Path) -> Source:
    """The adapter of a CSV file, from its header.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "x.csv"
    ...     _ = path.write_text("lat,lon,day\\n48,37,2022-08-01\\n")
    ...     csv_adapter(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    truceline.errors.InputError: ...x.csv:1: unknown CSV: its header (lat, lon, day) is not NASA FIRMS (latitude, longitude, acq_date); UCDP GED (...); ACLED (...)
    """
    header = csv_header(path)
    for _, adapter, _ in CSV_FORMATS:
        if adapter.accepts(header):
            return adapter()
    shown = ", ".join(header[:8]) + (", ..." if len(header) > 8 else "")
    expected = "; ".join(f"{name} ({', '.join(cols)})" for name, _, cols in CSV_FORMATS)
    raise InputError(
        str(path), 1, None, f"unknown CSV: its header ({shown or 'empty'}) is not {expected}"
    )


def read_source(path: Path) -> ObservationBatch:
    """Read one file with the adapter its suffix (and, for CSV, its header) calls for."""
    if not path.exists():
        raise InputError(str(path), None, None, "no such file")
    suffix = path.suffix.lower()
    adapter: Source
    if suffix in (".jsonl", ".ndjson", ".json"):
        adapter = JsonlObservations()
    elif suffix == ".csv":
        adapter = csv_adapter(path)
    else:
        raise InputError(
            str(path),
            None,
            None,
            "unknown format (expected .jsonl, or a FIRMS, UCDP GED or ACLED .csv)",
        )
    return adapter.read(path)


def read_observations(paths: Sequence[str | Path]) -> ObservationBatch:
    """Read observation files: ``*.jsonl`` (FORMATS §2), FIRMS, UCDP GED or ACLED ``*.csv``;
    all-or-nothing.

    Every file is validated before anything is returned; errors of all files are reported
    together. The counts of what each file's reader dropped (identical repeats, the same
    detection published twice, superseded near-real-time rows) are kept in the batch.
    """
    errors: list[InputError] = []
    parts: list[ObservationBatch] = []
    for path in paths:
        try:
            parts.append(read_source(Path(path)))
        except InputErrors as exc:
            errors.extend(exc.errors)
        except InputError as exc:
            errors.append(exc)
    if errors:
        raise InputErrors(errors)
    batch = merge([p.observations for p in parts])
    batch.duplicates += sum(p.duplicates for p in parts)
    batch.merged = sum(p.merged for p in parts)
    batch.superseded = sum(p.superseded for p in parts)
    return reconcile(batch) if len(parts) > 1 else batch
