"""The simulator: a seeded, reproducible day (or more) on a simulated front, with ground truth.

>>> import tempfile, pathlib
>>> with tempfile.TemporaryDirectory() as tmp:
...     result = simulate(pathlib.Path(tmp), seed=3, hours=2)
...     sorted(p.name for p in pathlib.Path(tmp).iterdir())
['agreement.yaml', 'control.geojson', 'disengagement.geojson', 'escalations.jsonl', 'network_truth.json', 'observations.jsonl', 'sensor_outages.jsonl', 'sounds.jsonl', 'truth.jsonl']
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._time import format_time, parse_time
from ..agreement import load_agreement
from . import real_front
from .drones import draw_flights, observe_flights, write_drones_truth
from .events import Escalation, draw_fire, draw_presence, draw_sounds
from .hearing import acoustic, write_network_truth
from .observe import ObservationWriter, allegations, launchers, patrols, thermal, uav
from .scenario import Scenario, build_scenario, demo_agreement, write_agreement
from .weather import met_reports
from .world import World, load_world

__all__ = [
    "Escalation",
    "Scenario",
    "SimulationResult",
    "build_scenario",
    "demo_agreement",
    "simulate",
]
# (World and load_world: truceline.simulate.world)

MIN_PICKS_LOCATABLE = 4


@dataclass
class SimulationResult:
    out: Path
    observations: int
    truth: int
    by_type: dict[str, int] = field(default_factory=dict)


def _line(record: dict[str, Any]) -> str:
    rec = dict(record)
    for key in ("time", "time_end"):
        if isinstance(rec.get(key), int):
            rec[key] = format_time(rec[key])
    return json.dumps(rec, separators=(",", ":"), ensure_ascii=False)


def _write_sounds(path: Path, w: ObservationWriter, sounds: Any, seed: int) -> None:
    """Every launch and impact the world made, one line each (the ground truth of
    localisation): the firing event it belongs to, where and when."""
    olon, olat = w.lonlat(sounds.ox, sounds.oy)
    ilon, ilat = w.lonlat(sounds.ix, sounds.iy)
    with path.open("w", encoding="utf-8") as fh:
        for k in range(len(sounds)):
            rec = {
                "event": f"F{seed}-{int(sounds.event[k]) + 1:05d}",
                "launch": [float(olon[k]), float(olat[k])],
                "launch_time": format_time(int(w.time_us(sounds.t_launch[k]))),
                "impact": [float(ilon[k]), float(ilat[k])],
                "impact_time": format_time(int(w.time_us(sounds.t_impact[k]))),
            }
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")


def simulate(
    out: Path,
    seed: int = 1,
    hours: float = 24.0,
    start: str = "2026-03-01T00:00:00Z",
    fire_rate_per_hour: float = 12.0,
    false_fraction: float = 0.05,
    lon0: float = 36.0,
    lat0: float = 48.0,
    length_km: float = 300.0,
    sensor_spacing_km: float = 6.0,
    presence_scale: float = 1.0,
    background_fires_per_pass: float = 5.0,
    allegation_rate: float = 1.0,
    uav_sightings: int = 3,
    escalations: tuple[Escalation, ...] = (),
    world: World | str = "matched",
    front: tuple[Path, Path | None] | None = None,
) -> SimulationResult:
    """Write ``agreement.yaml``, ``control.geojson``, ``disengagement.geojson``,
    ``observations.jsonl`` (in arrival order) and ``truth.jsonl`` into ``out``.

    The defaults are a 300 km sector with about 350 acoustic sensors. ``length_km`` and
    ``sensor_spacing_km`` size the network (1,400 km at 1.03 km spacing is about 10,000
    sensors); ``presence_scale`` multiplies the equipment standing near the line (hence UAV
    sightings), ``background_fires_per_pass`` the unrelated thermal anomalies per satellite
    overpass, and ``allegation_rate`` the parties' allegations.

    ``escalations`` raise the fire rate in stretches of the front for a while; they are
    written to ``escalations.jsonl`` (the ground truth of the alerts), and the acoustic
    sensors' outages to ``sensor_outages.jsonl`` (the ground truth of sensor health), every
    sound to ``sounds.jsonl`` (of localisation) and the sensors' clock and survey errors and
    the wind to ``network_truth.json`` (of the network's self-calibration), and, in a world
    with drones (``field``), every drone's flight to ``drones_truth.jsonl`` (of tracking:
    :mod:`.drones`).

    ``world`` is the physics of the simulated world (:mod:`truceline.simulate.world`): a
    preset (``matched``, ``field``), a file, or a :class:`World`.

    ``front`` (a front map and the state's territory, or a GeoJSON line and None) builds
    the scenario along that real line instead (:mod:`.real_front`; ``front.json``)."""
    out.mkdir(parents=True, exist_ok=True)
    start_us = parse_time(start)
    sc = (
        build_scenario(
            seed, lon0=lon0, lat0=lat0, length_km=length_km, sensor_spacing_km=sensor_spacing_km
        )
        if front is None
        else real_front.scenario_for(*front, seed, sensor_spacing_km, out)
    )
    ag = load_agreement(write_agreement(sc, out, format_time(start_us - 86_400_000_000)))
    wd = world if isinstance(world, World) else load_world(world)
    rng = np.random.default_rng([seed, 1])
    fire = draw_fire(
        rng,
        sc,
        ag,
        wd,
        hours,
        fire_rate_per_hour,
        escalations,
        np.random.default_rng([seed, 7]),
        physics_rng=np.random.default_rng([seed, 8]),
    )
    pres = draw_presence(rng, sc, ag, hours, scale=presence_scale)
    frng = np.random.default_rng([seed, 9])  # what only an imperfect world draws
    sounds = draw_sounds(frng, fire, wd)

    w = ObservationWriter(sc, start_us, wind_phase=frng.uniform(0, 2 * np.pi, 3))
    heard = acoustic(
        np.random.default_rng([seed, 2]), w, fire, sounds, hours, false_fraction, wd, frng
    )
    reported = patrols(np.random.default_rng([seed, 3]), w, fire, wd.patrol_misnames, frng)
    seen = thermal(np.random.default_rng([seed, 4]), w, fire, hours, background_fires_per_pass)
    uav(np.random.default_rng([seed, 5]), w, pres, uav_sightings)
    allegations(np.random.default_rng([seed, 6]), w, fire, hours, allegation_rate)
    if wd.launcher_sightings:
        launchers(frng, w, fire, wd.launcher_sightings)
    if wd.met is not None:  # weather stations report the wind
        met_reports(np.random.default_rng([seed, 11]), w, hours, wd.met, wd.wind)
    if wd.drones is not None:  # drones flown, and seen by radars, rf and microphone arrays
        drng = np.random.default_rng([seed, 10])
        flown = draw_flights(drng, sc, fire, hours, wd.drones, seed)
        observe_flights(drng, w, flown, hours, wd.drones)
        over = {c.id for c in ag.clauses if c.rule.over_line or c.rule.air_types is not None}
        for row in write_drones_truth(out / "drones_truth.jsonl", w, flown, ag, seed):
            if row["event"] is not None:  # a strike's over_line and air_types clauses
                k = int(row["event"].split("-")[1]) - 1
                fire.violations[k] = fire.violations[k] + [
                    v for v in row["violations"] if v in over
                ]

    w.records.sort(key=lambda r: (r[0], r[1]["source"], r[1]["id"]))
    with (out / "observations.jsonl").open("w", encoding="utf-8") as fh:
        for _, rec in w.records:
            fh.write(_line(rec) + "\n")

    truth: list[tuple[float, dict[str, Any]]] = []
    olon, olat = w.lonlat(fire.ox, fire.oy)
    ilon, ilat = w.lonlat(fire.ix, fire.iy)
    for i in range(len(fire)):
        truth.append(
            (
                float(fire.t_launch[i]),
                {
                    "id": f"F{seed}-{i + 1:05d}",
                    "kind": "fire",
                    "side": sc.parties[int(fire.side[i])],
                    "weapon": str(fire.weapon[i]),
                    "time": format_time(int(w.time_us(fire.t_launch[i]))),
                    "origin": [float(olon[i]), float(olat[i])],
                    "impact": [float(ilon[i]), float(ilat[i])],
                    "violations": fire.violations[i],
                    "time_impact": format_time(int(w.time_us(fire.t_impact[i]))),
                    "rounds": int(fire.rounds[i]),
                    "sounds": int((sounds.event == i).sum()),
                    "tof_factor": round(float(fire.tof_factor[i]), 4)
                    if fire.tof_factor is not None
                    else 1.0,
                    "detections": {
                        "launch": int(heard["launch"][i]),
                        "impact": int(heard["impact"][i]),
                        "patrol": int(reported[i]),
                        "thermal": int(seen[i]),
                    },
                    "locatable": bool(
                        max(heard["launch"][i], heard["impact"][i]) >= MIN_PICKS_LOCATABLE
                    ),
                },
            )
        )
    plon, plat = w.lonlat(pres.x, pres.y)
    for i in range(len(pres)):
        truth.append(
            (
                float(pres.t_start[i]),
                {
                    "id": f"P{seed}-{i + 1:05d}",
                    "kind": "presence",
                    "side": sc.parties[int(pres.side[i])],
                    "weapon": str(pres.weapon[i]),
                    "time": format_time(int(w.time_us(pres.t_start[i]))),
                    "origin": [float(plon[i]), float(plat[i])],
                    "impact": None,
                    "violations": pres.violations[i],
                    "time_end": format_time(int(w.time_us(pres.t_end[i]))),
                    "count": int(pres.count[i]),
                    "locatable": True,
                },
            )
        )
    with (out / "sensor_outages.jsonl").open("w", encoding="utf-8") as fh:
        for sensor, t0, t1 in sorted(w.outages, key=lambda o: (o[1], o[0])):
            rec = {"sensor": sensor, "start": format_time(t0), "end": format_time(t1)}
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
    with (out / "escalations.jsonl").open("w", encoding="utf-8") as fh:
        for k, e in enumerate(escalations):
            x = -sc.half_length_m + e.along_km * 1000.0
            lon, lat = w.lonlat(np.array([x]), sc.line_at(np.array([x])))
            rec = {
                "id": f"E{seed}-{k + 1}",
                "start": format_time(int(w.time_us(e.start_h * 3600.0))),
                "end": format_time(int(w.time_us((e.start_h + e.hours) * 3600.0))),
                "centre": [float(lon[0]), float(lat[0])],
                "along_km": e.along_km,
                "width_km": e.width_km,
                "factor": e.factor,
            }
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
    _write_sounds(out / "sounds.jsonl", w, sounds, seed)
    write_network_truth(out / "network_truth.json", w, wd, hours)
    truth.sort(key=lambda r: (r[0], r[1]["id"]))
    with (out / "truth.jsonl").open("w", encoding="utf-8") as fh:
        for _, rec in truth:
            fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
    by_type = Counter(rec["type"] for _, rec in w.records)
    return SimulationResult(out, len(w.records), len(truth), dict(sorted(by_type.items())))
