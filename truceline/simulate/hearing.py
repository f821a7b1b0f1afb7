"""How the acoustic sensors hear the simulated world: detection falling off with distance,
sound carried by the world's wind through air of the world's temperature, sensors that go
down, noisy arrival times, false alarms, and the world's clock, survey and thermometer
errors (each sensor's own, drawn once)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._time import format_time
from ..localize.tdoa import sound_speed
from .events import FireEvents, Sounds
from .observe import ObservationWriter
from .world import World

__all__ = [
    "SensorErrors",
    "acoustic",
    "air_temperature",
    "detection_probability",
    "write_network_truth",
]

FloatArray = NDArray[np.float64]


def air_temperature(hours: FloatArray, x_m: FloatArray | float = 0.0) -> FloatArray:
    """The air's temperature (°C): 5 °C mean, ±6 °C over the day (warmest at 15:00), and
    ±1.5 °C across the front (a smooth field: what sound crossing it meets)."""
    spatial = 1.5 * np.sin(np.asarray(x_m, float) / 120_000.0)
    return 5.0 + 6.0 * np.sin(2 * np.pi * (hours - 9.0) / 24.0) + spatial


def detection_probability(d: FloatArray, r50: FloatArray | float) -> FloatArray:
    """Detection probability: 97 % close in, 50 % at ``r50``, falling off logistically."""
    return 0.97 / (1.0 + np.exp(np.minimum((d - r50) / (0.12 * r50), 60.0)))


@dataclass(frozen=True)
class SensorErrors:
    """How each acoustic sensor is wrong in this world: its clock (offset and drift), its
    surveyed position, and the world's other imperfections (drawn once per scenario)."""

    clock_s: FloatArray
    drift_s_per_h: FloatArray
    dx: FloatArray
    dy: FloatArray
    dz: FloatArray

    @classmethod
    def draw(cls, rng: np.random.Generator, n: int, world: World) -> SensorErrors:
        c = world.clock
        clock = rng.normal(0.0, c.sigma_s, n) if c.sigma_s else np.zeros(n)
        if c.outliers:
            bad = rng.uniform(size=n) < c.outliers
            clock[bad] += rng.choice([-1.0, 1.0], bad.sum()) * rng.uniform(*c.outlier_s, bad.sum())
        drift = rng.normal(0.0, c.drift_s_per_h, n) if c.drift_s_per_h else np.zeros(n)
        sig = world.air.position_sigma_m
        pos = (
            rng.normal(0.0, sig, (3, n)) * np.array([[1.0], [1.0], [1.0 / 3.0]])
            if sig
            else np.zeros((3, n))
        )
        return cls(clock, drift, pos[0], pos[1], pos[2])

    def clock_at(self, sensor: NDArray[np.int64], t_s: FloatArray) -> FloatArray:
        return self.clock_s[sensor] + self.drift_s_per_h[sensor] * t_s / 3600.0


def _travel_s(
    d: FloatArray, dx: FloatArray, dy: FloatArray, c: FloatArray, wind: FloatArray | None
) -> FloatArray:
    """Time the sound needs over distance ``d`` (unit vector (dx, dy)/d from the source to the
    sensor) at sound speed ``c`` in a wind (east, north): the wind's component along the path
    adds to the speed (c + w·n)."""
    if wind is None:
        return d / c
    along = (wind[:, 0] * dx + wind[:, 1] * dy) / np.maximum(d, 1.0)
    return d / (c + along)


