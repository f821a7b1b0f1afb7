"""The simulated world's physics: how each weapon class really flies and sounds, the air the
sound crosses, and how imperfect the sensors are. It is the simulator's own description and
never the analysis' (``truceline/weapons.py`` is the analysis' model): an evaluation is only
worth something in a world that differs from what the analysis assumes.

Two presets ship with the package (``truceline simulate --world NAME``), and any YAML file of
the same shape can be given instead:

- ``matched``: the world exactly as the analysis assumes it (its own speed distributions
  and salvo sizes; still air, exact clocks and positions);
- ``field``: firing-table speeds 10-15 % off, a charge spread of 15-30 % per shot, high-angle
  fire, salvos, wind up to 8 m/s, temperature, clock and position errors, late picks, varying
  loudness, patrols that misname weapons and launchers spotted from the air. The figures
  that matter are measured here.

>>> w = load_world("field")
>>> w.name, w.weapons["mlrs"].sounds, w.wind.max_ms
('field', (6, 14), 8.0)
>>> load_world("matched").wind.max_ms
0.0
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from numpy.typing import NDArray

from ..errors import InputError

__all__ = ["PRESETS", "Air", "Clocks", "Drones", "Firing", "Wind", "World", "load_world"]

PRESETS = ("matched", "field")
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Firing:
    """How one weapon class fires in this world."""

    min_range_m: float
    max_range_m: float
    speed_ms: float  # mean ground speed at the usual charge and elevation
    spread: float  # log-normal σ of a shot's time of flight (charge, projectile, air)
    launch_audible_m: float  # 50 % detection distance of the launch
    impact_audible_m: float
    salvo: tuple[int, int]  # rounds per firing event (what a patrol counts)
    sounds: tuple[int, int] = (1, 1)  # separately heard launches of one firing event
    sounds_p: tuple[float, ...] = ()  # or P(1, 2, 3, ...) of them
    interval_s: tuple[float, float] = (0.5, 1.0)  # time between those launches
    battery_m: float = 0.0  # guns of a battery stand this far apart
    dispersion_m: float = 0.0  # impacts of a salvo scatter this far
    high_angle: tuple[float, float, float] = (0.0, 1.0, 1.0)  # share, ToF factor range
    low_charge: tuple[float, float, float] = (0.0, 1.0, 1.0)  # share, speed factor range


@dataclass(frozen=True)
class Wind:
    max_ms: float = 0.0
    change_h: float = 6.0
    across_km: float = 150.0

    def at(self, t_s: FloatArray, x_m: FloatArray, phase: FloatArray) -> FloatArray:
        """The wind (east, north; m/s) at times ``t_s`` and along-line positions ``x_m``: its
        strength rises and falls and its direction turns over ``change_h`` hours, and it
        varies by up to a third across ``across_km``. ``phase`` (3 numbers) makes each
        scenario's day its own."""
        if self.max_ms <= 0:
            return np.zeros((np.size(t_s), 2))
        h = np.asarray(t_s, float) / 3600.0
        strength = self.max_ms * (
            0.55 + 0.45 * np.sin(2 * np.pi * h / (2 * self.change_h) + phase[0])
        )
        heading = phase[1] + 1.2 * np.sin(2 * np.pi * h / (3 * self.change_h) + phase[2])
        local = 1.0 - 0.33 * (
            0.5 + 0.5 * np.sin(np.asarray(x_m, float) / (self.across_km * 1e3) * np.pi)
        )
        s = strength * local
        return np.column_stack([s * np.sin(heading), s * np.cos(heading)])


@dataclass(frozen=True)
class Clocks:
    sigma_s: float = 0.0
    drift_s_per_h: float = 0.0
    outliers: float = 0.0
    outlier_s: tuple[float, float] = (0.1, 0.3)


@dataclass(frozen=True)
class Air:
    """What sensors report of the air and of themselves."""

    temperature_error_c: float = 0.0
    microclimate_c: float = 0.0  # σ of how much warmer or colder a sensor's spot is
    position_sigma_m: float = 0.0
    late_picks: float = 0.0
    late_pick_s: tuple[float, float] = (0.05, 0.5)
    shot_loudness_db: float = 0.0  # σ of how much louder or quieter one shot is than its class
    absorption_db_per_km: float = 0.0  # the air's absorption of the sound


@dataclass(frozen=True)
class Met:
    """Weather stations (FORMATS §2 ``met``): every ``spacing_km`` along the line, ``back_km``
    behind it on each side, each reporting the wind every ``every_min`` minutes with its
    instrument's error (σ ``wind_sigma_ms`` per component)."""

    spacing_km: float = 50.0
    back_km: float = 5.0
    every_min: float = 10.0
    wind_sigma_ms: float = 0.5


