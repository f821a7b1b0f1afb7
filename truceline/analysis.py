"""One analysis run: localise, fuse, attribute and judge a batch of observations.

>>> import tempfile, pathlib
>>> from truceline.simulate import simulate
>>> from truceline.agreement import load_agreement
>>> from truceline.sources import read_observations
>>> with tempfile.TemporaryDirectory() as tmp:
...     _ = simulate(pathlib.Path(tmp), seed=2, hours=1)
...     ag = load_agreement(pathlib.Path(tmp) / "agreement.yaml")
...     batch = read_observations([pathlib.Path(tmp) / "observations.jsonl"])
...     run = analyze(batch.observations, ag)
>>> run.summary["incidents"]["total"] > 0
True
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ._time import format_time
from ._version import __version__
from .agreement import Agreement
from .attribution import DEFAULT_THRESHOLD, AttributionParams, allegation_verdicts, attribute
from .confidence import ConfidenceModel, calibrated, default_model
from .fusion import FusionParams, fuse
from .incidents import COUNTED_CONFIDENCE, Fused, Incident, write_incidents
from .judge import judge
from .localize.network import network_summary
from .localize.partitions import Partitioning
from .localize.picks import Picks, picks_from
from .observations import Observation, check_parties
from .sources.detections import current
from .tracking.flights import FlightParams, flights, join_strikes
from .weapon_class import classify
from .weapons import DEFAULT_MODEL, WeaponModel

__all__ = [
    "AnalysisResult",
    "Outputs",
    "analyze",
    "inputs_digest",
    "leftover_picks",
    "write_outputs",
]


@dataclass(frozen=True)
class AnalysisResult:
    incidents: list[Incident]
    summary: dict[str, Any]
    #: each allegation that joined an incident, as the incident it would be alone: what
    #: the party that filed it reads while that incident is hidden from it (not written to
    #: the outputs, nor counted in the summary)
    lone: list[Incident] = field(default_factory=list)


def inputs_digest(observations: Sequence[Observation]) -> str:
    """SHA-256 over the sorted canonical bodies: the same inputs in any order give one digest."""
    h = hashlib.sha256()
    for body in sorted(o.body for o in observations):
        h.update(body.encode())
        h.update(b"\n")
    return h.hexdigest()


def analyze(
    observations: Sequence[Observation],
    ag: Agreement,
    params: FusionParams | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Callable[[int], None] | None = None,
    evidence: dict[str, Any] | None = None,
    model: WeaponModel | None = None,
    confidence: ConfidenceModel | None = None,
    partitions: Partitioning | None = None,
    attribution: AttributionParams | None = None,
    flight: FlightParams | None = None,
) -> AnalysisResult:
    """Run the whole pipeline; deterministic for the same set of observations in any order.

    ``evidence`` (the tree head the observations were read at, when they come from the
    evidence log) is recorded in the summary; ``confidence`` is the model that turns
    fusion's evidence into P(real) (default: the shipped one, :mod:`truceline.confidence`).
    ``partitions`` runs association by windows of time, by its map (a Dask cluster:
    :mod:`truceline.cluster`); the result is the same, and so is the summary (how a run was
    computed is not part of what it found). ``attribution`` is what attribution assumes
    (default: :class:`truceline.attribution.AttributionParams`), ``flight`` how air objects
    are tracked, typed and joined with their strikes (default:
    :class:`truceline.tracking.flights.FlightParams`)."""
    prm = params or FusionParams()
    ap = AttributionParams() if attribution is None else attribution
    wm = DEFAULT_MODEL if model is None else model
    cm = default_model() if confidence is None else confidence
    check_parties(observations, ag.party_ids)
    fused = fuse(
        current(observations), ag, prm, progress=progress, model=wm, partitions=partitions
    )  # each detection once
    by_ref = {o.ref: o for o in observations}  # tracks of air objects, joined with strikes
    fp = FlightParams() if flight is None else flight
    air = flights(observations, ag, fp)
    found = calibrated(
        join_strikes(
            fused.incidents,
            air,
            lambda r: by_ref[r].leaf_hash,
            fp,
            leftover=leftover_picks(observations, fused.incidents, ag) if air else None,
        ),
        cm,
    )

    def finished(found: list[Fused]) -> list[Incident]:
        return _finish(found, ag, prm, threshold, ap, wm, cm)

    incidents = finished(found)
    times = [o.time_us for o in observations]
    summary: dict[str, Any] = {
        "truceline_version": __version__,
        "agreement": ag.id,
        "inputs": {
            "observations": len(observations),
            "by_type": dict(sorted(Counter(o.type for o in observations).items())),
            "sha256": inputs_digest(observations),
            "time_first": format_time(min(times)) if times else None,
            "time_last": format_time(max(times)) if times else None,
        },
        "parameters": {
            **prm.as_dict(),
            "attribution_threshold": threshold,
            "attribution": ap.as_dict(),
            "weapon_model": wm.as_dict(),
            "confidence_model": cm.as_dict(),
            "flights": fp.as_dict(),
        },
        "fusion": {**fused.stats, "air_tracks": len(air)},
        "network": network_summary(fused.acoustic, ag.frame),
        "incidents": _counts(incidents),
    }
    if evidence is not None:
        summary["evidence"] = evidence
    return AnalysisResult(incidents, summary, finished(calibrated(fused.lone, cm)))


def _finish(
    found: list[Fused],
    ag: Agreement,
    prm: FusionParams,
    threshold: float,
    ap: AttributionParams,
    wm: WeaponModel,
    cm: ConfidenceModel,
) -> list[Incident]:
    """The fused incidents classed, attributed and judged (each incident on its own)."""
    weapons = classify(found, ag, wm, prm.weapon_threshold, cm.weapon_class)
    attributions = attribute(found, ag, threshold, ap)
    judgements = judge(found, weapons, ag, prm.violation_threshold, wm)
    verdicts = allegation_verdicts(found, attributions, threshold)
    return [
        Incident.of(*parts)
        for parts in zip(found, weapons, attributions, judgements, verdicts, strict=True)
    ]


def leftover_picks(
    observations: Sequence[Observation], incidents: Sequence[Fused], ag: Agreement
) -> Picks:
    """The acoustic picks (each detection once) that no incident rests on, with the
    weather (``met``) the picks' sound speed is computed from."""
    used = {r for f in incidents for r in f.support.get("acoustic", ())}
    left = [
        o
        for o in current(observations)
        if (o.type == "acoustic" and o.ref not in used) or o.type == "met"
    ]
    return picks_from(left, ag.frame)


