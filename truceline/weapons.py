"""Nominal physics of the weapon classes: ranges, mean ground speed of the projectile, and how
far the launch and the impact can be heard.

The figures are public, round, open-source values (e.g. 82 mm mortar 4 km, 122 mm D-30
15 km, 152/155 mm 25-30 km, BM-21 20 km, heavy MLRS 35-90 km). ``ground_speed_ms`` is range
divided by time of flight along the ground track, which is what matters for pairing a launch
with its impact; ballistic (high-arc) fire is slower than direct fire. The simulator draws
from this table and the pairing inverts it, so both sides of the evaluation use one model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["FIRING_CLASSES", "WEAPONS", "Weapon", "time_of_flight_s"]


@dataclass(frozen=True)
class Weapon:
    name: str
    min_range_m: float
    max_range_m: float
    ground_speed_ms: float  # mean speed along the ground track (range / time of flight)
    tof_rel_sigma: float  # relative spread of the time of flight at a given range
    launch_audible_m: float  # 50 % detection distance of the launch for an acoustic sensor
    impact_audible_m: float  # 50 % detection distance of the impact
    salvo: tuple[int, int]  # rounds per firing event (min, max)


WEAPONS: dict[str, Weapon] = {
    w.name: w
    for w in (
        Weapon("small_arms", 50, 1_500, 700.0, 0.05, 2_500, 1_000, (5, 60)),
        Weapon("mortar_lt120", 100, 4_100, 150.0, 0.04, 9_000, 9_000, (1, 8)),
        Weapon("mortar_ge120", 500, 7_100, 190.0, 0.04, 11_000, 11_000, (1, 6)),
        Weapon("artillery_lt100", 1_000, 15_000, 650.0, 0.04, 14_000, 10_000, (1, 6)),
        Weapon("artillery_ge100", 3_000, 30_000, 320.0, 0.04, 18_000, 14_000, (1, 6)),
        Weapon("tank", 500, 5_000, 950.0, 0.04, 14_000, 10_000, (1, 4)),
        Weapon("mlrs", 5_000, 40_000, 480.0, 0.04, 20_000, 16_000, (10, 40)),
        Weapon("mlrs_heavy", 10_000, 70_000, 800.0, 0.04, 25_000, 18_000, (4, 16)),
        Weapon("drone", 0, 20_000, 25.0, 0.30, 3_000, 8_000, (1, 2)),
    )
}

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


def time_of_flight_s(weapon: str, range_m: NDArray[np.float64] | float) -> NDArray[np.float64]:
    """Nominal time of flight (seconds) of ``weapon`` over ``range_m`` metres.

    >>> float(time_of_flight_s("artillery_ge100", 16_000.0))
    50.0
    """
    return np.asarray(range_m, float) / WEAPONS[weapon].ground_speed_ms
