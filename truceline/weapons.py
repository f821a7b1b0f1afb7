"""The analysis' model of the weapon classes: what a mission can know without the parties'
firing tables.

For each class: the span of ranges it fires at, a *broad* distribution of its ground speed
(range divided by time of flight) — log-normal around a public, round figure, wide enough for
the charges, projectiles and air it may meet, with a slow mode for high-angle fire or low
charges where the class has one — how many separately heard launches one firing event makes
(a gun: one; a battery: a few seconds apart; an MLRS: a ripple of many within seconds), and
how loud its launch and impact are (distances at which half the sensors hear them).

The simulator has a world of its own (:mod:`truceline.simulate.world`) and never reads this
table; the analysis never reads the simulator's. ``truceline calibrate`` learns better speeds
and the mix of classes from data (incidents whose class is known independently, and the
mixture of all paired events), written to a calibration file that :func:`WeaponModel.with_calibration`
applies and every run records.

>>> m = DEFAULT_MODEL
>>> round(float(m.speed_density("artillery_ge100", 330.0)), 5) > round(float(m.speed_density("mortar_lt120", 330.0)), 5)
True
>>> round(float(time_of_flight_s("artillery_ge100", 17_000.0)), 1)
50.0
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

__all__ = [
    "DEFAULT_MODEL",
    "FIRING_CLASSES",
    "WEAPONS",
    "ClassModel",
    "Weapon",
    "WeaponModel",
    "time_of_flight_s",
]

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class ClassModel:
    """What the analysis assumes of one weapon class (see the module docstring)."""

    name: str
    min_range_m: float
    max_range_m: float
    speed_ms: float  # median ground speed of the usual fire
    speed_log_sd: float  # log-normal σ of the ground speed (charges, projectiles, air)
    slow_share: float = 0.0  # share of high-angle fire / low charges
    slow_factor: float = 1.0  # their ground speed relative to the usual
    launches: tuple[float, ...] = (1.0,)  # P(1, 2, 3, ... separately heard launches)
    launch_audible_m: float = 10_000.0
    impact_audible_m: float = 10_000.0
    salvo: tuple[int, int] = (1, 6)  # rounds per firing event (what a patrol may count)
    launch_heard: float = 1.0  # can its launch be heard at all (a drone's: hardly)
    level_sd_db: float = 3.5  # how much one firing's loudness differs from its class's
    launch_level_db: float | None = None  # the class's loudness at the source (SNR + 20 log d)
    impact_level_db: float | None = None

    def __post_init__(self) -> None:
        # by default, from the distance at which half the sensors hear it (about 12 dB of
        # SNR there, by the sensors' detection threshold)
        if self.launch_level_db is None:
            object.__setattr__(
                self, "launch_level_db", 20.0 * np.log10(self.launch_audible_m) + 12.0
            )
        if self.impact_level_db is None:
            object.__setattr__(
                self, "impact_level_db", 20.0 * np.log10(self.impact_audible_m) + 12.0
            )

    def level_density(self, level_db: float | None, phase: str) -> float:
        """Density of a firing's measured loudness ``level_db`` (1 when none was measured)."""
        if level_db is None or not np.isfinite(level_db):
            return 1.0
        mean = self.launch_level_db if phase == "launch" else self.impact_level_db
        assert mean is not None
        z = (level_db - mean) / self.level_sd_db
        return float(np.exp(-0.5 * z * z) / (self.level_sd_db * np.sqrt(2 * np.pi)))

    def speed_density(self, v: FloatArray) -> FloatArray:
        """Density of ground speed ``v`` (m/s): the usual fire and the slow mode."""
        v = np.maximum(np.asarray(v, float), 1e-3)

        def lognormal(median: float) -> FloatArray:
            z = (np.log(v) - np.log(median)) / self.speed_log_sd
            out: FloatArray = np.exp(-0.5 * z * z) / (v * self.speed_log_sd * np.sqrt(2 * np.pi))
            return out

        usual = (1.0 - self.slow_share) * lognormal(self.speed_ms)
        if self.slow_share <= 0:
            return usual
        return usual + self.slow_share * lognormal(self.speed_ms * self.slow_factor)

    def range_density(self, d: FloatArray) -> FloatArray:
        """Density of the range ``d`` (m): uniform over the class's span with soft edges (5 %
        of the span), so a range a little beyond a published figure is unlikely, not
        impossible."""
        d = np.asarray(d, float)
        span = self.max_range_m - self.min_range_m
        soft = 0.05 * span + 100.0
        inside = expit((d - self.min_range_m) / (soft / 4)) * expit(
            (self.max_range_m - d) / (soft / 4)
        )
        out: FloatArray = inside / span
        return out

    def launches_p(self, k: ArrayLike) -> FloatArray:
        """P(``k`` separately heard launches of one firing event), the tail beyond the table
        falling off geometrically."""
        k = np.asarray(k, dtype=np.int64)
        table = np.asarray(self.launches, float)
        table = table / table.sum()
        n = table.size
        tail = table[-1] * 0.5 ** np.maximum(k - n, 0)
        out: FloatArray = np.where(k <= n, table[np.clip(k - 1, 0, n - 1)], tail)
        return np.where(k >= 1, out, 0.0)


