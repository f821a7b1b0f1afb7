"""Reading GeoJSON layers (control areas, zones, lines) with errors naming the feature."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from .errors import AgreementError

__all__ = ["read_lines", "read_polygons"]


def _features(path: Path) -> list[dict[str, Any]]:
    file = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise AgreementError(file, None, None, f"cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise AgreementError(file, exc.lineno, None, f"not valid JSON ({exc.msg})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise AgreementError(file, None, "type", "expected a GeoJSON FeatureCollection")
    feats = doc.get("features")
    if not isinstance(feats, list) or not feats:
        raise AgreementError(file, None, "features", "expected a non-empty list of features")
    return feats


def _geometry(feat: Any, file: str, i: int, allowed: tuple[str, ...]) -> shapely.Geometry:
    where = f"feature {i}"
    if not isinstance(feat, dict) or feat.get("type") != "Feature":
        raise AgreementError(file, where, "type", "expected a GeoJSON Feature")
    raw = feat.get("geometry")
    if not isinstance(raw, dict) or raw.get("type") not in allowed:
        got = raw.get("type") if isinstance(raw, dict) else raw
        raise AgreementError(file, where, "geometry", f"expected {' or '.join(allowed)}, got {got}")
    try:
        geom = shape(raw)
    except Exception as exc:  # shapely raises several types for malformed coordinates
        raise AgreementError(file, where, "geometry.coordinates", f"malformed: {exc}") from None
    coords = shapely.get_coordinates(geom)
    if len(coords) == 0:
        raise AgreementError(file, where, "geometry", "empty geometry")
    if not np.isfinite(coords).all():
        raise AgreementError(file, where, "geometry.coordinates", "coordinates must be finite")
    if (np.abs(coords[:, 0]) > 180).any():
        raise AgreementError(
            file, where, "geometry.coordinates", "a longitude is outside [-180, 180]"
        )
    if (np.abs(coords[:, 1]) > 90).any():
        bad = float(coords[np.abs(coords[:, 1]) > 90, 1][0])
        raise AgreementError(
            file, where, "geometry.coordinates", f"latitude {bad:g} is outside [-90, 90]"
        )
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        raise AgreementError(file, where, "geometry", f"invalid geometry: {reason}")
    return geom


def read_polygons(path: Path, key: str | None = None) -> dict[str, shapely.Geometry]:
    """(Multi)Polygon features grouped by the property ``key`` (all under ``""`` if None)."""
    file = str(path)
    groups: dict[str, list[shapely.Geometry]] = {}
    for i, feat in enumerate(_features(path)):
        geom = _geometry(feat, file, i, ("Polygon", "MultiPolygon"))
        name: Any = ""
        if key is not None:
            props = feat.get("properties") or {}
            name = props.get(key) if isinstance(props, dict) else None
            if not isinstance(name, str) or not name:
                raise AgreementError(
                    file, f"feature {i}", f"properties.{key}", "required field is missing"
                )
        groups.setdefault(name, []).append(geom)
    return {k: shapely.union_all(v) for k, v in groups.items()}


def read_lines(path: Path) -> shapely.Geometry:
    """All (Multi)LineString features of a file, merged."""
    file = str(path)
    geoms = [
        _geometry(f, file, i, ("LineString", "MultiLineString"))
        for i, f in enumerate(_features(path))
    ]
    return shapely.line_merge(shapely.union_all(geoms))
