"""Front-line snapshots: who held what on a given day, and where the line between them ran.

A :class:`FrontSnapshot` holds, for one moment, the area held by the occupying side, the
areas whose control is contested, and the territory of the state they lie in (the border
layer). From it follow each point's **side** (``held``, ``occupied``, ``contested`` or
``outside``) and its **signed distance to the line of contact** in metres: positive on the
held side, negative in occupied territory. The line of contact is the occupied area's
boundary less the parts that run along the state border (within ``border_buffer_m``), so a
point near Crimea's coast is not "near the front".

Nothing here is specific to one war: a snapshot is built from any polygons. Reading
DeepStateMap's exports is one adapter (:func:`read_deepstate`).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import shape

from ._time import parse_time
from .errors import InputError
from .geo import LocalFrame
from .observations import Observation, Thermal

__all__ = [
    "SIDES",
    "FrontSnapshot",
    "SidedPoints",
    "Territory",
    "read_border",
    "read_deepstate",
    "side_over_time",
    "side_points",
    "sided_csv",
    "summarise",
    "thermal_points",
]

SIDES = ("held", "occupied", "contested", "outside")

# DeepStateMap's layer colours (README of the data set): the fill colour is the side.
_OCCUPIED = {"#a52714", "#000000"}  # occupied since 2022, and Crimea / ORDLO before it
_LIBERATED = {"#0288d1", "#0f9d58"}
_CONTESTED = {"#bcaaa4", "#bdbdbd"}  # "in doubt", "situation unknown"


@dataclass
class FrontSnapshot:
    """Control of the ground at one time (lon/lat geometries, made valid)."""

    time_us: int
    occupied: shapely.Geometry
    contested: shapely.Geometry
    source: str = ""


def read_deepstate(path: Path) -> FrontSnapshot:
    """A DeepStateMap raw export (Google My Maps style, layers told apart by fill colour).

    Liberated polygons drawn over occupied ones win over them, and contested ones are taken
    out of the occupied area: each point has one side. The time is the export's, from the
    file name (``deepstate_<UTC ISO time>_<unix>.geojson``) or else the file's ``date``.
    """
    file = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(file, None, None, f"cannot read GeoJSON: {exc}") from None
    match = re.search(r"(\d{8}T\d{6}Z)", path.name)
    if not match:
        raise InputError(file, None, None, "no UTC time (YYYYMMDDTHHMMSSZ) in the file name")
    stamp = match.group(1)
    time_us = parse_time(
        f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]}T{stamp[9:11]}:{stamp[11:13]}:{stamp[13:15]}Z"
    )
    layers: dict[str, list[shapely.Geometry]] = {"occ": [], "lib": [], "con": []}
    for i, feat in enumerate(doc.get("features", [])):
        geom = feat.get("geometry")
        if not geom or geom.get("type") not in ("Polygon", "MultiPolygon", "GeometryCollection"):
            continue
        fill = str((feat.get("properties") or {}).get("fill", "")).lower()
        key = (
            "occ"
            if fill in _OCCUPIED
            else "lib"
            if fill in _LIBERATED
            else "con"
            if fill in _CONTESTED
            else None
        )
        if key is None:
            continue
        try:
            g = shapely.make_valid(shape(geom))
        except Exception as exc:  # malformed coordinates
            raise InputError(file, f"feature {i}", "geometry", f"malformed: {exc}") from None
        polys = shapely.get_parts(g)
        layers[key] += [p for p in polys if p.geom_type in ("Polygon", "MultiPolygon")]
    occupied = shapely.union_all(layers["occ"]) if layers["occ"] else shapely.Polygon()
    liberated = shapely.union_all(layers["lib"]) if layers["lib"] else shapely.Polygon()
    contested = shapely.union_all(layers["con"]) if layers["con"] else shapely.Polygon()
    contested = shapely.difference(contested, liberated)
    occupied = shapely.difference(shapely.difference(occupied, liberated), contested)
    return FrontSnapshot(time_us, occupied, contested, source=path.name)


def read_border(path: Path) -> shapely.Geometry:
    """The state's territory: the union of every polygon of a region layer (e.g. oblasts)."""
    file = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise InputError(file, None, None, f"cannot read GeoJSON: {exc}") from None
    parts = [shapely.make_valid(shape(f["geometry"])) for f in doc["features"] if f.get("geometry")]
    return shapely.union_all(parts)


@dataclass
class Territory:
    """The state's territory in a metric frame, prepared once for many snapshots: the polygon
    (for inside/outside) and the same shrunk by ``border_buffer_m`` (the front line is the part
    of the occupied area's boundary that lies inside it, away from the border and coast)."""

    frame: LocalFrame
    area: shapely.Geometry
    inner: shapely.Geometry

    @classmethod
    def of(cls, border: shapely.Geometry, border_buffer_m: float = 3_000.0) -> Territory:
        minx, miny, maxx, maxy = shapely.bounds(border)
        frame = LocalFrame(round(float(minx + maxx) / 2, 4), round(float(miny + maxy) / 2, 4))
        area = frame.to_local(border)
        # 100 m simplification: far below the map's own accuracy, 10x fewer vertices
        inner = shapely.buffer(shapely.simplify(area, 100.0), -border_buffer_m)
        shapely.prepare(area)
        shapely.prepare(inner)
        return cls(frame, area, inner)


