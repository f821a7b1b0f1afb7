"""Front-line snapshots and fires against them: the names this module always had, now in
:mod:`truceline.frontmap` (a legend, the line of contact, siding).

>>> from truceline.frontline import SIDES
>>> SIDES
('held', 'occupied', 'contested', 'outside')
"""

from __future__ import annotations

from pathlib import Path

from .frontmap import (
    BANDS_KM,
    SIDES,
    Front,
    FrontSnapshot,
    SidedPoints,
    Territory,
    nearest_earlier,
    read_border,
    read_snapshot,
    side_over_time,
    side_points,
    sided_csv,
    summarise,
    thermal_points,
)

__all__ = [
    "BANDS_KM",
    "SIDES",
    "Front",
    "FrontSnapshot",
    "SidedPoints",
    "Territory",
    "nearest_earlier",
    "read_border",
    "read_deepstate",
    "side_over_time",
    "side_points",
    "sided_csv",
    "summarise",
    "thermal_points",
]


def read_deepstate(path: Path) -> FrontSnapshot:
    """A DeepStateMap export read with the default legend."""
    return read_snapshot(path)
