"""The radars, radio direction finders and microphone arrays that see what flies (a world
with ``drones:``, e.g. ``field``), and the truth of every flight.

**Flights** (:mod:`.air_traffic`): drone strikes (FPV drones and loitering munitions),
reconnaissance drones, long-range one-way drones and aircraft.

**Radars** stand every ``radar_spacing_km`` on each side, 8-15 km behind the line, and scan
every ``radar_period_s``: a drone is plotted with probability ``radar_pd`` within
``radar_range_km``, above the radar horizon (4/3 Earth, plus 30 m of terrain clutter) and
outside the radar's terrain-masked sectors, with an error of 30 m + 3 m per km of range;
each scan adds ``clutter_per_scan`` false plots in the coverage on average.
**Radio direction finders** every ``rf_spacing_km`` each hear one band of three: a drone on
a link of that band within ``rf_range_km`` gives a bearing (σ 3°) with probability 0.7 every
``rf_period_s``. **Microphone arrays** (``array_share`` of the acoustic sensors) hear an
engine within about ``engine_audible_m`` (less for electric FPV drones), over windows of
``acoustic_window_s``, with a bearing (σ 6°) and the engine's tone (an aircraft's noise,
heard two and a half times as far, with no tone).

The truth of every flight is written to ``drones_truth.jsonl`` (its path every 10 s, the
crossing of the line and the clauses it broke); the analysis never reads it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .._time import format_time
from ..agreement import Agreement
from .air_traffic import BANDS, Flight, draw_flights
from .observe import ObservationWriter
from .world import Drones

__all__ = ["Flight", "draw_flights", "observe_flights", "write_drones_truth"]

FloatArray = NDArray[np.float64]
EARTH_4_3_M = 4.0 / 3.0 * 6_371_000.0


def _ring(
    sc: Any, spacing_km: float, depth: tuple[float, float], rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, NDArray[np.int64]]:
    """Sites every ``spacing_km`` on both sides, ``depth`` metres behind the line."""
    xs, ys, sides = [], [], []
    step = spacing_km * 1000.0
    for side, sign in ((0, 1.0), (1, -1.0)):
        cols = np.arange(-sc.half_length_m + step / 2, sc.half_length_m, step)
        cols = cols + rng.normal(0, step / 10, cols.size)
        xs.append(cols)
        ys.append(sc.line_at(cols) + sign * rng.uniform(*depth, cols.size))
        sides += [side] * cols.size
    return np.concatenate(xs), np.concatenate(ys), np.array(sides)


def observe_flights(
    rng: np.random.Generator, w: ObservationWriter, flights: list[Flight], hours: float, dr: Drones
) -> dict[str, int]:
    """Radar plots, rf bearings and drone_acoustic detections of the flights; counts."""
    counts = {"radar": 0, "rf": 0, "drone_acoustic": 0, "clutter": 0}
    counts["radar"], counts["clutter"] = _radars(rng, w, flights, hours, dr)
    counts["rf"] = _rf(rng, w, flights, dr)
    counts["drone_acoustic"] = _arrays(rng, w, flights, dr)
    return counts


def _plot(
    w: ObservationWriter,
    rng: np.random.Generator,
    name: str,
    num: int,
    t: float,
    xy: tuple[float, float],
    alt: float,
    range_m: float,
) -> None:
    """One radar plot, its error growing with range."""
    sigma = 30.0 + 0.003 * range_m
    ex, ey = rng.normal(0, sigma, 2)
    lon, lat = w.lonlat(np.array([xy[0] + ex]), np.array([xy[1] + ey]))
    t_us = int(w.time_us(t))
    rec = {
        "id": f"{name}-{num:07d}",
        "type": "radar",
        "source": "radar-net",
        "time": t_us,
        "sensor": name,
        "position": [float(lon[0]), float(lat[0])],
        "alt_m": round(max(alt + float(rng.normal(0, 50)), 0.0), 1),
        "position_sigma_m": round(sigma, 1),
        "rcs_dbsm": round(float(rng.normal(-15, 3)), 1),
    }
    w.add(t_us, rec)


def _radars(
    rng: np.random.Generator, w: ObservationWriter, flights: list[Flight], hours: float, dr: Drones
) -> tuple[int, int]:
    rx, ry, _ = _ring(w.sc, dr.radar_spacing_km, (8_000.0, 15_000.0), rng)
    reach = dr.radar_range_km * 1000.0
    n_plots = n_clutter = 0
    for k in range(rx.size):
        name = f"RDR-{k + 1:02d}"
        phase = float(rng.uniform(0, dr.radar_period_s))
        blind = rng.uniform(0, 360, dr.radar_blind_sectors)
        for f in flights:
            t = np.arange(
                np.ceil((f.t0 - phase) / dr.radar_period_s), (f.t1 - phase) // dr.radar_period_s + 1
            )
            t = t * dr.radar_period_s + phase
            x, y, alt = f.at(t)
            d = np.hypot(x - rx[k], y - ry[k])
            az = np.degrees(np.arctan2(x - rx[k], y - ry[k])) % 360
            masked = (((az[:, None] - blind[None, :]) % 360) < 40).any(axis=1)
            seen = (d < reach) & (alt > d**2 / (2 * EARTH_4_3_M) + 30.0) & ~masked
            seen &= rng.random(t.size) < dr.radar_pd
            for j in np.flatnonzero(seen):
                n_plots += 1
                xy = (float(x[j]), float(y[j]))
                num = n_plots + n_clutter
                _plot(w, rng, name, num, float(t[j]), xy, float(alt[j]), float(d[j]))
        n_scans = int(hours * 3600.0 / dr.radar_period_s)
        for _ in range(rng.poisson(dr.clutter_per_scan * n_scans)):
            r, a = reach * np.sqrt(rng.random()), rng.uniform(0, 2 * np.pi)
            when = phase + dr.radar_period_s * int(rng.integers(n_scans))
            n_clutter += 1
            xy = (float(rx[k] + r * np.sin(a)), float(ry[k] + r * np.cos(a)))
            num = n_plots + n_clutter
            _plot(w, rng, name, num, when, xy, float(rng.uniform(0, 800)), float(r))
    return n_plots, n_clutter


def _bearing(
    sx: float, sy: float, x: float, y: float, sigma: float, rng: np.random.Generator
) -> float:
    b = np.degrees(np.arctan2(x - sx, y - sy)) + rng.normal(0, sigma)
    return round(float(b % 360.0), 2) % 360.0


def _rf(rng: np.random.Generator, w: ObservationWriter, flights: list[Flight], dr: Drones) -> int:
    fx, fy, _ = _ring(w.sc, dr.rf_spacing_km, (2_000.0, 6_000.0), rng)
    bands = rng.choice(BANDS, fx.size)
    lon, lat = w.lonlat(fx, fy)
    n = 0
    for k in range(fx.size):
        for f in flights:
            if f.band is None or f.band != bands[k]:
                continue
            t = np.arange(f.t0, f.t1, dr.rf_period_s)
            x, y, _ = f.at(t)
            d = np.hypot(x - fx[k], y - fy[k])
            for j in np.flatnonzero((d < dr.rf_range_km * 1000.0) & (rng.random(t.size) < 0.7)):
                n += 1
                rec = {"id": f"RF-{k + 1:02d}-{n:07d}", "type": "rf", "source": "rf-net",
                       "time": int(w.time_us(t[j])), "sensor": f"RF-{k + 1:02d}",
                       "position": [float(lon[k]), float(lat[k])],
                       "bearing_deg": _bearing(fx[k], fy[k], x[j], y[j], 3.0, rng),
                       "bearing_sigma_deg": 3.0, "band_mhz": float(bands[k])}  # fmt: skip
                w.add(int(w.time_us(t[j])), rec)
    return n


def _arrays(
    rng: np.random.Generator, w: ObservationWriter, flights: list[Flight], dr: Drones
) -> int:
    s = w.sc.sensors
    pick = np.flatnonzero(
        np.random.default_rng(int(rng.integers(2**31))).random(s["id"].size) < dr.array_share
    )
    tree = cKDTree(np.column_stack([s["x"][pick], s["y"][pick]]))
    lon, lat = w.lonlat(s["x"][pick], s["y"][pick])
    win = dr.acoustic_window_s
    n = 0
    for f in flights:
        # electric motors are quieter than petrol engines, an aircraft louder than both
        audible = dr.engine_audible_m * (2.5 if f.f0 is None else 0.6 if f.f0 > 200 else 1.0)
        t = np.arange(f.t0, f.t1 - win / 2, win)
        x, y, alt = f.at(t + win / 2)
        for j, near in enumerate(tree.query_ball_point(np.column_stack([x, y]), audible * 1.5)):
            for m in near:
                sx, sy = s["x"][pick[m]], s["y"][pick[m]]
                d = float(np.hypot(np.hypot(x[j] - sx, y[j] - sy), alt[j]))
                if rng.random() > 1.0 / (1.0 + np.exp((d - audible) / 300.0)):
                    continue
                n += 1
                t_end = min(t[j] + win, f.t1)
                rec = {"id": f"DA-{n:07d}", "type": "drone_acoustic", "source": "sky-ears",
                       "time": int(w.time_us(t[j])), "time_end": int(w.time_us(t_end)),
                       "sensor": str(s["id"][pick[m]]),
                       "position": [float(lon[m]), float(lat[m]), float(s["z"][pick[m]])],
                       "bearing_deg": _bearing(sx, sy, x[j], y[j], 6.0, rng),
                       "bearing_sigma_deg": 6.0,
                       "snr_db": round(float(20 * np.log10(audible / max(d, 50.0)) + 6), 1)}  # fmt: skip
                if f.f0 is not None:
                    rec["f0_hz"] = round(f.f0 * float(rng.normal(1, 0.03)), 1)
                w.add(int(w.time_us(t[j])), rec)
    return n


def write_drones_truth(
    path: Path, w: ObservationWriter, flights: list[Flight], ag: Agreement, seed: int
) -> list[dict[str, Any]]:
    """One line per flight: its path every 10 s (lon, lat, alt), the crossing of the line,
    and the clauses it broke (a strike: every fire and air rule, ``over_line`` ones if it
    crossed; any other flight: the ``over_line`` rules if it crossed)."""
    rows: list[dict[str, Any]] = []
    for f in flights:
        t = np.append(np.arange(f.t0, f.t1, 10.0), f.t1)
        x, y, alt = f.at(t)
        lon, lat = w.lonlat(x, y)
        ax, ay = ag.frame.forward(lon, lat)
        track = shapely.LineString(np.column_stack([ax, ay]))
        hit = shapely.intersection(track, ag.line_local)
        crossed = not hit.is_empty
        violations = []
        for c in ag.clauses:
            rule = c.rule
            strike_rule = rule.kind in ("fire", "air") and not rule.over_line
            typed = rule.air_types is None or f.type in rule.air_types
            if typed and (
                (rule.over_line and crossed)
                or (f.kind == "strike" and strike_rule and rule.applies_to_weapon("drone"))
            ):
                violations.append(c.id)
        first = None
        if crossed:
            pts = [g for g in getattr(hit, "geoms", [hit]) if g.geom_type == "Point"] or [
                hit.representative_point()
            ]
            p = min(pts, key=track.project)
            plon, plat = ag.frame.inverse([p.x], [p.y])
            first = [round(float(plon[0]), 7), round(float(plat[0]), 7)]
        rows.append(
            {
                "id": f.id,
                "kind": f.kind,
                "type": f.type,
                "side": w.sc.parties[f.side],
                "event": None if f.event is None else f"F{seed}-{f.event + 1:05d}",
                "time": format_time(int(w.time_us(f.t0))),
                "time_end": format_time(int(w.time_us(f.t1))),
                "speed_ms": round(f.speed, 1),
                "alt_m": round(f.alt, 1),
                "band_mhz": f.band,
                "f0_hz": None if f.f0 is None else round(f.f0, 1),
                "launch": [float(lon[0]), float(lat[0])],
                "end": [float(lon[-1]), float(lat[-1])],
                "crossed": crossed,
                "crossing": first,
                "violations": violations,
                "path": [
                    [float(a), float(b), round(float(h), 1)]
                    for a, b, h in zip(lon, lat, alt, strict=True)
                ],
            }
        )
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, separators=(",", ":")) + "\n")
    return rows
