"""Observations and incidents at rest as Parquet, partitioned by day and sector of the line.

A *Parquet set* is a directory that pandas, pyarrow, DuckDB and Spark read without
Truceline (Hive partitioning: the directory names are columns)::

    DIR/_truceline.json                       the manifest: the tree head it was written from
    DIR/observations/day=2026-03-01/sector=3/part-000000000120-000000004711.parquet
    DIR/incidents/day=2026-03-01/sector=3/run-7.parquet

- **day** is the UTC date of an observation's time (of an incident's start);
- **sector** is the 0-based stretch of :data:`SECTOR_KM` along the agreement's line of
  contact that the point's foot on the line falls in (the report's sectors), and
  :data:`NO_SECTOR` (-1) for an observation without a position.

An observation's row is its **evidence-log entry** (``entry``: the canonical JSON, salt and
all, exactly as the log hashed it), its index in the log and its leaf hash, with the columns
a query wants without parsing JSON: ``source``, ``id``, ``type``, ``time``
(``timestamp[us, tz=UTC]``), ``lon``, ``lat``. The set is as confidential as the store.

**The evidence log stays the source of truth.** The manifest records the signed tree head
the set was written from, and every file's SHA-256 and row count; ``truceline analyze
--parquet`` reads the set only after it has found that the head is the log's
(signature and root), that every entry hashes to the leaf the log holds at its index, and
that the set holds every observation entry of the log up to that head and nothing else. A
set from another store, an edited row, a missing or extra file is refused, naming the file,
the row and the field. Appending (``truceline ingest --parquet``) writes only the entries
logged since the manifest's head, into new files, and replaces the manifest last (files
first under hidden names, then renamed), so a set is never half-written to its readers.

This module holds the layout and the manifest; :mod:`truceline.store.parquet_set` writes and
checks the observations against a store's log, :mod:`truceline.publish.parquet` the incidents.

>>> day_key(1_772_366_400_000_000)
'2026-03-01'
>>> part_name(120, 4711)
'part-000000000120-000000004711.parquet'
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from .agreement import Agreement
from .coverage import n_sectors_of, sector_along
from .errors import InputError
from .geo import LocalFrame

__all__ = [
    "MANIFEST",
    "NO_SECTOR",
    "SECTOR_KM",
    "SET_FORMAT",
    "Sectors",
    "day_key",
    "file_sha256",
    "load_manifest",
    "move_into_place",
    "part_name",
    "save_manifest",
    "staged",
]

SET_FORMAT = "truceline-parquet-set/1"
MANIFEST = "_truceline.json"  # a leading underscore: pyarrow and Spark skip it as data
SECTOR_KM = 25.0  # the report's sectors (truceline.coverage, truceline.detectability)
NO_SECTOR = -1


def day_key(time_us: int) -> str:
    """The UTC date of a time in microseconds, as the ``day=`` partition names it."""
    return datetime.fromtimestamp(time_us // 1_000_000, UTC).strftime("%Y-%m-%d")


def part_name(first: int, last: int) -> str:
    """The file of an append's observations: the log indices it covers, first to last."""
    return f"part-{first:012d}-{last:012d}.parquet"


@dataclass(frozen=True)
class Sectors:
    """How the set cuts space: stretches of ``km`` along a line of contact (metres, in
    ``frame``). ``fingerprint`` names the line and the length, so a set is never appended
    to with sectors cut along another line."""

    line: shapely.Geometry
    frame: LocalFrame
    km: float = SECTOR_KM
    fingerprint: str = ""

    @classmethod
    def of(cls, ag: Agreement, km: float = SECTOR_KM) -> Sectors:
        """The sectors of an agreement's line of contact."""
        wkb = shapely.to_wkb(shapely.set_precision(ag.line, 1e-7), output_dimension=2)
        digest = hashlib.sha256(wkb + f"|{km:g}".encode()).hexdigest()
        return cls(ag.line_local, ag.frame, km, digest)

    @property
    def count(self) -> int:
        """How many sectors cut the line (the last may be shorter)."""
        return n_sectors_of(self.line, self.km)

    def sector(self, lon: ArrayLike, lat: ArrayLike) -> NDArray[np.int64]:
        """The sector of each point (degrees); :data:`NO_SECTOR` where it is NaN
        (:func:`truceline.coverage.sector_along`)."""
        lon_a = np.asarray(lon, float)
        lat_a = np.asarray(lat, float)
        ok = np.isfinite(lon_a) & np.isfinite(lat_a)
        x = np.full(lon_a.shape, np.nan)
        y = np.full(lon_a.shape, np.nan)
        if ok.any():
            x[ok], y[ok] = self.frame.forward(lon_a[ok], lat_a[ok])
        return sector_along(self.line, x, y, self.km)

    def groups(
        self, times_us: Sequence[int], lon: Sequence[float | None], lat: Sequence[float | None]
    ) -> dict[tuple[str, int], list[int]]:
        """The rows (by index) of each ``(day, sector)`` partition: the UTC day of each
        time, the sector of each point (None: :data:`NO_SECTOR`)."""
        nan = float("nan")
        sector = self.sector(
            [nan if v is None else v for v in lon], [nan if v is None else v for v in lat]
        )
        out: dict[tuple[str, int], list[int]] = {}
        for k, t in enumerate(times_us):
            out.setdefault((day_key(t), int(sector[k])), []).append(k)
        return out

    def describe(self) -> dict[str, Any]:
        """What the manifest says of the sectors."""
        return {"sector_km": self.km, "sectors": self.count, "line": self.fingerprint}


def load_manifest(root: Path) -> dict[str, Any] | None:
    """The set's manifest, or None where ``root`` holds none yet."""
    path = root / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(str(path), None, None, f"not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != SET_FORMAT:
        raise InputError(str(path), None, "format", f"is not {SET_FORMAT!r}")
    return manifest


def save_manifest(root: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest in one step (written beside it, then renamed over it)."""
    tmp = root / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, root / MANIFEST)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def staged(final: Path) -> Path:
    """Where a file is written before it is moved into place: beside it, hidden (a leading
    dot), which pyarrow, DuckDB's ``*.parquet`` globs and Spark all pass over."""
    final.parent.mkdir(parents=True, exist_ok=True)
    return final.with_name(f".{final.name}.tmp")


def move_into_place(finals: list[Path]) -> None:
    """Rename each staged file to its final name (after every one was written)."""
    for final in finals:
        os.replace(staged(final), final)
