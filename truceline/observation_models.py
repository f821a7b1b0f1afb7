"""The typed model of each observation type (FORMATS.md §2): field by field, what a valid
observation of each ``type`` holds, and the JSON Schema the API publishes.

Reading and batches are in :mod:`truceline.observations`, which re-exports these models.

>>> Acoustic.model_validate({"id": "a1", "type": "acoustic", "source": "s",
...     "time": "2026-03-01T12:00:00Z", "sensor": "S1", "position": [30, 48],
...     "class": "impact", "sigma_s": 0.02}).class_
'impact'
"""

from __future__ import annotations

import functools
import math
import sys
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ._time import parse_time

__all__ = [
    "Acoustic",
    "Allegation",
    "DroneAcoustic",
    "EventReport",
    "Ident",
    "LonLatElev",
    "Met",
    "Model",
    "Patrol",
    "Radar",
    "Rf",
    "Thermal",
    "Uav",
    "check_ident",
    "observation_schema",
    "validate_model",
]


def _time(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, str):
        raise ValueError("expected an RFC 3339 string such as 2026-03-01T12:00:00Z")
    return _parse_time(value)


#: times repeat (a FIRMS day, a satellite pass): parse each text once
_parse_time = functools.lru_cache(maxsize=8192)(parse_time)


def _check_lonlat(v: list[float]) -> list[float]:
    if not all(math.isfinite(c) for c in v):
        raise ValueError("coordinates must be finite numbers")
    lon, lat = v[0], v[1]
    if not -180.0 <= lon <= 180.0:
        raise ValueError(f"longitude {lon:g} is outside [-180, 180]")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude {lat:g} is outside [-90, 90]")
    return v


Time = Annotated[
    int,
    BeforeValidator(_time),
    WithJsonSchema({"type": "string", "format": "date-time", "description": "RFC 3339"}),
]
#: a number: an int or a float, never a string ("36") or a boolean (true)
StrictFloat = Annotated[float, Field(strict=True, allow_inf_nan=False)]
LonLat = Annotated[
    list[StrictFloat], Field(min_length=2, max_length=2), AfterValidator(_check_lonlat)
]
LonLatElev = Annotated[
    list[StrictFloat], Field(min_length=2, max_length=3), AfterValidator(_check_lonlat)
]
Text = Annotated[str, Field(min_length=1, max_length=256)]


def check_ident(v: str) -> str:
    """An ``id`` or a ``source``: refs are written ``source:id``, so neither may hold a colon
    (the API splits a ref at the first colon, ``truceline log prove`` at the last), and
    neither may be blank, padded or hold control characters (two ids that print alike must
    be the same id)."""
    if ":" in v:
        raise ValueError("may not contain ':' (refs are written SOURCE:ID)")
    if v.strip() != v or not v:
        raise ValueError("may not be blank or start or end with white space")
    if any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in v):
        raise ValueError("may not contain control characters")
    return v


Ident = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(check_ident)]
#: a name repeated across many observations (a source, a sensor): interned, stored once
Name = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(sys.intern)]
Source = Annotated[
    str,
    Field(min_length=1, max_length=256),
    AfterValidator(check_ident),
    AfterValidator(sys.intern),
]
Weapon = Literal[
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
]
PatrolEvent = Literal["explosion", "projectile", "burst", "shot", "flare", "drone", "aircraft"]


class _Common(BaseModel):
    model_config = ConfigDict(extra="allow", strict=False, str_strip_whitespace=False, frozen=True)

    id: Ident
    source: Source
    time: Time
    time_end: Time | None = None
    signature: str | None = None
    note: str | None = None

    @field_validator("time_end")
    @classmethod
    def _interval(cls, v: int | None, info: ValidationInfo) -> int | None:
        start = info.data.get("time")
        if v is not None and start is not None and v < start:
            raise ValueError("time_end is before time")
        return v


class Patrol(_Common):
    """A monitoring team saw or heard something (OSCE SMM style)."""

    type: Literal["patrol"]
    observer: LonLat
    event: PatrolEvent
    count: Annotated[int, Field(ge=1, strict=True)]
    bearing_deg: Annotated[StrictFloat, Field(ge=0.0, lt=360.0)]
    bearing_sigma_deg: Annotated[StrictFloat, Field(gt=0.0, le=180.0)]
    distance_km: Annotated[list[StrictFloat], Field(min_length=2, max_length=2)] | None = None
    weapon: Weapon | None = None

    @field_validator("distance_km")
    @classmethod
    def _distance(cls, v: list[float] | None) -> list[float] | None:
        if v is not None and not 0.0 <= v[0] <= v[1]:
            raise ValueError("must be [min, max] with 0 <= min <= max")
        return v