@dataclass(frozen=True)
class Drones:
    """Drones in flight and the sensors that see them (:mod:`truceline.simulate.drones`)."""

    #: strikes shorter than the first are FPV drones, longer than the second loitering
    #: munitions (:mod:`truceline.simulate.air_traffic`)
    fpv_range_m: tuple[float, float] = (8_000.0, 16_000.0)
    fpv_alt_m: tuple[float, float] = (20.0, 300.0)
    loitering_speed_ms: tuple[float, float] = (22.0, 36.0)
    loitering_alt_m: tuple[float, float] = (500.0, 2_000.0)
    recon_per_hour: float = 2.0
    recon_speed_ms: tuple[float, float] = (15.0, 35.0)
    recon_alt_m: tuple[float, float] = (300.0, 1_500.0)
    one_way_per_hour: float = 0.0
    one_way_speed_ms: tuple[float, float] = (42.0, 52.0)
    one_way_alt_m: tuple[float, float] = (600.0, 2_500.0)
    aircraft_per_hour: float = 0.0
    aircraft_speed_ms: tuple[float, float] = (70.0, 170.0)
    aircraft_alt_m: tuple[float, float] = (300.0, 5_000.0)
    radar_spacing_km: float = 40.0
    radar_range_km: float = 25.0
    radar_period_s: float = 4.0
    radar_pd: float = 0.85
    radar_blind_sectors: int = 2  # terrain masks this many 40-degree sectors of each radar
    clutter_per_scan: float = 0.05
    rf_spacing_km: float = 20.0
    rf_range_km: float = 15.0
    rf_period_s: float = 5.0
    link_share: float = 0.75  # drones flown over a radio link (the rest fly pre-programmed)
    array_share: float = 0.3  # acoustic sensors with a microphone array (a direction)
    engine_audible_m: float = 3000.0
    acoustic_window_s: float = 10.0


@dataclass(frozen=True)
class World:
    name: str
    weapons: dict[str, Firing]
    wind: Wind = field(default_factory=Wind)
    clock: Clocks = field(default_factory=Clocks)
    air: Air = field(default_factory=Air)
    patrol_misnames: float = 0.0
    launcher_sightings: float = 0.0
    depth: tuple[float, float] = (0.02, 0.6)  # how far behind the line guns stand (× range)
    drones: Drones | None = None  # drones flown and tracked (None: only their strikes)
    met: Met | None = None  # weather stations reporting the wind (None: none)

    def firing(self, weapon: str) -> Firing:
        return self.weapons[weapon]


def _pair(v: Any, kind: type = float) -> tuple[Any, Any]:
    a, b = v
    return kind(a), kind(b)


def _firing(raw: dict[str, Any]) -> Firing:
    lo, hi = _pair(raw["range"])
    return Firing(
        min_range_m=lo,
        max_range_m=hi,
        speed_ms=float(raw["speed"]),
        spread=float(raw["spread"]),
        launch_audible_m=float(raw["launch_audible"]),
        impact_audible_m=float(raw["impact_audible"]),
        salvo=_pair(raw["salvo"], int),
        sounds=_pair(raw.get("sounds", (1, len(raw.get("sounds_p", [1])))), int),
        sounds_p=tuple(float(v) for v in raw.get("sounds_p", ())),
        interval_s=_pair(raw.get("interval_s", (0.5, 1.0))),
        battery_m=float(raw.get("battery_m", 0.0)),
        dispersion_m=float(raw.get("dispersion_m", 0.0)),
        high_angle=tuple(float(v) for v in raw.get("high_angle", (0.0, 1.0, 1.0))),  # type: ignore[arg-type]
        low_charge=tuple(float(v) for v in raw.get("low_charge", (0.0, 1.0, 1.0))),  # type: ignore[arg-type]
    )


def _drones(raw: dict[str, Any] | None) -> Drones | None:
    if raw is None:
        return None
    values: dict[str, Any] = {}
    for k, v in raw.items():
        if isinstance(v, list):
            values[k] = _pair(v)
        else:
            values[k] = int(v) if k == "radar_blind_sectors" else float(v)
    return Drones(**values)


def load_world(name_or_path: str | Path) -> World:
    """A preset by name (``matched``, ``field``) or a world YAML file."""
    text: str
    file = str(name_or_path)
    if file in PRESETS:
        text = resources.files("truceline.simulate").joinpath(f"worlds/{file}.yaml").read_text()
    else:
        path = Path(file)
        if not path.exists():
            raise InputError(
                file, None, None, f"no such world file (presets: {', '.join(PRESETS)})"
            )
        text = path.read_text(encoding="utf-8")
    try:
        doc = yaml.safe_load(text)
        clock = doc.get("clock") or {}
        return World(
            name=str(doc["name"]),
            weapons={k: _firing(v) for k, v in doc["weapons"].items()},
            wind=Wind(**(doc.get("wind") or {})),
            clock=Clocks(
                sigma_s=float(clock.get("sigma_s", 0.0)),
                drift_s_per_h=float(clock.get("drift_s_per_h", 0.0)),
                outliers=float(clock.get("outliers", 0.0)),
                outlier_s=_pair(clock.get("outlier_s", (0.1, 0.3))),
            ),
            air=Air(
                temperature_error_c=float(doc.get("temperature_error_c", 0.0)),
                microclimate_c=float(doc.get("microclimate_c", 0.0)),
                position_sigma_m=float(doc.get("position_sigma_m", 0.0)),
                late_picks=float(doc.get("late_picks", 0.0)),
                late_pick_s=_pair(doc.get("late_pick_s", (0.05, 0.5))),
                shot_loudness_db=float(doc.get("shot_loudness_db", 0.0)),
                absorption_db_per_km=float(doc.get("absorption_db_per_km", 0.0)),
            ),
            patrol_misnames=float(doc.get("patrol_misnames", 0.0)),
            launcher_sightings=float(doc.get("launcher_sightings", 0.0)),
            depth=_pair(doc.get("depth", (0.02, 0.6))),
            drones=_drones(doc.get("drones")),
            met=Met(**{k: float(v) for k, v in doc["met"].items()}) if doc.get("met") else None,
        )
    except (KeyError, TypeError, ValueError, yaml.YAMLError) as exc:
        raise InputError(file, None, None, f"not a world description: {exc}") from None
