"""Sensor health and coverage: which sensors reported, when they fell silent, and the area
each sector of the line could actually locate events in.

Acoustic sensors send detections, not heartbeats (FORMATS §2), so a silent sensor is either
down or has heard nothing. The two are told apart by its **neighbours**:

**Gaps.** A sound loud enough for several of a sensor's ``k`` nearest neighbours to hear
it within ``window_s`` of each other (at least ``quorum`` of them) is one the sensor itself
usually hears too. Over the whole window, the share of such sounds it did hear is its **hit
rate** ``q`` (counted with one added to hits and two to sounds, so that it is never 0 or 1).
Between two of its consecutive detections (and before its first and after its last), every
such sound it missed is evidence that it was down: if it were up, missing ``m`` of them in a
row would have probability ``(1 − q)^m``. The interval is a **gap** when that is below
``alpha`` divided by the number of intervals tested (those with at least one such sound), so
that a whole network's window raises about ``alpha`` false gaps. Two gaps of one sensor
separated by a single detection (a stray trigger) are reported as one. A sensor known from
earlier days and silent through the whole window is tested with its neighbours' median hit
rate: among busy neighbours, that is one gap from the window's start to its end. The test
is conservative, and needs activity: a sensor that hears twenty sounds a day cannot show a
two-hour outage. How many of the simulator's outages it finds, at three levels of activity,
is in the README.

**Locatable area.** Locating a sound takes at least four sensors that hear it
(``MIN_SENSORS``). A point of the band within ``band_km`` of the line is locatable in an hour
when at least four sensors that were up in that hour lie within ``hearing_km`` of it: the
distance at which a sensor hears a 120 mm mortar's
impact nine times in ten. Each sector's locatable area is the mean over the hours of the
area of such points; its share of the band says how much of the sector was really watched.
A sensor counts as up from an hour before its first detection of the window to an hour after
its last, less its gaps (``up_matrix``): without heartbeats nothing else shows it working.

>>> import numpy as np
>>> xy = np.array([[0.0, 0], [1000, 0], [2000, 0], [3000, 0], [4000, 0]])
>>> ids = np.array(["A", "B", "C", "D", "E"])
>>> t = np.arange(0, 24 * 3600 * 10**6, 600 * 10**6)   # every sensor hears a sound every 10 min
>>> det_s = np.repeat(np.arange(5), t.size)
>>> det_t = np.tile(t, 5)
>>> down = (det_s == 2) & (det_t > 8 * 3600 * 10**6) & (det_t < 12 * 3600 * 10**6)
>>> gaps = sensor_gaps(ids, xy, det_s[~down], det_t[~down], 0, 24 * 3600 * 10**6, k=4)
>>> [(g.sensor, g.start_us // 3600 // 10**6, g.end_us // 3600 // 10**6) for g in gaps]
[('C', 8, 12)]
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from scipy.spatial import cKDTree

__all__ = [
    "MIN_SENSORS",
    "Gap",
    "SectorCoverage",
    "band_grid",
    "heartbeat_up",
    "locatable_area",
    "n_sectors_of",
    "sector_along",
    "sensor_gaps",
    "up_matrix",
]

HOUR_US = 3_600_000_000
MIN_SENSORS = 4


@dataclass(frozen=True)
class Gap:
    """A sensor's silence that its neighbours' activity makes unlikely to be quiet."""

    sensor: str
    start_us: int  # its last detection before the silence (or the window's start)
    end_us: int  # its first detection after (or the window's end)
    missed: int  # sounds its neighbours heard in the interval and it did not
    hit_rate: float  # the share of such sounds it heard over the whole window
    score: float  # −ln of the probability of missing them all while up

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class SectorCoverage:
    """One sector's locatable area (km²), as a mean over the hours and at its worst hour."""

    sector: int
    band_km2: float
    mean_km2: float
    worst_km2: float
    hours_able_to_locate: int
    hourly_km2: tuple[float, ...] = ()  # the locatable area in each hour

    @property
    def share(self) -> float:
        return self.mean_km2 / self.band_km2 if self.band_km2 else 0.0

    def hours_with(self, share: float) -> int:
        """The hours in which at least ``share`` of the sector's band could locate."""
        return sum(1 for a in self.hourly_km2 if self.band_km2 and a >= share * self.band_km2)