class Acoustic(_Common):
    """One sensor's detection of one impulsive sound; ``time`` is the arrival time."""

    type: Literal["acoustic"]
    sensor: Name
    position: LonLatElev
    class_: Literal["launch", "impact", "unknown"] = Field(alias="class")
    sigma_s: Annotated[StrictFloat, Field(gt=0.0, le=60.0)]
    snr_db: StrictFloat | None = None
    temperature_c: Annotated[StrictFloat, Field(ge=-80.0, le=60.0)] | None = None


#: how far a heartbeat's ``time`` may be from when the API receives it (s)
STATUS_SKEW_S = 300.0


class Status(_Common):
    """A sensor's heartbeat: it is working (``up``) or knows it is not (``down``) from ``time``
    until its next status, for at most twice ``interval_s`` (how often it sends one, at
    most hourly): a sensor whose heartbeats stop is taken to be down, not silent. Through
    the API a heartbeat is accepted only when sent at the time it states (within
    ``STATUS_SKEW_S``): a liveness claim made later, or ahead, is not one."""

    type: Literal["status"]
    sensor: Name
    position: LonLatElev
    state: Literal["up", "down"]
    interval_s: Annotated[StrictFloat, Field(ge=1.0, le=3_600.0)]


def _confidence(v: Any) -> Any:
    if isinstance(v, str):
        if v not in ("l", "n", "h", "low", "nominal", "high"):
            raise ValueError("confidence must be l, n, h or a number 0-100")
        return v[0]
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 <= v <= 100:
        raise ValueError("confidence must be l, n, h or a number 0-100")
    return v


class Thermal(_Common):
    """A satellite thermal anomaly (NASA FIRMS fields)."""

    type: Literal["thermal"]
    position: LonLat
    frp_mw: Annotated[StrictFloat, Field(ge=0.0)] | None = None
    confidence: Annotated[str | float, BeforeValidator(_confidence)] | None = None
    satellite: str | None = None
    instrument: str | None = None
    scan_km: Annotated[StrictFloat, Field(gt=0.0, le=50.0)] | None = None
    track_km: Annotated[StrictFloat, Field(gt=0.0, le=50.0)] | None = None
    #: ids (same source) of the near-real-time rows this archive row replaces
    supersedes: list[Text] | None = None


class Uav(_Common):
    """Equipment seen from the air. ``side`` (optional, a party id) is the owner identified
    from markings, which is what makes a ``crossing`` decidable."""

    type: Literal["uav"]
    position: LonLat
    position_sigma_m: Annotated[StrictFloat, Field(gt=0.0, le=100_000.0)]
    object: Weapon
    count: Annotated[int, Field(ge=1, strict=True)]
    image_sha256: Annotated[str, Field(pattern=r"^[0-9a-fA-F]{64}$")] | None = None
    side: Text | None = None


class Allegation(_Common):
    """A party's claim of a violation by another party."""

    type: Literal["allegation"]
    party: Text
    accused: Text
    position: LonLat
    radius_km: Annotated[StrictFloat, Field(gt=0.0, le=500.0)]
    event: PatrolEvent | None = None
    object: Weapon | None = None
    description: Annotated[str, Field(max_length=20_000)]

    @field_validator("accused")
    @classmethod
    def _not_itself(cls, v: str, info: ValidationInfo) -> str:
        if v == info.data.get("party"):
            raise ValueError("a party cannot accuse itself")
        return v

    @model_validator(mode="after")
    def _what(self) -> Allegation:
        if self.event is None and self.object is None:
            raise PydanticCustomError(
                "missing", "an allegation needs an event or an object", {"field": "event"}
            )
        return self


class Met(_Common):
    """Weather at a station: the wind at sensor height (east, north; m/s) and optionally the
    air temperature; valid from ``time`` until the station's next ``met``."""

    type: Literal["met"]
    position: LonLat
    wind_ms: Annotated[
        list[Annotated[StrictFloat, Field(ge=-75.0, le=75.0)]], Field(min_length=2, max_length=2)
    ]
    temperature_c: Annotated[StrictFloat, Field(ge=-80.0, le=60.0)] | None = None


