"""Ground truth: what really happened on the simulated front (FORMATS.md §4).

Firing events by both sides with realistic weapon classes, and equipment standing where it
may or may not be (heavy weapons near the line, armour in the disengagement areas, troops
across the line). Each truth event's ``violations`` are decided from its true position and
class with the agreement's own geometry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray

from ..agreement import Agreement
from .scenario import Scenario
from .world import World

__all__ = [
    "Escalation",
    "FireEvents",
    "PresenceEvents",
    "Sounds",
    "draw_fire",
    "draw_presence",
    "draw_sounds",
]

FIRE_MIX: dict[str, float] = {
    "small_arms": 0.06,
    "mortar_lt120": 0.20,
    "mortar_ge120": 0.18,
    "artillery_lt100": 0.08,
    "artillery_ge100": 0.22,
    "tank": 0.06,
    "mlrs": 0.12,
    "mlrs_heavy": 0.04,
    "drone": 0.04,  # strike drones (FPV, loitering munitions): the `air` clause
}


@dataclass
class FireEvents:
    """Columns of true firing events (metres, seconds from the start of the run)."""

    side: NDArray[np.int64]
    weapon: NDArray[np.str_]
    t_launch: NDArray[np.float64]
    t_impact: NDArray[np.float64]
    ox: NDArray[np.float64]
    oy: NDArray[np.float64]
    ix: NDArray[np.float64]
    iy: NDArray[np.float64]
    rounds: NDArray[np.int64]
    violations: list[list[str]] = field(default_factory=list)
    tof_factor: NDArray[np.float64] | None = None  # the shot's time of flight / nominal

    def __len__(self) -> int:
        return int(self.side.size)


@dataclass
class Sounds:
    """Every launch and impact heard separately: one row per round of a firing event that
    makes its own sound (a salvo's ripple, a battery's guns), ``event`` indexing the firing."""

    event: NDArray[np.int64]
    t_launch: NDArray[np.float64]
    ox: NDArray[np.float64]
    oy: NDArray[np.float64]
    t_impact: NDArray[np.float64]
    ix: NDArray[np.float64]
    iy: NDArray[np.float64]
    weapon: NDArray[np.str_]

    def __len__(self) -> int:
        return int(self.event.size)


@dataclass
class PresenceEvents:
    """Equipment standing somewhere for a while (seen by UAVs)."""

    side: NDArray[np.int64]
    weapon: NDArray[np.str_]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    t_start: NDArray[np.float64]
    t_end: NDArray[np.float64]
    count: NDArray[np.int64]
    violations: list[list[str]] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.side.size)


def _times(rng: np.random.Generator, rate_per_hour: float, hours: float) -> NDArray[np.float64]:
    """Poisson times with a night-time peak (thinning of a homogeneous process)."""
    peak = rate_per_hour * 1.8
    n = rng.poisson(peak * hours)
    t = np.sort(rng.uniform(0.0, hours * 3600.0, n))
    hour = (t / 3600.0) % 24.0
    intensity = 1.0 + 0.8 * np.cos(2 * np.pi * (hour - 2.0) / 24.0)
    return t[rng.uniform(0.0, 1.8, n) < intensity]


@dataclass(frozen=True)
class Escalation:
    """A stretch of the line where fire runs at ``factor`` × the calm rate for a while.

    ``along_km`` is the stretch's centre, measured along the front from its western end."""

    start_h: float
    hours: float
    along_km: float
    factor: float
    width_km: float = 25.0

    @classmethod
    def parse(cls, text: str) -> Escalation:
        """``START_H,HOURS,ALONG_KM,FACTOR[,WIDTH_KM]``, e.g. ``96,24,150,3``.

        >>> Escalation.parse("96,24,150,3")
        Escalation(start_h=96.0, hours=24.0, along_km=150.0, factor=3.0, width_km=25.0)
        """
        parts = [float(v) for v in text.split(",")]
        if len(parts) not in (4, 5) or parts[1] <= 0 or parts[3] < 1 or min(parts) < 0:
            raise ValueError(
                f"escalation {text!r}: expected START_H,HOURS,ALONG_KM,FACTOR[,WIDTH_KM] "
                "with HOURS > 0 and FACTOR >= 1"
            )
        return cls(*parts)