def sensor_gaps(
    sensor_ids: NDArray[np.str_],
    xy: NDArray[np.float64],
    det_sensor: NDArray[np.int64],
    det_time_us: NDArray[np.int64],
    start_us: int,
    end_us: int,
    k: int = 6,
    quorum: int = 4,
    window_s: float = 30.0,
    max_neighbour_km: float = 15.0,
    alpha: float = 0.05,
) -> list[Gap]:
    """Gaps of every sensor in ``[start_us, end_us)``, in time order.

    ``xy`` holds the sensors' positions in metres (any local frame); ``det_sensor`` indexes
    ``sensor_ids`` for each detection and ``det_time_us`` is its time."""
    n = len(sensor_ids)
    if n < 2:
        return []
    keep = (det_time_us >= start_us) & (det_time_us < end_us)
    det_sensor, det_time_us = det_sensor[keep], det_time_us[keep]
    order = np.lexsort((det_time_us, det_sensor))
    det_sensor, det_time_us = det_sensor[order], det_time_us[order]
    bounds = np.searchsorted(det_sensor, np.arange(n + 1))
    times = [det_time_us[bounds[s] : bounds[s + 1]] for s in range(n)]
    w = int(window_s * 1e6)

    def heard_near(q: int, t: NDArray[np.int64]) -> NDArray[np.bool_]:
        tq = times[q]
        return np.asarray(np.searchsorted(tq, t + w, side="right") - np.searchsorted(tq, t - w) > 0)

    louds, rates, nbr = _loud_sounds(xy, times, heard_near, k, quorum, w, max_neighbour_km)
    tested: list[tuple[int, int, int, int, float]] = []  # sensor, from, to, missed, hit rate
    for s, loud in louds.items():
        if s in rates:
            q_rate = rates[s]
        else:  # silent through the window: its neighbours' hit rate stands in for its own
            near = [rates[int(q)] for q in nbr[s] if int(q) in rates]
            if not near:
                continue
            q_rate = float(np.median(near))
        edges = np.concatenate([[start_us], times[s], [end_us]])
        a, b = edges[:-1], edges[1:]
        missed = np.searchsorted(loud, b - w) - np.searchsorted(loud, a + w, side="right")
        for i in np.flatnonzero(missed > 0):
            tested.append((s, int(a[i]), int(b[i]), int(missed[i]), float(q_rate)))
    if not tested:
        return []
    # Missing m sounds while up has probability (1 - q)^m; Bonferroni over the intervals tested.
    cut = float(np.log(len(tested) / alpha))
    found = [
        Gap(str(sensor_ids[s]), a, b, m, q, -m * float(np.log1p(-q)))
        for s, a, b, m, q in tested
        if -m * np.log1p(-q) > cut
    ]
    return _merged(found)


def _loud_sounds(
    xy: NDArray[np.float64],
    times: list[NDArray[np.int64]],
    heard_near: Callable[[int, NDArray[np.int64]], NDArray[np.bool_]],
    k: int,
    quorum: int,
    w: int,
    max_neighbour_km: float,
) -> tuple[dict[int, NDArray[np.int64]], dict[int, float], NDArray[np.int64]]:
    """Per sensor: the sounds that at least ``quorum`` of its ``k`` nearest neighbours heard
    (one per cluster of detections), its hit rate on them (where it reported at all), and
    the neighbours of every sensor."""
    n = len(times)
    kk = min(k, n - 1)
    dist, nbr = cKDTree(xy).query(xy, kk + 1)
    dist, nbr = dist[:, 1:], nbr[:, 1:]  # drop the sensor itself
    louds: dict[int, NDArray[np.int64]] = {}
    rates: dict[int, float] = {}
    for s in range(n):
        mine = nbr[s][dist[s] <= max_neighbour_km * 1000.0]
        if mine.size < quorum:
            continue
        pooled = np.sort(np.concatenate([times[q] for q in mine]))
        if pooled.size == 0:
            continue
        heard_by = sum(heard_near(int(q), pooled).astype(int) for q in mine)
        loud = pooled[heard_by >= quorum]
        if loud.size == 0:
            continue
        louds[s] = loud[np.concatenate([[True], np.diff(loud) > 2 * w])]
        if times[s].size:
            rates[s] = (heard_near(s, louds[s]).sum() + 1.0) / (louds[s].size + 2.0)
    return louds, rates, np.asarray(nbr, dtype=np.int64)