class EventReport(_Common):
    """An event of a third-party dataset (UCDP GED, ACLED), known only to the dataset's
    stated precision: a circle of ``radius_km`` and the window ``time_window`` (its start is
    ``time``)."""

    type: Literal["event_report"]
    dataset: Literal["ucdp_ged", "acled"]
    dataset_id: Text
    position: LonLat
    radius_km: Annotated[StrictFloat, Field(gt=0.0, le=3_000.0)]
    time_window: Annotated[list[Time], Field(min_length=2, max_length=2)]
    event: PatrolEvent | None = None
    event_type: Text | None = None
    actors: list[Text] | None = None
    fatalities: Annotated[int, Field(ge=0, strict=True)] | None = None
    description: Annotated[str, Field(max_length=20_000)] | None = None

    @model_validator(mode="after")
    def _window(self) -> EventReport:
        start, end = self.time_window
        if start != self.time:
            raise PydanticCustomError(
                "window", "time_window must start at time", {"field": "time_window"}
            )
        if end < start:
            raise PydanticCustomError(
                "window", "time_window ends before it starts", {"field": "time_window"}
            )
        if self.event is None and self.event_type is None:
            raise PydanticCustomError(
                "missing", "an event report needs an event or an event_type", {"field": "event"}
            )
        return self


Bearing = Annotated[StrictFloat, Field(ge=0.0, lt=360.0)]
BearingSigma = Annotated[StrictFloat, Field(gt=0.0, le=180.0)]


class DroneAcoustic(_Common):
    """One sensor hears a drone's engine (a continuous tone) from ``time`` to ``time_end``;
    with a microphone array, the direction of arrival (``bearing_deg`` and its σ, both or
    neither)."""

    type: Literal["drone_acoustic"]
    sensor: Name
    position: LonLatElev
    time_end: Time
    bearing_deg: Bearing | None = None
    bearing_sigma_deg: BearingSigma | None = None
    f0_hz: Annotated[StrictFloat, Field(gt=0.0, le=20_000.0)] | None = None
    snr_db: StrictFloat | None = None

    @model_validator(mode="after")
    def _bearing_pair(self) -> DroneAcoustic:
        if (self.bearing_deg is None) != (self.bearing_sigma_deg is None):
            missing = "bearing_sigma_deg" if self.bearing_sigma_deg is None else "bearing_deg"
            raise PydanticCustomError(
                "missing",
                "an engine's direction needs both bearing_deg and bearing_sigma_deg",
                {"field": missing},
            )
        return self


class Radar(_Common):
    """A radar plot of an air object: where (``position``, ``alt_m``, to
    ``position_sigma_m``) and, where the radar measures it, its velocity (east, north)."""

    type: Literal["radar"]
    sensor: Name
    position: LonLat
    alt_m: Annotated[StrictFloat, Field(ge=-500.0, le=30_000.0)]
    position_sigma_m: Annotated[StrictFloat, Field(gt=0.0, le=100_000.0)]
    velocity_ms: (
        Annotated[
            list[Annotated[StrictFloat, Field(ge=-1000.0, le=1000.0)]],
            Field(min_length=2, max_length=2),
        ]
        | None
    ) = None
    rcs_dbsm: Annotated[StrictFloat, Field(ge=-60.0, le=60.0)] | None = None


class Rf(_Common):
    """A drone's radio link heard by a receiver at ``position``: its bearing (to the
    emitter) and band."""

    type: Literal["rf"]
    sensor: Name
    position: LonLat
    bearing_deg: Bearing
    bearing_sigma_deg: BearingSigma
    band_mhz: Annotated[StrictFloat, Field(gt=0.0, le=100_000.0)]
    protocol: Text | None = None


Model = (
    Patrol
    | Acoustic
    | Thermal
    | Uav
    | Allegation
    | Met
    | EventReport
    | DroneAcoustic
    | Radar
    | Rf
    | Status
)
ADAPTER: TypeAdapter[Model] = TypeAdapter(Annotated[Model, Field(discriminator="type")])


def observation_schema(ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """The JSON Schema of one observation (any of its types), for OpenAPI."""
    return dict(ADAPTER.json_schema(ref_template=ref_template, by_alias=True))


def validate_model(record: Any) -> Model:
    """The typed model of one decoded observation (raises pydantic's ``ValidationError``)."""
    return ADAPTER.validate_python(record)
