"""Incidents: what fusion produces and what every later stage reads (FORMATS.md §3).

An :class:`Incident` keeps its geometry in the agreement's local frame (metres) with full
2x2 covariances; :func:`feature_collection` writes the GeoJSON of FORMATS §3 with rounded,
deterministic numbers, so the same input always gives byte-identical output.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._time import format_time
from .errors import InputError
from .geo import LocalFrame

__all__ = [
    "COUNTED_CONFIDENCE",
    "FIELDS",
    "Attribution",
    "FiringEvidence",
    "Flight",
    "Fused",
    "Incident",
    "Judgement",
    "Point",
    "WeaponClass",
    "feature_collection",
    "incident_id",
    "legacy_incident_id",
    "read_incidents",
    "to_feature",
    "write_incidents",
]

#: incidents at or above this confidence are counted (as violations, in the report and
#: the summary); those below are published, marked as not counted
COUNTED_CONFIDENCE = 0.5

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Point:
    """A located point (metres, local frame) with its covariance and time (µs)."""

    x: float
    y: float
    cov: FloatArray
    time_us: int
    crlb_m: float | None = None  # √trace of the Cramér-Rao bound, where the geometry gives one

    @property
    def sigma_m(self) -> float:
        """The radial 1-sigma (DRMS): √(σx² + σy²)."""
        return float(np.sqrt(max(np.trace(self.cov), 0.0)))


@dataclass(frozen=True)
class FiringEvidence:
    """What the acoustic network heard of a firing event, for judging its weapon class: how
    many launches and impacts were heard separately (a salvo), and, where a launch was paired
    with an impact, the range, the time of flight, how sure the pairing is and the kinematic
    likelihood p(range, time of flight, salvo | class) of each class of
    :data:`truceline.weapons.FIRING_CLASSES`."""

    launches: int = 0
    impacts: int = 0
    range_m: float | None = None
    tof_s: float | None = None
    pairing_probability: float | None = None
    alternatives: int = 0
    likelihood: tuple[float, ...] | None = None
    launch_level_db: float | None = None  # how loud the launch was at its source
    impact_level_db: float | None = None
    #: the sensors' own labels of the picks at the origin: (launch, impact) counts, and at
    #: the impact; what says the origin is where it was *fired* (not where a round landed)
    origin_labels: tuple[int, int] | None = None
    impact_labels: tuple[int, int] | None = None
    #: the origin rests on one event of four arrivals: one degree of freedom, which the
    #: chi-square test cannot use (a wrong pick would go unnoticed)
    origin_untestable: bool = False


@dataclass(frozen=True)
class Flight:
    """An air object's track (:mod:`truceline.tracking.flights`): its path (local metres,
    thinned) with times and 1-sigma radii, where it crossed the line of contact, the
    probability that it crossed it and that it ended in a strike, its class probabilities
    (``classes``, of the weapon vocabulary: drone or aircraft) and type probabilities
    (``types``: :data:`truceline.tracking.air_types.AIR_TYPES`), and what they rest on
    (median speed, altitude from radar, engine tone, circles turned, how far behind the
    line it was first seen)."""

    t_us: tuple[int, ...]
    xy: FloatArray
    sigma_m: FloatArray
    crossing: Point | None
    p_crossed: float
    p_strike: float
    classes: Mapping[str, float]
    speed_ms: float
    alt_m: float | None = None
    f0_hz: float | None = None
    types: Mapping[str, float] = field(default_factory=dict)
    turns: float | None = None
    behind_m: float | None = None


@dataclass(frozen=True)
class Fused:
    """What fusion found: an incident's kind, place, time, weapon and evidence, before
    attribution and judgement (:func:`truceline.fusion.fuse` builds these).

    ``support`` maps each observation type to the sorted refs (``source:id``) that support
    the incident; ``confidence`` is fusion's, ``status`` is ``corroborated`` when two or more
    types support it."""

    kind: str
    time_start_us: int
    time_end_us: int
    origin: Point | None = None
    impact: Point | None = None
    weapon: str = "unknown"
    weapon_basis: str = ""
    support: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    marking: str | None = None  # party identified from markings (UAV), if any
    alleged_by: tuple[str, ...] = ()
    confidence: float = 0.0
    status: str = "automatic"
    id: str = ""
    firing: FiringEvidence | None = None
    reports: tuple[tuple[str, str], ...] = ()  # (observation type, weapon class) assessments
    allegation_parties: Mapping[str, tuple[str, str]] = field(
        default_factory=dict
    )  # ref -> (by, accused)
    flight: Flight | None = None  # an air object's track, for ``air`` incidents of tracks

    @property
    def location(self) -> Point | None:
        """Best location: the impact for fire, the equipment position for presence."""
        return self.impact if self.impact is not None else self.origin

    @property
    def refs(self) -> list[str]:
        return sorted(r for refs in self.support.values() for r in refs)


@dataclass(frozen=True)
class Attribution:
    """Who is responsible, as probabilities (:func:`truceline.attribution.attribute`)."""

    probabilities: Mapping[str, float] = field(default_factory=dict)
    attributed_to: str | None = None
    basis: str = ""


@dataclass(frozen=True)
class WeaponClass:
    """The weapon class as a probability (:func:`truceline.weapon_class.classify`): every
    class the evidence allows, the one named (only when its probability reaches the
    threshold, else ``unknown``), and why."""

    probabilities: Mapping[str, float] = field(default_factory=dict)
    weapon: str = "unknown"
    basis: str = ""


@dataclass(frozen=True)
class Judgement:
    """Which clauses an incident breaches (:func:`truceline.judge.judge`): the probability of
    each (of those at 0.05 or more), and the clauses at or above the threshold."""

    probabilities: Mapping[str, float] = field(default_factory=dict)
    violations: tuple[str, ...] = ()
    threshold: float = 0.9

    @property
    def possible(self) -> tuple[str, ...]:
        """Possible violations: probability between 0.5 and the threshold."""
        return tuple(c for c, p in self.probabilities.items() if 0.5 <= p < self.threshold)


@dataclass(frozen=True)
class Incident(Fused):
    """A fused incident with its weapon class, its attribution and the clauses it breaches:
    what :func:`truceline.analysis.analyze` returns and FORMATS §3 writes. Built once, never
    changed."""

    weapon_probabilities: Mapping[str, float] = field(default_factory=dict)
    attribution: Mapping[str, float] = field(default_factory=dict)
    attributed_to: str | None = None
    attribution_basis: str = ""
    violations: tuple[str, ...] = ()
    violation_probabilities: Mapping[str, float] = field(default_factory=dict)
    possible_violations: tuple[str, ...] = ()
    allegations: Mapping[str, str] = field(default_factory=dict)  # ref -> verdict

    @classmethod
    def of(
        cls,
        fused: Fused,
        weapon: WeaponClass,
        attribution: Attribution,
        judgement: Judgement,
        allegations: Mapping[str, str],
    ) -> Incident:
        """The incident of ``fused``, classed, attributed and judged. A fire incident whose
        weapon is a drone or an aircraft is an ``air`` incident."""
        kind = fused.kind
        if kind == "fire" and weapon.weapon in ("drone", "aircraft"):
            kind = "air"
        base = {f.name: getattr(fused, f.name) for f in fields(Fused)}
        base.update(kind=kind, weapon=weapon.weapon, weapon_basis=weapon.basis)
        return cls(
            **base,
            weapon_probabilities=weapon.probabilities,
            attribution=attribution.probabilities,
            attributed_to=attribution.attributed_to,
            attribution_basis=attribution.basis,
            violations=judgement.violations,
            violation_probabilities=judgement.probabilities,
            possible_violations=judgement.possible,
            allegations=allegations,
        )


def incident_id(leaves: Iterable[bytes]) -> str:
    """A stable id from the leaf hashes of the supporting observations' log entries: ``inc-``
    and the first 16 hex digits of SHA-256 over the sorted 32-byte leaf hashes, concatenated.

    The entries of observations are salted (:mod:`truceline.evidence.salt`), so only whoever
    holds every supporting entry can compute an incident's id (a party cannot confirm a
    withheld allegation by guessing it and hashing), and anyone holding the log can
    reproduce it. Observations analysed from files, never stored, use the leaf hash of their
    unsalted entry (:attr:`truceline.observations.Observation.leaf_hash`).

    >>> a, b = bytes(32), bytes([1]) * 32
    >>> incident_id([a, b]) == incident_id([b, a]), incident_id([a])
    (True, 'inc-66687aadf862bd77')
    """
    digest = hashlib.sha256(b"".join(sorted(leaves))).hexdigest()
    return f"inc-{digest[:16]}"


def legacy_incident_id(refs: Iterable[str]) -> str:
    """The id of an incident of a run logged before ids were computed over leaf hashes:
    SHA-256 over the sorted supporting refs (``source:id``) joined by newlines (what
    :func:`truceline.store.runs.reproduce` uses to re-run such a run).

    >>> legacy_incident_id(["b:2", "a:1"]) == legacy_incident_id(["a:1", "b:2"])
    True
    """
    digest = hashlib.sha256("\n".join(sorted(refs)).encode()).hexdigest()
    return f"inc-{digest[:16]}"


#: every property of an incident feature (FORMATS §3 and the optional ones Truceline adds),
#: in the order :func:`to_feature` writes them; ``marking`` and ``alleged_by`` only when set,
#: ``track``, ``crossing`` and ``flight`` only for the track of an air object.
#: Who may see which is :mod:`truceline.access`'s (its lists name these, and a test keeps
#: them in step).
FIELDS = (
    "id",
    "kind",
    "time_start",
    "time_end",
    "weapon",
    "origin",
    "origin_sigma_m",
    "impact",
    "impact_sigma_m",
    "confidence",
    "attribution",
    "attributed_to",
    "violations",
    "status",
    "observations",
    "weapon_probabilities",
    "violation_probabilities",
    "possible_violations",
    "allegations",
    "pairing",
    "heard",
    "assessments",
    "attribution_basis",
    "weapon_basis",
    "sources",
    "origin_cov_m2",
    "impact_cov_m2",
    "origin_crlb_m",
    "impact_crlb_m",
    "marking",
    "alleged_by",
    "track",
    "crossing",
    "flight",
)


def _lonlat(frame: LocalFrame, p: Point | None) -> list[float] | None:
    if p is None:
        return None
    lon, lat = frame.inverse(np.array([p.x]), np.array([p.y]))
    return [round(float(lon[0]), 7), round(float(lat[0]), 7)]


def _cov(p: Point | None) -> list[float] | None:
    if p is None:
        return None
    return [
        round(float(p.cov[0, 0]), 1),
        round(float(p.cov[0, 1]), 1),
        round(float(p.cov[1, 1]), 1),
    ]


def _crlb(p: Point | None) -> float | None:
    if p is None or p.crlb_m is None or not np.isfinite(p.crlb_m):
        return None
    return round(float(p.crlb_m), 1)


def _pairing(f: FiringEvidence | None) -> dict[str, Any] | None:
    """How a launch was paired with its impact: how sure, among how many alternatives, and
    the range and time of flight it implies."""
    if f is None or f.pairing_probability is None:
        return None
    return {
        "probability": round(f.pairing_probability, 3),
        "alternatives": f.alternatives,
        "range_m": f.range_m,
        "time_of_flight_s": f.tof_s,
    }


def _heard(f: FiringEvidence | None) -> dict[str, Any] | None:
    """How many launches and impacts of the firing event the acoustic network heard, and
    how loud they were at their source (dB, where the sensors reported SNRs)."""
    if f is None:
        return None
    out: dict[str, Any] = {"launches": f.launches, "impacts": f.impacts}
    for key, value in (
        ("launch_level_db", f.launch_level_db),
        ("impact_level_db", f.impact_level_db),
    ):
        if value is not None and np.isfinite(value):
            out[key] = round(float(value), 1)
    return out


def _flight(f: Flight, frame: LocalFrame) -> dict[str, Any]:
    """The track as a GeoJSON LineString, where it crossed the line, and the rest."""
    lon, lat = frame.inverse(f.xy[:, 0], f.xy[:, 1])
    line = [[round(float(a), 6), round(float(b), 6)] for a, b in zip(lon, lat, strict=True)]
    return {
        "track": {"type": "LineString", "coordinates": line},
        "crossing": _lonlat(frame, f.crossing),
        "flight": {
            "times": [format_time(t) for t in f.t_us],
            "sigma_m": [round(float(s), 1) for s in f.sigma_m],
            "crossing_time": None if f.crossing is None else format_time(f.crossing.time_us),
            "crossing_sigma_m": None if f.crossing is None else round(f.crossing.sigma_m, 1),
            "p_crossed": round(f.p_crossed, 4),
            "p_strike": round(f.p_strike, 4),
            "classes": {k: round(v, 4) for k, v in f.classes.items()},
            "speed_ms": round(f.speed_ms, 1),
            "alt_m": None if f.alt_m is None else round(f.alt_m),
            "f0_hz": None if f.f0_hz is None else round(f.f0_hz, 1),
            "types": {k: round(v, 4) for k, v in f.types.items()},
            "turns": None if f.turns is None else round(f.turns, 2),
            "first_seen_behind_m": None if f.behind_m is None else round(f.behind_m),
        },
    }


def to_feature(inc: Incident, frame: LocalFrame) -> dict[str, Any]:
    loc = inc.location
    geometry = None
    if loc is not None:
        geometry = {"type": "Point", "coordinates": _lonlat(frame, loc)}
    props: dict[str, Any] = {
        "id": inc.id,
        "kind": inc.kind,
        "time_start": format_time(inc.time_start_us),
        "time_end": format_time(inc.time_end_us),
        "weapon": inc.weapon,
        "origin": _lonlat(frame, inc.origin),
        "origin_sigma_m": None if inc.origin is None else round(inc.origin.sigma_m, 1),
        "impact": _lonlat(frame, inc.impact),
        "impact_sigma_m": None if inc.impact is None else round(inc.impact.sigma_m, 1),
        "confidence": round(inc.confidence, 3),
        "attribution": {k: round(v, 4) for k, v in sorted(inc.attribution.items())},
        "attributed_to": inc.attributed_to,
        "violations": list(inc.violations),
        "status": inc.status,
        "observations": inc.refs,
        "weapon_probabilities": dict(inc.weapon_probabilities),
        "violation_probabilities": dict(inc.violation_probabilities),
        "possible_violations": list(inc.possible_violations),
        "allegations": dict(sorted(inc.allegations.items())),
        # optional fields (FORMATS allows additions)
        "pairing": _pairing(inc.firing),
        "heard": _heard(inc.firing),
        "assessments": [list(r) for r in inc.reports],
        "attribution_basis": inc.attribution_basis,
        "weapon_basis": inc.weapon_basis,
        "sources": {k: len(v) for k, v in sorted(inc.support.items())},
        "origin_cov_m2": _cov(inc.origin),
        "impact_cov_m2": _cov(inc.impact),
        "origin_crlb_m": _crlb(inc.origin),
        "impact_crlb_m": _crlb(inc.impact),
    }
    if inc.marking:
        props["marking"] = inc.marking
    if inc.alleged_by:
        props["alleged_by"] = sorted(set(inc.alleged_by))
    if inc.flight is not None:
        props.update(_flight(inc.flight, frame))
    return {"type": "Feature", "id": inc.id, "geometry": geometry, "properties": props}


def feature_collection(incidents: list[Incident], frame: LocalFrame) -> dict[str, Any]:
    """FORMATS §3 FeatureCollection, incidents in (time_start, id) order."""
    ordered = sorted(incidents, key=lambda i: (i.time_start_us, i.id))
    return {"type": "FeatureCollection", "features": [to_feature(i, frame) for i in ordered]}


def dumps(doc: dict[str, Any]) -> str:
    """Deterministic JSON text (one feature per line keeps diffs readable)."""
    feats = doc["features"]
    body = ",\n".join(json.dumps(f, separators=(",", ":"), ensure_ascii=False) for f in feats)
    return '{"type":"FeatureCollection","features":[\n' + body + "\n]}\n"


def write_incidents(path: Path, incidents: list[Incident], frame: LocalFrame) -> str:
    """Write the GeoJSON; return its text (for hashing and storing)."""
    text = dumps(feature_collection(incidents, frame))
    path.write_text(text, encoding="utf-8")
    return text


def read_incidents(path: Path) -> list[dict[str, Any]]:
    """Read an incidents GeoJSON back as a list of property dicts (for evaluation)."""
    file = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(file, None, None, f"cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise InputError(file, exc.lineno, None, f"not valid JSON ({exc.msg})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InputError(file, None, "type", "expected a GeoJSON FeatureCollection")
    out = []
    for i, feat in enumerate(doc.get("features", [])):
        props = feat.get("properties") if isinstance(feat, dict) else None
        if not isinstance(props, dict):
            raise InputError(file, f"feature {i}", "properties", "required field is missing")
        for key in ("id", "kind", "time_start", "confidence", "attribution"):
            if key not in props:
                raise InputError(
                    file, f"feature {i}", f"properties.{key}", "required field is missing"
                )
        out.append(props)
    return out
