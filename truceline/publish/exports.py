"""Open exports of the incidents, each for the tools its readers use, and each recording the
evidence log's tree head it was made from:

- **GeoJSON** (FORMATS §3), with each incident's ``place``, for web maps;
- **GeoPackage** for QGIS (:mod:`truceline.publish.layers`): incidents, origins, impacts,
  observations, the line of contact, control areas, withdrawal zones and the clauses' areas,
  with DATETIME columns (QGIS's temporal controller reads them), and the tree head as an
  attribute table;
- **CSV** for spreadsheets and R/pandas: ACLED's columns in its codebook's order and UCDP
  GED's precision codes (:mod:`truceline.publish.acled`), then Truceline's own, flattened
  (``attribution_N``, ``sources_acoustic``, ``origin_lon``, ``impact_cov_xx_m2``, ...), with
  the date, the time of day (UTC) and RFC 3339 times;
- **Parquet** (GeoParquet 1.0, WKB points) for researchers: times as ``timestamp[us, UTC]``,
  ``attribution`` and ``sources`` as maps, ``violations`` and ``observations`` as lists,
  points and covariances as structs; the tree head in the file's metadata.

What goes in is what the audience may see: the CLI passes the incidents through
:func:`truceline.publish.audience.for_audience` (reviews applied; for ``public``, exactly the
public API's disclosure rules).

>>> own_columns(["N", "S"], ["C1"])[:6]
['truceline_id', 'kind', 'weapon', 'status', 'published', 'time_start']
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from .._extras import require
from ..agreement import Agreement
from ..i18n import language
from ..incidents import COUNTED_CONFIDENCE
from ..labels import place_label
from ..places import Place, describe_features
from .acled import ACLED_COLUMNS, UCDP_COLUMNS, acled_row

__all__ = [
    "ACLED_COLUMNS",
    "FORMATS",
    "SUFFIXES",
    "TEXT_FORMATS",
    "acled_row",
    "as_text",
    "export",
    "flat_rows",
    "own_columns",
]

FORMATS = ("geojson", "gpkg", "csv", "parquet")
#: the formats written as text (also answered by the API)
TEXT_FORMATS = ("geojson", "csv")
#: the file name endings each format is written to (anything else is refused)
SUFFIXES = {
    "geojson": (".geojson", ".json"),
    "gpkg": (".gpkg",),
    "csv": (".csv",),
    "parquet": (".parquet", ".geoparquet"),
}
EN = language("en")
PLACE_COLUMNS = ("location", "location_label", "admin1", "admin2", "country_code", "mgrs")


def own_columns(
    parties: list[str], clauses: list[str], extra: dict[str, list[str]] | None = None
) -> list[str]:
    """Truceline's columns of the flat table (CSV, GeoPackage), in order."""
    extra = extra or {}
    cols = ["truceline_id", "kind", "weapon", "status", "published", "time_start", "time_end",
            "date", "time_utc", "confidence", "counted", "attributed_to"]  # fmt: skip
    cols += [f"attribution_{p}" for p in parties] + ["attribution_undetermined", "violations"]
    cols += [f"violation_probability_{c}" for c in extra.get("violation_probabilities", [])]
    cols += [f"weapon_probability_{w}" for w in extra.get("weapon_probabilities", [])]
    cols += [f"sources_{s}" for s in extra.get("sources", [])]
    for point in ("origin", "impact"):
        cols += [f"{point}_lon", f"{point}_lat", f"{point}_sigma_m"]
        cols += [f"{point}_cov_xx_m2", f"{point}_cov_xy_m2", f"{point}_cov_yy_m2"]
    cols += [*PLACE_COLUMNS, "observations", "alleged_by", "disclosure", "tree_size", "root_hash"]
    return cols


def _keys(features: list[dict[str, Any]], prop: str) -> list[str]:
    return sorted({k for f in features for k in (f["properties"].get(prop) or {})})