def acoustic(
    rng: np.random.Generator,
    w: ObservationWriter,
    fire: FireEvents,
    sounds: Sounds,
    hours: float,
    false_fraction: float,
    world: World,
    frng: np.random.Generator,
) -> dict[str, NDArray[np.int64]]:
    """Acoustic detections of every launch and impact; returns per-event detection counts
    (of the firing event's first launch and first impact). ``frng`` draws what only an
    imperfect world has (wind, clocks, positions, late picks), so the ``matched`` world's
    draws are those it always had."""
    s = w.sc.sensors
    n_s = s["id"].size
    # Outages: about one sensor in ten is down for 1-6 hours.
    down_from = np.where(rng.uniform(size=n_s) < 0.1, rng.uniform(0, hours * 3600.0, n_s), np.inf)
    down_to = down_from + rng.uniform(3600.0, 6 * 3600.0, n_s)
    for j in np.flatnonzero(np.isfinite(down_from)).tolist():
        end = min(down_to[j], hours * 3600.0)
        if end > down_from[j]:
            w.outages.append((str(s["id"][j]), int(w.time_us(down_from[j])), int(w.time_us(end))))
    errors = SensorErrors.draw(frng, n_s, world)
    w.sensor_errors = errors
    first = np.concatenate([[True], sounds.event[1:] != sounds.event[:-1]])
    counts: dict[str, NDArray[np.int64]] = {}
    rows = []
    for phase, (ex, ey, et) in {
        "launch": (sounds.ox, sounds.oy, sounds.t_launch),
        "impact": (sounds.ix, sounds.iy, sounds.t_impact),
    }.items():
        r50 = np.array(
            [getattr(world.firing(str(wp)), f"{phase}_audible_m") for wp in sounds.weapon],
            dtype=float,
        )
        dx = s["x"][None, :] - ex[:, None]
        dy = s["y"][None, :] - ey[:, None]
        dz = s["z"][None, :] - 150.0
        d = np.sqrt(dx * dx + dy * dy + dz * dz)
        p = detection_probability(d, r50[:, None])
        heard = rng.uniform(size=p.shape) < p
        ev_idx, s_idx = np.nonzero(heard)
        hour = et[ev_idx] / 3600.0 % 24.0
        # the sound crosses the air between source and sensor; the sensor reports its own
        # air, where the ground it stands on may make it a little warmer or colder
        c = sound_speed(air_temperature(hour, (ex[ev_idx] + s["x"][s_idx]) / 2))
        temp = np.round(
            air_temperature(hour, s["x"][s_idx])
            + world.air.microclimate_c * s["temp_offset"][s_idx],
            1,
        )
        wind = None
        if world.wind.max_ms > 0:
            mid_x = (ex[ev_idx] + s["x"][s_idx]) / 2
            wind = world.wind.at(et[ev_idx], mid_x, w.wind_phase)
        arrival = et[ev_idx] + _travel_s(
            d[ev_idx, s_idx], dx[ev_idx, s_idx], dy[ev_idx, s_idx], c, wind
        )
        up = ~((arrival >= down_from[s_idx]) & (arrival < down_to[s_idx]))
        ev_idx, s_idx, temp, arrival = ev_idx[up], s_idx[up], temp[up], arrival[up]
        sigma = s["sigma_s"][s_idx]
        arrival = arrival + rng.standard_normal(arrival.size) * sigma
        counts[phase] = np.bincount(sounds.event[ev_idx[first[ev_idx]]], minlength=len(fire))
        label = np.where(
            rng.uniform(size=arrival.size) < 0.85,
            phase,
            np.where(
                rng.uniform(size=arrival.size) < 0.8,
                "unknown",
                "impact" if phase == "launch" else "launch",
            ),
        )
        snr = 20.0 * np.log10(r50[ev_idx] / np.maximum(d[ev_idx, s_idx], 50.0)) + 12.0
        snr = np.round(snr + rng.normal(0, 2.0, arrival.size), 1)
        snr = _loudness(frng, world, snr, ev_idx, d[ev_idx, s_idx], len(sounds))
        arrival, temp = _imperfect(frng, world, errors, s_idx, arrival, temp)
        rows.append((s_idx, arrival, temp, label, snr))
    rows.append(
        _false_alarms(
            rng, w, sum(r[0].size for r in rows), hours, false_fraction, down_from, down_to
        )
    )
    _write_acoustic(w, rows, errors)
    return counts


def _loudness(
    frng: np.random.Generator,
    world: World,
    snr: FloatArray,
    sound: NDArray[np.int64],
    d: FloatArray,
    n_sounds: int,
) -> FloatArray:
    """A world where shots differ in loudness (charge, calibre, ground) and the air absorbs
    some of the sound over distance: what the sensors report of a sound's strength."""
    air = world.air
    if not air.absorption_db_per_km and not air.shot_loudness_db:
        return snr
    shot = (
        frng.normal(0.0, air.shot_loudness_db, n_sounds)
        if air.shot_loudness_db
        else np.zeros(n_sounds)
    )
    return np.round(snr + shot[sound] - air.absorption_db_per_km * d / 1000.0, 1)


