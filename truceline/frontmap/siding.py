"""Points against the front: each point's **side** (``held``, ``occupied``, ``contested``
or ``outside``) on the nearest earlier map, and its **signed distance to the line of
contact** in metres: positive on the held side, negative in occupied ground."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray

from ..observations import Observation, Thermal
from .contact import Front, FrontSnapshot
from .territory import Territory

__all__ = [
    "BANDS_KM",
    "SIDES",
    "SidedPoints",
    "nearest_earlier",
    "side_over_time",
    "side_points",
    "sided_csv",
    "summarise",
    "thermal_points",
]

SIDES = ("held", "occupied", "contested", "outside")
BANDS_KM = (0.0, 5.0, 10.0, 25.0, 50.0, 100.0, np.inf)


def side_points(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    snap: FrontSnapshot | Front,
    territory: Territory,
) -> tuple[NDArray[np.int8], NDArray[np.float64]]:
    """Side code (index into :data:`SIDES`) and signed distance to the line of contact (m)."""
    front = snap if isinstance(snap, Front) else Front.of(snap, territory)
    x, y = territory.frame.forward(lon, lat)
    inside = shapely.contains_xy(territory.exact, x, y)
    occ = inside & shapely.contains_xy(front.occupied, x, y)
    con = inside & ~occ & shapely.contains_xy(front.contested, x, y)
    side = np.full(x.size, 3, dtype=np.int8)
    side[inside] = 0
    side[con] = 2
    side[occ] = 1
    if shapely.is_empty(front.line):
        dist = np.full(x.size, np.inf)
    else:
        dist = np.asarray(shapely.distance(shapely.points(x, y), front.line), dtype=float)
    return side, np.where(occ, -dist, dist)


def nearest_earlier(times_us: Sequence[int], t_us: NDArray[np.int64]) -> NDArray[np.int64]:
    """Index of the latest snapshot at or before each time; the first one where none is."""
    order = np.asarray(times_us, dtype=np.int64)
    idx = np.searchsorted(order, t_us, side="right") - 1
    return np.maximum(idx, 0)


@dataclass
class SidedPoints:
    """Points (e.g. fires) with the snapshot each was judged against, side and distance."""

    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    time_us: NDArray[np.int64]
    snapshot: NDArray[np.int64]  # index into the snapshots
    lag_days: NDArray[np.float64]  # point time minus snapshot time (negative: no earlier one)
    side: NDArray[np.int8]
    distance_m: NDArray[np.float64]


def side_over_time(
    lon: NDArray[np.float64],
    lat: NDArray[np.float64],
    time_us: NDArray[np.int64],
    snapshots: Sequence[FrontSnapshot | Front],
    border: shapely.Geometry | Territory,
) -> SidedPoints:
    """Side every point against the nearest earlier snapshot (the first, flagged by a negative
    lag, for points before any snapshot)."""
    territory = border if isinstance(border, Territory) else Territory.of(border)
    fronts = [s if isinstance(s, Front) else Front.of(s, territory) for s in snapshots]
    fronts.sort(key=lambda f: f.snapshot.time_us)
    times = [f.snapshot.time_us for f in fronts]
    which = nearest_earlier(times, time_us)
    side = np.zeros(lon.size, dtype=np.int8)
    dist = np.zeros(lon.size)
    for k, front in enumerate(fronts):
        sel = np.flatnonzero(which == k)
        if sel.size:
            side[sel], dist[sel] = side_points(lon[sel], lat[sel], front, territory)
    lag = (time_us - np.array(times)[which]) / 86_400e6
    return SidedPoints(lon, lat, time_us, which, lag, side, dist)


def _snapshot_names(snapshots: Sequence[FrontSnapshot | Front]) -> list[str]:
    snaps = [s.snapshot if isinstance(s, Front) else s for s in snapshots]
    return [s.source for s in sorted(snaps, key=lambda s: s.time_us)]


def _first_time(snapshots: Sequence[FrontSnapshot | Front]) -> int | None:
    snaps = [s.snapshot if isinstance(s, Front) else s for s in snapshots]
    return min((s.time_us for s in snaps), default=None)


def summarise(sided: SidedPoints, snapshots: Sequence[FrontSnapshot | Front]) -> dict[str, object]:
    """Counts per side, per signed distance band and per week (ISO week of the point)."""
    proper = sided.lag_days >= 0
    out: dict[str, object] = {
        "points": int(sided.lon.size),
        "with_earlier_snapshot": int(proper.sum()),
        "before_first_snapshot": int((~proper).sum()),
        "snapshots": _snapshot_names(snapshots),
    }
    for label, sel in (("all", np.ones_like(proper)), ("with_earlier_snapshot", proper)):
        by_side = {SIDES[i]: int(((sided.side == i) & sel).sum()) for i in range(len(SIDES))}
        bands: dict[str, dict[str, int]] = {}
        km = np.abs(sided.distance_m) / 1000.0
        for i, name in ((0, "held"), (1, "occupied"), (2, "contested")):
            pick = sel & (sided.side == i)
            bands[name] = {
                f"{lo:g}-{hi:g} km": int((pick & (km >= lo) & (km < hi)).sum())
                for lo, hi in itertools.pairwise(BANDS_KM)
            }
        out[label] = {"by_side": by_side, "by_distance_band": bands}
    weeks: dict[str, dict[str, int]] = {}
    days = sided.time_us // 86_400_000_000
    iso = [np.datetime64(int(d), "D").astype(object).isocalendar() for d in days]
    keys = np.array([f"{y}-W{w:02d}" for y, w, _ in iso])
    for key in sorted(set(keys.tolist())):
        sel = keys == key
        weeks[key] = {SIDES[i]: int(((sided.side == i) & sel).sum()) for i in range(len(SIDES))}
    out["by_week"] = weeks
    first = _first_time(snapshots)
    if first is not None:
        y, w, _ = np.datetime64(first // 86_400_000_000, "D").astype(object).isocalendar()
        out["first_snapshot_week"] = f"{y}-W{w:02d}"
    return out


def thermal_points(
    observations: Sequence[Observation],
) -> tuple[list[Observation], NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """The thermal observations among ``observations``, and their lon, lat and time arrays."""
    obs = [o for o in observations if isinstance(o.model, Thermal)]
    lon = np.array([o.model.position[0] for o in obs if isinstance(o.model, Thermal)], float)
    lat = np.array([o.model.position[1] for o in obs if isinstance(o.model, Thermal)], float)
    return obs, lon, lat, np.array([o.time_us for o in obs], dtype=np.int64)


def sided_csv(
    obs: Sequence[Observation], sided: SidedPoints, snapshots: Sequence[FrontSnapshot | Front]
) -> str:
    """Every sided point as a CSV row: id, position, time, the snapshot, side, distance."""
    names = _snapshot_names(snapshots)
    rows = ["id,longitude,latitude,time,snapshot,lag_days,side,signed_distance_km\n"]
    for i, o in enumerate(obs):
        rows.append(
            f"{o.ref},{sided.lon[i]:.6f},{sided.lat[i]:.6f},{o.raw['time']},"
            f"{names[sided.snapshot[i]]},{sided.lag_days[i]:.2f},{SIDES[sided.side[i]]},"
            f"{sided.distance_m[i] / 1000:.3f}\n"
        )
    return "".join(rows)
