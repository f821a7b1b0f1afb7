"""A simulated network on a real line of contact: the scenario of :mod:`.scenario`, built
along the line of a real front map instead of a synthetic wavy one.

The simulator draws events and places sensors against a line that is a function y = f(x)
of its frame (north party above, south party below). A real line is not one in any frame:
it bends round salients and follows river meanders. So the line is taken as the map gives
it (the longest continuous stretch of :meth:`truceline.frontmap.Front.of`'s line of contact:
1,239 km on 17 August 2025, from the Dnipro-Bug estuary to the Russian border in Kharkiv
oblast), put in a frame turned so that its ends lie on the x axis, and smoothed along its
length (a Gaussian of the smallest width, from 2 km up, that makes it such a function).
How far the smoothed line strays from the real one is measured and returned
(:attr:`RealLine.deviation_km`), and the README quotes it.

Sensors, observation posts and disengagement areas are placed along the line's length, not
along x: a row of sensors 3 km from the line is 3 km from it (along its normal) however the
line turns; a sensor that would fall on the wrong side or too near the line in a tight bend
is left out. The control areas are the two sides of the line, reaching 150 km beyond its
farthest bulge; the north party is the side that holds the map's held ground (``UA``), the
south party the occupying side (``RU``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.ndimage import gaussian_filter1d

from ..geo import LocalFrame
from .scenario import Scenario

__all__ = ["RealLine", "RotatedFrame", "real_line", "real_scenario", "scenario_for"]

FloatArray = NDArray[np.float64]
STEP_M = 500.0
SMOOTHING_M = 500.0
ROWS = ((3_000.0, 1.0), (9_000.0, 1.0), (16_000.0, 1.0), (28_000.0, 1.5))


@dataclass(frozen=True)
class RotatedFrame(LocalFrame):
    """A :class:`~truceline.geo.LocalFrame` turned by ``angle_deg`` (counter-clockwise) and
    shifted by ``shift_x`` along its new x axis.

    >>> f = RotatedFrame(36.0, 48.0, angle_deg=90.0, shift_x=0.0)
    >>> x, y = f.forward([36.0], [48.1])  # due north becomes +x
    >>> round(float(x[0])), round(float(y[0]))
    (11119, 0)
    >>> [round(float(v[0]), 9) for v in f.inverse(x, y)]
    [36.0, 48.1]
    """

    angle_deg: float = 0.0
    shift_x: float = 0.0

    def forward(self, lon: Any, lat: Any) -> tuple[FloatArray, FloatArray]:
        x, y = super().forward(lon, lat)
        c, s = np.cos(np.radians(self.angle_deg)), np.sin(np.radians(self.angle_deg))
        return c * x + s * y - self.shift_x, -s * x + c * y

    def inverse(self, x: Any, y: Any) -> tuple[FloatArray, FloatArray]:
        xa = np.asarray(x, float) + self.shift_x
        ya = np.asarray(y, float)
        c, s = np.cos(np.radians(self.angle_deg)), np.sin(np.radians(self.angle_deg))
        return super().inverse(c * xa - s * ya, s * xa + c * ya)


@dataclass(frozen=True)
class RealLine:
    """A real line of contact as the simulator needs it: y = f(x) in ``frame``."""

    frame: RotatedFrame
    x: FloatArray
    y: FloatArray
    length_km: float  # of the real stretch the line follows
    smoothing_km: float
    deviation_km: dict[str, float]  # median, p90 and max distance from the real line
    source: str
    occupied_north: bool = False  # the map's occupied ground lies above the line


def _main_stretch(
    front_file: Path, border_file: Path | None
) -> tuple[shapely.Geometry, shapely.Point | None]:
    """The longest continuous stretch of the map's line of contact (lon/lat) and a point of
    its occupied ground; or the longest of the lines of a GeoJSON line file (no side known)."""
    import json

    doc = json.loads(front_file.read_text(encoding="utf-8"))
    kinds = {(f.get("geometry") or {}).get("type") for f in doc.get("features", [])}
    occupied = None
    if kinds <= {"LineString", "MultiLineString"}:
        from .._geojson import read_lines

        line = read_lines(front_file)
    else:
        from ..errors import UsageError
        from ..frontmap import Front, Territory, read_border, read_snapshot

        if border_file is None:
            raise UsageError("--border", "a front map needs the state's territory (--border)")
        terr = Territory.of(read_border(border_file))
        front = Front.of(read_snapshot(front_file), terr)
        line = terr.frame.to_lonlat(front.line)
        biggest = max(shapely.get_parts(front.ground), key=lambda p: p.area)
        occupied = terr.frame.to_lonlat(shapely.point_on_surface(biggest))
    parts = [p for p in shapely.get_parts(shapely.line_merge(line)) if p.geom_type == "LineString"]
    return max(parts, key=lambda p: p.length), occupied


def _resampled(line: shapely.LineString) -> FloatArray:
    n = max(int(line.length // STEP_M), 2)
    pts = shapely.line_interpolate_point(line, np.linspace(0.0, line.length, n + 1))
    return np.asarray(shapely.get_coordinates(pts), float)


def _turned(xy: FloatArray, angle: float) -> FloatArray:
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    return np.column_stack([c * xy[:, 0] + s * xy[:, 1], -s * xy[:, 0] + c * xy[:, 1]])


def _monotone(xy: FloatArray) -> FloatArray:
    """The points of a line (in order) whose x passes every earlier point's: a function."""
    keep = xy[:, 0] >= np.maximum.accumulate(xy[:, 0])
    kept = xy[keep]
    return np.asarray(kept[np.concatenate([[True], np.diff(kept[:, 0]) > 1.0])], float)