def draw_fire(
    rng: np.random.Generator,
    sc: Scenario,
    ag: Agreement,
    world: World,
    hours: float,
    rate_per_hour: float,
    escalations: tuple[Escalation, ...] = (),
    escalation_rng: np.random.Generator | None = None,
    physics_rng: np.random.Generator | None = None,
) -> FireEvents:
    """Calm fire along the whole front, plus each escalation's extra fire in its stretch.
    ``physics_rng`` draws what only a world with charges and high-angle fire has (so the
    ``matched`` world's draws are those it always had)."""
    prng = physics_rng or np.random.default_rng(0)
    ev = _fire_events(rng, sc, ag, world, _times(rng, rate_per_hour, hours), None, prng)
    if not escalations:
        return ev
    erng = escalation_rng or np.random.default_rng(0)
    usable_km = (2 * sc.half_length_m - 50_000) / 1000.0
    parts = [ev]
    for e in escalations:
        extra = rate_per_hour * (e.factor - 1.0) * e.width_km / usable_km
        t = _times(erng, extra, hours)
        t = t[(t >= e.start_h * 3600.0) & (t < (e.start_h + e.hours) * 3600.0)]
        centre = -sc.half_length_m + e.along_km * 1000.0
        half = e.width_km * 500.0
        ox = erng.uniform(centre - half, centre + half, t.size)
        parts.append(_fire_events(erng, sc, ag, world, t, ox, prng))
    return _concat(parts)


FIRE_COLUMNS = (
    "side",
    "weapon",
    "t_launch",
    "t_impact",
    "ox",
    "oy",
    "ix",
    "iy",
    "rounds",
    "tof_factor",
)


def _concat(parts: list[FireEvents]) -> FireEvents:
    cols = {k: np.concatenate([getattr(p, k) for p in parts]) for k in FIRE_COLUMNS}
    order = np.argsort(cols["t_launch"], kind="stable")
    ev = FireEvents(*(cols[k][order] for k in FIRE_COLUMNS))  # type: ignore[arg-type]
    violations = [v for p in parts for v in p.violations]
    ev.violations = [violations[i] for i in order]
    return ev


def _fire_events(
    rng: np.random.Generator,
    sc: Scenario,
    ag: Agreement,
    world: World,
    t: NDArray[np.float64],
    ox: NDArray[np.float64] | None,
    prng: np.random.Generator,
) -> FireEvents:
    n = t.size
    names = list(FIRE_MIX)
    weapon = rng.choice(names, n, p=np.array(list(FIRE_MIX.values())))
    side = (rng.uniform(size=n) < 0.45).astype(np.int64)  # 55 % by the north party
    sign = np.where(side == 0, 1.0, -1.0)
    if ox is None:
        ox = rng.uniform(-sc.half_length_m + 25_000, sc.half_length_m - 25_000, n)
    phys = [world.firing(str(w)) for w in weapon]
    wmin = np.array([f.min_range_m for f in phys])
    wmax = np.array([f.max_range_m for f in phys])
    # Firing position behind the own line, then a range that carries across it.
    depth = rng.uniform(*world.depth, n) * wmax + 50.0
    depth = np.minimum(depth, 45_000.0)
    oy = sc.line_at(ox) + sign * depth
    lo = np.maximum(wmin, depth + 300.0)
    rng_m = np.where(lo < wmax, rng.uniform(np.minimum(lo, wmax), wmax), wmax)
    heading = np.where(side == 0, np.pi, 0.0) + rng.normal(0.0, np.radians(18.0), n)
    ix = ox + rng_m * np.sin(heading)
    iy = oy + rng_m * np.cos(heading)
    speed = np.array([f.speed_ms for f in phys])
    rel = np.array([f.spread for f in phys])
    factor = np.exp(rel * rng.standard_normal(n))  # charge, projectile, air
    factor = factor * _elevation(prng, phys)
    tof = rng_m / speed * factor
    smin = np.array([f.salvo[0] for f in phys])
    smax = np.array([f.salvo[1] for f in phys])
    rounds = rng.integers(smin, smax + 1)
    ev = FireEvents(side, weapon, t, t + tof, ox, oy, ix, iy, rounds, tof_factor=factor)
    ev.violations = fire_violations(sc, ag, ev)
    return ev


