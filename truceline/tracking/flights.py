"""Flights: air objects' tracks made ``air`` incidents, and joined with the strikes they end in.

1. **Detections.** Radar plots (``radar``) are positions; radio direction finding (``rf``)
   and engine sounds with a direction of arrival (``drone_acoustic`` with ``bearing_deg``)
   are bearings, the sound's taken at the middle of the interval it was heard over. An
   engine heard without a direction places nothing and is not used.
2. **Tracks** (:func:`truceline.tracking.track`).
3. **The incident.** Its *launch area* (the ``origin``) is where the track began, with the
   track's covariance there widened by the distance the object could have flown unseen
   before its first plots made a track (``unseen_s`` at its speed). Its *crossing* is the
   first point where the path meets the line of contact, with the time interpolated along
   the path. *P(crossed)*: the launch area's side (the party whose control area most
   probably holds it) against each point of the path: the largest P(the point lies beyond
   the line, on another party's side) over the path, each point with its 1-sigma radius.
   *Type* (:mod:`.air_types`): FPV drone, loitering munition, one-way drone,
   reconnaissance drone or aircraft, as probabilities from the speed, altitude, engine
   tone, circling, how far behind the line it was first seen and whether a strike was
   joined (again once one is); its weapon *classes* are drone (the four drone types) and
   aircraft. Its location is the last position, unless a strike is joined.
   A track first seen flying *away* from the line, deeper into the side it is on, may
   have come across the line unseen: its launch area is stretched back along its heading to
   ``beyond_m`` past the line (so that attribution, which reads it, is not asserted).
4. **The strike.** A fire incident (an impact heard or a thermal anomaly) whose impact
   came from ``strike_before_s`` before the track's end to ``strike_after_s`` after,
   within ``strike_m`` (or three sigmas, plus half the distance flown meanwhile) of where
   the track, flying on at its last velocity, would then have been, or of where it ended
   (a drone circling over its target strikes there), is that track's strike: joined into one incident
   (the track's launch area, the strike's impact, both sets of evidence;
   P(strike) = ``p_strike_joined``). A track that ends without one ended in a strike with
   ``p_strike_far`` if it ended beyond the line, ``p_strike_own`` on its own side, times the
   share of that which holds for its types (``strikes_here``, weighted by their
   probabilities: a one-way drone flying out of view beyond the line strikes far away).
5. **The strike heard by too few to locate.** A drone's track still without a strike is then
   listened for in the acoustic picks no incident used (:mod:`.impact_sound`): three sensors
   agreeing on one emission where the track, flying on, could have been are its impact,
   joined as above with the odds of its P(strike) multiplied by ``heard_likelihood_ratio``.
   The picks are then used, by one flight only.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass, replace
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.stats import norm

from ..agreement import Agreement
from ..incidents import Flight, Fused, Point, incident_id
from ..localize.picks import Picks
from ..observation_models import DroneAcoustic, Radar, Rf
from ..observations import Observation
from .air_types import AirTypeParams, TypeEvidence, classify, turns_of
from .impact_sound import ImpactSearch, heard_impact
from .multitarget import BEARING, POSITION, Detections, Track, TrackerParams, track

__all__ = ["FlightParams", "detections_of", "flights", "join_strikes", "last_velocity"]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class FlightParams:
    tracker: TrackerParams = field(default_factory=TrackerParams)
    rf_range_m: float = 30_000.0  # how far a radio direction finder hears a drone's link
    acoustic_range_m: float = 8_000.0  # how far an engine is heard
    unseen_s: float = 15.0
    strike_m: float = 1_500.0
    strike_before_s: float = 60.0
    strike_after_s: float = 180.0
    #: the gate grows by this share of the distance flown between the track's end and the
    #: strike (the drone may have turned)
    strike_grow: float = 0.5
    p_strike_joined: float = 0.97
    p_strike_far: float = 0.5
    p_strike_own: float = 0.05
    #: the share of those P(strike) that holds for each type: a one-way drone flies on to
    #: targets far beyond the monitored area, a reconnaissance drone or an aircraft seldom
    #: ends in a strike of its own
    strikes_here: dict[str, float] = field(
        default_factory=lambda: {
            "fpv": 1.0,
            "loitering_munition": 1.0,
            "one_way_drone": 0.2,
            "reconnaissance_drone": 0.04,
            "aircraft": 0.1,
        }
    )
    types: AirTypeParams = field(default_factory=AirTypeParams)
    #: a track first seen heading away from the line (its distance to the line growing by
    #: ``away_share`` of ``heading_step_m`` flown) may have come from across it
    heading_step_m: float = 1000.0
    away_share: float = 0.5
    beyond_m: float = 2000.0
    path_points: int = 200
    impact: ImpactSearch = field(default_factory=ImpactSearch)
    #: P(three sensors agree on an impact at the track's end | it struck there) over
    #: P(the same | it did not), on simulated ``field`` days (seeds 1-4, 12 h, recon flights
    #: on; ``benchmarks/impact_sound.py``): found at 12 of 15 strike ends (0.80) and at 6 of
    #: 561 ends where no strike was (the same ends moved by -1800, +900, +1800 s; 0.011), a
    #: ratio of 75 whose counts allow about 30-200. The shipped 45 is the lower of that and
    #: a first measurement (13/17 against 2-3/147). The simulator's world, not the real one.
    heard_likelihood_ratio: float = 45.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> FlightParams:
        """The parameters as recorded by :meth:`as_dict` (None: the defaults), each value
        given its default's type back (canonical JSON writes 600.0 as 600).

        >>> FlightParams.from_dict({"strike_m": 1200, "tracker": {"gate_m": 2500}}).tracker.gate_m
        2500.0
        """
        return cls() if d is None else _restore(cls(), d)


def _restore(default: Any, value: Any) -> Any:
    """``value`` (JSON) shaped as ``default``: dataclasses, dicts, tuples and numbers."""
    if is_dataclass(default) and not isinstance(default, type):
        return replace(default, **{k: _restore(getattr(default, k), v) for k, v in value.items()})
    if isinstance(default, dict):  # in the default's order (the log's JSON sorts keys)
        like = next(iter(default.values()), None)
        keys = [k for k in default if k in value] + [k for k in value if k not in default]
        return {k: _restore(default.get(k, like), value[k]) for k in keys}
    if isinstance(default, tuple):
        return tuple(_restore(a, b) for a, b in zip(default, value, strict=True))
    if isinstance(default, bool | int | float):
        return type(default)(value)
    return value


@dataclass(frozen=True)
class _Table:
    det: Detections
    obs: list[Observation]
    t0_us: int


def detections_of(observations: Sequence[Observation], ag: Agreement, prm: FlightParams) -> _Table:
    """The detection table of the radar, rf and directional drone_acoustic observations."""
    rows = [
        o
        for o in observations
        if isinstance(o.model, Radar | Rf)
        or (isinstance(o.model, DroneAcoustic) and o.model.bearing_deg is not None)
    ]
    rows.sort(key=lambda o: (o.time_us, o.key))
    t0 = min((o.time_us for o in rows), default=0)
    sensors: dict[tuple[str, str], int] = {}
    cols: dict[str, list[float]] = {k: [] for k in Detections.__dataclass_fields__}
    lonlat = []
    for o in rows:
        m = o.model
        assert isinstance(m, Radar | Rf | DroneAcoustic)
        t = m.time if not isinstance(m, DroneAcoustic) else (m.time + m.time_end) // 2
        cols["t_s"].append((t - t0) / 1e6)
        cols["sensor"].append(sensors.setdefault((m.source, m.sensor), len(sensors)))
        lonlat.append(m.position[:2])
        if isinstance(m, Radar):
            cols["kind"].append(POSITION)
            cols["sigma_m"].append(m.position_sigma_m)
            cols["bearing_deg"].append(math.nan)
            cols["bearing_sigma_deg"].append(math.nan)
            cols["max_range_m"].append(math.nan)
        else:
            cols["kind"].append(BEARING)
            cols["sigma_m"].append(math.nan)
            cols["bearing_deg"].append(float(m.bearing_deg or 0.0))
            cols["bearing_sigma_deg"].append(float(m.bearing_sigma_deg or 1.0))
            far = prm.rf_range_m if isinstance(m, Rf) else prm.acoustic_range_m
            cols["max_range_m"].append(far)
    ll = np.array(lonlat, float).reshape(-1, 2)
    x, y = ag.frame.forward(ll[:, 0], ll[:, 1])
    det = Detections.of(**{**cols, "x": x, "y": y})
    return _Table(det, rows, t0)


def flights(
    observations: Sequence[Observation], ag: Agreement, params: FlightParams | None = None
) -> list[Fused]:
    """The ``air`` incident of each track the drone sources make, in order of start."""
    prm = params or FlightParams()
    table = detections_of(observations, ag, prm)
    if not len(table.det):
        return []
    return [_incident(trk, table, ag, prm) for trk in track(table.det, prm.tracker)]


def _us(table: _Table, t_s: float) -> int:
    return table.t0_us + round(t_s * 1e6)


def _incident(trk: Track, table: _Table, ag: Agreement, prm: FlightParams) -> Fused:
    obs = [table.obs[r] for r in trk.detections]
    speed = float(np.median(np.hypot(trk.mean[:, 1], trk.mean[:, 3])))
    xy, pcov = trk.xy, trk.position_cov
    sig = np.sqrt(np.maximum(pcov[:, 0, 0] + pcov[:, 1, 1], 0.0) / 2.0)
    launch = Point(
        float(xy[0, 0]),
        float(xy[0, 1]),
        pcov[0] + np.eye(2) * (speed * prm.unseen_s) ** 2 + _came_from_beyond(trk, ag, prm),
        _us(table, trk.start_s),
    )
    last = Point(float(xy[-1, 0]), float(xy[-1, 1]), pcov[-1], _us(table, trk.end_s))
    crossing, p_crossed, beyond_at_end = _crossing(trk, sig, launch, ag, table)
    alts = [o.model.alt_m for o in obs if isinstance(o.model, Radar)]
    tones = [o.model.f0_hz for o in obs if isinstance(o.model, DroneAcoustic) and o.model.f0_hz]
    keep = np.unique(np.linspace(0, len(trk.t_s) - 1, min(prm.path_points, len(trk.t_s))))
    keep = keep.astype(int)
    base = prm.p_strike_far if beyond_at_end else prm.p_strike_own
    flight = _typed(
        Flight(
            t_us=tuple(_us(table, float(t)) for t in trk.t_s[keep]),
            xy=xy[keep],
            sigma_m=sig[keep],
            crossing=crossing,
            p_crossed=p_crossed,
            p_strike=base,
            classes={},
            speed_ms=speed,
            alt_m=float(np.median(alts)) if alts else None,
            f0_hz=float(np.median(tones)) if tones else None,
            turns=turns_of(xy),
            behind_m=float(ag.distance_to_line_m([xy[0, 0]], [xy[0, 1]])[0]),
        ),
        False,
        prm,
    )
    share = sum(p * prm.strikes_here.get(t, 1.0) for t, p in flight.types.items())
    flight = replace(flight, p_strike=round(base * share, 4))
    p_air = flight.classes["aircraft"]
    support: dict[str, list[str]] = {}
    for o in obs:
        support.setdefault(o.type, []).append(o.ref)
    n = len(trk.detections)
    return Fused(
        kind="air",
        time_start_us=launch.time_us,
        time_end_us=last.time_us,
        origin=launch,
        impact=last,
        weapon="drone" if p_air < 0.5 else "aircraft",
        weapon_basis="tracked",
        support={k: tuple(sorted(v)) for k, v in sorted(support.items())},
        confidence=round(min(0.99, 1.0 - 0.5 ** (n / 4.0)), 4),
        status="corroborated" if len(support) > 1 else "automatic",
        id=incident_id(o.leaf_hash for o in obs),
        flight=flight,
    )


def _typed(f: Flight, struck: bool, prm: FlightParams) -> Flight:
    """``f`` with its type probabilities (:func:`.air_types.classify`) and, from them, its
    weapon classes (drone: any of the drone types)."""
    types = classify(
        TypeEvidence(f.speed_ms, f.alt_m, f.f0_hz, f.turns, f.behind_m, struck), prm.types
    )
    p_air = types.get("aircraft", 0.0)
    return replace(
        f, types=types, classes={"drone": round(1.0 - p_air, 4), "aircraft": round(p_air, 4)}
    )


def _came_from_beyond(trk: Track, ag: Agreement, prm: FlightParams) -> FloatArray:
    """Extra covariance of the launch area of a track first seen flying *away* from the
    line, deeper into the side it is on: it may have come from across the line unseen, so
    the area is stretched back along its heading to beyond the line (``beyond_m`` past
    it); zero for a track first seen heading for the line or along it."""
    x, y = trk.mean[0, 0], trk.mean[0, 2]
    k = min(int(np.searchsorted(trk.t_s, trk.start_s + 30.0)), len(trk.t_s) - 1)
    vx, vy = trk.mean[k, 1], trk.mean[k, 3]  # the heading once the filter has settled
    speed = math.hypot(vx, vy)
    if speed < 1.0:
        return np.zeros((2, 2))
    ux, uy = vx / speed, vy / speed
    step = prm.heading_step_m
    d = ag.distance_to_line_m([x, x + ux * step], [y, y + uy * step])
    if d[1] - d[0] < prm.away_share * step:  # not flying away from the line
        return np.zeros((2, 2))
    back = float(d[0]) + prm.beyond_m
    u = np.array([[ux], [uy]])
    return np.asarray(back**2 * (u @ u.T), float)


def _crossing(
    trk: Track, sig: FloatArray, launch: Point, ag: Agreement, table: _Table
) -> tuple[Point | None, float, bool]:
    """Where the path first meets the line, P(it went beyond the line from the launch
    area's side), and whether it ended beyond the line."""
    xy = trk.xy
    home = int(ag.owner_index([launch.x], [launch.y])[0])
    owner = ag.owner_index(xy[:, 0], xy[:, 1])
    dist = ag.distance_to_line_m(xy[:, 0], xy[:, 1])
    away = (owner != home) & (owner >= 0)
    signed = np.where(away, dist, -dist)
    p_crossed = float(norm.cdf(signed / np.maximum(sig, 1.0)).max()) if home >= 0 else 0.0
    crossing = None
    if len(xy) >= 2:
        path = shapely.LineString(xy)
        hit = shapely.intersection(path, ag.line_local)
        if not hit.is_empty:
            pts = [g for g in getattr(hit, "geoms", [hit]) if isinstance(g, shapely.Point)]
            if pts:
                along = [path.project(p) for p in pts]
                first = pts[int(np.argmin(along))]
                cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
                s = min(along)
                t = float(np.interp(s, cum, trk.t_s))
                k = int(min(np.searchsorted(cum, s), len(xy) - 1))
                crossing = Point(first.x, first.y, trk.position_cov[k], _us(table, t))
    return crossing, p_crossed, bool(away[-1])


def join_strikes(
    found: Sequence[Fused],
    air: Sequence[Fused],
    leaf: Callable[[str], bytes],
    params: FlightParams | None = None,
    leftover: Picks | None = None,
) -> list[Fused]:
    """``found`` with each flight of ``air`` joined with the strike it ended in, if any
    (the strike's incident is then replaced by the joined one, its id computed over the
    leaf hashes ``leaf`` gives of all its evidence), in (time_start, id) order.

    ``leftover`` are the acoustic picks no incident of ``found`` used: a flight that no
    located strike joins is listened for in them (step 5 of the module)."""
    prm = params or FlightParams()
    taken: set[int] = set()
    out: list[Fused] = []
    unjoined: list[Fused] = []
    strikes = [
        (k, f) for k, f in enumerate(found) if f.kind in ("fire", "air") and f.flight is None
    ]
    for fl in air:
        assert fl.flight is not None and fl.impact is not None
        end = fl.impact
        vx, vy = last_velocity(fl.flight)
        best, best_d = None, math.inf
        for k, f in strikes:
            loc = f.location
            if k in taken or loc is None:
                continue
            dt_s = (loc.time_us - fl.time_end_us) / 1e6  # the impact's time, not the launch's
            if not -prm.strike_before_s <= dt_s <= prm.strike_after_s:
                continue
            ahead = max(dt_s, 0.0)  # where it would be, flying on, when the strike came
            d = math.hypot(loc.x - end.x - vx * ahead, loc.y - end.y - vy * ahead)
            # or where it was last seen: a drone circling over its target (or hovering)
            # strikes near where the track ended, not where a straight line would take it
            d = min(d, math.hypot(loc.x - end.x, loc.y - end.y))
            gate = max(prm.strike_m, 3.0 * math.hypot(loc.sigma_m, end.sigma_m))
            if d < gate + prm.strike_grow * math.hypot(vx, vy) * ahead and d < best_d:
                best, best_d = k, d
        if best is None:
            unjoined.append(fl)
            continue
        taken.add(best)
        joined = _joined(fl, found[best], prm.p_strike_joined, prm)
        out.append(replace(joined, id=incident_id(leaf(r) for r in joined.refs)))
    out += _heard(unjoined, leftover, leaf, prm) if leftover is not None else unjoined
    out += [f for k, f in enumerate(found) if k not in taken]
    return sorted(out, key=lambda i: (i.time_start_us, i.id))


def _heard(
    air: Sequence[Fused], p: Picks, leaf: Callable[[str], bytes], prm: FlightParams
) -> list[Fused]:
    """Each flight of ``air``, joined with its impact where the leftover picks ``p`` heard
    one (:func:`.impact_sound.heard_impact`); each pick is used by one flight at most, the
    flights taken in order of their end."""
    used = np.zeros(len(p), bool)
    out = []
    for fl in sorted(air, key=lambda f: (f.time_end_us, f.id)):
        assert fl.flight is not None and fl.impact is not None
        if fl.weapon != "drone":  # an aircraft does not end in its own impact
            out.append(fl)
            continue
        end = fl.impact
        vx, vy = last_velocity(fl.flight)
        t_end = (fl.time_end_us - p.t_ref_us) / 1e6
        fix = heard_impact(p, used, end.x, end.y, t_end, vx, vy, end.sigma_m, prm.impact)
        if fix is None:
            out.append(fl)
            continue
        used[fix.picks] = True
        t_us = p.t_ref_us + round(fix.t_s * 1e6)
        strike = Fused(
            kind="fire",
            time_start_us=t_us,
            time_end_us=t_us,
            impact=Point(fix.x, fix.y, fix.cov, t_us),
            weapon=fl.weapon,
            weapon_basis=fl.weapon_basis,
            support={"acoustic": tuple(sorted(str(r) for r in p.ref[fix.picks]))},
            status="automatic",
        )
        prior = fl.flight.p_strike
        odds = prior / (1.0 - prior) * prm.heard_likelihood_ratio
        joined = _joined(fl, strike, round(odds / (1.0 + odds), 4), prm)
        out.append(replace(joined, id=incident_id(leaf(r) for r in joined.refs)))
    return out


def last_velocity(f: Flight) -> tuple[float, float]:
    """The velocity between the path's last point and the last before it at an earlier
    time (m/s; the path may hold several points at one time)."""
    t = np.asarray(f.t_us, dtype=np.int64)
    earlier = np.flatnonzero(t < t[-1]) if t.size else t
    if earlier.size == 0:
        return 0.0, 0.0
    k = int(earlier[-1])
    span = (t[-1] - t[k]) / 1e6
    return float((f.xy[-1, 0] - f.xy[k, 0]) / span), float((f.xy[-1, 1] - f.xy[k, 1]) / span)


def _joined(fl: Fused, strike: Fused, p_strike: float, prm: FlightParams) -> Fused:
    assert fl.flight is not None
    support = {k: tuple(v) for k, v in fl.support.items()}
    for k, v in strike.support.items():
        support[k] = tuple(sorted(set(support.get(k, ())) | set(v)))
    return replace(
        strike,
        kind="air",
        time_start_us=min(fl.time_start_us, strike.time_start_us),
        time_end_us=max(fl.time_end_us, strike.time_end_us),
        origin=fl.origin,
        impact=strike.impact if strike.impact is not None else strike.location,
        support=dict(sorted(support.items())),
        confidence=round(1.0 - (1.0 - fl.confidence) * (1.0 - strike.confidence), 4),
        status="corroborated",
        flight=_typed(replace(fl.flight, p_strike=p_strike), True, prm),
    )