# Public, round figures (e.g. 82 mm mortar 4 km, 122 mm D-30 15 km, 152/155 mm 25-30 km,
# BM-21 20 km, heavy MLRS 35-90 km); speeds are range / time of flight along the ground.
_CLASSES = (
    ClassModel(
        "mortar_lt120", 100, 4_100, 150.0, 0.35, 0.3, 0.6, (0.7, 0.22, 0.08), 9_000, 9_000, (1, 8)
    ),
    ClassModel(
        "mortar_ge120",
        500,
        7_100,
        180.0,
        0.35,
        0.3,
        0.65,
        (0.75, 0.2, 0.05),
        11_000,
        11_000,
        (1, 6),
    ),
    ClassModel(
        "artillery_lt100",
        1_000,
        15_000,
        600.0,
        0.3,
        0.0,
        1.0,
        (0.6, 0.25, 0.15),
        14_000,
        10_000,
        (1, 6),
    ),
    ClassModel(
        "artillery_ge100",
        3_000,
        30_000,
        340.0,
        0.3,
        0.15,
        0.45,
        (0.55, 0.2, 0.15, 0.1),
        18_000,
        14_000,
        (1, 6),
    ),
    ClassModel("tank", 300, 5_000, 1_000.0, 0.3, 0.0, 1.0, (0.85, 0.15), 14_000, 10_000, (1, 4)),
    ClassModel(
        "mlrs",
        5_000,
        40_000,
        450.0,
        0.3,
        0.0,
        1.0,
        (0.03, 0.03, 0.04, 0.05, 0.07, 0.09, 0.1, 0.1, 0.1, 0.09, 0.08, 0.07, 0.06, 0.05, 0.04),
        20_000,
        16_000,
        (10, 40),
    ),
    ClassModel(
        "mlrs_heavy",
        10_000,
        70_000,
        850.0,
        0.3,
        0.0,
        1.0,
        (0.05, 0.08, 0.12, 0.15, 0.15, 0.13, 0.11, 0.09, 0.07, 0.05),
        25_000,
        18_000,
        (4, 16),
    ),
    ClassModel(
        "drone", 0, 20_000, 25.0, 0.6, 0.0, 1.0, (1.0,), 3_000, 8_000, (1, 2), launch_heard=0.02
    ),
    ClassModel(
        "aircraft",
        0,
        60_000,
        250.0,
        0.6,
        0.0,
        1.0,
        (0.6, 0.3, 0.1),
        8_000,
        15_000,
        (1, 4),
        launch_heard=0.02,
    ),
)
#: the default prior share of each class: even over the guns, mortars and rocket launchers
#: that fire on a line of contact, strike drones a third as common, aircraft rare
#: (``truceline calibrate`` learns the real mix of what it can pair)
_PRIOR = {c.name: {"aircraft": 0.01, "drone": 0.3}.get(c.name, 1.0) for c in _CLASSES}