def side_points(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    snap: FrontSnapshot,
    territory: Territory,
) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    """Side code (index into :data:`SIDES`) and signed distance to the line of contact (m)."""
    frame = territory.frame
    occupied = frame.to_local(snap.occupied)
    contested = frame.to_local(snap.contested)
    line = shapely.intersection(shapely.boundary(occupied), territory.inner)
    for g in (occupied, contested, line):
        shapely.prepare(g)
    x, y = frame.forward(lon, lat)
    inside = shapely.contains_xy(territory.area, x, y)
    occ = inside & shapely.contains_xy(occupied, x, y)
    con = inside & shapely.contains_xy(contested, x, y)
    side = np.full(x.size, 3, dtype=np.int8)
    side[inside] = 0
    side[con] = 2
    side[occ] = 1
    dist = np.asarray(shapely.distance(shapely.points(x, y), line), dtype=float)
    return side, np.where(occ, -dist, dist)


def nearest_earlier(times_us: Sequence[int], t_us: NDArray[np.int64]) -> NDArray[np.int64]:
    """Index of the latest snapshot at or before each time; the first one where none is."""
    order = np.asarray(times_us, dtype=np.int64)
    idx = np.searchsorted(order, t_us, side="right") - 1
    return np.maximum(idx, 0)


BANDS_KM = (0.0, 5.0, 10.0, 25.0, 50.0, 100.0, np.inf)


@dataclass
class SidedPoints:
    """Points (e.g. fires) with the snapshot each was judged against, side and distance."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    time_us: NDArray[np.int64]
    snapshot: NDArray[np.int64]  # index into the snapshots
    lag_days: NDArray[np.float64]  # point time minus snapshot time (negative: no earlier one)
    side: NDArray[np.int8]
    distance_m: NDArray[np.float64]


def side_over_time(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    time_us: NDArray[np.int64],
    snapshots: Sequence[FrontSnapshot],
    border: shapely.Geometry,
) -> SidedPoints:
    """Side every point against the nearest earlier snapshot (the first, flagged by a negative
    lag, for points before any snapshot)."""
    snaps = sorted(snapshots, key=lambda s: s.time_us)
    territory = Territory.of(border)
    which = nearest_earlier([s.time_us for s in snaps], time_us)
    side = np.zeros(lon.size, dtype=np.int8)
    dist = np.zeros(lon.size)
    for k, snap in enumerate(snaps):
        sel = np.flatnonzero(which == k)
        if sel.size:
            side[sel], dist[sel] = side_points(lon[sel], lat[sel], snap, territory)
    lag = (time_us - np.array([s.time_us for s in snaps])[which]) / 86_400e6
    return SidedPoints(lon, lat, time_us, which, lag, side, dist)


def summarise(sided: SidedPoints, snapshots: Sequence[FrontSnapshot]) -> dict[str, object]:
    """Counts per side, per signed distance band and per week (ISO week of the point)."""
    snaps = sorted(snapshots, key=lambda s: s.time_us)
    proper = sided.lag_days >= 0
    out: dict[str, object] = {
        "points": int(sided.lon.size),
        "with_earlier_snapshot": int(proper.sum()),
        "before_first_snapshot": int((~proper).sum()),
        "snapshots": [s.source for s in snaps],
    }
    for label, sel in (("all", np.ones_like(proper)), ("with_earlier_snapshot", proper)):
        by_side = {SIDES[i]: int(((sided.side == i) & sel).sum()) for i in range(len(SIDES))}
        bands: dict[str, dict[str, int]] = {}
        km = np.abs(sided.distance_m) / 1000.0
        for i, name in ((0, "held"), (1, "occupied"), (2, "contested")):
            pick = sel & (sided.side == i)
            bands[name] = {
                f"{lo:g}-{hi:g} km": int((pick & (km >= lo) & (km < hi)).sum())
                for lo, hi in itertools.pairwise(BANDS_KM)
            }
        out[label] = {"by_side": by_side, "by_distance_band": bands}
    weeks: dict[str, dict[str, int]] = {}
    days = sided.time_us // 86_400_000_000
    iso = [np.datetime64(int(d), "D").astype(object).isocalendar() for d in days]
    keys = np.array([f"{y}-W{w:02d}" for y, w, _ in iso])
    for key in sorted(set(keys.tolist())):
        sel = keys == key
        weeks[key] = {SIDES[i]: int(((sided.side == i) & sel).sum()) for i in range(len(SIDES))}
    out["by_week"] = weeks
    if snaps:
        y, w, _ = (
            np.datetime64(snaps[0].time_us // 86_400_000_000, "D").astype(object).isocalendar()
        )
        out["first_snapshot_week"] = f"{y}-W{w:02d}"
    return out


def thermal_points(
    observations: Sequence[Observation],
) -> tuple[list[Observation], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """The thermal observations among ``observations``, and their lon, lat and time arrays."""
    obs = [o for o in observations if isinstance(o.model, Thermal)]
    lon = np.array([o.model.position[0] for o in obs if isinstance(o.model, Thermal)], float)
    lat = np.array([o.model.position[1] for o in obs if isinstance(o.model, Thermal)], float)
    return obs, lon, lat, np.array([o.time_us for o in obs], dtype=np.int64)


def sided_csv(
    obs: Sequence[Observation], sided: SidedPoints, snapshots: Sequence[FrontSnapshot]
) -> str:
    """Every sided point as a CSV row: id, position, time, the snapshot, side, distance."""
    names = [s.source for s in sorted(snapshots, key=lambda s: s.time_us)]
    rows = ["id,longitude,latitude,time,snapshot,lag_days,side,signed_distance_km\n"]
    for i, o in enumerate(obs):
        rows.append(
            f"{o.ref},{sided.lon[i]:.6f},{sided.lat[i]:.6f},{o.raw['time']},"
            f"{names[sided.snapshot[i]]},{sided.lag_days[i]:.2f},{SIDES[sided.side[i]]},"
            f"{sided.distance_m[i] / 1000:.3f}\n"
        )
    return "".join(rows)
