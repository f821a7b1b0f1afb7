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

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import (
    ValidationError,
)

from .errors import InputError, InputErrors
from .jsontext import decode_json, json_problem, split_lines, suspect
from .observation_models import (
    Acoustic,
    Allegation,
    DroneAcoustic,
    EventReport,
    Met,
    Model,
    Patrol,
    Radar,
    Rf,
    Status,
    Thermal,
    Uav,
    observation_schema,
    validate_model,
)
from .vocabulary import OBSERVATION_TYPES

__all__ = [
    "Acoustic",
    "Allegation",
    "DroneAcoustic",
    "EventReport",
    "Met",
    "Observation",
    "ObservationBatch",
    "Patrol",
    "Radar",
    "Rf",
    "Status",
    "Thermal",
    "Uav",
    "canonical_json",
    "observation_schema",
    "parse_array",
    "parse_lines",
    "parse_objects",
    "split_lines",
]

MAX_ERRORS = 50


def canonical_json(value: Any) -> str:
    """Compact JSON with sorted keys: the stored form of an observation's raw body (raises
    ``ValueError`` for NaN and infinities, which are not JSON)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


@dataclass(frozen=True, slots=True)
class Observation:
    """A validated observation: its typed model and its raw body (unknown fields included),
    kept as canonical JSON text: compact (a day of a large network is a million of these) and
    exactly what is stored, hashed and compared."""

    model: Model
    body: str
    file: str
    line: int
    #: the leaf hash of the observation's entry in the evidence log (salted: see
    #: :mod:`truceline.evidence.salt`), when it was read from the log
    leaf: bytes | None = None

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

    @property
    def leaf_hash(self) -> bytes:
        """The leaf hash of the observation's log entry: the one it was read with
        (:attr:`leaf`), else that of its entry without a salt (observations analysed from
        files, never stored): what incident ids are computed from."""
        if self.leaf is not None:
            return self.leaf
        from .evidence.canonical import canonical
        from .evidence.merkle import leaf_hash

        return leaf_hash(canonical({"kind": "observation", "observation": json.loads(self.body)}))


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
    if suspect(record):
        problem = json_problem(record)
        if problem is not None:
            raise InputError(file, line, problem[0], problem[1])
    if "type" not in record:
        raise InputError(file, line, "type", "required field is missing")
    try:
        model = validate_model(record)
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
                yield number, decode_json(text)
            except json.JSONDecodeError as exc:
                yield (
                    number,
                    InputError(
                        file, number, None, f"not valid JSON ({exc.msg}, column {exc.colno})"
                    ),
                )
            except ValueError as exc:
                yield number, InputError(file, number, None, f"not valid JSON ({exc})")

    return _parse_numbered(decoded(), file)


def parse_array(text: str, file: str) -> ObservationBatch:
    """A JSON array of observations (numbered from 1) into a batch; all-or-nothing."""
    try:
        items = decode_json(text)
    except json.JSONDecodeError as exc:
        raise InputError(file, None, None, f"malformed JSON: {exc.msg} at {exc.pos}") from None
    except ValueError as exc:
        raise InputError(file, None, None, f"malformed JSON: {exc}") from None
    if not isinstance(items, list):
        raise InputError(file, None, None, "expected a JSON array of observations")
    if not items:
        raise InputError(file, None, None, "no observations in the array")
    return parse_objects(items, file)


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
