"""Local metric frames: every distance in Truceline is computed in metres, never in degrees.

:class:`LocalFrame` is a transverse Mercator projection centred on the area of interest
(scale error below 0.1 % within 450 km of the centre, 0.6 % at 700 km), so a whole
1,400 km line fits in one frame with sub-percent distortion and a sector of a few hundred
kilometres is practically exact.

>>> frame = LocalFrame(lon0=30.0, lat0=48.0)
>>> x, y = frame.forward([30.0, 30.1], [48.0, 48.0])
>>> round(float(x[0]), 6), round(float(x[1]))
(0.0, 7463)
>>> lon, lat = frame.inverse(x, y)
>>> [round(v, 9) for v in lon.tolist()]
[30.0, 30.1]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from pyproj import CRS, Transformer

__all__ = ["LocalFrame", "frame_for_bounds"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class LocalFrame:
    """A transverse Mercator frame (metres, x east, y north) centred on ``(lon0, lat0)``."""

    lon0: float
    lat0: float
    _fwd: Any = field(init=False, repr=False, compare=False)
    _inv: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        crs = CRS.from_proj4(
            f"+proj=tmerc +lat_0={float(self.lat0)!r} +lon_0={float(self.lon0)!r} +k=1 +x_0=0 +y_0=0 "
            "+ellps=WGS84 +units=m +no_defs"
        )
        object.__setattr__(self, "_fwd", Transformer.from_crs("EPSG:4326", crs, always_xy=True))
        object.__setattr__(self, "_inv", Transformer.from_crs(crs, "EPSG:4326", always_xy=True))

    def forward(self, lon: ArrayLike, lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """Longitude/latitude (degrees) to x/y (metres)."""
        x, y = self._fwd.transform(np.asarray(lon, float), np.asarray(lat, float))
        return np.asarray(x, float), np.asarray(y, float)

    def inverse(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """x/y (metres) to longitude/latitude (degrees)."""
        lon, lat = self._inv.transform(np.asarray(x, float), np.asarray(y, float))
        return np.asarray(lon, float), np.asarray(lat, float)

    def to_local(self, geom: shapely.Geometry) -> shapely.Geometry:
        """Project a lon/lat shapely geometry into this frame."""
        return shapely.transform(geom, lambda xy: np.column_stack(self.forward(xy[:, 0], xy[:, 1])))

    def to_lonlat(self, geom: shapely.Geometry) -> shapely.Geometry:
        """Project a geometry in this frame back to lon/lat."""
        return shapely.transform(geom, lambda xy: np.column_stack(self.inverse(xy[:, 0], xy[:, 1])))


def frame_for_bounds(minx: float, miny: float, maxx: float, maxy: float) -> LocalFrame:
    """The frame centred on a lon/lat bounding box, centre rounded to 1e-4 degree.

    Rounding makes the frame (and so every number computed in it) independent of tiny
    differences in the input geometry's extent.
    """
    return LocalFrame(round(float(minx + maxx) / 2, 4), round(float(miny + maxy) / 2, 4))