def _counts(incidents: list[Incident]) -> dict[str, Any]:
    """Counts for the summary; violation counts are of incidents with confidence >= 0.5 (a
    lone thermal anomaly or allegation is kept, but is not counted as a violation)."""
    firm = [i for i in incidents if i.confidence >= COUNTED_CONFIDENCE]
    violations = Counter(v for i in firm for v in i.violations)
    possible = Counter(v for i in firm for v in i.possible_violations)
    allegations: dict[str, Counter[str]] = {}
    for i in incidents:
        for ref, verdict in i.allegations.items():
            allegations.setdefault(i.allegation_parties[ref][0], Counter())[verdict] += 1
    attributed = Counter(i.attributed_to or "undetermined" for i in firm if i.violations)
    conf = np.array([i.confidence for i in incidents]) if incidents else np.zeros(0)
    return {
        "total": len(incidents),
        "by_kind": dict(sorted(Counter(i.kind for i in incidents).items())),
        "by_status": dict(sorted(Counter(i.status for i in incidents).items())),
        "by_weapon": dict(sorted(Counter(i.weapon for i in incidents).items())),
        "confidence_ge_0_5": int((conf >= COUNTED_CONFIDENCE).sum()),
        "violation_counts_min_confidence": COUNTED_CONFIDENCE,
        "violations_by_clause": dict(sorted(violations.items())),
        "possible_violations_by_clause": dict(sorted(possible.items())),
        "allegations_by_party": {
            p: dict(sorted(c.items())) for p, c in sorted(allegations.items())
        },
        "violating_incidents_by_party": dict(sorted(attributed.items())),
    }


@dataclass(frozen=True)
class Outputs:
    """The files :func:`write_outputs` wrote, and the summary as written (with the hash of
    the incidents' GeoJSON)."""

    incidents: Path
    summary_file: Path
    text: str
    summary: dict[str, Any]


def write_outputs(result: AnalysisResult, ag: Agreement, out: Path) -> Outputs:
    """Write ``incidents.geojson`` and ``summary.json`` into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    geo = out / "incidents.geojson"
    text = write_incidents(geo, result.incidents, ag.frame)
    outputs = {"incidents_sha256": hashlib.sha256(text.encode()).hexdigest()}
    summary = {**result.summary, "outputs": outputs}
    summ = out / "summary.json"
    summ.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return Outputs(geo, summ, text, summary)
