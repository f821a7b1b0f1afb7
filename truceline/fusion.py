"""Fusion: every source's observations into incidents.

1. Acoustic picks are associated and located (:mod:`truceline.localize.association`);
   launches are paired with impacts (:mod:`truceline.localize.pairing`). Each located event
   or pair seeds a fire incident.
2. Every other observation is gated against the incidents' points by its *own* uncertainty:
   the Mahalanobis distance d² = Δᵀ(Σ_obs + Σ_incident)⁻¹Δ must be below the chi-square
   quantile (2 degrees of freedom, 99.9 %: 13.8), and its time must fall in a window set
   per source type. Bearing-only patrol reports are gated by their angular residual. An
   observation joins the single incident it fits best; it never supports two.
3. Observations that fit no incident are grouped among themselves (connected components of
   the same gates, so the grouping does not depend on input order) and become incidents of
   their own: patrol fixes, thermal anomalies, UAV sightings of equipment; allegations that
   nothing corroborates stay ``unlocated``.
4. ``confidence`` is a noisy-OR over independent source types: each type contributes the
   probability that it alone would not report something that did not happen (acoustic grows
   with the number of sensors; an allegation counts for little). Within a type, repeated
   observations combine the same way but up to a ceiling for the types whose repetitions are
   not independent evidence of *weapon* fire: a fire seen on four overpasses is still a fire
   of unknown cause (``cap_thermal``), and one party's many allegations are still one
   interested party's word (``cap_allegation``). Both ceilings are below 0.5, so neither
   source alone ever makes an incident count as a violation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from .agreement import Agreement
from .incidents import Incident, Point, incident_id
from .localize.association import AcousticEvents, associate, picks_from
from .localize.bearings import bearing_residual_deg, range_bearing_fix, stansfield_fix
from .localize.pairing import pair_events
from .observations import Allegation, Observation, Patrol, Thermal, Uav

__all__ = ["FusionParams", "FusionResult", "fuse"]

FloatArray = NDArray[np.float64]
S = 1_000_000  # microseconds per second


@dataclass(frozen=True)
class FusionParams:
    """Every tunable of fusion, with its default. Recorded with each analysis run."""

    gate_chi2: float = 13.8  # chi-square, 2 dof, 99.9 %
    bearing_gate_sigma: float = 3.29  # two-sided 99.9 %
    patrol_slack_s: float = 120.0
    thermal_window_h: float = 12.0
    uav_window_h: float = 24.0
    allegation_slack_s: float = 600.0
    thermal_geoloc_sigma_m: float = 150.0
    min_picks: int = 4
    default_temperature_c: float = 10.0
    strength_patrol: float = 0.6
    strength_thermal: float = 0.3
    strength_uav: float = 0.9
    strength_allegation: float = 0.1
    cap_thermal: float = 0.45
    cap_allegation: float = 0.3

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FusionParams:
        """The parameters as recorded by :meth:`as_dict`, with each value given its field's
        type back (canonical JSON writes 600.0 as 600).

        >>> FusionParams.from_dict({"patrol_slack_s": 600}).patrol_slack_s
        600.0
        """
        defaults = cls()
        return cls(**{k: type(getattr(defaults, k))(v) for k, v in values.items()})


@dataclass
class FusionResult:
    incidents: list[Incident]
    acoustic: AcousticEvents | None
    stats: dict[str, Any] = field(default_factory=dict)


def acoustic_strength(n_picks: int) -> float:
    """P(real) from one located acoustic event heard by ``n_picks`` sensors.

    Four picks leave one degree of freedom: four unrelated picks (false alarms, leftovers
    of other events) fit a hyperbolic solution often enough that a 4-sensor event alone is
    not reported. Each further sensor halves the remaining doubt.

    >>> [round(acoustic_strength(n), 3) for n in (4, 5, 6, 8)]
    [0.3, 0.65, 0.825, 0.956]
    """
    if n_picks < 4:
        return 0.0
    return 1.0 - 0.7 * 0.5 ** (n_picks - 4)


def _point(
    x: float, y: float, cov: FloatArray, t_us: int, bound: FloatArray | None = None
) -> Point:
    crlb_m = None if bound is None else float(np.sqrt(np.trace(bound)))
    return Point(float(x), float(y), np.asarray(cov, float), int(t_us), crlb_m)


def _acoustic_incidents(
    obs: Sequence[Observation],
    ag: Agreement,
    prm: FusionParams,
    progress: Callable[[int], None] | None,
) -> tuple[list[Incident], AcousticEvents | None]:
    picks = picks_from(obs, ag.frame, prm.default_temperature_c)
    if len(picks) == 0:
        return [], None
    ev = associate(picks, min_picks=prm.min_picks, progress=progress)
    if len(ev) == 0:
        return [], ev
    fit = ev.fit
    good = ~fit.ill_conditioned
    t_us = picks.t_ref_us + np.round(fit.t0 * 1e6).astype(np.int64)
    launch = np.flatnonzero(good & (ev.cls == 0))
    impact = np.flatnonzero(good & (ev.cls != 0))
    lx, ly = fit.x[launch], fit.y[launch]
    ix, iy = fit.x[impact], fit.y[impact]
    own_l = ag.owner_index(lx, ly)
    own_i = ag.owner_index(ix, iy)
    same = (own_l[:, None] == own_i[None, :]) & (own_l[:, None] >= 0)
    pairs = pair_events(lx, ly, fit.t0[launch], ix, iy, fit.t0[impact], same_side=same)

    def at(e: int) -> Point:
        return _point(fit.x[e], fit.y[e], fit.cov[e], t_us[e], fit.crlb[e])

    def support(inc: Incident, e: int) -> Incident:
        refs = [str(picks.ref[k]) for k in ev.picks[e]]
        inc.add_many("acoustic", refs, acoustic_strength(int(fit.n_picks[e])))
        return inc

    out: list[Incident] = []
    for a, b, w in zip(pairs.launch, pairs.impact, pairs.weapon, strict=True):
        e, f = int(launch[a]), int(impact[b])
        inc = Incident(
            "fire",
            int(t_us[e]),
            int(t_us[f]),
            origin=at(e),
            impact=at(f),
            weapon=str(w),
            weapon_basis="range and time of flight of the launch-impact pair",
        )
        out.append(support(support(inc, e), f))
    # events left unpaired: a launch with no impact heard, an impact with no launch heard
    for events, paired, is_launch in ((launch, pairs.launch, True), (impact, pairs.impact, False)):
        for k in np.setdiff1d(np.arange(events.size), paired):
            e = int(events[k])
            inc = Incident("fire", int(t_us[e]), int(t_us[e]))
            if is_launch:
                inc.origin = at(e)
            else:
                inc.impact = at(e)
            out.append(support(inc, e))
    return out, ev


@dataclass
class _Points:
    """Incident points as arrays for gating: one row per (incident, origin|impact)."""

    inc: NDArray[np.int64]
    which: NDArray[np.str_]
    x: FloatArray
    y: FloatArray
    cov: FloatArray
    t0: NDArray[np.int64]
    t1: NDArray[np.int64]

    @cached_property
    def max_sd(self) -> float:
        """The largest 1-sigma axis of any point: bounds the search radius of every gate."""
        return float(np.sqrt(np.max(np.linalg.eigvalsh(self.cov)))) if len(self.x) else 0.0

    @classmethod
    def of(cls, incidents: list[Incident], which: tuple[str, ...]) -> _Points:
        rows = []
        for i, inc in enumerate(incidents):
            for w in which:
                p: Point | None = getattr(inc, w)
                if p is not None:
                    rows.append((i, w, p.x, p.y, p.cov, p.time_us, inc.time_end_us))
        if not rows:
            z = np.zeros(0)
            return cls(
                np.zeros(0, np.int64),
                np.zeros(0, np.str_),
                z,
                z,
                np.zeros((0, 2, 2)),
                np.zeros(0, np.int64),
                np.zeros(0, np.int64),
            )
        return cls(
            np.array([r[0] for r in rows], dtype=np.int64),
            np.array([r[1] for r in rows]),
            np.array([r[2] for r in rows]),
            np.array([r[3] for r in rows]),
            np.array([r[4] for r in rows]),
            np.array([r[5] for r in rows], dtype=np.int64),
            np.array([r[6] for r in rows], dtype=np.int64),
        )


@dataclass
class _Left:
    """A patrol report that joined no incident: its fix (or observer) and observer position."""

    obs: Observation
    x: float
    y: float
    cov: FloatArray | None
    ox: float
    oy: float


def _mahalanobis(dx: FloatArray, dy: FloatArray, cov: FloatArray) -> FloatArray:
    a, b, d = cov[..., 0, 0], cov[..., 0, 1], cov[..., 1, 1]
    det = np.maximum(a * d - b * b, 1e-9)
    return (d * dx * dx - 2 * b * dx * dy + a * dy * dy) / det


def _best(
    pts: _Points,
    x: float,
    y: float,
    cov: FloatArray,
    window: tuple[int, int],
    gate: float,
    radius: float,
    tree: cKDTree | None,
) -> tuple[int, float]:
    """Index into ``pts`` of the best-fitting point within the time window, or -1."""
    if tree is None:
        return -1, np.inf
    cand = np.array(sorted(tree.query_ball_point([x, y], radius)), dtype=np.int64)
    if cand.size == 0:
        return -1, np.inf
    cand = cand[(pts.t0[cand] <= window[1]) & (pts.t0[cand] >= window[0])]
    if cand.size == 0:
        return -1, np.inf
    d2 = _mahalanobis(pts.x[cand] - x, pts.y[cand] - y, pts.cov[cand] + cov)
    k = int(np.argmin(d2))
    return (int(cand[k]), float(d2[k])) if d2[k] <= gate else (-1, np.inf)


def _radius(cov: FloatArray, gate: float, pts: _Points) -> float:
    own = float(np.sqrt(np.max(np.linalg.eigvalsh(cov))))
    return float(np.sqrt(gate) * (own + pts.max_sd) + 1.0)


def _components(n: int, pairs: list[tuple[int, int]]) -> NDArray[np.int64]:
    if not pairs:
        return np.arange(n, dtype=np.int64)
    a = np.array(pairs, dtype=np.int64)
    graph = coo_matrix((np.ones(len(a)), (a[:, 0], a[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def fuse(
    observations: Sequence[Observation],
    ag: Agreement,
    params: FusionParams | None = None,
    progress: Callable[[int], None] | None = None,
) -> FusionResult:
    """Fuse a batch of observations (any order) into incidents (no ids, attribution or
    violations yet: see :func:`truceline.analysis.analyze`)."""
    prm = params or FusionParams()
    obs = sorted(observations, key=lambda o: (o.time_us, o.key))
    incidents, acoustic = _acoustic_incidents(obs, ag, prm, progress)
    stats: dict[str, Any] = {"acoustic": acoustic.stats if acoustic else {}}
    frame = ag.frame

    def lonlat_xy(pos: Sequence[float]) -> tuple[float, float]:
        x, y = frame.forward(np.array([pos[0]]), np.array([pos[1]]))
        return float(x[0]), float(y[0])

    # --- patrols ---------------------------------------------------------------------
    patrols = [o for o in obs if isinstance(o.model, Patrol)]
    pts = _Points.of(incidents, ("origin", "impact"))
    tree = cKDTree(np.column_stack([pts.x, pts.y])) if len(pts.x) else None
    left_patrols: list[_Left] = []
    matched = 0
    for o in patrols:
        m = o.model
        assert isinstance(m, Patrol)
        ox, oy = lonlat_xy(m.observer)
        t1 = m.time_end if m.time_end is not None else m.time
        window = (m.time - int(prm.patrol_slack_s * S), t1 + int(60 * S))
        best = -1
        if m.distance_km is not None:
            fx, fy, fcov = range_bearing_fix(
                np.array([ox]),
                np.array([oy]),
                np.array([m.bearing_deg]),
                np.array([m.bearing_sigma_deg]),
                np.array([m.distance_km[0] * 1000]),
                np.array([m.distance_km[1] * 1000]),
            )
            best, _ = _best(
                pts,
                float(fx[0]),
                float(fy[0]),
                fcov[0],
                window,
                prm.gate_chi2,
                _radius(fcov[0], prm.gate_chi2, pts),
                tree,
            )
            fix: tuple[float, float, FloatArray | None] = (float(fx[0]), float(fy[0]), fcov[0])
        else:
            fix = (ox, oy, None)
            if tree is not None:
                cand = np.array(sorted(tree.query_ball_point([ox, oy], 40_000.0)), dtype=np.int64)
                if cand.size:
                    cand = cand[(pts.t0[cand] >= window[0]) & (pts.t0[cand] <= window[1])]
                if cand.size:
                    res = bearing_residual_deg(ox, oy, m.bearing_deg, pts.x[cand], pts.y[cand])
                    dist = np.maximum(np.hypot(pts.x[cand] - ox, pts.y[cand] - oy), 1.0)
                    pos_deg = np.degrees(np.sqrt(np.trace(pts.cov[cand], axis1=1, axis2=2)) / dist)
                    z = np.abs(res) / np.hypot(m.bearing_sigma_deg, pos_deg)
                    k = int(np.argmin(z))
                    best = int(cand[k]) if z[k] <= prm.bearing_gate_sigma else -1
        if best >= 0:
            inc = incidents[int(pts.inc[best])]
            inc.add("patrol", o.ref, prm.strength_patrol)
            _patrol_weapon(inc, m)
            matched += 1
        else:
            left_patrols.append(_Left(o, fix[0], fix[1], fix[2], ox, oy))
    incidents += _patrol_incidents(left_patrols, prm)
    stats["patrol"] = {"reports": len(patrols), "joined": matched}

    # --- thermal ---------------------------------------------------------------------
    thermals = [o for o in obs if isinstance(o.model, Thermal)]
    pts = _Points.of(incidents, ("impact",))
    tree = cKDTree(np.column_stack([pts.x, pts.y])) if len(pts.x) else None
    left: list[tuple[Observation, float, float, FloatArray]] = []
    matched = 0
    window_us = int(prm.thermal_window_h * 3600 * S)
    for o in thermals:
        m = o.model
        assert isinstance(m, Thermal)
        x, y = lonlat_xy(m.position)
        pixel = max(m.scan_km or 0.375, m.track_km or 0.375) * 1000.0
        var = pixel**2 / 12.0 + prm.thermal_geoloc_sigma_m**2
        cov = np.diag([var, var])
        t1 = m.time_end if m.time_end is not None else m.time
        best, _ = _best(
            pts,
            x,
            y,
            cov,
            (m.time - window_us, t1),
            prm.gate_chi2,
            _radius(cov, prm.gate_chi2, pts),
            tree,
        )
        if best >= 0:
            incidents[int(pts.inc[best])].add("thermal", o.ref, prm.strength_thermal)
            matched += 1
        else:
            left.append((o, x, y, cov))
    incidents += _grouped(
        left, "thermal", prm.strength_thermal, prm.gate_chi2, window_us, kind="fire", as_impact=True
    )
    stats["thermal"] = {"detections": len(thermals), "joined": matched}

    # --- UAV sightings -> presence ---------------------------------------------------
    uavs = []
    for o in obs:
        if isinstance(o.model, Uav):
            x, y = lonlat_xy(o.model.position)
            var = o.model.position_sigma_m**2
            uavs.append((o, x, y, np.diag([var, var])))
    incidents += _grouped(
        uavs,
        "uav",
        prm.strength_uav,
        prm.gate_chi2,
        int(prm.uav_window_h * 3600 * S),
        kind="presence",
        as_impact=False,
    )
    stats["uav"] = {"sightings": len(uavs)}

    # --- allegations -----------------------------------------------------------------
    allegations = [o for o in obs if isinstance(o.model, Allegation)]
    pts = _Points.of(incidents, ("impact", "origin"))
    tree = cKDTree(np.column_stack([pts.x, pts.y])) if len(pts.x) else None
    matched = 0
    slack = int(prm.allegation_slack_s * S)
    for o in allegations:
        m = o.model
        assert isinstance(m, Allegation)
        x, y = lonlat_xy(m.position)
        sd = m.radius_km * 1000.0 / 2.45  # the radius read as a 95 % circle
        cov = np.diag([sd**2, sd**2])
        t1 = m.time_end if m.time_end is not None else m.time
        best, _ = _best(
            pts,
            x,
            y,
            cov,
            (m.time - slack, t1 + slack),
            prm.gate_chi2,
            _radius(cov, prm.gate_chi2, pts),
            tree,
        )
        if best >= 0:
            inc = incidents[int(pts.inc[best])]
            inc.add("allegation", o.ref, prm.strength_allegation)
            inc.alleged_by.append(m.party)
            matched += 1
        else:
            inc = Incident(
                "unlocated",
                m.time,
                t1,
                impact=_point(x, y, cov, m.time),
                weapon=m.object or "unknown",
            )
            inc.add("allegation", o.ref, prm.strength_allegation)
            inc.alleged_by.append(m.party)
            incidents.append(inc)
    stats["allegation"] = {"allegations": len(allegations), "corroborated": matched}

    for inc in incidents:
        for refs in inc.support.values():
            refs.sort()
        caps = {"thermal": prm.cap_thermal, "allegation": prm.cap_allegation}
        p_false = np.prod(
            [1.0 - min(p, caps.get(kind, 1.0)) for kind, p in inc.source_strength.items()]
        )
        inc.confidence = float(1.0 - p_false)
        inc.status = "corroborated" if len(inc.support) >= 2 else "automatic"
        if inc.weapon in ("drone", "aircraft") and inc.kind == "fire":
            inc.kind = "air"
        inc.id = incident_id(inc.refs)
    incidents.sort(key=lambda i: (i.time_start_us, i.id))
    stats["incidents"] = len(incidents)
    return FusionResult(incidents, acoustic, stats)


def _patrol_incidents(left: list[_Left], prm: FusionParams) -> list[Incident]:
    """Patrol reports that fit no incident: grouped by time and position; fixed by
    Stansfield's method where two or more posts took bearings, else by combining the
    range-bearing fixes (inverse-covariance weighted)."""
    n = len(left)
    pairs = []
    for i in range(n):
        for j in range(i + 1, n):
            a, b = left[i], left[j]
            ma, mb = a.obs.model, b.obs.model
            assert isinstance(ma, Patrol) and isinstance(mb, Patrol)
            if abs(ma.time - mb.time) > prm.patrol_slack_s * S or ma.event != mb.event:
                continue
            if a.cov is None or b.cov is None:
                continue
            if (
                _mahalanobis(np.array(a.x - b.x), np.array(a.y - b.y), a.cov + b.cov)
                <= prm.gate_chi2
            ):
                pairs.append((i, j))
    labels = _components(n, pairs)
    out: list[Incident] = []
    for lab in np.unique(labels):
        members = [left[k] for k in np.flatnonzero(labels == lab)]
        models = [m.obs.model for m in members if isinstance(m.obs.model, Patrol)]
        t0 = min(m.time for m in models)
        t1 = max(m.time_end or m.time for m in models)
        point: Point | None = None
        if len({(m.ox, m.oy) for m in members}) >= 2:
            try:
                x, y, cov = stansfield_fix(
                    np.array([m.ox for m in members]),
                    np.array([m.oy for m in members]),
                    np.array([pm.bearing_deg for pm in models]),
                    np.array([pm.bearing_sigma_deg for pm in models]),
                )
                point = _point(x, y, cov, t0)
            except ValueError:
                point = None
        located = [(m.x, m.y, m.cov) for m in members if m.cov is not None]
        if point is None and located:
            point = _combine(located, t0)
        inc = Incident("fire" if point is not None else "unlocated", t0, t1, impact=point)
        for m, pm in zip(members, models, strict=True):
            inc.add("patrol", m.obs.ref, prm.strength_patrol)
            _patrol_weapon(inc, pm)
        out.append(inc)
    return out


def _patrol_weapon(inc: Incident, m: Patrol) -> None:
    """A patrol's assessment names the weapon when nothing else has: its ``weapon`` field, or
    its ``event`` when that is a drone or an aircraft (seen or heard, it is a strike from
    the air, whatever the acoustic sensors made of the explosion)."""
    if m.event in ("drone", "aircraft") and inc.weapon not in ("drone", "aircraft"):
        inc.weapon, inc.weapon_basis = m.event, f"{m.event} seen or heard by a monitoring patrol"
    elif inc.weapon == "unknown" and m.weapon:
        inc.weapon, inc.weapon_basis = m.weapon, "assessed by a monitoring patrol"


def _combine(located: Sequence[tuple[float, float, FloatArray]], t_us: int) -> Point:
    """Inverse-covariance weighted mean of several independent position estimates."""
    infos = [np.linalg.inv(c) for _, _, c in located]
    cov = np.linalg.inv(sum(infos))
    mean = cov @ sum(i @ np.array([x, y]) for i, (x, y, _) in zip(infos, located, strict=True))
    return _point(mean[0], mean[1], cov, t_us)


def _grouped(
    items: list[tuple[Observation, float, float, FloatArray]],
    kind_name: str,
    strength: float,
    gate: float,
    window_us: int,
    *,
    kind: str,
    as_impact: bool,
) -> list[Incident]:
    """Group located observations of one type into incidents (connected components of
    pairs within the Mahalanobis gate and the time window; same object class for UAVs)."""
    n = len(items)
    if n == 0:
        return []
    xy = np.column_stack(
        [
            np.fromiter((it[1] for it in items), float, n),
            np.fromiter((it[2] for it in items), float, n),
        ]
    )
    cov = np.stack([it[3] for it in items])
    sd = np.sqrt(np.maximum(cov[:, 0, 0], cov[:, 1, 1]))
    tree = cKDTree(xy)
    pairs = []
    for i, j in sorted(tree.query_pairs(float(np.sqrt(gate) * 2 * sd.max()) + 1.0)):
        oi, oj = items[i][0].model, items[j][0].model
        if abs(oi.time - oj.time) > window_us:
            continue
        if isinstance(oi, Uav) and isinstance(oj, Uav) and oi.object != oj.object:
            continue
        d2 = _mahalanobis(
            np.array(xy[i, 0] - xy[j, 0]), np.array(xy[i, 1] - xy[j, 1]), items[i][3] + items[j][3]
        )
        if d2 <= gate:
            pairs.append((i, j))
    labels = _components(n, pairs)
    out = []
    for lab in np.unique(labels):
        idx = np.flatnonzero(labels == lab)
        members = [items[k] for k in idx]
        t0 = min(m[0].model.time for m in members)
        t1 = max(m[0].model.time_end or m[0].model.time for m in members)
        p = _combine([(m[1], m[2], m[3]) for m in members], t0)
        inc = Incident(
            kind, t0, t1, impact=p if as_impact else None, origin=None if as_impact else p
        )
        for m in members:
            inc.add(kind_name, m[0].ref, strength)
            model = m[0].model
            if isinstance(model, Uav):
                inc.weapon, inc.weapon_basis = model.object, "identified from the air (UAV)"
                if model.side:
                    inc.marking = model.side
        out.append(inc)
    return out
