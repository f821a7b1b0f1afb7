"""Observations: the validated, typed form of everything sources report (FORMATS.md §2).

Reading is all-or-nothing: :func:`parse_lines` (and every reader of
:mod:`truceline.sources`) validates every line and raises one
:class:`~truceline.errors.InputErrors` listing each bad line as
``FILE:LINE: field: what is wrong``; nothing is returned (so nothing can be written) unless
the whole batch is good. Unknown fields are kept in :attr:`Observation.raw`.

>>> batch = parse_lines(['{"id": "a1", "type": "acoustic", "source": "s", '
...     '"time": "2026-03-01T12:00:00.25Z", "sensor": "S1", "position": [30, 48, 120], '
...     '"class": "impact", "sigma_s": 0.02, "site": "hill 4"}'], "x.jsonl")
>>> obs = batch.observations[0]
>>> obs.key, obs.type, obs.time_us, obs.raw["site"]
(('s', 'a1'), 'acoustic', 1772366400250000, 'hill 4')
"""

from __future__ import annotations

import functools
import json
import math
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ._time import parse_time
from .errors import InputError, InputErrors
from .vocabulary import OBSERVATION_TYPES

__all__ = [
    "Acoustic",
    "Allegation",
    "EventReport",
    "Observation",
    "ObservationBatch",
    "Patrol",
    "Thermal",
    "Uav",
    "canonical_json",
    "observation_schema",
    "parse_lines",
    "parse_objects",
]

MAX_ERRORS = 50


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
StrictFloat = Annotated[float, Field(strict=False, allow_inf_nan=False)]
LonLat = Annotated[
    list[StrictFloat], Field(min_length=2, max_length=2), AfterValidator(_check_lonlat)
]
LonLatElev = Annotated[
    list[StrictFloat], Field(min_length=2, max_length=3), AfterValidator(_check_lonlat)
]
Text = Annotated[str, Field(min_length=1, max_length=256)]
#: a name repeated across many observations (a source, a sensor): interned, stored once
Name = Annotated[str, Field(min_length=1, max_length=256), AfterValidator(sys.intern)]
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

    id: Text
    source: Name
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


Model = Patrol | Acoustic | Thermal | Uav | Allegation | EventReport
_ADAPTER: TypeAdapter[Model] = TypeAdapter(Annotated[Model, Field(discriminator="type")])