def _flat(
    p: dict[str, Any], parties: list[str], place: Place | None, head: dict[str, Any] | None
) -> dict[str, Any]:
    attribution = p.get("attribution") or {}
    row: dict[str, Any] = {
        "truceline_id": p["id"], "kind": p["kind"], "weapon": p.get("weapon", "unknown"),
        "status": p.get("status", "automatic"), "published": bool(p.get("published", False)),
        "time_start": p["time_start"], "time_end": p["time_end"], "date": p["time_start"][:10],
        "time_utc": p["time_start"][11:19], "confidence": p["confidence"],
        "counted": p["confidence"] >= COUNTED_CONFIDENCE,
        "attributed_to": p.get("attributed_to") or "",
        "attribution_undetermined": round(max(0.0, 1.0 - sum(attribution.values())), 4),
        "violations": ";".join(p.get("violations") or []),
        "observations": ";".join(p.get("observations") or []),
        "alleged_by": ";".join(p.get("alleged_by") or []), "disclosure": p.get("disclosure", ""),
        "tree_size": (head or {}).get("tree_size", ""), "root_hash": (head or {}).get("root_hash", ""),
    }  # fmt: skip
    row |= {f"attribution_{k}": attribution.get(k, 0.0) for k in parties}
    for prop, prefix in (
        ("violation_probabilities", "violation_probability"),
        ("weapon_probabilities", "weapon_probability"),
        ("sources", "sources"),
    ):
        row |= {f"{prefix}_{k}": v for k, v in (p.get(prop) or {}).items()}  # fmt: skip
    for point in ("origin", "impact"):
        xy, cov = p.get(point) or [None, None], p.get(f"{point}_cov_m2") or [None, None, None]
        row |= {
            f"{point}_lon": xy[0],
            f"{point}_lat": xy[1],
            f"{point}_sigma_m": p.get(f"{point}_sigma_m"),
        }
        row |= {f"{point}_cov_{a}_m2": v for a, v in zip(("xx", "xy", "yy"), cov, strict=True)}
    sigma = p.get("impact_sigma_m") if p.get("impact") else p.get("origin_sigma_m")
    row |= {
        "location": place.names["en"] if place else "", "location_label": place_label(place, EN, sigma),
        "admin1": place.admin1 if place else "", "admin2": place.admin2 if place else "",
        "country_code": place.country if place else "", "mgrs": place.mgrs if place else "",
    }  # fmt: skip
    return row


def flat_rows(
    features: list[dict[str, Any]],
    ag: Agreement | None,
    head: dict[str, Any] | None,
    places: list[Place | None] | None = None,
) -> tuple[list[str], list[dict[str, Any]]]:
    """The incidents as one flat row each (Truceline's columns), and the column names."""
    parties = list(ag.party_ids) if ag else _keys(features, "attribution")
    clauses = [c.id for c in ag.clauses] if ag else []
    extra = {
        k: _keys(features, k)
        for k in ("violation_probabilities", "weapon_probabilities", "sources")
    }
    places = places if places is not None else describe_features(features)
    cols = own_columns(parties, clauses, extra)
    rows = [
        _flat(f["properties"], parties, pl, head) for f, pl in zip(features, places, strict=True)
    ]
    return cols, [{c: r.get(c) for c in cols} for r in rows]


def _impact_parties(features: list[dict[str, Any]], ag: Agreement | None) -> list[str | None]:
    """The party whose control area holds each incident's impact (None if none)."""
    out: list[str | None] = [None] * len(features)
    hit = [i for i, f in enumerate(features) if f["properties"].get("impact")]
    if ag is None or not hit:
        return out
    lon = [features[i]["properties"]["impact"][0] for i in hit]
    lat = [features[i]["properties"]["impact"][1] for i in hit]
    for i, o in zip(hit, ag.owner_index(*ag.to_local(lon, lat)).tolist(), strict=True):
        out[i] = ag.party_ids[o] if o >= 0 else None
    return out


