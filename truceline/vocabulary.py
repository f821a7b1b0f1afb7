"""The closed vocabularies of FORMATS.md (v1), in one place."""

from __future__ import annotations

__all__ = [
    "ACOUSTIC_CLASSES",
    "EVENT_DATASETS",
    "INCIDENT_KINDS",
    "INCIDENT_STATUSES",
    "OBSERVATION_TYPES",
    "PATROL_EVENTS",
    "WEAPON_CLASSES",
]

WEAPON_CLASSES: tuple[str, ...] = (
    "small_arms",
    "mortar_lt120",
    "mortar_ge120",
    "artillery_lt100",
    "artillery_ge100",
    "tank",
    "mlrs",
    "mlrs_heavy",
    "apc",
    "air_defence",
    "drone",
    "aircraft",
    "troops",
    "unknown",
)
PATROL_EVENTS: tuple[str, ...] = (
    "explosion",
    "projectile",
    "burst",
    "shot",
    "flare",
    "drone",
    "aircraft",
)
ACOUSTIC_CLASSES: tuple[str, ...] = ("launch", "impact", "unknown")
OBSERVATION_TYPES: tuple[str, ...] = (
    "patrol",
    "acoustic",
    "thermal",
    "uav",
    "allegation",
    "event_report",
    "met",
    "drone_acoustic",
    "radar",
    "rf",
    "status",
)
#: the third-party event datasets an ``event_report`` comes from
EVENT_DATASETS: tuple[str, ...] = ("ucdp_ged", "acled")
INCIDENT_KINDS: tuple[str, ...] = ("fire", "presence", "crossing", "air", "unlocated")
INCIDENT_STATUSES: tuple[str, ...] = (
    "automatic",
    "corroborated",
    "verified",
    "disputed",
    "rejected",
)
