"""The GeoPackage export (the ``[geo]`` extra), as QGIS opens it. Layers:

==================  ==========  ====================================================
layer               geometry    what
==================  ==========  ====================================================
incidents           Point       every incident at its best location, Truceline's flat
                                columns (as the CSV's), ``time_start``/``time_end`` as
                                DATETIME (milliseconds: GeoPackage's precision)
origins             Point       each located origin (launch point), with its 1-sigma
impacts             Point       each located impact
observations        Point       each observation with a position, ``time`` as DATETIME
line_of_contact     LineString  the agreement's line
control_areas       Polygon     each party's control area
withdrawal_zones    Polygon     for each clause with ``within_km``, the band that far from
                                the line on each party's side (where the classes it
                                names may not be)
zones               Polygon     the clauses' own areas (disengagement areas)
tree_head           (none)      the evidence log's tree head: an attribute table
==================  ==========  ====================================================
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import shapely

from .._extras import require
from ..agreement import Agreement
from ..places import describe_features

__all__ = ["withdrawal_zones", "write_geopackage"]


def withdrawal_zones(ag: Agreement) -> list[dict[str, Any]]:
    """For every clause with ``within_km``, the band within that distance of the line on
    each party's side (lon/lat), one row per (clause, party)."""
    rows = []
    for c in ag.clauses:
        if c.rule.within_km is None:
            continue
        band = shapely.buffer(ag.line_local, c.rule.within_km * 1000.0)
        for party, area in ag.control_local.items():
            zone = shapely.intersection(band, area)
            if shapely.is_empty(zone):
                continue
            rows.append({
                "clause": c.id, "text": c.text, "party": party, "within_km": c.rule.within_km,
                "classes": ",".join(c.rule.classes or ()), "geometry": ag.frame.to_lonlat(zone),
            })  # fmt: skip
    return rows


def _times(frame: Any, columns: tuple[str, ...]) -> Any:
    pd = require("pandas", "geo", "GeoPackage exports")
    for col in columns:
        frame[col] = pd.to_datetime(frame[col], utc=True, format="ISO8601")
    return frame


def _points(features: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    out = []
    for f in features:
        p = f["properties"]
        if p.get(key):
            out.append({
                "truceline_id": p["id"], "kind": p["kind"], "weapon": p.get("weapon", "unknown"),
                "time_start": p["time_start"], "sigma_m": p.get(f"{key}_sigma_m"),
                "attributed_to": p.get("attributed_to") or "", "status": p.get("status", ""),
                "geometry": shapely.Point(p[key][:2]),
            })  # fmt: skip
    return out


def _observations(observations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for o in observations:
        pos = o.get("position") or o.get("observer")
        if isinstance(pos, list) and len(pos) >= 2:
            rows.append({
                "ref": f"{o['source']}:{o['id']}", "type": o["type"], "source": o["source"],
                "time": o["time"], "body": json.dumps(o, sort_keys=True),
                "geometry": shapely.Point(pos[0], pos[1]),
            })  # fmt: skip
    return rows


def write_geopackage(
    out: Path,
    features: list[dict[str, Any]],
    head: dict[str, Any] | None,
    ag: Agreement | None,
    observations: list[dict[str, Any]],
) -> Path:
    """Write every layer to ``out`` (replacing the file)."""
    gpd = require("geopandas", "geo", "GeoPackage exports")
    pd = require("pandas", "geo", "GeoPackage exports")
    from .exports import flat_rows

    if out.exists():
        out.unlink()
    cols, rows = flat_rows(features, ag, head, describe_features(features))
    geoms = [shapely.Point(f["geometry"]["coordinates"][:2]) if (f.get("geometry") or {}).get("coordinates")
             else None for f in features]  # fmt: skip
    incidents = gpd.GeoDataFrame(pd.DataFrame(rows, columns=cols), geometry=geoms, crs="EPSG:4326")
    layers: list[tuple[str, Any]] = [("incidents", _times(incidents, ("time_start", "time_end")))]
    for key, name in (("origin", "origins"), ("impact", "impacts")):
        pts = _points(features, key)
        if pts:
            layers.append((name, _times(gpd.GeoDataFrame(pts, crs="EPSG:4326"), ("time_start",))))
    obs = _observations(observations)
    if obs:
        layers.append(("observations", _times(gpd.GeoDataFrame(obs, crs="EPSG:4326"), ("time",))))
    if ag is not None:
        layers += _agreement_layers(gpd, ag)
    for name, frame in layers:
        frame.to_file(out, layer=name, driver="GPKG")
    _tree_head(pd, out, head)
    return out


def _agreement_layers(gpd: Any, ag: Agreement) -> list[tuple[str, Any]]:
    crs = "EPSG:4326"
    line = [{"agreement": ag.id, "geometry": ag.line}]
    control = [{"party": k, "name": next(p.name for p in ag.parties if p.id == k), "geometry": g}
               for k, g in ag.control.items()]  # fmt: skip
    layers = [
        ("line_of_contact", gpd.GeoDataFrame(line, crs=crs)),
        ("control_areas", gpd.GeoDataFrame(control, crs=crs)),
    ]
    bands = withdrawal_zones(ag)
    if bands:
        layers.append(("withdrawal_zones", gpd.GeoDataFrame(bands, crs=crs)))
    zones = [{"clause": c.id, "text": c.text, "geometry": c.rule.area}
             for c in ag.clauses if c.rule.area is not None]  # fmt: skip
    if zones:
        layers.append(("zones", gpd.GeoDataFrame(zones, crs=crs)))
    return layers


def _tree_head(pd: Any, out: Path, head: dict[str, Any] | None) -> None:
    """The tree head as an attribute table (GeoPackage ``attributes``: no geometry)."""
    pyogrio = require("pyogrio", "geo", "GeoPackage exports")
    h = head or {}
    frame = pd.DataFrame([{
        "tree_size": h.get("tree_size"), "root_hash": h.get("root_hash"),
        "timestamp": pd.to_datetime(h["timestamp"], utc=True) if h.get("timestamp") else None,
        "key_id": h.get("key_id"), "signature": h.get("signature"),
    }])  # fmt: skip
    pyogrio.write_dataframe(frame, out, layer="tree_head", driver="GPKG")