def _imperfect(
    frng: np.random.Generator,
    world: World,
    errors: SensorErrors,
    s_idx: NDArray[np.int64],
    arrival: FloatArray,
    temp: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """What the sensors report of a true arrival: by their own clocks, some picked late, and
    the air temperature with their thermometers' errors."""
    reported = arrival + errors.clock_at(s_idx, arrival)
    air = world.air
    if air.late_picks:
        late = frng.uniform(size=arrival.size) < air.late_picks
        reported = reported + np.where(late, frng.uniform(*air.late_pick_s, arrival.size), 0.0)
    if air.temperature_error_c:
        temp = np.round(temp + frng.normal(0.0, air.temperature_error_c, temp.size), 1)
    return reported, temp


def _false_alarms(
    rng: np.random.Generator,
    w: ObservationWriter,
    n_true: int,
    hours: float,
    false_fraction: float,
    down_from: FloatArray,
    down_to: FloatArray,
) -> tuple[Any, ...]:
    s = w.sc.sensors
    n_s = s["id"].size
    n_false = rng.poisson(false_fraction / (1.0 - false_fraction) * n_true)
    f_idx = rng.integers(0, n_s, n_false)
    f_t = rng.uniform(0.0, hours * 3600.0, n_false)
    f_temp = np.round(air_temperature(f_t / 3600.0 % 24.0, s["x"][f_idx]), 1)
    f_label = rng.choice(np.array(["launch", "impact", "unknown"]), n_false)
    f_snr = np.round(rng.uniform(3.0, 12.0, n_false), 1)
    on = ~((f_t >= down_from[f_idx]) & (f_t < down_to[f_idx]))  # a sensor that is down is silent
    return (f_idx[on], f_t[on], f_temp[on], f_label[on], f_snr[on])


def _write_acoustic(
    w: ObservationWriter, rows: list[tuple[Any, ...]], errors: SensorErrors
) -> None:
    """Every detection as an observation, each sensor's in time order with its own ids; the
    position is the surveyed one (with the world's survey errors)."""
    s = w.sc.sensors
    n_s = s["id"].size
    s_idx = np.concatenate([r[0] for r in rows])
    arrival = np.concatenate([r[1] for r in rows])
    temp = np.concatenate([r[2] for r in rows])
    label = np.concatenate([r[3] for r in rows])
    snr = np.concatenate([r[4] for r in rows])
    order = np.lexsort((s_idx, arrival))
    lon, lat = w.lonlat(s["x"] + errors.dx, s["y"] + errors.dy)
    z = np.round(s["z"] + errors.dz, 1)
    t_us = w.time_us(arrival)
    seq = np.zeros(n_s, dtype=np.int64)
    for k in order:
        i = int(s_idx[k])
        seq[i] += 1
        sensor = str(s["id"][i])
        w.add(
            int(t_us[k]),
            {
                "id": f"{sensor}-{seq[i]:06d}",
                "type": "acoustic",
                "source": sensor,
                "time": int(t_us[k]),
                "sensor": sensor,
                "position": [float(lon[i]), float(lat[i]), float(z[i])],
                "class": str(label[k]),
                "sigma_s": float(s["sigma_s"][i]),
                "snr_db": float(snr[k]),
                "temperature_c": float(temp[k]),
            },
        )


WIND_TRUTH_STEP_S = 600.0
WIND_TRUTH_STEP_M = 10_000.0


def write_network_truth(path: Path, w: ObservationWriter, world: World, hours: float) -> None:
    """The ground truth of what the network must measure of itself (``network_truth.json``):
    each acoustic sensor's clock (offset at the start of the day, drift per hour) and survey
    error (reported minus true position, metres east, north, up), and the wind the sound
    crossed, sampled every 10 minutes and every 10 km along the line (east, north; m/s)."""
    s, err = w.sc.sensors, w.sensor_errors
    n_s = s["id"].size
    if err is None:
        err = SensorErrors(*(np.zeros(n_s) for _ in range(5)))
    lon, lat = w.lonlat(s["x"], s["y"])
    sensors = [
        {
            "sensor": str(s["id"][j]),
            "true_position": [float(lon[j]), float(lat[j]), round(float(s["z"][j]), 1)],
            "clock_offset_s": round(float(err.clock_s[j]), 6),
            "clock_drift_s_per_h": round(float(err.drift_s_per_h[j]), 6),
            "position_error_m": [round(float(v[j]), 2) for v in (err.dx, err.dy, err.dz)],
        }
        for j in range(n_s)
    ]
    h = w.sc.half_length_m
    xs = np.arange(-h, h + 1.0, WIND_TRUTH_STEP_M)
    ts = np.arange(0.0, hours * 3600.0 + 1.0, WIND_TRUTH_STEP_S)
    plon, plat = w.lonlat(xs, w.sc.line_at(xs))
    tt, xx = np.meshgrid(ts, xs, indexing="ij")
    wind = world.wind.at(tt.ravel(), xx.ravel(), w.wind_phase).reshape(*tt.shape, 2)
    doc = {
        "sensors": sensors,
        "wind": {
            "times": [format_time(int(v)) for v in w.time_us(ts)],
            "points": [[float(a), float(b)] for a, b in zip(plon, plat, strict=True)],
            "east": np.round(wind[..., 0], 3).tolist(),
            "north": np.round(wind[..., 1], 3).tolist(),
        },
    }
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
