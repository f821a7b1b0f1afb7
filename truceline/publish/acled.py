"""Incidents as ACLED and UCDP GED code events: ACLED's columns, in the order of its codebook,
with its value conventions, then UCDP GED's precision codes.

ACLED (codebook 2023-2024, after the column changes of March 2023): ``event_id_cnty,
event_date, year, time_precision, disorder_type, event_type, sub_event_type, actor1,
assoc_actor_1, inter1, actor2, assoc_actor_2, inter2, interaction, civilian_targeting, iso,
region, country, admin1, admin2, admin3, location, latitude, longitude, geo_precision,
source, source_scale, notes, fatalities, tags, timestamp``. How Truceline fills them:

- ``event_id_cnty``: the country's ISO 3166-1 alpha-3 code and the incident id's hex digits;
  ``event_date`` YYYY-MM-DD (UTC); ``timestamp``: the Unix time of the tree head the export
  was made at (when the data last changed, as ACLED's does).
- fire is "Explosions/Remote violence" ("Shelling/artillery/missile attack", air strikes
  "Air/drone strike"), of ``disorder_type`` "Political violence"; presence and crossing are
  "Strategic developments" / "Change to group/activity".
- ``actor1``: the party the incident is attributed to, by its name in the agreement, else
  "Unidentified Armed Group (<country>)"; ``actor2``: the party whose control area holds the
  impact, when it is not actor1. ``inter1``/``inter2``: 1 (state forces) for a party of the
  agreement, 3 for an unidentified armed group (as ACLED codes them), 0 for no actor;
  ``interaction``: the two codes, lower first, a lone actor's as "10".
- ``civilian_targeting`` and ``fatalities`` are empty: the mechanism observes neither, and an
  empty cell is ACLED's "unknown" (0 would say "none").
- ``region``: ACLED's region of the country, from its UN M49 subregion (ACLED follows M49
  but for Iran, in the Middle East, and the South Caucasus, with Central Asia);
  ``admin1``/``admin2`` and ``location``: from the nearest settlement (:mod:`truceline.places`);
  ``admin3`` is empty (GeoNames has no third level in the data shipped).
- ``geo_precision``: 1 for a location known within 1 km, 2 within 25 km, 3 beyond, or none;
  ``time_precision``: 1 for an incident within a day, 2 within a week, 3 longer.
- an incident below the counting confidence (0.5) is published but is not an event: its
  ``disorder_type``, ``event_type`` and ``sub_event_type`` are empty, its ``notes`` begin
  "NOT COUNTED" and its ``tags`` end ``counted=false`` (the flat ``counted`` column says the
  same), so a pipeline that loads ACLED types never takes it for one.
- ``source``: "Truceline" and the kinds of evidence; ``source_scale``: "Other"; ``notes``: the
  incident in a sentence; ``tags``: its status, confidence and weapon class.

UCDP GED ``where_prec`` (1 exact, 2 within 25 km, 4 first-order region or unknown) and
``date_prec`` (1 day, 3 week, 4 month or longer) are mapped the same way.

>>> row = acled_row({"id": "inc-0123456789abcdef", "kind": "fire",
...     "time_start": "2026-03-01T03:00:00Z", "time_end": "2026-03-01T03:00:40Z",
...     "weapon": "mortar_lt120", "impact": [36.1, 48.2], "impact_sigma_m": 5.0,
...     "confidence": 0.96, "attributed_to": "N", "attribution": {"N": 1.0},
...     "violations": ["C1"], "sources": {"acoustic": 9}, "status": "automatic"},
...     {"N": "Northern Party", "S": "Southern Party"}, impact_party="S")
>>> row["sub_event_type"], row["actor1"], row["actor2"], row["interaction"], row["fatalities"]
('Shelling/artillery/missile attack', 'Northern Party', 'Southern Party', 11, '')
"""

from __future__ import annotations

from typing import Any

from .._time import parse_time
from ..i18n import language
from ..incidents import COUNTED_CONFIDENCE
from ..labels import label, place_label
from ..places import Place