def _elevation(prng: np.random.Generator, phys: list[Any]) -> NDArray[np.float64]:
    """Each shot's time-of-flight factor from high-angle fire (longer) or a low charge (a
    slower shell): 1 in a world without them, where nothing is drawn."""
    out = np.ones(len(phys))
    if not any(f.high_angle[0] > 0 or f.low_charge[0] > 0 for f in phys):
        return out
    u = prng.uniform(size=(len(phys), 2))
    for i, f in enumerate(phys):
        share, lo, hi = f.high_angle
        if u[i, 0] < share:
            out[i] *= lo + (hi - lo) * u[i, 1]
        share, lo, hi = f.low_charge
        if u[i, 0] < share:
            out[i] /= lo + (hi - lo) * u[i, 1]
    return out


def draw_sounds(rng: np.random.Generator, ev: FireEvents, world: World) -> Sounds:
    """The launches and impacts each firing event makes: one of each in a world of single
    sounds; several in one with salvos (MLRS ripples a fraction of a second apart from one
    launcher, a battery's guns a few seconds and up to ``battery_m`` apart), each round with
    its own flight time and an impact scattered by the salvo's dispersion."""
    rows: list[tuple[int, float, float, float, float, float, float, str]] = []
    for i in range(len(ev)):
        w = str(ev.weapon[i])
        f = world.firing(w)
        if f.sounds_p:
            k = 1 + int(rng.choice(len(f.sounds_p), p=np.array(f.sounds_p) / sum(f.sounds_p)))
        else:
            k = 1 if f.sounds[1] <= 1 else int(rng.integers(f.sounds[0], f.sounds[1] + 1))
        if k == 1 and f.battery_m == 0 and f.dispersion_m == 0:
            rows.append(
                (i, ev.t_launch[i], ev.ox[i], ev.oy[i], ev.t_impact[i], ev.ix[i], ev.iy[i], w)
            )
            continue
        gaps = np.concatenate([[0.0], rng.uniform(*f.interval_s, k - 1)])
        t0 = ev.t_launch[i] + np.cumsum(gaps)
        # the event's position is the battery's centre, its impact point the centre of the
        # salvo's pattern (what a commission asks: where the battery stood, where it aimed)
        off = rng.normal(0.0, f.battery_m / 2.0, (k, 2)) if f.battery_m else np.zeros((k, 2))
        off -= off.mean(axis=0)
        scatter = rng.normal(0.0, f.dispersion_m / 2.0, (k, 2)) if f.dispersion_m else off.copy()
        scatter -= scatter.mean(axis=0)
        rng_m = np.hypot(ev.ix[i] - ev.ox[i], ev.iy[i] - ev.oy[i])
        tof = (ev.t_impact[i] - ev.t_launch[i]) * (1.0 + 0.02 * rng.standard_normal(k))
        tof[0] = ev.t_impact[i] - ev.t_launch[i]
        for j in range(k):
            ix, iy = ev.ix[i] + scatter[j, 0], ev.iy[i] + scatter[j, 1]
            d = np.hypot(ix - ev.ox[i] - off[j, 0], iy - ev.oy[i] - off[j, 1])
            t_flight = tof[j] * d / max(rng_m, 1.0)
            rows.append(
                (i, t0[j], ev.ox[i] + off[j, 0], ev.oy[i] + off[j, 1], t0[j] + t_flight, ix, iy, w)
            )
    cols = list(zip(*rows, strict=True)) if rows else [()] * 8
    num = [np.array(c, dtype=float) for c in cols[1:7]]
    return Sounds(
        np.array(cols[0], dtype=np.int64),
        num[0],
        num[1],
        num[2],
        num[3],
        num[4],
        num[5],
        np.array(cols[7], dtype=np.str_),
    )


