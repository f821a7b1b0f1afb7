"""The state's territory, prepared once for many front maps: its polygon in a metric frame
and the zone along its border and coast where a map's edge is not a line of contact.

Areas and lengths are measured on the ellipsoid (``pyproj.Geod``, WGS 84), not in the
frame: a figure in km² is the same whatever frame the computation ran in.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import shapely
from pyproj import Geod
from shapely.geometry import shape

from ..errors import InputError
from ..geo import LocalFrame

__all__ = ["BORDER_ZONE_M", "Territory", "geodesic_km", "geodesic_km2", "read_border"]

#: a map's edge within this distance of the state border or coast is a line of contact only
#: where the held side is wider than a sliver (see :mod:`.contact`)
BORDER_ZONE_M = 5_000.0
SIMPLIFY_M = 50.0  # far below the maps' own accuracy; ten times fewer vertices
SHORE_M = 50.0  # an edge this close to the border or coast is the border or coast
_GEOD = Geod(ellps="WGS84")


def read_border(path: Path) -> shapely.Geometry:
    """The state's territory: the union of every polygon of a region layer (e.g. oblasts)."""
    file = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(file, None, None, f"cannot read GeoJSON: {exc}") from None
    parts = [shapely.make_valid(shape(f["geometry"])) for f in doc["features"] if f.get("geometry")]
    return shapely.union_all(parts)


def geodesic_km2(geom_lonlat: shapely.Geometry) -> float:
    """Area in km² on the WGS 84 ellipsoid of a lon/lat (Multi)Polygon."""
    if shapely.is_empty(geom_lonlat):
        return 0.0
    polys = [p for p in shapely.get_parts(geom_lonlat) if p.geom_type == "Polygon"]
    return sum(abs(_GEOD.geometry_area_perimeter(p)[0]) for p in polys) / 1e6


def geodesic_km(lines_lonlat: shapely.Geometry) -> float:
    """Length in km on the WGS 84 ellipsoid of lon/lat lines."""
    if shapely.is_empty(lines_lonlat):
        return 0.0
    parts = [
        p for p in shapely.get_parts(lines_lonlat) if p.geom_type in ("LineString", "LinearRing")
    ]
    return sum(_GEOD.geometry_length(p) for p in parts) / 1000.0


@dataclass
class Territory:
    """The state's territory in a metric frame: ``exact`` (prepared, for telling points
    inside from outside), ``area`` (simplified to 50 m, for the maps' geometry) and its
    *inner* part, more than ``border_zone_m`` from the border and coast. Built once and
    shared by every snapshot of a run."""

    frame: LocalFrame
    area: shapely.Geometry
    inner: shapely.Geometry
    exact: shapely.Geometry
    shore: shapely.Geometry  # within 50 m of the border or coast
    border_zone_m: float = BORDER_ZONE_M

    @classmethod
    def of(cls, border: shapely.Geometry, border_zone_m: float = BORDER_ZONE_M) -> Territory:
        minx, miny, maxx, maxy = shapely.bounds(border)
        frame = LocalFrame(round(float(minx + maxx) / 2, 4), round(float(miny + maxy) / 2, 4))
        exact = frame.to_local(border)
        area = shapely.make_valid(shapely.simplify(exact, SIMPLIFY_M))
        area = shapely.union_all([p for p in shapely.get_parts(area) if p.geom_type == "Polygon"])
        inner = shapely.buffer(area, -border_zone_m)
        shore = shapely.buffer(shapely.boundary(area), SHORE_M, quad_segs=2)
        for g in (area, inner, exact, shore):
            shapely.prepare(g)
        return cls(frame, area, inner, exact, shore, border_zone_m)

    def km2(self, geom_local: shapely.Geometry) -> float:
        return geodesic_km2(self.frame.to_lonlat(geom_local))

    def km(self, lines_local: shapely.Geometry) -> float:
        return geodesic_km(self.frame.to_lonlat(lines_local))
