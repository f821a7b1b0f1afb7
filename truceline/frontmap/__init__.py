"""Front maps: who held what on a given day, read by a legend (never by a colour guess), and
where the line of contact between the sides ran.

- :mod:`.legend`: the legend (``legend.yaml``, shipped with the package): each polygon's
  side from its label, its colour only where the label names none, per-period overrides;
- :mod:`.deepstate`: DeepStateMap's exports read with a legend, unmatched polygons named;
- :mod:`.territory`: the state's territory in a metric frame, areas and lengths on the
  ellipsoid;
- :mod:`.contact`: the ground by side and the line of contact of one snapshot, and its
  summary (occupied km², line km);
- :mod:`.siding`: points against the front: side and signed distance to the line.

Nothing here is specific to one war: a snapshot can be built from any polygons.
"""

from __future__ import annotations

from pathlib import Path

from .contact import Front, FrontSnapshot, held_since_2014
from .deepstate import MapLayers, Unmatched, read_deepstate
from .legend import Legend, default_legend, load_legend
from .siding import (
    BANDS_KM,
    SIDES,
    SidedPoints,
    nearest_earlier,
    side_over_time,
    side_points,
    sided_csv,
    summarise,
    thermal_points,
)
from .territory import Territory, read_border

__all__ = [
    "BANDS_KM",
    "SIDES",
    "Front",
    "FrontSnapshot",
    "Legend",
    "MapLayers",
    "SidedPoints",
    "Territory",
    "Unmatched",
    "default_legend",
    "held_since_2014",
    "load_legend",
    "nearest_earlier",
    "read_border",
    "read_deepstate",
    "read_snapshot",
    "side_over_time",
    "side_points",
    "sided_csv",
    "summarise",
    "thermal_points",
]


def read_snapshot(path: Path, legend: Legend | None = None) -> FrontSnapshot:
    """A front map file as a snapshot, read with ``legend`` (the default one if None)."""
    leg = legend or default_legend()
    return FrontSnapshot.of(read_deepstate(path, leg), leg.enclaves)