__all__ = ["ACLED_COLUMNS", "UCDP_COLUMNS", "acled_region", "acled_row", "precision"]

ACLED_COLUMNS = (
    "event_id_cnty", "event_date", "year", "time_precision", "disorder_type", "event_type",
    "sub_event_type", "actor1", "assoc_actor_1", "inter1", "actor2", "assoc_actor_2",
    "inter2", "interaction", "civilian_targeting", "iso", "region", "country", "admin1",
    "admin2", "admin3", "location", "latitude", "longitude", "geo_precision", "source",
    "source_scale", "notes", "fatalities", "tags", "timestamp",
)  # fmt: skip
UCDP_COLUMNS = ("where_prec", "date_prec")
DAY_US = 86_400_000_000
_TYPES = {
    "fire": ("Political violence", "Explosions/Remote violence", "Shelling/artillery/missile attack"),
    "air": ("Political violence", "Explosions/Remote violence", "Air/drone strike"),
    "presence": ("Strategic developments", "Strategic developments", "Change to group/activity"),
    "crossing": ("Strategic developments", "Strategic developments", "Change to group/activity"),
}  # fmt: skip
_OTHER = ("Strategic developments", "Strategic developments", "Other")
#: ACLED's regions by UN M49 subregion code
_M49 = {
    "011": "Western Africa", "017": "Middle Africa", "014": "Eastern Africa",
    "018": "Southern Africa", "015": "Northern Africa", "034": "South Asia",
    "035": "Southeast Asia", "030": "East Asia", "145": "Middle East",
    "143": "Caucasus and Central Asia", "151": "Europe", "154": "Europe", "039": "Europe",
    "155": "Europe", "013": "Central America", "005": "South America", "029": "Caribbean",
    "021": "North America", "053": "Oceania", "054": "Oceania", "057": "Oceania",
    "061": "Oceania",
}  # fmt: skip
_EXCEPTIONS = {"IR": "Middle East", "AM": "Caucasus and Central Asia",
               "AZ": "Caucasus and Central Asia", "GE": "Caucasus and Central Asia"}  # fmt: skip
EN = language("en")


def acled_region(country: str) -> str:
    """ACLED's region of a country (ISO alpha-2), "" where unknown.

    >>> acled_region("UA"), acled_region("GE"), acled_region("IR"), acled_region("SY")
    ('Europe', 'Caucasus and Central Asia', 'Middle East', 'Middle East')
    """
    if country in _EXCEPTIONS:
        return _EXCEPTIONS[country]
    try:
        import localis

        found = localis.countries.lookup(country)  # type: ignore[attr-defined]
    except ImportError:
        return ""
    for m in getattr(found, "macroregions", None) or []:
        if m.type == "subregion" and m.code in _M49:
            return _M49[m.code]
    return ""


def precision(p: dict[str, Any]) -> tuple[int, int, int, int]:
    """(ACLED geo_precision, UCDP where_prec, ACLED time_precision, UCDP date_prec) from the
    location's 1-sigma radius and the incident's time span."""
    point = p.get("impact") or p.get("origin")
    sigma = p.get("impact_sigma_m") if p.get("impact") else p.get("origin_sigma_m")
    if point is None or sigma is None or p.get("kind") == "unlocated":
        geo, where = 3, 4
    elif sigma <= 1_000:
        geo, where = 1, 1
    elif sigma <= 25_000:
        geo, where = 2, 2
    else:
        geo, where = 3, 4
    span = parse_time(p["time_end"]) - parse_time(p["time_start"])
    tp, dp = (1, 1) if span <= DAY_US else (2, 3) if span <= 7 * DAY_US else (3, 4)
    return geo, where, tp, dp


def _interaction(a: int, b: int) -> int:
    return int(f"{max(a, b)}0") if 0 in (a, b) else int(f"{min(a, b)}{max(a, b)}")


