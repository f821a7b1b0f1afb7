"""Multi-target tracking of air objects with Stone Soup: a constant-velocity Kalman filter
per object, global-nearest-neighbour association (a 2-D assignment per scan), tracks
started from radar plots and carried by radar plots and bearings (acoustic direction of
arrival, radio direction finding).

The data are cut into scans of ``scan_s`` seconds; every detection of a scan is taken at
the scan's end (at 50 m/s, half a second of 1 s scans is 25 m, below a radar's error).
Within a scan, first the radar plots (plots of one object seen by two radars merged into
their inverse-variance mean), then each bearing sensor's bearings are associated to the
tracks, so that a track takes at most one detection of each sensor per scan. A radar plot
no track takes goes to the initiator: ``min_points`` plots that follow one another make a
track. A bearing cannot start a track (one line of sight does not place an object); it
updates one, and so carries a track across a gap in radar coverage. A track is ended when
nothing has updated it for ``max_gap_s``. Pieces of one object's track (one started
beside another from plots it did not take, or one that takes up where another ended) are
then stitched into one.

Association is gated before Stone Soup's hypothesiser sees the pairs (within ``gate_m``
of the predicted position for a plot, within four standard deviations of the predicted
line of sight for a bearing), so the work grows with the objects, not with their square.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree
from stonesoup.base import Property
from stonesoup.dataassociator.neighbour import GNNWith2DAssignment
from stonesoup.deleter.time import UpdateTimeDeleter
from stonesoup.hypothesiser.distance import DistanceHypothesiser
from stonesoup.initiator.simple import MultiMeasurementInitiator
from stonesoup.measures import Mahalanobis
from stonesoup.models.measurement.linear import LinearGaussian
from stonesoup.models.measurement.nonlinear import Cartesian2DToBearing
from stonesoup.models.transition.linear import (
    CombinedLinearGaussianTransitionModel,
    ConstantVelocity,
)
from stonesoup.predictor.kalman import KalmanPredictor
from stonesoup.types.detection import Detection
from stonesoup.types.state import GaussianState, StateVector
from stonesoup.types.track import Track as SsTrack
from stonesoup.types.update import Update
from stonesoup.updater.kalman import ExtendedKalmanUpdater

from .pieces import stitch

__all__ = ["BEARING", "POSITION", "Detections", "Track", "TrackerParams", "track"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
POSITION, BEARING = 0, 1
_EPOCH = dt.datetime(2000, 1, 1)


@dataclass(frozen=True)
class Detections:
    """A table of detections in a local metric frame (x east, y north; metres, seconds).

    ``kind`` is :data:`POSITION` (a radar plot at ``x, y`` with ``sigma_m``) or
    :data:`BEARING` (a line of sight from a sensor at ``x, y``: ``bearing_deg`` clockwise
    from north with ``bearing_sigma_deg``; ``max_range_m`` bounds how far it can see).
    ``sensor`` numbers the sensors (a sensor contributes at most one detection per object
    and scan)."""

    t_s: FloatArray
    kind: IntArray
    x: FloatArray
    y: FloatArray
    sensor: IntArray
    sigma_m: FloatArray
    bearing_deg: FloatArray
    bearing_sigma_deg: FloatArray
    max_range_m: FloatArray

    def __len__(self) -> int:
        return int(self.t_s.size)

    @classmethod
    def of(cls, **columns: Any) -> Detections:
        """A table from columns (missing ones filled: NaN, or 0 for ``sensor``)."""
        n = len(np.asarray(columns["t_s"]))
        out: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            given = columns.get(name)
            if name in ("kind", "sensor"):
                out[name] = np.zeros(n, np.int64) if given is None else np.asarray(given, np.int64)
            else:
                out[name] = np.full(n, np.nan) if given is None else np.asarray(given, float)
        return cls(**out)


@dataclass(frozen=True)
class Track:
    """One object's track: ``mean`` rows are ``[x, vx, y, vy]`` at times ``t_s`` (the
    updates only), ``cov`` their 4 x 4 covariances, ``detections`` the rows of the input
    table that updated it."""

    id: int
    t_s: FloatArray
    mean: FloatArray
    cov: FloatArray
    detections: tuple[int, ...]

    @property
    def start_s(self) -> float:
        return float(self.t_s[0])

    @property
    def end_s(self) -> float:
        return float(self.t_s[-1])

    @property
    def xy(self) -> FloatArray:
        return np.asarray(self.mean[:, [0, 2]], float)

    @property
    def position_cov(self) -> FloatArray:
        """(N, 2, 2) covariances of the positions."""
        return np.asarray(self.cov[:, [0, 2]][:, :, [0, 2]], float)


@dataclass(frozen=True)
class TrackerParams:
    scan_s: float = 1.0
    #: process noise of the constant-velocity model (m^2/s^3): manoeuvres of a few m/s^2
    q: float = 3.0
    #: prior speed uncertainty of a new track (m/s, each axis)
    speed_sigma_ms: float = 35.0
    min_points: int = 4
    max_gap_s: float = 90.0
    gate_m: float = 3000.0
    #: tracks with fewer updates are dropped as clutter
    min_updates: int = 6
    #: pieces of one object's track this close (mean, m) are stitched into one
    stitch_m: float = 500.0
    #: a piece starting this long after another ended may continue it (lost from view)
    stitch_gap_s: float = 300.0
    #: a piece starting up to this long *before* another ended, where that one then was,
    #: and outlasting it, takes the flight over (a manoeuvre the first filter could not
    #: follow: it runs on a few updates while a new track starts on the object)
    handover_s: float = 60.0


class _Gated(DistanceHypothesiser):  # type: ignore[misc]
    """A distance hypothesiser that first drops the pairs that cannot be (cheap gating)."""

    gate_m: float = Property(default=3000.0)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: the detections each track (by id) may take this scan, where :func:`_candidates`
        #: worked them out for the whole scan at once
        self.allowed: dict[int, set[Any]] = {}

    def hypothesise(self, track: Any, detections: Any, timestamp: Any, **kwargs: Any) -> Any:
        given = self.allowed.get(id(track))
        if given is not None:
            near = given & set(detections)
        else:
            near = {d for d in detections if _near(track.state, d, self.gate_m)}
        return super().hypothesise(track, near, timestamp, **kwargs)


class _States:
    """Each live track's last state as numbers (x, vx, y, vy, position variance, time),
    kept between scans and refreshed only for the tracks a scan updated."""

    def __init__(self) -> None:
        self.rows: dict[int, tuple[Any, list[float]]] = {}

    def of(self, tracks: list[Any]) -> FloatArray:
        out = []
        for k in tracks:
            state = k.states[-1]
            have = self.rows.get(id(k))
            if have is None or have[0] is not state:
                v = np.asarray(state.state_vector, float).ravel()
                c = state.covar
                row = [*v[:4], float(c[0, 0] + c[2, 2]), (state.timestamp - _EPOCH).total_seconds()]
                have = (state, row)
                self.rows[id(k)] = have
            out.append(have[1])
        return np.array(out, float)


def _candidates(states: FloatArray, scan: list[Any], t: dt.datetime, gate_m: float) -> FloatArray:
    """(tracks, detections) True where the pair passes the gate of :func:`_near` (all the
    detections of a scan share one time), computed for the whole scan at once."""
    sv, var = states[:, :4], states[:, 4]
    delay = (t - _EPOCH).total_seconds() - states[:, 5]
    px = (sv[:, 0] + sv[:, 1] * delay)[:, None]
    py = (sv[:, 2] + sv[:, 3] * delay)[:, None]
    spread = (np.sqrt(np.maximum(var, 0.0)) + 50.0 * np.abs(delay))[:, None]
    m = [d.metadata for d in scan]
    x = np.array([v["x"] for v in m])[None, :]
    y = np.array([v["y"] for v in m])[None, :]
    sigma = np.array([v["sigma"] for v in m])[None, :]
    if m[0]["kind"] == POSITION:
        return np.asarray(np.hypot(px - x, py - y) < gate_m + 3.0 * sigma + spread)
    dx, dy = px - x, py - y
    rng = np.hypot(dx, dy)
    far = np.array([v["range"] for v in m])[None, :]
    bearing = np.array([v["bearing"] for v in m])[None, :]
    diff = (np.degrees(np.arctan2(dx, dy)) - bearing + 180.0) % 360.0 - 180.0
    slack = np.degrees(np.arctan2(spread, np.maximum(rng, 1.0)))
    return np.asarray((rng <= far + spread) & (np.abs(diff) < 4.0 * sigma + slack))


def _near(state: Any, det: Any, gate_m: float) -> bool:
    sv = state.state_vector
    delay = (det.timestamp - state.timestamp).total_seconds()
    px = float(sv[0, 0]) + float(sv[1, 0]) * delay
    py = float(sv[2, 0]) + float(sv[3, 0]) * delay
    m: dict[str, float] = det.metadata
    spread = math.sqrt(float(state.covar[0, 0] + state.covar[2, 2])) + 50.0 * abs(delay)
    if m["kind"] == POSITION:
        return bool(math.hypot(px - m["x"], py - m["y"]) < gate_m + 3.0 * m["sigma"] + spread)
    dx, dy = px - m["x"], py - m["y"]
    rng = math.hypot(dx, dy)
    if rng > m["range"] + spread:
        return False
    diff = (math.degrees(math.atan2(dx, dy)) - m["bearing"] + 180.0) % 360.0 - 180.0
    slack = math.degrees(math.atan2(spread, max(rng, 1.0)))
    return bool(abs(diff) < 4.0 * m["sigma"] + slack)


def _when(t: float) -> dt.datetime:
    return _EPOCH + dt.timedelta(seconds=float(t))


def _scans(det: Detections, scan_s: float) -> Iterator[tuple[float, list[IntArray]]]:
    """(scan mid time, [radar rows, then each bearing sensor's rows]) for each scan with data."""
    bins = np.floor(det.t_s / scan_s).astype(np.int64)
    order = np.lexsort((det.sensor, det.kind, bins))
    edges = np.flatnonzero(np.diff(bins[order])) + 1
    for rows in np.split(order, edges):
        if not rows.size:
            continue
        radar = rows[det.kind[rows] == POSITION]
        bearing = rows[det.kind[rows] == BEARING]
        groups = [radar] if radar.size else []
        if bearing.size:
            cut = np.flatnonzero(np.diff(det.sensor[bearing])) + 1
            groups += np.split(bearing, cut)
        yield ((float(bins[rows[0]]) + 0.5) * scan_s, groups)


def _merge_plots(det: Detections, rows: IntArray) -> list[tuple[float, float, float, IntArray]]:
    """Radar plots of one scan, those of one object by several radars merged: (x, y,
    sigma, rows)."""
    xy = np.column_stack([det.x[rows], det.y[rows]])
    sig = det.sigma_m[rows]
    parent = list(range(rows.size))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    if rows.size > 1:
        for i, j in cKDTree(xy).query_pairs(3.0 * float(sig.max()) * math.sqrt(2.0)):
            if det.sensor[rows[i]] != det.sensor[rows[j]] and math.hypot(
                *(xy[i] - xy[j])
            ) < 3.0 * math.hypot(sig[i], sig[j]):
                parent[root(i)] = root(j)
    out = []
    groups: dict[int, list[int]] = {}
    for i in range(rows.size):
        groups.setdefault(root(i), []).append(i)
    for members in groups.values():
        w = 1.0 / sig[members] ** 2
        x, y = (xy[members] * w[:, None]).sum(0) / w.sum()
        out.append((float(x), float(y), float(1.0 / math.sqrt(w.sum())), rows[members]))
    return out


class _Models:
    """The Stone Soup components, with measurement models cached by their parameters."""

    def __init__(self, prm: TrackerParams) -> None:
        cv = ConstantVelocity(prm.q)
        self.transition = CombinedLinearGaussianTransitionModel([cv, cv])
        self.predictor = KalmanPredictor(self.transition)
        self.updater = ExtendedKalmanUpdater(measurement_model=None)
        self.hypothesiser = _Gated(
            self.predictor, self.updater, Mahalanobis(), missed_distance=4.0, gate_m=prm.gate_m
        )
        self.associator = GNNWith2DAssignment(self.hypothesiser)
        self.states = _States()
        self.plots: dict[float, LinearGaussian] = {}
        self.bearings: dict[tuple[float, float, float], Cartesian2DToBearing] = {}
        v = prm.speed_sigma_ms**2
        self.initiator = MultiMeasurementInitiator(
            prior_state=GaussianState(StateVector([0.0, 0.0, 0.0, 0.0]), np.diag([0.0, v, 0.0, v])),
            deleter=UpdateTimeDeleter(dt.timedelta(seconds=max(4.0 * prm.scan_s, 20.0))),
            data_associator=self.associator,
            updater=self.updater,
            min_points=prm.min_points,
        )

    def plot(self, x: float, y: float, sigma: float, t: dt.datetime, meta: dict[str, Any]) -> Any:
        key = round(sigma, 1)
        model = self.plots.get(key)
        if model is None:
            model = LinearGaussian(4, (0, 2), np.diag([key**2, key**2]))
            self.plots[key] = model
        return Detection(StateVector([x, y]), timestamp=t, measurement_model=model, metadata=meta)

    def bearing(self, det: Detections, row: int, t: dt.datetime) -> Any:
        key = (float(det.x[row]), float(det.y[row]), float(det.bearing_sigma_deg[row]))
        model = self.bearings.get(key)
        if model is None:
            model = Cartesian2DToBearing(
                ndim_state=4,
                mapping=(0, 2),
                noise_covar=np.array([[math.radians(key[2]) ** 2]]),
                translation_offset=StateVector([key[0], key[1]]),
            )
            self.bearings[key] = model
        phi = math.pi / 2.0 - math.radians(float(det.bearing_deg[row]))  # from east, anticlockwise
        phi = (phi + math.pi) % (2.0 * math.pi) - math.pi
        meta = {
            "kind": BEARING,
            "x": key[0],
            "y": key[1],
            "bearing": float(det.bearing_deg[row]),
            "sigma": key[2],
            "range": float(det.max_range_m[row]) if np.isfinite(det.max_range_m[row]) else 1e7,
            "rows": (int(row),),
        }
        return Detection(StateVector([phi]), timestamp=t, measurement_model=model, metadata=meta)


def _candidates_of(
    models: _Models, live: set[Any], scan: set[Any], t: dt.datetime, gate_m: float
) -> set[Any]:
    """The tracks that may take a detection of ``scan`` (the others are not even predicted),
    each told which (:attr:`_Gated.allowed`)."""
    models.hypothesiser.allowed = {}
    if not live or not scan:
        return set()
    tracks, dets = list(live), list(scan)
    ok = _candidates(models.states.of(tracks), dets, t, gate_m)
    out = set()
    for i in np.flatnonzero(ok.any(axis=1)):
        models.hypothesiser.allowed[id(tracks[i])] = {dets[j] for j in np.flatnonzero(ok[i])}
        out.add(tracks[i])
    return out


def track(det: Detections, params: TrackerParams | None = None) -> list[Track]:
    """The tracks of the objects the detections saw, in order of their start."""
    prm = params or TrackerParams()
    models = _Models(prm)
    live: set[Any] = set()
    done: list[Any] = []
    for end, groups in _scans(det, prm.scan_s):
        t = _when(end)
        for rows in groups:
            if det.kind[rows[0]] == POSITION:
                scan = {
                    models.plot(
                        x,
                        y,
                        s,
                        t,
                        {
                            "kind": POSITION,
                            "x": x,
                            "y": y,
                            "sigma": s,
                            "rows": tuple(int(r) for r in members),
                        },
                    )
                    for x, y, s, members in _merge_plots(det, rows)
                }
            else:
                scan = {models.bearing(det, int(r), t) for r in rows}
            used = set()
            near = _candidates_of(models, live, scan, t, prm.gate_m)
            for trk, hyp in models.associator.associate(near, scan, t).items():
                if hyp:
                    trk.append(models.updater.update(hyp))
                    used.add(hyp.measurement)
            if det.kind[rows[0]] == POSITION:
                models.hypothesiser.allowed = {}  # holding tracks: gated one by one
                live |= models.initiator.initiate(scan - used, t)
        stale = {trk for trk in live if (t - trk.state.timestamp).total_seconds() > prm.max_gap_s}
        live -= stale
        done.extend(stale)
        for trk in stale:
            models.states.rows.pop(id(trk), None)
    done.extend(live)
    out = [r for trk in done if (r := _result(trk)) is not None]
    kept = [r for r in stitch(out, prm) if len(r.detections) >= prm.min_updates]
    kept.sort(key=lambda r: (r.start_s, float(r.mean[0, 0]), float(r.mean[0, 2])))
    return [Track(k, r.t_s, r.mean, r.cov, r.detections) for k, r in enumerate(kept)]


def _result(trk: SsTrack) -> Track | None:
    states = [s for s in trk.states if isinstance(s, Update)]
    if not states:
        return None
    rows: list[int] = []
    for s in states:
        rows.extend(s.hypothesis.measurement.metadata.get("rows", ()))
    return Track(
        id=-1,
        t_s=np.array([(s.timestamp - _EPOCH).total_seconds() for s in states]),
        mean=np.array([np.asarray(s.state_vector, float).ravel() for s in states]),
        cov=np.array([np.asarray(s.covar, float) for s in states]),
        detections=tuple(sorted(set(rows))),
    )
