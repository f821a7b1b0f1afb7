"""Who holds what on one front map, and where the line of contact runs.

From a :class:`FrontSnapshot` (the map's polygons by side, lon/lat) and the
:class:`~.territory.Territory`, :meth:`Front.of` builds, in the territory's metric frame:

1. **Occupied ground** O: the occupied polygons (Crimea and the areas held since 2014
   included), their seams closed (a morphological closing of 150 m: the map is drawn in
   tiles with gaps of metres between them), holes under 2 km² filled, the held polygons
   drawn over them and the contested ones taken out, clipped to the state.
2. **Contested ground** C: the contested polygons (and those of unknown side), less held
   and occupied, clipped to the state.
3. **Enclaves**: unpainted ground touching O but cut off from the main held area by O, C and
   the state border or coast (the Arabat and Kinburn spits, river islands, a besieged city
   left unpainted). The legend says their side (by default ``contested``: the map does not
   say who holds them); their edge is never a line of contact.
4. **The line of contact**: the edge of O that faces the state's other ground, held or
   contested (where a contested strip lies between the sides, the line is the occupied
   side's edge of it: what the occupying side is known to hold). Not an edge between two
   occupied features (closed away in 1), not the state border or the coast: an edge within
   5 km of the border or coast is kept only where the held side there is wider than 3 km
   (an opening of 1.5 km), so a sliver of unpainted coast or border strip is no front.

Each snapshot's summary states the areas (km², on the ellipsoid) and the line's length, so
a jump from one snapshot to the next is visible.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import shapely

from .deepstate import MapLayers, Unmatched
from .territory import Territory

__all__ = ["CLOSING_M", "OPENING_M", "Front", "FrontSnapshot", "held_since_2014"]

CLOSING_M = 150.0
MIN_HOLE_M2 = 2e6
MIN_PART_M2 = 1e5
OPENING_M = 1_500.0
REACH_M = 50.0
QUAD = 3  # segments per quarter circle of a buffer: corners of metres, not of the front
MARKED_SHARE = 0.05  # an enclave with more of it drawn held or contested is as drawn
_EMPTY = shapely.Polygon()


@dataclass
class FrontSnapshot:
    """A front map at one time: its polygons by side (lon/lat) as its legend read them."""

    time_us: int
    occupied: shapely.Geometry
    contested: shapely.Geometry
    source: str = ""
    held: shapely.Geometry = _EMPTY
    outside: shapely.Geometry = _EMPTY
    since_2014: shapely.Geometry = _EMPTY
    ordlo: shapely.Geometry = _EMPTY
    enclaves: str = "contested"
    unmatched: tuple[Unmatched, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, layers: MapLayers, enclaves: str = "contested") -> FrontSnapshot:
        def union(polys: list[shapely.Geometry]) -> shapely.Geometry:
            return shapely.union_all(polys) if polys else _EMPTY

        p = layers.polygons
        return cls(
            layers.time_us,
            union(p["occupied"]),
            union(p["contested"]),
            layers.source,
            held=union(p["held"]),
            outside=union(p["outside"]),
            since_2014=union(layers.since_2014),
            ordlo=union(layers.ordlo),
            enclaves=enclaves,
            unmatched=tuple(layers.unmatched),
            counts=dict(layers.counts),
        )


def _closed(g: shapely.Geometry) -> shapely.Geometry:
    """Seams and gaps of a tiled drawing closed, small holes filled."""
    if shapely.is_empty(g):
        return g
    g = shapely.buffer(shapely.buffer(g, CLOSING_M, quad_segs=QUAD), -CLOSING_M, quad_segs=QUAD)
    parts = []
    for p in shapely.get_parts(g):
        if p.geom_type != "Polygon":
            continue
        holes = [r for r in p.interiors if shapely.area(shapely.Polygon(r)) >= MIN_HOLE_M2]
        parts.append(shapely.Polygon(p.exterior, holes))
    return shapely.union_all(parts) if parts else _EMPTY


def _big(g: shapely.Geometry) -> shapely.Geometry:
    parts = [p for p in shapely.get_parts(g) if p.geom_type == "Polygon" and p.area > MIN_PART_M2]
    return shapely.union_all(parts) if parts else _EMPTY


def _enclaves(
    free: shapely.Geometry, occ: shapely.Geometry, held: shapely.Geometry
) -> shapely.Geometry:
    """Parts of the unoccupied, uncontested ground other than the main one that touch the
    occupied ground and are not drawn held."""
    parts = [p for p in shapely.get_parts(free) if p.geom_type == "Polygon"]
    if len(parts) < 2:
        return _EMPTY
    parts.sort(key=lambda p: -p.area)
    rest = shapely.GeometryCollection(parts[1:])
    cand = shapely.get_parts(rest)
    touch = shapely.dwithin(cand, occ, REACH_M)
    drawn = shapely.area(shapely.intersection(cand, held)) if not shapely.is_empty(held) else 0.0
    keep = touch & (drawn < MARKED_SHARE * shapely.area(cand))
    picked = list(cand[keep])
    return shapely.union_all(picked) if picked else _EMPTY


def _line(
    occ: shapely.Geometry, free: shapely.Geometry, terr: Territory, enclaves: shapely.Geometry
) -> shapely.Geometry:
    """The edge of ``occ`` facing the state's other ground ``free`` (held or contested),
    away from the border and coast unless the held side there is wider than a sliver."""
    edge = shapely.boundary(occ)
    if not shapely.is_empty(enclaves):
        edge = shapely.difference(edge, shapely.buffer(enclaves, REACH_M))
    inner = shapely.intersection(edge, terr.inner)
    # near the border and coast: less the edges that are the border or coast themselves
    near_border = shapely.difference(shapely.difference(edge, terr.inner), terr.shore)
    if shapely.is_empty(near_border):
        return shapely.line_merge(inner)
    # the held side's ground near the border, opened: slivers under 3 km wide vanish
    zone = shapely.buffer(near_border, OPENING_M * 2 + REACH_M, quad_segs=QUAD)
    wide = shapely.buffer(
        shapely.buffer(shapely.intersection(free, zone), -OPENING_M, quad_segs=QUAD),
        OPENING_M + REACH_M,
        quad_segs=QUAD,
    )
    kept = shapely.intersection(near_border, wide)
    return shapely.line_merge(shapely.union_all([inner, kept]))


@dataclass
class Front:
    """One snapshot's ground by side and its line of contact (metres, the territory's
    frame), with its summary. ``occupied`` and ``contested`` are the map as drawn (for
    siding points: the state's exact border decides what is outside); ``ground`` is the
    occupied ground clipped to the territory (its area, and the line's edge)."""

    snapshot: FrontSnapshot
    occupied: shapely.Geometry
    contested: shapely.Geometry  # drawn contested, unknown side, and contested enclaves
    ground: shapely.Geometry
    line: shapely.Geometry
    summary: dict[str, Any]

    @classmethod
    def of(cls, snap: FrontSnapshot, terr: Territory) -> Front:
        frame, land = terr.frame, terr.area
        held = frame.to_local(snap.held)
        outside = frame.to_local(snap.outside)  # never occupied, never contested
        con = _minus(_closed(frame.to_local(snap.contested)), held, outside)
        occ = _minus(_closed(frame.to_local(snap.occupied)), held, con, outside)
        ground = _big(shapely.intersection(occ, land))
        con_ground = shapely.intersection(con, land)
        enclaves = _enclaves(_minus(land, ground, con_ground), ground, held)
        if snap.enclaves == "occupied":
            occ, ground = shapely.union(occ, enclaves), shapely.union(ground, enclaves)
        line = _line(ground, shapely.difference(land, ground), terr, enclaves)
        if snap.enclaves == "contested":
            con, con_ground = shapely.union(con, enclaves), shapely.union(con_ground, enclaves)
        for g in (occ, con):
            shapely.prepare(g)
        summary = _summary(snap, terr, ground, con_ground, enclaves, line)
        return cls(snap, occ, con, ground, line, summary)


def _minus(g: shapely.Geometry, *others: shapely.Geometry) -> shapely.Geometry:
    for other in others:
        if not shapely.is_empty(other):
            g = shapely.difference(g, other)
    return g


def _summary(
    snap: FrontSnapshot,
    terr: Territory,
    occ: shapely.Geometry,
    contested: shapely.Geometry,
    enclaves: shapely.Geometry,
    line: shapely.Geometry,
) -> dict[str, Any]:
    since = shapely.intersection(terr.frame.to_local(snap.since_2014), occ)
    from .._time import format_time

    return {
        "snapshot": snap.source,
        "time": format_time(snap.time_us),
        "occupied_km2": round(terr.km2(occ)),
        "occupied_since_2014_km2": round(terr.km2(since)),
        "contested_km2": round(terr.km2(contested)),
        "enclaves": {
            "side": snap.enclaves,
            "count": len(shapely.get_parts(enclaves)) if not shapely.is_empty(enclaves) else 0,
            "km2": round(terr.km2(enclaves)),
        },
        "line_of_contact_km": round(terr.km(line)),
        "polygons": snap.counts,
        "unmatched": [str(u) for u in snap.unmatched],
    }


def held_since_2014(snap: FrontSnapshot, terr: Territory) -> dict[str, shapely.Geometry]:
    """The ground held since 2014 as a 2022 map draws it, in the territory's frame:
    ``ordlo`` (certain areas of Donetsk and Luhansk oblasts) and ``crimea``, each closed and
    clipped to the state, and ``line``: ORDLO's edge against the rest of the state, less
    the state border (the line of contact of 2015-2022, as the map of 2022 remembers it).

    >>> import shapely
    >>> state = shapely.box(36.0, 47.0, 40.0, 50.0)
    >>> ordlo = shapely.box(38.0, 47.0, 41.0, 51.0)  # east of 38 E, beyond the state's edges
    >>> snap = FrontSnapshot(0, ordlo, shapely.Polygon(), ordlo=ordlo)
    >>> terr = Territory.of(state)
    >>> round(terr.km(held_since_2014(snap, terr)["line"]))  # 38 E across the state: 333 km
    331
    """
    frame, land = terr.frame, terr.area
    ordlo = _big(shapely.intersection(_closed(frame.to_local(snap.ordlo)), land))
    crimea = _minus(frame.to_local(snap.since_2014), frame.to_local(snap.ordlo))
    crimea = _big(shapely.intersection(_closed(crimea), land))
    rest = _minus(land, ordlo, crimea)
    line = _line(ordlo, rest, terr, _EMPTY) if not shapely.is_empty(ordlo) else _EMPTY
    return {"ordlo": ordlo, "crimea": crimea, "line": line}