def _function_of_x(xy: FloatArray) -> tuple[float, FloatArray]:
    """The turn (degrees) in which the lightly smoothed line, as a function of x, keeps the
    most of its length, and that function's points (in the turned frame)."""
    smooth = gaussian_filter1d(xy, SMOOTHING_M / STEP_M, axis=0, mode="nearest")
    best: tuple[float, float, FloatArray] | None = None
    for angle in np.arange(-180.0, 180.0, 2.5):
        points = _monotone(_turned(smooth, float(angle)))
        length = float(np.hypot(*np.diff(points, axis=0).T).sum())
        if best is None or length > best[0] + 1.0:
            best = (length, float(angle), points)
    assert best is not None
    return best[1], best[2]


def real_line(front_file: Path, border_file: Path | None = None) -> RealLine:
    """The longest stretch of a real line of contact as y = f(x) of a turned frame."""
    stretch, occupied = _main_stretch(front_file, border_file)
    (lon0, lon1), (lat0, lat1) = zip(stretch.coords[0][:2], stretch.coords[-1][:2], strict=True)
    base = LocalFrame(round((lon0 + lon1) / 2, 4), round((lat0 + lat1) / 2, 4))
    local = base.to_local(stretch)
    angle, fn = _function_of_x(_resampled(local))
    shift = float((fn[0, 0] + fn[-1, 0]) / 2)
    frame = RotatedFrame(base.lon0, base.lat0, angle_deg=angle, shift_x=shift)
    x, y = fn[:, 0] - shift, fn[:, 1]
    simulated = shapely.LineString(np.column_stack([x, y]))
    real = frame.to_local(stretch)
    d = np.asarray(shapely.distance(shapely.points(shapely.get_coordinates(real)), simulated))
    deviation = {
        "median": round(float(np.median(d)) / 1000, 2),
        "p90": round(float(np.percentile(d, 90)) / 1000, 2),
        "max": round(float(d.max()) / 1000, 2),
    }
    length = shapely.length(local) / 1000.0
    north = False
    if occupied is not None:
        ox, oy = frame.forward([occupied.x], [occupied.y])
        north = bool(oy[0] > np.interp(ox[0], x, y))
    return RealLine(
        frame,
        x,
        np.round(y, 1),
        round(length, 1),
        SMOOTHING_M / 1000,
        deviation,
        front_file.name,
        north,
    )