def _in_agreement_frame(
    sc: Scenario, ag: Agreement, x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Scenario metres -> the agreement's own frame (the two frames' centres differ)."""
    return ag.frame.forward(*sc.frame.inverse(x, y))


def fire_violations(sc: Scenario, ag: Agreement, ev: FireEvents) -> list[list[str]]:
    """Clauses each true firing breaks: every fire rule, and presence rules at the origin."""
    ox, oy = _in_agreement_frame(sc, ag, ev.ox, ev.oy)
    owner = ag.owner_index(ox, oy)
    dist = ag.distance_to_line_m(ox, oy)
    out: list[list[str]] = [[] for _ in range(len(ev))]
    for clause in ag.clauses:
        rule = clause.rule
        for i in range(len(ev)):
            w = str(ev.weapon[i])
            if rule.over_line or rule.air_types is not None:  # truceline.simulate.drones decides
                continue
            if (rule.kind == "fire" and rule.applies_to_weapon(w)) or (
                rule.kind == "air" and w in ("drone", "aircraft") and rule.applies_to_weapon(w)
            ):
                out[i].append(clause.id)
            elif rule.kind == "presence" and rule.applies_to_weapon(w) and owner[i] == ev.side[i]:
                if (rule.within_km is not None and dist[i] < rule.within_km * 1000.0) or (
                    rule.area_local is not None
                    and shapely.contains_xy(rule.area_local, ox[i], oy[i])
                ):
                    out[i].append(clause.id)
    return out


def draw_presence(
    rng: np.random.Generator, sc: Scenario, ag: Agreement, hours: float, scale: float
) -> PresenceEvents:
    """Heavy weapons near the line, armour and troops in and near the disengagement areas,
    and troops across the line."""
    days = hours / 24.0
    rows: list[tuple[int, str, float, float]] = []
    limits = {"artillery_ge100": 25_000.0, "mlrs": 35_000.0, "mlrs_heavy": 70_000.0}
    for _ in range(rng.poisson(14 * days * scale)):
        w = str(rng.choice(list(limits), p=[0.5, 0.35, 0.15]))
        s = int(rng.integers(0, 2))
        x = rng.uniform(-sc.half_length_m + 20_000, sc.half_length_m - 20_000)
        depth = rng.uniform(2_000.0, 1.7 * limits[w])
        y = float(sc.line_at(x)) + (depth if s == 0 else -depth)
        rows.append((s, w, x, y))
    armour = ("troops", "tank", "apc")
    for _ in range(rng.poisson(8 * days * scale)):
        zone = sc.disengagement[int(rng.integers(0, len(sc.disengagement)))]
        minx, miny, maxx, maxy = zone.bounds
        inside = rng.uniform() < 0.5
        x = (
            rng.uniform(minx + 300, maxx - 300)
            if inside
            else rng.choice([minx - 3_000, maxx + 3_000])
        )
        s = int(rng.integers(0, 2))
        line_y = float(sc.line_at(x))
        room = (maxy - line_y if s == 0 else line_y - miny) - 300.0
        depth = rng.uniform(200.0, max(min(3_500.0, room), 400.0))
        y = line_y + (depth if s == 0 else -depth)
        rows.append((s, str(rng.choice(armour)), float(x), y))
    for _ in range(rng.poisson(3 * days * scale)):
        s = int(rng.integers(0, 2))
        x = rng.uniform(-sc.half_length_m + 20_000, sc.half_length_m - 20_000)
        depth = rng.uniform(500.0, 3_000.0)
        y = float(sc.line_at(x)) + (-depth if s == 0 else depth)  # on the far side
        rows.append((s, "troops", x, y))
    n = len(rows)
    side = np.array([r[0] for r in rows], dtype=np.int64)
    weapon = np.array([r[1] for r in rows], dtype=np.str_)
    xs = np.array([r[2] for r in rows], dtype=float)
    ys = np.array([r[3] for r in rows], dtype=float)
    t0 = rng.uniform(0.0, hours * 3600.0 * 0.8, n)
    t1 = np.minimum(t0 + rng.uniform(2 * 3600.0, 12 * 3600.0, n), hours * 3600.0)
    count = rng.integers(1, 7, n)
    ev = PresenceEvents(side, weapon, xs, ys, t0, t1, count)
    ev.violations = presence_violations(sc, ag, ev)
    return ev


def presence_violations(sc: Scenario, ag: Agreement, ev: PresenceEvents) -> list[list[str]]:
    """Clauses each piece of equipment breaks where it truly stands."""
    x, y = _in_agreement_frame(sc, ag, ev.x, ev.y)
    owner = ag.owner_index(x, y)
    dist = ag.distance_to_line_m(x, y)
    out: list[list[str]] = [[] for _ in range(len(ev))]
    for clause in ag.clauses:
        rule = clause.rule
        for i in range(len(ev)):
            w = str(ev.weapon[i])
            if not rule.applies_to_weapon(w) and rule.kind != "crossing":
                continue
            if rule.kind == "crossing" and owner[i] >= 0 and owner[i] != ev.side[i]:
                if rule.classes is None or w in rule.classes:
                    out[i].append(clause.id)
            elif rule.kind == "presence" and owner[i] == ev.side[i]:
                if (rule.within_km is not None and dist[i] < rule.within_km * 1000.0) or (
                    rule.area_local is not None and shapely.contains_xy(rule.area_local, x[i], y[i])
                ):
                    out[i].append(clause.id)
    return out
