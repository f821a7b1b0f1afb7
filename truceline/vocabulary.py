"""The closed vocabularies of FORMATS.md (v1), in one place."""

from __future__ import annotations

__all__ = [
    "ACOUSTIC_CLASSES",
    "AIR_TYPES",
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
#: the types of a tracked air object (Truceline's, not FORMATS.md's: docs/formats.md); the
#: first four are the weapon class ``drone``, the last is ``aircraft``
AIR_TYPES: tuple[str, ...] = (
    "fpv",
    "loitering_munition",
    "one_way_drone",
    "reconnaissance_drone",
    "aircraft",
)
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
