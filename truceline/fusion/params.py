"""Every tunable of fusion, declared once with its default (recorded with each run)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["FusionParams"]


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
    wind_sigma_ms: float = 5.0  # the prior spread of a wind no met station reported
    met_wind_sigma_ms: float = 1.5  # how far the wind may differ from a met report
    strength_patrol: float = 0.6
    strength_thermal: float = 0.3
    strength_uav: float = 0.9
    strength_allegation: float = 0.1
    cap_thermal: float = 0.45
    cap_allegation: float = 0.3
    weapon_threshold: float = 0.9  # a class is named when its probability reaches this
    violation_threshold: float = 0.9  # a clause is breached when its probability reaches this

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
