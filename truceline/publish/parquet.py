"""The Parquet export: one row per incident with typed columns (GeoParquet 1.0, the
``[geo]`` extra's pyarrow).

``time_start``/``time_end`` are ``timestamp[us, tz=UTC]`` (the microseconds of FORMATS survive);
``attribution``, ``violation_probabilities`` and ``weapon_probabilities`` are
``map<string, double>`` and ``sources`` ``map<string, int32>``; ``violations``,
``observations`` and ``alleged_by`` are ``list<string>``; ``origin`` and ``impact`` are
``struct<lon, lat>`` and their covariances ``struct<xx, xy, yy>`` (m²); the place of each
incident is a ``place`` struct (names in en/uk/ru, distance, direction, admin areas, MGRS);
``geometry`` is the incident's point as WKB (no CRS given: GeoParquet's default, OGC:CRS84,
longitude then latitude). The tree head is in the schema's metadata
(``truceline_tree_head``), with the GeoParquet ``geo`` metadata.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .._extras import require
from .._time import parse_time
from ..agreement import Agreement
from ..columnar import (
    SET_FORMAT,
    Sectors,
    file_sha256,
    load_manifest,
    move_into_place,
    save_manifest,
    staged,
)
from ..places import Place
from .acled import precision

__all__ = ["schema", "write_parquet", "write_partitioned"]


def _time(text: str) -> datetime:
    us = parse_time(text)
    return datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)


def schema() -> Any:
    pa = require("pyarrow", "geo", "Parquet exports")
    point = pa.struct([("lon", pa.float64()), ("lat", pa.float64())])
    cov = pa.struct([("xx", pa.float64()), ("xy", pa.float64()), ("yy", pa.float64())])
    probs = pa.map_(pa.string(), pa.float64())
    names = pa.struct([("en", pa.string()), ("uk", pa.string()), ("ru", pa.string())])
    place = pa.struct(
        [("name", names), ("km", pa.float64()), ("direction", pa.string()),
         ("admin1", pa.string()), ("admin2", pa.string()), ("country", pa.string()),
         ("mgrs", pa.string()), ("geonameid", pa.int64())]
    )  # fmt: skip
    ts = pa.timestamp("us", tz="UTC")
    return pa.schema(
        [
            ("id", pa.string()), ("kind", pa.string()), ("time_start", ts), ("time_end", ts),
            ("weapon", pa.string()), ("weapon_probabilities", probs), ("confidence", pa.float64()),
            ("attribution", probs), ("attributed_to", pa.string()),
            ("violations", pa.list_(pa.string())), ("violation_probabilities", probs),
            ("status", pa.string()), ("published", pa.bool_()),
            ("origin", point), ("origin_sigma_m", pa.float64()), ("origin_cov_m2", cov),
            ("impact", point), ("impact_sigma_m", pa.float64()), ("impact_cov_m2", cov),
            ("sources", pa.map_(pa.string(), pa.int32())), ("observations", pa.list_(pa.string())),
            ("alleged_by", pa.list_(pa.string())), ("place", place),
            ("geo_precision", pa.int8()), ("where_prec", pa.int8()),
            ("time_precision", pa.int8()), ("date_prec", pa.int8()),
            ("disclosure", pa.string()), ("geometry", pa.binary()),
        ]
    )  # fmt: skip


def _xy(v: list[float] | None) -> dict[str, float] | None:
    return None if v is None else {"lon": v[0], "lat": v[1]}


def _cov(v: list[float] | None) -> dict[str, float] | None:
    return None if v is None else {"xx": v[0], "xy": v[1], "yy": v[2]}


def _map(d: dict[str, Any] | None) -> list[tuple[str, Any]] | None:
    return None if d is None else sorted(d.items())


def _row(f: dict[str, Any], place: Place | None) -> dict[str, Any]:
    import shapely

    p = f["properties"]
    coords = (f.get("geometry") or {}).get("coordinates")
    geo, where, tp, dp = precision(p)
    return {
        "id": p["id"], "kind": p["kind"], "time_start": _time(p["time_start"]),
        "time_end": _time(p["time_end"]), "weapon": p.get("weapon", "unknown"),
        "weapon_probabilities": _map(p.get("weapon_probabilities")), "confidence": p["confidence"],
        "attribution": _map(p.get("attribution")), "attributed_to": p.get("attributed_to"),
        "violations": list(p.get("violations") or []),
        "violation_probabilities": _map(p.get("violation_probabilities")),
        "status": p.get("status", "automatic"), "published": bool(p.get("published", False)),
        "origin": _xy(p.get("origin")), "origin_sigma_m": p.get("origin_sigma_m"),
        "origin_cov_m2": _cov(p.get("origin_cov_m2")), "impact": _xy(p.get("impact")),
        "impact_sigma_m": p.get("impact_sigma_m"), "impact_cov_m2": _cov(p.get("impact_cov_m2")),
        "sources": _map(p.get("sources")), "observations": p.get("observations"),
        "alleged_by": p.get("alleged_by"),
        "place": None if place is None else {
            "name": {k: place.names.get(k) for k in ("en", "uk", "ru")}, "km": round(place.km, 3),
            "direction": place.compass, "admin1": place.admin1, "admin2": place.admin2,
            "country": place.country, "mgrs": place.mgrs, "geonameid": place.geonameid},
        "geo_precision": geo, "where_prec": where, "time_precision": tp, "date_prec": dp,
        "disclosure": p.get("disclosure"),
        "geometry": shapely.to_wkb(shapely.Point(coords[:2])) if coords else None,
    }  # fmt: skip


def _table(
    features: list[dict[str, Any]],
    head: dict[str, Any] | None,
    ag: Agreement | None,
    places: list[Place | None],
) -> Any:
    """The incidents' table, with the GeoParquet and tree-head metadata."""
    pa = require("pyarrow", "geo", "Parquet exports")
    rows = [_row(f, pl) for f, pl in zip(features, places, strict=True)]
    table = pa.Table.from_pylist(rows, schema=schema())
    located = [
        f["geometry"]["coordinates"]
        for f in features
        if (f.get("geometry") or {}).get("coordinates")
    ]
    bbox = (
        [min(c[0] for c in located), min(c[1] for c in located),
         max(c[0] for c in located), max(c[1] for c in located)]
        if located else None
    )  # fmt: skip
    geo = {
        "version": "1.0.0",
        "primary_column": "geometry",
        "columns": {"geometry": {"encoding": "WKB", "geometry_types": ["Point"]}},
    }
    if bbox:
        geo["columns"]["geometry"]["bbox"] = bbox  # type: ignore[index]
    meta = {
        b"geo": json.dumps(geo).encode(),
        b"truceline_tree_head": json.dumps(head).encode(),
        b"truceline_agreement": (ag.id if ag else "").encode(),
    }
    return table.replace_schema_metadata(meta)


