"""Open exports of the incidents: GeoJSON, GeoPackage, CSV (ACLED columns, UCDP-GED precision
codes) and Parquet. Every export records the evidence log's tree head it was made from.

The CSV's columns are ACLED's (``event_date``, ``event_type``, ``sub_event_type``,
``actor1``, ``actor2``, ``latitude``, ``longitude``, ``geo_precision``, ``time_precision``,
``source``, ``notes``, ``fatalities``), then UCDP-GED's precision codes (``where_prec``,
``date_prec``), then Truceline's own (``truceline_id``, ``kind``, ``confidence``,
``attributed_to``, ``violations``, ``tree_size``, ``root_hash``). Our uncertainty maps to the
precision codes as follows (σ is the location's radial 1-sigma):

================================  =================  ==============
location                          ACLED geo_prec.    UCDP where_prec
================================  =================  ==============
σ ≤ 1 km (a located point)        1                  1
1 km < σ ≤ 25 km                  2                  2
farther, or an unlocated report   3                  4
================================  =================  ==============

and time: an incident within one day is ACLED ``time_precision`` 1 and UCDP ``date_prec`` 1;
within a week 2 and 3; longer 3 and 4. Fatalities are not observed by the mechanism: 0, as
ACLED writes an unknown count.

>>> acled_row({"id": "inc-1", "kind": "fire", "time_start": "2026-03-01T03:00:00Z",
...            "time_end": "2026-03-01T03:00:40Z", "weapon": "mortar_lt120",
...            "impact": [36.1, 48.2], "impact_sigma_m": 5.0, "origin": None,
...            "confidence": 0.96, "attributed_to": "N", "attribution": {"N": 1.0},
...            "violations": ["C1"], "sources": {"acoustic": 9}},
...           {"N": "Northern Party", "S": "Southern Party"})["sub_event_type"]
'Shelling/artillery/missile attack'
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from .._extras import require
from .._time import parse_time

__all__ = ["ACLED_COLUMNS", "FORMATS", "acled_row", "export"]

FORMATS = ("geojson", "gpkg", "csv", "parquet")
ACLED_COLUMNS = (
    "event_date",
    "event_type",
    "sub_event_type",
    "actor1",
    "actor2",
    "latitude",
    "longitude",
    "geo_precision",
    "time_precision",
    "source",
    "notes",
    "fatalities",
)
UCDP_COLUMNS = ("where_prec", "date_prec")
OWN_COLUMNS = (
    "truceline_id",
    "kind",
    "confidence",
    "attributed_to",
    "violations",
    "tree_size",
    "root_hash",
)
DAY_US = 86_400_000_000

_TYPES = {
    "fire": ("Explosions/Remote violence", "Shelling/artillery/missile attack"),
    "air": ("Explosions/Remote violence", "Air/drone strike"),
    "presence": ("Strategic developments", "Other"),
    "crossing": ("Strategic developments", "Other"),
    "unlocated": ("Strategic developments", "Other"),
}


def _precision(p: dict[str, Any]) -> tuple[int, int]:
    """(ACLED geo_precision, UCDP where_prec) from the location's uncertainty."""
    point = p.get("impact") or p.get("origin")
    sigma = p.get("impact_sigma_m") if p.get("impact") else p.get("origin_sigma_m")
    if point is None or sigma is None or p.get("kind") == "unlocated":
        return 3, 4
    if sigma <= 1_000:
        return 1, 1
    if sigma <= 25_000:
        return 2, 2
    return 3, 4


def _time_precision(p: dict[str, Any]) -> tuple[int, int]:
    """(ACLED time_precision, UCDP date_prec) from the incident's time span."""
    span = parse_time(p["time_end"]) - parse_time(p["time_start"])
    if span <= DAY_US:
        return 1, 1
    if span <= 7 * DAY_US:
        return 2, 3
    return 3, 4


