"""What the dashboard's map draws beside the incidents: the withdrawal bands of the
agreement's clauses, and the gazetteer's settlements (the report's own) within a view.

- :func:`withdrawal_bands`: for each ``presence`` clause with ``within_km`` (heavy weapons
  withdrawn so far from the line), each party's band: the part of its own control area
  within that distance of the line of contact, which is where the clause is broken
  (:mod:`truceline.judge`). Computed in the agreement's local metric frame, so the band is
  as wide on the ground as the clause says, simplified to 50 m and rounded to 1e-5°.
- :func:`places_within`: the most populous settlements of :func:`truceline.places.gazetteer`
  inside a longitude/latitude box, with their names in English, Ukrainian and Russian, and
  the settlement nearest a point in the report's words ("3.2 km SSW of Pokrovsk",
  :func:`truceline.labels.place_label`).

>>> from truceline.simulate.scenario import demo_agreement
>>> bands = withdrawal_bands(demo_agreement())["features"]
>>> sorted({(f["properties"]["clause"], f["properties"]["party"]) for f in bands})[:3]
[('C2', 'N'), ('C2', 'S'), ('C3', 'N')]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .agreement import Agreement

__all__ = ["MAX_PLACES", "nearest_place", "places_within", "withdrawal_bands"]

SIMPLIFY_M = 50.0
MAX_PLACES = 200


def withdrawal_bands(ag: Agreement) -> dict[str, Any]:
    """The bands of the ``within_km`` clauses, one feature per clause and party (lon/lat),
    widest first (so narrower bands are drawn over them)."""
    import shapely
    import shapely.geometry

    def lonlat(xy: Any) -> Any:
        lon, lat = ag.to_lonlat(xy[:, 0], xy[:, 1])
        return np.column_stack([lon, lat])

    features = []
    rules = [c for c in ag.clauses if c.rule.kind == "presence" and c.rule.within_km]
    for clause in sorted(rules, key=lambda c: -(c.rule.within_km or 0.0)):
        km = float(clause.rule.within_km or 0.0)
        reach = shapely.buffer(ag.line_local, km * 1000.0, quad_segs=16)
        for party in ag.party_ids:
            band = shapely.intersection(reach, ag.control_local[party])
            band = shapely.simplify(band, SIMPLIFY_M, preserve_topology=True)
            if band.is_empty:
                continue
            geom = shapely.set_precision(shapely.transform(band, lonlat), 1e-5)  # ~1 m
            props = {"clause": clause.id, "party": party, "within_km": km, "text": clause.text}
            features.append(
                {"type": "Feature", "geometry": shapely.geometry.mapping(geom), "properties": props}
            )
    return {"type": "FeatureCollection", "features": features}


def places_within(
    west: float, south: float, east: float, north: float, limit: int = MAX_PLACES
) -> list[dict[str, Any]]:
    """The ``limit`` most populous settlements inside the box (degrees), most populous
    first: what a map labels at the box's zoom (the smaller the box, the smaller the places
    that make the cut)."""
    from .places import gazetteer

    g = gazetteer()
    inside = np.flatnonzero((g.lon >= west) & (g.lon <= east) & (g.lat >= south) & (g.lat <= north))
    pop = g.a["population"][inside]
    order = inside[np.lexsort((inside, -pop))][: max(0, limit)]
    return [_place(g, int(i)) for i in order]


def nearest_place(lon: float, lat: float, lang: str = "en") -> dict[str, Any] | None:
    """The settlement nearest a point, and the point's place in the report's words
    (``label``: "3.2 km SSW of Pokrovsk"); None beyond 100 km."""
    from .i18n import language
    from .labels import place_label
    from .places import describe, gazetteer

    [place] = describe([lon], [lat])
    if place is None:
        return None
    g = gazetteer()
    [i] = np.flatnonzero(g.a["geonameid"] == place.geonameid)[:1]
    return {
        **_place(g, int(i)),
        "km": round(place.km, 2),
        "compass": place.compass,
        "label": place_label(place, language(lang)),
    }


def _place(g: Any, i: int) -> dict[str, Any]:
    return {
        "geonameid": int(g.a["geonameid"][i]),
        "names": g.names(i),
        "lon": round(float(g.lon[i]), 5),
        "lat": round(float(g.lat[i]), 5),
        "population": int(g.a["population"][i]),
    }