def write_parquet(
    out: Path,
    features: list[dict[str, Any]],
    head: dict[str, Any] | None,
    ag: Agreement | None,
    places: list[Place | None],
) -> Path:
    """Write the incidents as GeoParquet to ``out``."""
    pq = require("pyarrow.parquet", "geo", "Parquet exports")
    pq.write_table(_table(features, head, ag, places), out)
    return out


def write_partitioned(
    root: Path,
    features: list[dict[str, Any]],
    head: dict[str, Any] | None,
    ag: Agreement,
    places: list[Place | None],
    section: dict[str, Any],
) -> dict[str, Any]:
    """Write the incidents into the Parquet set ``root`` (:mod:`truceline.columnar`), one
    GeoParquet file per day (of ``time_start``) and sector (of the incident's point), in
    place of the incidents the set held; the manifest's ``incidents`` section (``section``:
    the run and the audience, to which the head and the files are added) is returned
    after the manifest was replaced."""
    pq = require("pyarrow.parquet", "geo", "Parquet exports")
    sectors = Sectors.of(ag)
    manifest = load_manifest(root) or {"format": SET_FORMAT, "sectors": sectors.describe()}
    coords = [(f.get("geometry") or {}).get("coordinates") or [None, None] for f in features]
    groups = sectors.groups(
        [parse_time(f["properties"]["time_start"]) for f in features],
        [c[0] for c in coords],
        [c[1] for c in coords],
    )
    name = f"run-{section.get('run', 0)}.parquet"
    files: list[dict[str, Any]] = []
    for (day, s), members in sorted(groups.items()):
        rel = Path("incidents") / f"day={day}" / f"sector={s}" / name
        table = _table([features[k] for k in members], head, ag, [places[k] for k in members])
        pq.write_table(table, staged(root / rel))
        files.append({"path": rel.as_posix(), "rows": len(members), "day": day, "sector": s})
    move_into_place([root / f["path"] for f in files])
    kept = {f["path"] for f in files}
    for old in (manifest.get("incidents") or {}).get("files", []):
        if old["path"] not in kept:
            (root / old["path"]).unlink(missing_ok=True)
    for f in files:
        f["sha256"] = file_sha256(root / f["path"])
    manifest["incidents"] = {**section, "tree_head": head, "files": files}
    save_manifest(root, manifest)
    return dict(manifest["incidents"])