def to_csv(
    features: list[dict[str, Any]], ag: Agreement | None, head: dict[str, Any] | None
) -> str:
    """ACLED's columns, UCDP GED's precision codes, then Truceline's flat columns."""
    names = {p.id: p.name for p in ag.parties} if ag else {}
    texts = {c.id: c.text for c in ag.clauses} if ag else {}
    places = describe_features(features)
    cols, flat = flat_rows(features, ag, head, places)
    cols = [c for c in cols if c not in ACLED_COLUMNS]  # location, admin1, admin2: ACLED's
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=[*ACLED_COLUMNS, *UCDP_COLUMNS, *cols], lineterminator="\n"
    )
    writer.writeheader()
    owners = _impact_parties(features, ag)
    for f, place, owner, row in zip(features, places, owners, flat, strict=True):
        acled = acled_row(f["properties"], names, head, place, owner, texts)
        own = {k: ("" if row[k] is None else row[k]) for k in cols}
        writer.writerow({**acled, **own})
    return buf.getvalue()


def _check_out(fmt: str, out: Path) -> None:
    from ..errors import UsageError

    if fmt not in FORMATS:
        raise UsageError("--format", f"must be one of {', '.join(FORMATS)}")
    if out.suffix.lower() not in SUFFIXES[fmt]:
        raise UsageError("--out", f"{out.name}: a {fmt} export is written to a file ending in "
                         f"{' or '.join(SUFFIXES[fmt])}")  # fmt: skip
    if out.is_dir():
        raise UsageError("--out", f"{out} is a directory")


def export(
    fmt: str,
    out: Path,
    features: list[dict[str, Any]],
    head: dict[str, Any] | None,
    names: dict[str, str] | None = None,
    observations: list[dict[str, Any]] | None = None,
    agreement: Agreement | None = None,
) -> Path:
    """Write ``features`` (GeoJSON incident features, as the audience may see them) as
    ``fmt`` to ``out``. The GeoPackage also gets the observations (with a position) and,
    with ``agreement``, its geometry. (``names`` is kept for callers of earlier versions: the
    party names come from the agreement.)"""
    _check_out(fmt, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt in TEXT_FORMATS:
        out.write_text(as_text(fmt, features, head, agreement), encoding="utf-8")
        return out
    require("geopandas", "geo", "GeoPackage and Parquet exports")
    if fmt == "parquet":
        from .parquet import write_parquet

        return write_parquet(out, features, head, agreement, describe_features(features))
    from .layers import write_geopackage

    return write_geopackage(out, features, head, agreement, observations or [])


def as_text(
    fmt: str, features: list[dict[str, Any]], head: dict[str, Any] | None, ag: Agreement | None
) -> str:
    """A GeoJSON or CSV export as text (what :func:`export` writes, and what the API's
    ``POST /v1/incidents/export`` answers): the features as given, each with its place."""
    if fmt == "csv":
        return to_csv(features, ag, head)
    if fmt != "geojson":
        raise ValueError(f"{fmt}: a text export is one of {', '.join(TEXT_FORMATS)}")
    places = describe_features(features)
    feats = [_with_place(f, pl) for f, pl in zip(features, places, strict=True)]
    doc = {"type": "FeatureCollection", "tree_head": head, "features": feats}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False) + "\n"


def _with_place(f: dict[str, Any], place: Place | None) -> dict[str, Any]:
    if place is None:
        return f
    p = f["properties"]
    sigma = p.get("impact_sigma_m") if p.get("impact") else p.get("origin_sigma_m")
    where = {
        "name": place.names, "label": place_label(place, EN, sigma), "km": round(place.km, 2),
        "direction": place.compass, "admin1": place.admin1, "admin2": place.admin2,
        "country": place.country, "mgrs": place.mgrs, "geonameid": place.geonameid,
    }  # fmt: skip
    return {**f, "properties": {**p, "place": where}}