def acled_row(
    p: dict[str, Any],
    names: dict[str, str],
    head: dict[str, Any] | None = None,
    place: Place | None = None,
    impact_party: str | None = None,
    clause_texts: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One incident (its GeoJSON properties) as ACLED and UCDP GED code it; ``names``: party
    id → name; ``impact_party``: the party whose control area holds the impact."""
    point = p.get("impact") or p.get("origin") or [None, None]
    geo, where, tp, dp = precision(p)
    disorder, event_type, sub = _TYPES.get(p["kind"], _OTHER)
    counted = p["confidence"] >= COUNTED_CONFIDENCE
    if not counted:  # published, but not an event: no ACLED type is claimed for it
        disorder, event_type, sub = "", "", ""
    who = p.get("attributed_to")
    country = place.country_name if place else ""
    actor1 = names.get(who, who) if who else f"Unidentified Armed Group ({country or 'unknown'})"
    inter1 = 1 if who else 3
    other = impact_party if impact_party and impact_party != who else None
    actor2, inter2 = (names.get(other, other), 1) if other else ("", 0)
    ts = (head or {}).get("timestamp")
    return {
        "event_id_cnty": f"{place.iso3 if place else ''}{p['id'].removeprefix('inc-').upper()}",
        "event_date": p["time_start"][:10],
        "year": int(p["time_start"][:4]),
        "time_precision": tp,
        "disorder_type": disorder,
        "event_type": event_type,
        "sub_event_type": sub,
        "actor1": actor1,
        "assoc_actor_1": "",
        "inter1": inter1,
        "actor2": actor2,
        "assoc_actor_2": "",
        "inter2": inter2,
        "interaction": _interaction(inter1, inter2),
        "civilian_targeting": "",
        "iso": place.iso_numeric if place else "",
        "region": acled_region(place.country) if place else "",
        "country": country,
        "admin1": place.admin1 if place else "",
        "admin2": place.admin2 if place else "",
        "admin3": "",
        "location": place.names["en"] if place else "",
        "latitude": point[1],
        "longitude": point[0],
        "geo_precision": geo,
        "source": _source(p),
        "source_scale": "Other",
        "notes": ("" if counted else "NOT COUNTED (confidence below 0.5, not an event): ")
        + _notes(p, names, place, clause_texts or {}),
        "fatalities": "",
        "tags": f"status={p.get('status', 'automatic')}; confidence={p['confidence']:.2f}; "
        f"weapon={p.get('weapon', 'unknown')}" + ("" if counted else "; counted=false"),
        "timestamp": parse_time(ts) // 1_000_000 if ts else "",
        "where_prec": where,
        "date_prec": dp,
    }


def _source(p: dict[str, Any]) -> str:
    kinds = ", ".join(
        f"{label('source', k, EN)} {v}" for k, v in sorted((p.get("sources") or {}).items())
    )
    return f"Truceline ({kinds})" if kinds else "Truceline"


def _notes(
    p: dict[str, Any], names: dict[str, str], place: Place | None, texts: dict[str, str]
) -> str:
    """The incident in a sentence, as ACLED's notes give one."""
    what = f"{label('kind', p['kind'], EN)} ({label('weapon', p.get('weapon', 'unknown'), EN)})"
    sigma = p.get("impact_sigma_m") if p.get("impact") else p.get("origin_sigma_m")
    where = f" {place_label(place, EN, sigma)} (MGRS {place.mgrs})" if place else " (not located)"
    who = p.get("attributed_to")
    probs = ", ".join(
        f"{names.get(k, k)} {v:.2f}" for k, v in sorted((p.get("attribution") or {}).items())
    )
    blame = (
        f"attributed to {names.get(who, who)}"
        if who
        else f"side not determined ({probs or 'no origin'})"
    )
    broken = "; ".join(f"{c} ({texts[c]})" if c in texts else c for c in p.get("violations") or [])
    return (
        f"On {p['time_start'][:10]} at {p['time_start'][11:19]} UTC, {what}{where}, {blame}; "
        f"breaks {broken or 'no clause'}; confidence {p['confidence']:.2f}; "
        f"{label('status', p.get('status', 'automatic'), EN)}. Truceline incident {p['id']}."
    )