def acled_row(
    p: dict[str, Any], names: dict[str, str], head: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One incident's CSV row (its GeoJSON properties; ``names``: party id -> name)."""
    point = p.get("impact") or p.get("origin") or [None, None]
    geo, where = _precision(p)
    tp, dp = _time_precision(p)
    event_type, sub = _TYPES.get(p["kind"], ("Strategic developments", "Other"))
    who = p.get("attributed_to")
    sources = ", ".join(f"{k} {v}" for k, v in sorted((p.get("sources") or {}).items()))
    probs = ", ".join(f"{k} {v:.2f}" for k, v in sorted((p.get("attribution") or {}).items()))
    notes = (
        f"{p['kind']} ({p.get('weapon', 'unknown')}); confidence {p['confidence']:.2f}; "
        f"attribution: {probs or 'undetermined'}; violations: "
        f"{', '.join(p.get('violations') or []) or 'none'}; incident {p['id']}"
    )
    return {
        "event_date": p["time_start"][:10],
        "event_type": event_type,
        "sub_event_type": sub,
        "actor1": names.get(who, who) if who else "Unidentified Armed Group",
        "actor2": "",
        "latitude": point[1],
        "longitude": point[0],
        "geo_precision": geo,
        "time_precision": tp,
        "source": f"Truceline ({sources})" if sources else "Truceline",
        "notes": notes,
        "fatalities": 0,
        "where_prec": where,
        "date_prec": dp,
        "truceline_id": p["id"],
        "kind": p["kind"],
        "confidence": p["confidence"],
        "attributed_to": who or "",
        "violations": ";".join(p.get("violations") or []),
        "tree_size": (head or {}).get("tree_size", ""),
        "root_hash": (head or {}).get("root_hash", ""),
    }


def to_csv(
    features: list[dict[str, Any]], names: dict[str, str], head: dict[str, Any] | None
) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=[*ACLED_COLUMNS, *UCDP_COLUMNS, *OWN_COLUMNS], lineterminator="\n"
    )
    writer.writeheader()
    for f in features:
        writer.writerow(acled_row(f["properties"], names, head))
    return buf.getvalue()


def _frame(features: list[dict[str, Any]]) -> Any:
    """The incidents as a GeoDataFrame (nested properties as JSON text)."""
    gpd = require("geopandas", "geo", "GeoPackage and Parquet exports")

    rows = []
    for f in features:
        p = dict(f["properties"])
        for key, value in list(p.items()):
            if isinstance(value, dict | list):
                p[key] = json.dumps(value, sort_keys=True)
        rows.append({**p, "geometry": f.get("geometry")})
    from shapely.geometry import shape

    geoms = [shape(r.pop("geometry")) if r.get("geometry") else None for r in rows]
    return gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")


def export(
    fmt: str,
    out: Path,
    features: list[dict[str, Any]],
    head: dict[str, Any] | None,
    names: dict[str, str],
    observations: list[dict[str, Any]] | None = None,
    agreement: Any = None,
) -> Path:
    """Write ``features`` (GeoJSON incident features) as ``fmt`` to ``out``; the GeoPackage
    also gets the observations (with a position) and, with ``agreement``, the control areas
    and the zones of its clauses. The tree head goes into the GeoJSON as a member, into the
    CSV as columns, into the GeoPackage as a layer and into Parquet's metadata."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "geojson":
        doc = {"type": "FeatureCollection", "tree_head": head, "features": features}
        out.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
        return out
    if fmt == "csv":
        out.write_text(to_csv(features, names, head), encoding="utf-8")
        return out
    gpd = require("geopandas", "geo", "GeoPackage and Parquet exports")
    from shapely.geometry import Point

    incidents = _frame(features)
    if fmt == "parquet":
        incidents.to_parquet(out)
        pq = require("pyarrow.parquet", "geo", "Parquet exports")

        table = pq.read_table(out)
        meta = {**(table.schema.metadata or {}), b"truceline_tree_head": json.dumps(head).encode()}
        pq.write_table(table.replace_schema_metadata(meta), out)
        return out
    if out.exists():
        out.unlink()
    incidents.to_file(out, layer="incidents", driver="GPKG")
    obs_rows = []
    for o in observations or []:
        pos = o.get("position") or o.get("observer")
        if isinstance(pos, list) and len(pos) >= 2:
            obs_rows.append(
                {
                    "ref": f"{o['source']}:{o['id']}",
                    "type": o["type"],
                    "time": o["time"],
                    "body": json.dumps(o, sort_keys=True),
                    "geometry": Point(pos[0], pos[1]),
                }
            )
    if obs_rows:
        gpd.GeoDataFrame(obs_rows, crs="EPSG:4326").to_file(
            out, layer="observations", driver="GPKG"
        )
    if agreement is not None:
        control = [{"party": k, "geometry": g} for k, g in sorted(agreement.control.items())]
        gpd.GeoDataFrame(control, crs="EPSG:4326").to_file(
            out, layer="control_areas", driver="GPKG"
        )
        zones = [
            {"clause": c.id, "text": c.text, "geometry": c.rule.area}
            for c in agreement.clauses
            if c.rule.area is not None
        ]
        if zones:
            gpd.GeoDataFrame(zones, crs="EPSG:4326").to_file(out, layer="zones", driver="GPKG")
    gpd.GeoDataFrame([{"tree_head": json.dumps(head), "geometry": None}], crs="EPSG:4326").to_file(
        out, layer="tree_head", driver="GPKG"
    )
    return out
