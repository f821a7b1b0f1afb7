"""Reading DeepStateMap exports with a legend: each polygon given its side by the legend,
every polygon no rule matches named with its label and colour.

Two products are read: the raw map exports of 2022 (Google My Maps style, a label and a fill
colour on each polygon; the time in the file name, ``deepstate_<YYYYMMDDTHHMMSSZ>_<unix>``)
and the daily occupied-territory files of 2024-25 (``deepstatemap_data_<YYYYMMDD>``, one
MultiPolygon without properties, pulled from the map at 03:00 UTC that day).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import shape

from .._time import parse_time
from ..errors import InputError, InputErrors
from .legend import Legend

__all__ = ["MapLayers", "Unmatched", "read_deepstate", "snapshot_time"]

_POLYGONAL = ("Polygon", "MultiPolygon", "GeometryCollection")


@dataclass(frozen=True)
class Unmatched:
    """A polygon no rule of the legend matched."""

    feature: int
    label: str
    colour: str
    km2: float

    def __str__(self) -> str:
        return f"feature {self.feature}: {self.label!r} ({self.colour or 'no colour'}, {self.km2:,.0f} km²)"


@dataclass
class MapLayers:
    """A front map's polygons by side (lon/lat), as the legend read them."""

    time_us: int
    source: str
    polygons: dict[str, list[shapely.Geometry]]  # class -> polygons
    since_2014: list[shapely.Geometry] = field(default_factory=list)  # tags crimea, ordlo
    ordlo: list[shapely.Geometry] = field(default_factory=list)
    unmatched: list[Unmatched] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # "class/tag (how)" -> polygons


def snapshot_time(path: Path) -> int:
    """The time a map shows, from its file name: ``YYYYMMDDTHHMMSSZ``, or ``YYYYMMDD`` (the
    daily files, pulled at 03:00 UTC)."""
    exact = re.search(r"(\d{8})T(\d{6})Z", path.name)
    if exact:
        d, t = exact.groups()
        return parse_time(f"{d[:4]}-{d[4:6]}-{d[6:]}T{t[:2]}:{t[2:4]}:{t[4:]}Z")
    day = re.search(r"(?<!\d)(20\d{6})(?!\d)", path.name)
    if day:
        d = day.group(1)
        try:
            return parse_time(f"{d[:4]}-{d[4:6]}-{d[6:]}T03:00:00Z")
        except ValueError:
            pass
    raise InputError(
        str(path), None, None, "no time in the file name (YYYYMMDDTHHMMSSZ, or YYYYMMDD)"
    )


def _polygons(geom: dict[str, Any], file: str, i: int) -> list[shapely.Geometry]:
    try:
        g = shapely.make_valid(shape(geom))
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise InputError(file, f"feature {i}", "geometry", f"malformed: {exc}") from None
    return [
        p
        for p in shapely.get_parts(g)
        if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty
    ]


def _km2(polys: list[shapely.Geometry]) -> float:
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    return sum(abs(geod.geometry_area_perimeter(p)[0]) for p in polys) / 1e6


def read_deepstate(path: Path, legend: Legend) -> MapLayers:
    """A DeepStateMap export, its polygons given their sides by ``legend``.

    Points and lines (units, arrows, airfields) are not territory and are skipped. A
    polygon no rule matches is an error naming it (label, colour, area) unless the legend
    says ``unmatched: unknown``, in which case it is kept as ground of unknown side and
    listed in :attr:`MapLayers.unmatched`.
    """
    file = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(file, None, None, f"cannot read GeoJSON: {exc}") from None
    time_us = snapshot_time(path)
    date = datetime.fromtimestamp(time_us / 1e6, UTC).date().isoformat()
    layers = MapLayers(
        time_us, path.name, {"occupied": [], "contested": [], "held": [], "outside": []}
    )
    counts: Counter[str] = Counter()
    for i, feat in enumerate(doc.get("features") or []):
        geom = (feat or {}).get("geometry") or {}
        kind = geom.get("type")
        if kind in legend.ignore_geometry or kind not in _POLYGONAL:
            continue
        polys = _polygons(geom, file, i)
        if not polys:
            continue
        props = feat.get("properties") or {}
        match = legend.classify(props, date)
        if match is None:
            label = str(props.get(legend.label_property) or "")
            layers.unmatched.append(
                Unmatched(i, label.strip(), legend.colour_of(props), _km2(polys))
            )
            layers.polygons["contested"].extend(polys)
            counts["unknown (no rule)"] += 1
            continue
        layers.polygons[match.cls].extend(polys)
        if match.tag in ("crimea", "ordlo"):
            layers.since_2014.extend(polys)
        if match.tag == "ordlo":
            layers.ordlo.extend(polys)
        counts[f"{match.cls}/{match.tag} ({match.how})"] += 1
    layers.counts = dict(sorted(counts.items()))
    if layers.unmatched and legend.unmatched == "error":
        raise InputErrors(
            [
                InputError(
                    file,
                    f"feature {u.feature}",
                    f"properties.{legend.label_property}",
                    f"no rule of the legend {legend.source} matches {u.label!r} "
                    f"({u.colour or 'no colour'}, {u.km2:,.0f} km²): add a rule, or read with "
                    "a legend that says unmatched: unknown",
                )
                for u in layers.unmatched
            ]
        )
    return layers