#: classes that fire projectiles a launch/impact pair can be formed for, in table order
FIRING_CLASSES: tuple[str, ...] = (
    "mortar_lt120",
    "mortar_ge120",
    "artillery_lt100",
    "artillery_ge100",
    "tank",
    "mlrs",
    "mlrs_heavy",
)


#: what a calibration may set of a class (besides its salvo sizes)
CALIBRATED = (
    "speed_ms",
    "speed_log_sd",
    "slow_share",
    "slow_factor",
    "level_sd_db",
    "launch_level_db",
    "impact_level_db",
)


@dataclass(frozen=True)
class WeaponModel:
    """Every class the analysis reasons about, with its prior share of firing events."""

    classes: dict[str, ClassModel]
    prior: dict[str, float] = field(default_factory=dict)
    source: str = "defaults"  # "defaults" or what calibration file it came from

    def __post_init__(self) -> None:
        if not self.prior:
            object.__setattr__(self, "prior", {k: 1.0 / len(self.classes) for k in self.classes})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.classes)

    def speed_density(self, name: str, v: ArrayLike) -> FloatArray:
        return self.classes[name].speed_density(np.asarray(v, float))

    def prior_vector(self) -> FloatArray:
        p = np.array([self.prior.get(k, 0.0) for k in self.classes], float)
        return np.asarray(p / p.sum(), float)

    def with_calibration(self, calibration: dict[str, Any]) -> WeaponModel:
        """The model with a calibration's speeds, spreads, launches and prior applied
        (a calibration file as ``truceline calibrate`` writes it)."""
        classes = dict(self.classes)
        for name, values in (calibration.get("classes") or {}).items():
            if name in classes:
                kw: dict[str, Any] = {k: float(v) for k, v in values.items() if k in CALIBRATED}
                if "launches" in values:
                    kw["launches"] = tuple(float(x) for x in values["launches"])
                classes[name] = replace(classes[name], **kw)
        prior = {
            k: float(v) for k, v in (calibration.get("prior") or self.prior).items() if k in classes
        }
        source = calibration.get("source") or calibration.get("name") or "calibration"
        return WeaponModel(classes, prior, str(source))

    def as_dict(self) -> dict[str, Any]:
        """What a run records of the model (so ``reproduce`` uses the same)."""
        return {
            "source": self.source,
            "prior": dict(sorted(self.prior.items())),  # exact: reproduce must get the same
            "classes": {
                k: {
                    "speed_ms": c.speed_ms,
                    "speed_log_sd": c.speed_log_sd,
                    "slow_share": c.slow_share,
                    "slow_factor": c.slow_factor,
                    "launches": list(c.launches),
                    "launch_level_db": float(c.launch_level_db or 0.0),
                    "impact_level_db": float(c.impact_level_db or 0.0),
                    "level_sd_db": c.level_sd_db,
                }
                for k, c in sorted(self.classes.items())
            },
        }


DEFAULT_MODEL = WeaponModel(
    {c.name: c for c in _CLASSES}, {k: v / sum(_PRIOR.values()) for k, v in _PRIOR.items()}
)


@dataclass(frozen=True)
class Weapon:
    """A class's nominal figures, for the places that need one number (coverage, tests)."""

    name: str
    min_range_m: float
    max_range_m: float
    ground_speed_ms: float
    launch_audible_m: float
    impact_audible_m: float
    salvo: tuple[int, int]


WEAPONS: dict[str, Weapon] = {
    c.name: Weapon(
        c.name,
        c.min_range_m,
        c.max_range_m,
        c.speed_ms,
        c.launch_audible_m,
        c.impact_audible_m,
        c.salvo,
    )
    for c in _CLASSES
}


def time_of_flight_s(weapon: str, range_m: ArrayLike) -> FloatArray:
    """Nominal time of flight (seconds) of ``weapon`` over ``range_m`` metres (an example
    figure for people, not what pairing assumes: pairing uses the whole distribution).

    >>> round(float(time_of_flight_s("mortar_lt120", 3_000.0)), 1)
    20.0
    """
    return np.asarray(range_m, float) / WEAPONS[weapon].ground_speed_ms