def _along(
    line: RealLine, spacing_m: float, start_m: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Points every ``spacing_m`` along the line, from ``start_m``, and their unit normals
    (pointing to the north party's side)."""
    seg = np.hypot(np.diff(line.x), np.diff(line.y))
    s = np.concatenate([[0.0], np.cumsum(seg)])
    at = np.arange(start_m, s[-1], spacing_m)
    px, py = np.interp(at, s, line.x), np.interp(at, s, line.y)
    tx, ty = np.gradient(line.x, s), np.gradient(line.y, s)
    tx, ty = np.interp(at, s, tx), np.interp(at, s, ty)
    norm = np.hypot(tx, ty)
    return np.column_stack([px, py]), -ty / norm, tx / norm


def _sensors(
    sc: Scenario, line: RealLine, spacing_km: float, rng: np.random.Generator
) -> dict[str, Any]:
    """Three rows on each side of the line and a sparser fourth in depth, along its length."""
    polyline = shapely.LineString(np.column_stack([line.x, line.y]))
    xs: list[FloatArray] = []
    ys: list[FloatArray] = []
    sides: list[int] = []
    names: list[str] = []
    for side, sign in ((0, 1.0), (1, -1.0)):
        for row, (offset, every) in enumerate(ROWS):
            step = spacing_km * 1000.0 * every
            p, nx, ny = _along(line, step, step / 2 + (row % 2) * step / 2)
            jitter = rng.normal(0, 500.0, (2, len(p)))
            sx = p[:, 0] + sign * (offset + jitter[1]) * nx + jitter[0] * ny
            sy = p[:, 1] + sign * (offset + jitter[1]) * ny - jitter[0] * nx
            on_side = (sy > sc.line_at(sx)) == (sign > 0)
            far = np.asarray(shapely.distance(shapely.points(sx, sy), polyline)) > 0.5 * offset
            keep = on_side & far & (np.abs(sx) < sc.half_length_m)
            start = len(names)
            names += [
                f"AS-{sc.parties[side]}{row + 1}-{start + k:04d}" for k in range(int(keep.sum()))
            ]
            xs.append(sx[keep])
            ys.append(sy[keep])
            sides += [side] * int(keep.sum())
    n = len(names)
    return {
        "id": np.array(names),
        "x": np.concatenate(xs),
        "y": np.concatenate(ys),
        "z": np.round(rng.uniform(80.0, 260.0, n), 1),
        "side": np.array(sides),
        "sigma_s": np.round(rng.choice([0.01, 0.02, 0.03], n, p=[0.3, 0.5, 0.2]), 3),
        "temp_offset": rng.normal(0.0, 1.0, n),
    }


def real_scenario(
    front_file: Path,
    border_file: Path | None = None,
    seed: int = 1,
    sensor_spacing_km: float = 6.0,
    depth_km: float = 150.0,
) -> tuple[Scenario, RealLine]:
    """The simulated theatre along a real line of contact (see the module's text)."""
    line = real_line(front_file, border_file)
    rng = np.random.default_rng([seed, 0])
    half = float(line.x[-1] - line.x[0]) / 2
    parties, names = ("UA", "RU"), ("Ukraine", "Russian Federation")
    if line.occupied_north:
        parties, names = parties[::-1], names[::-1]
    sc = Scenario(
        frame=line.frame,
        parties=parties,
        names=names,
        half_length_m=half,
        # the line bulges far from the frame's x axis: the areas reach depth_km beyond it
        depth_m=float(np.abs(line.y).max()) + depth_km * 1000.0,
        line_x=np.concatenate([[-half], line.x[1:-1], [half]]),
        line_y=line.y,
        disengagement=[],
    )
    length_km = float(np.hypot(np.diff(line.x), np.diff(line.y)).sum()) / 1000.0
    n_zones = max(3, round(length_km / 100.0))
    points, _, _ = _along(line, length_km * 1000.0 / n_zones, length_km * 500.0 / n_zones)
    for cx, cy in points:
        sc.disengagement.append(shapely.box(cx - 6_000, cy - 4_000, cx + 6_000, cy + 4_000))
    sc.sensors = _sensors(sc, line, sensor_spacing_km, rng)
    n_posts = max(1, round(length_km / 30.0))
    p, nx, ny = _along(line, length_km * 1000.0 / n_posts, length_km * 500.0 / n_posts)
    pside = np.arange(len(p)) % 2
    dist = np.where(pside == 0, 1.0, -1.0) * rng.uniform(2_000, 5_000, len(p))
    sc.posts = {
        "id": np.array([f"OP-{i + 1:02d}" for i in range(len(p))]),
        "x": p[:, 0] + dist * nx,
        "y": p[:, 1] + dist * ny,
    }
    return sc, line


def scenario_for(
    front_file: Path, border_file: Path | None, seed: int, sensor_spacing_km: float, out: Path
) -> Scenario:
    """The scenario along a real line (:func:`real_scenario`), and what it is written to
    ``out/front.json``: the real stretch's length, the simulated line's, how far apart."""
    import json

    sc, line = real_scenario(front_file, border_file, seed, sensor_spacing_km)
    summary = {
        "front": line.source,
        "real_stretch_km": line.length_km,
        "simulated_line_km": round(
            float(np.hypot(np.diff(line.x), np.diff(line.y)).sum()) / 1000, 1
        ),
        "deviation_km": line.deviation_km,
        "smoothing_km": line.smoothing_km,
        "frame": {
            "lon0": line.frame.lon0,
            "lat0": line.frame.lat0,
            "angle_deg": line.frame.angle_deg,
        },
        "north_party": sc.parties[0],
        "acoustic_sensors": len(sc.sensors["id"]),
        "observation_posts": len(sc.posts["id"]),
        "disengagement_areas": len(sc.disengagement),
    }
    out.mkdir(parents=True, exist_ok=True)
    (out / "front.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return sc