def _merged(found: list[Gap]) -> list[Gap]:
    """Two gaps of one sensor that share a detection are one outage with a stray trigger in
    it; the gaps in time order."""
    found = sorted(found, key=lambda g: (g.sensor, g.start_us))
    gaps: list[Gap] = []
    for g in found:
        last = gaps[-1] if gaps else None
        if last is not None and last.sensor == g.sensor and last.end_us == g.start_us:
            gaps[-1] = Gap(
                g.sensor,
                last.start_us,
                g.end_us,
                last.missed + g.missed,
                g.hit_rate,
                last.score + g.score,
            )
        else:
            gaps.append(g)
    gaps.sort(key=lambda g: (g.start_us, g.sensor))
    return gaps


def up_matrix(
    sensor_ids: NDArray[np.str_],
    gaps: list[Gap],
    start_us: int,
    n_hours: int,
    heard: tuple[NDArray[np.int64], NDArray[np.int64]] | None = None,
    grace_us: int = HOUR_US,
) -> NDArray[np.bool_]:
    """(sensors × hours): whether each sensor is known to be up in each hour.

    A sensor is down in an hour when a gap covers half of it or more. With ``heard``, each
    sensor's (first, last) detection in the window, it is also down in the hours that end
    more than ``grace_us`` before its first detection or start more than ``grace_us`` after
    its last: nothing shows it was working then (the data may end, or the whole network
    be down, and no neighbour can tell).

    >>> ids = np.array(["A", "B"])
    >>> up = up_matrix(ids, [], 0, 4, (np.array([0, 0]), np.array([4, 1]) * HOUR_US))
    >>> up.astype(int).tolist()
    [[1, 1, 1, 1], [1, 1, 1, 0]]
    """
    index = {str(s): i for i, s in enumerate(sensor_ids)}
    up = np.ones((len(sensor_ids), n_hours), dtype=bool)
    edges = start_us + np.arange(n_hours + 1, dtype=np.int64) * HOUR_US
    for g in gaps:
        lo = np.maximum(edges[:-1], g.start_us)
        hi = np.minimum(edges[1:], g.end_us)
        up[index[g.sensor], (hi - lo) >= HOUR_US // 2] = False
    if heard is not None:
        first, last = heard
        up &= edges[None, 1:] >= np.asarray(first)[:, None] - grace_us
        up &= edges[None, :-1] <= np.asarray(last)[:, None] + grace_us
    return up


def heartbeat_up(
    sensor_ids: NDArray[np.str_],
    beats: Iterable[tuple[str, int, bool, float]],
    start_us: int,
    n_hours: int,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(sensors × hours) up from the sensors' heartbeats (``status`` observations), and which
    sensors sent any. ``beats`` are (sensor, time µs, up, interval s); a status holds from its
    time until the sensor's next one, for at most twice its interval (heartbeats that stop
    mean the sensor is down); an hour is up when it was up for half of it or more.

    >>> ids = np.array(["A", "B", "C"])
    >>> h = HOUR_US
    >>> beats = [("A", 0, True, 1800.0), ("A", h, True, 1800.0), ("B", 0, True, 1800.0),
    ...          ("B", h // 2, False, 1800.0)]
    >>> up, sent = heartbeat_up(ids, beats, 0, 3)
    >>> up.astype(int).tolist(), sent.tolist()
    ([[1, 1, 0], [1, 0, 0], [0, 0, 0]], [True, True, False])
    """
    index = {str(s): i for i, s in enumerate(sensor_ids)}
    per: dict[int, list[tuple[int, bool, float]]] = {}
    for sensor, t, state, interval in beats:
        if sensor in index:
            per.setdefault(index[sensor], []).append((int(t), bool(state), float(interval)))
    up = np.zeros((len(sensor_ids), n_hours), dtype=bool)
    sent = np.zeros(len(sensor_ids), dtype=bool)
    edges = start_us + np.arange(n_hours + 1, dtype=np.int64) * HOUR_US
    for i, rows in per.items():
        sent[i] = True
        rows.sort()
        covered = np.zeros(n_hours, dtype=np.int64)
        for k, (t, state, interval) in enumerate(rows):
            if not state:
                continue
            end = t + round(2 * interval * 1e6)
            if k + 1 < len(rows):
                end = min(end, rows[k + 1][0])
            covered += np.maximum(np.minimum(edges[1:], end) - np.maximum(edges[:-1], t), 0)
        up[i] = covered >= HOUR_US // 2
    return up, sent


def n_sectors_of(line: shapely.LineString, sector_km: float) -> int:
    """How many sectors of ``sector_km`` cut ``line`` (metres); the last may be shorter."""
    return max(1, int(np.ceil(line.length / (sector_km * 1000.0) - 1e-9)))


def sector_along(
    line: shapely.LineString, x: ArrayLike, y: ArrayLike, sector_km: float
) -> NDArray[np.int64]:
    """The sector (0-based) of each point ``x, y`` (metres, in the frame of ``line``): where
    its foot on the line falls, cut every ``sector_km``; the end of the line belongs to the
    last sector. -1 where a coordinate is NaN. The one definition of a sector: the report,
    the alerts, the dashboard and the Parquet set all call it.

    >>> line = shapely.LineString([(0, 0), (50_000, 0)])
    >>> sector_along(line, [0, 24_999, 25_000, 50_000, float("nan")], [9, -9, 0, 5, 0], 25).tolist()
    [0, 0, 1, 1, -1]
    """
    xa = np.asarray(x, float)
    ya = np.asarray(y, float)
    out = np.full(xa.shape, -1, dtype=np.int64)
    ok = np.isfinite(xa) & np.isfinite(ya)
    if ok.any():
        along = np.asarray(shapely.line_locate_point(line, shapely.points(xa[ok], ya[ok])), float)
        s = np.floor(along / (sector_km * 1000.0)).astype(np.int64)
        out[ok] = np.clip(s, 0, n_sectors_of(line, sector_km) - 1)
    return out


def band_grid(
    line: shapely.LineString, sector_km: float, band_km: float, grid_km: float
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The centres (P, 2) of a ``grid_km`` grid over the band within ``band_km`` of ``line``
    (metres), and the sector (0-based, by the foot of each point on the line) of each."""
    step = grid_km * 1000.0
    band = line.buffer(band_km * 1000.0, cap_style="flat")
    minx, miny, maxx, maxy = band.bounds
    mx, my = np.meshgrid(
        np.arange(minx + step / 2, maxx, step), np.arange(miny + step / 2, maxy, step)
    )
    gx, gy = mx.ravel(), my.ravel()
    inside = shapely.contains_xy(band, gx, gy)
    gx, gy = gx[inside], gy[inside]
    along = shapely.line_locate_point(line, shapely.points(gx, gy))
    n = n_sectors_of(line, sector_km)
    sector = np.minimum((along // (sector_km * 1000)).astype(np.int64), n - 1)
    return np.column_stack([gx, gy]), sector


def locatable_area(
    xy: NDArray[np.float64],
    up: NDArray[np.bool_],
    line: shapely.LineString,
    sector_km: float = 25.0,
    band_km: float = 10.0,
    hearing_km: float = 7.5,
    grid_km: float = 1.0,
    min_sensors: int = MIN_SENSORS,
) -> list[SectorCoverage]:
    """Per sector of ``line`` (metres, the frame of ``xy``): the band's area, and the area
    in which at least ``min_sensors`` sensors up in the hour lie within ``hearing_km``.

    >>> import numpy as np, shapely
    >>> line = shapely.LineString([(0, 0), (50_000, 0)])
    >>> xy = np.array([[x, y] for x in range(0, 50_001, 2_000) for y in (-3_000, 3_000)], float)
    >>> up = np.ones((len(xy), 2), bool)
    >>> up[xy[:, 0] > 20_000, 1] = False             # the second half goes dark in hour 2
    >>> [(c.sector, round(c.share, 2), c.hours_able_to_locate) for c in
    ...  locatable_area(xy, up, line, band_km=3, hearing_km=4)]
    [(0, 0.82, 2), (1, 0.47, 1)]
    """
    n_sectors = n_sectors_of(line, sector_km)
    grid, sector = band_grid(line, sector_km, band_km, grid_km)
    cell = grid_km * grid_km
    n_hours = up.shape[1]
    located = np.zeros((n_sectors, n_hours))
    for h in range(n_hours):
        live = xy[up[:, h]]
        if len(live) < min_sensors:
            continue
        near = cKDTree(live).query_ball_point(grid, hearing_km * 1000.0, return_length=True)
        ok = np.asarray(near) >= min_sensors
        located[:, h] = np.bincount(sector[ok], minlength=n_sectors) * cell
    band_area = np.bincount(sector, minlength=n_sectors) * cell
    return [
        SectorCoverage(
            k,
            float(band_area[k]),
            float(located[k].mean()) if n_hours else 0.0,
            float(located[k].min()) if n_hours else 0.0,
            int((located[k] > 0).sum()),
            tuple(float(a) for a in located[k]),
        )
        for k in range(n_sectors)
    ]