def observation_schema(ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """The JSON Schema of one observation (any of its types), for OpenAPI."""
    return dict(_ADAPTER.json_schema(ref_template=ref_template, by_alias=True))


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: the stored form of an observation's raw body."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Observation:
    """A validated observation: its typed model and its raw body (unknown fields included),
    kept as canonical JSON text: compact (a day of a large network is a million of these) and
    exactly what is stored, hashed and compared."""

    model: Model
    body: str
    file: str
    line: int

    @property
    def key(self) -> tuple[str, str]:
        return (self.model.source, self.model.id)

    @property
    def type(self) -> str:
        return self.model.type

    @property
    def time_us(self) -> int:
        return self.model.time

    @property
    def raw(self) -> dict[str, Any]:
        """The raw body as a dict (decoded on each access)."""
        return dict(json.loads(self.body))

    @property
    def ref(self) -> str:
        """``source:id``, the id an incident lists its supporting observations by."""
        return f"{self.model.source}:{self.model.id}"


@dataclass
class ObservationBatch:
    """Observations of one batch, deduplicated by ``(source, id)``, in (source, id) order."""

    observations: list[Observation] = field(default_factory=list)
    duplicates: int = 0  # identical repeats of one (source, id), dropped
    merged: int = 0  # the same detection published twice (at another precision), dropped
    superseded: int = 0  # near-real-time rows replaced by their archive row, dropped

    def of_type(self, kind: str) -> list[Observation]:
        return [o for o in self.observations if o.type == kind]

    def __len__(self) -> int:
        return len(self.observations)


def _field_of(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in OBSERVATION_TYPES:
        parts = parts[1:]
    parts = [p for p in parts if not p.startswith(("function-", "list[", "constrained-"))]
    return ".".join(parts) or "(object)"


def _message(err: Any) -> str:
    kind = err["type"]
    msg = str(err["msg"])
    if kind == "missing":
        return msg if msg.startswith("an ") else "required field is missing"
    if kind == "union_tag_invalid":
        return f"type must be one of {', '.join(OBSERVATION_TYPES)}"
    if kind == "union_tag_not_found":
        return "required field is missing"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    given = err.get("input")
    if kind not in ("missing",) and not isinstance(given, dict | list):
        return f"{msg} (got {json.dumps(given)[:60]})"
    return msg


def parse_record(record: Any, file: str, line: int) -> Observation:
    """Validate one decoded JSON object; raise :class:`InputError` naming the first bad field."""
    if not isinstance(record, dict):
        raise InputError(file, line, None, "each line must be a JSON object")
    if "type" not in record:
        raise InputError(file, line, "type", "required field is missing")
    try:
        model = _ADAPTER.validate_python(record)
    except ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        loc = err["loc"]
        if (err.get("ctx") or {}).get("field"):
            loc = (err["ctx"]["field"],)
        if err["type"] == "union_tag_not_found" or err["type"] == "union_tag_invalid":
            loc = ("type",)
        raise InputError(file, line, _field_of(loc), _message(err)) from None
    # Pydantic keeps a set of the fields given for each instance (some 700 bytes, more than
    # the observation's own values); the models are frozen, so instances with the same fields
    # can share one immutable set. A day of a large network is a million observations.
    given = frozenset(model.model_fields_set)
    object.__setattr__(model, "__pydantic_fields_set__", _FIELDS_SETS.setdefault(given, given))
    return Observation(model=model, body=canonical_json(record), file=file, line=line)


_FIELDS_SETS: dict[frozenset[str], frozenset[str]] = {}


def parse_lines(lines: Iterable[str], file: str) -> ObservationBatch:
    """Parse JSONL text lines (1-based numbering) into a batch; all-or-nothing."""

    def decoded() -> Iterator[tuple[int, Any]]:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                yield number, json.loads(text)
            except json.JSONDecodeError as exc:
                yield (
                    number,
                    InputError(
                        file, number, None, f"not valid JSON ({exc.msg}, column {exc.colno})"
                    ),
                )

    return _parse_numbered(decoded(), file)


def parse_objects(objects: Iterable[Any], file: str) -> ObservationBatch:
    """Decoded JSON objects (numbered from 1, as lines would be) into a batch; all-or-nothing."""
    return _parse_numbered(enumerate(objects, start=1), file)


def _parse_numbered(items: Iterable[tuple[int, Any]], file: str) -> ObservationBatch:
    """Validate numbered decoded records (or the :class:`InputError` of one that could not
    be decoded); report up to ``MAX_ERRORS`` errors together, or return the batch."""
    errors: list[InputError] = []
    records: list[Observation] = []
    for number, decoded in items:
        if isinstance(decoded, InputError):
            errors.append(decoded)
        else:
            try:
                records.append(parse_record(decoded, file, number))
            except InputError as exc:
                errors.append(exc)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise InputErrors(errors)
    return merge([records])


def merge(parts: Iterable[Iterable[Observation]]) -> ObservationBatch:
    """Deduplicate by ``(source, id)``: identical repeats are dropped and counted, a repeat with
    different content is an error (a changed observation must get a new id)."""
    seen: dict[tuple[str, str], Observation] = {}
    duplicates = 0
    errors: list[InputError] = []
    for part in parts:
        for obs in part:
            prev = seen.get(obs.key)
            if prev is None:
                seen[obs.key] = obs
            elif prev.body == obs.body:
                duplicates += 1
            else:
                errors.append(
                    InputError(
                        obs.file,
                        obs.line,
                        "id",
                        f"({obs.key[0]}, {obs.key[1]}) repeats {prev.file}:{prev.line} "
                        "with different content",
                    )
                )
    if errors:
        raise InputErrors(errors)
    ordered = [seen[k] for k in sorted(seen)]
    return ObservationBatch(observations=ordered, duplicates=duplicates)


def check_parties(observations: Iterable[Observation], parties: Iterable[str]) -> None:
    """Reject allegations (and UAV ``side`` markings) that name a party the agreement lacks."""
    known = set(parties)
    errors: list[InputError] = []
    for obs in observations:
        m = obs.model
        names: list[tuple[str, str | None]] = []
        if isinstance(m, Allegation):
            names = [("party", m.party), ("accused", m.accused)]
        elif isinstance(m, Uav):
            names = [("side", m.side)]
        for fld, value in names:
            if value is not None and value not in known:
                errors.append(
                    InputError(
                        obs.file,
                        obs.line,
                        fld,
                        f"unknown party {value!r} (the agreement declares {', '.join(sorted(known))})",
                    )
                )
    if errors:
        raise InputErrors(errors)
