"""Analysis runs against the evidence log: run the analysis on the observations of the log's
current tree head and keep it as a logged run, or reproduce a logged run from the log alone.

These compose the library (:func:`truceline.analysis.analyze`) with the store; the command
line and the service call them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..agreement import Agreement, agreement_from_files
from ..analysis import AnalysisResult, Outputs, analyze, write_outputs
from ..attribution import DEFAULT_THRESHOLD, AttributionParams
from ..confidence import ConfidenceModel
from ..evidence import entry_json
from ..fusion import FusionParams
from ..incidents import dumps, feature_collection, legacy_incident_id
from ..localize.partitions import Partitioning
from ..observations import ObservationBatch, check_parties
from ..tracking.flights import FlightParams
from ..weapons import DEFAULT_MODEL, WeaponModel
from .records import Store

__all__ = ["Reproduction", "analyze_logged", "reproduce"]


def analyze_logged(
    store: Store,
    ag: Agreement,
    agreement_files: dict[str, str],
    out: Path,
    new: ObservationBatch | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    progress: Callable[[int], None] | None = None,
    model: WeaponModel | None = None,
    partitions: Partitioning | None = None,
    attribution: AttributionParams | None = None,
    parquet: Path | None = None,
) -> tuple[Outputs, int]:
    """Ingest ``new`` observations (if any), analyse every observation of the log's current
    tree head, write the outputs into ``out`` and keep them as a logged run (with the
    agreement's files, so the run can be reproduced from the log); returns the outputs and
    the run's id.

    With ``parquet``, the observations are read from that Parquet set at the tree head it
    records, after the set was checked against the log
    (:func:`truceline.store.parquet_set.read_observations`); the run is logged at that
    head, so `truceline reproduce` gives it from the log alone. The set is read here, in
    the process that runs the global stages, whatever the engine: read by a cluster's
    workers, every parsed observation would travel back to it (2.5 times slower than one
    process reading, measured: docs/scale.md)."""
    if new is not None:
        check_parties(new.observations, ag.party_ids)  # before anything is stored
        store.add_observations(store.reconcile_detections(new))
    if parquet is not None:
        from .parquet_set import read_observations

        observations, head = read_observations(store, parquet)
        size = head.tree_size
    else:
        size = store.log_size()
        observations = list(store.logged_observations(size))
    evidence = {"tree_size": size, "root_hash": store.tree().root(size).hex()}
    result = analyze(
        observations,
        ag,
        threshold=threshold,
        progress=progress,
        evidence=evidence,
        model=model,
        partitions=partitions,
        attribution=attribution,
    )
    outputs = write_outputs(result, ag, out)
    features = json.loads(outputs.text)["features"]
    # written as the incidents are, so that each reads as its allegation would unplaced
    lone = json.loads(dumps(feature_collection(result.lone, ag.frame)))["features"]
    run_id = store.add_run(outputs.summary, features, agreement_files, tree_size=size, lone=lone)
    return outputs, run_id


@dataclass(frozen=True)
class Reproduction:
    """A logged run re-run from the log: what it logged and what the re-run gave."""

    run: int
    entry: dict[str, Any]
    outputs: Outputs
    digest: str

    @property
    def identical(self) -> bool:
        return bool(self.digest == self.entry["incidents_sha256"])


def _legacy_ids(result: AnalysisResult) -> AnalysisResult:
    """The result with the incident ids of runs logged before ids were computed over leaf
    hashes (SHA-256 over the sorted refs), in the order such a run wrote them."""
    incidents = sorted(
        (replace(i, id=legacy_incident_id(i.refs)) for i in result.incidents),
        key=lambda i: (i.time_start_us, i.id),
    )
    return AnalysisResult(incidents, result.summary)


def reproduce(
    store: Store,
    run_id: int,
    out: Path,
    progress: Callable[[int], None] | None = None,
    partitions: Partitioning | None = None,
) -> Reproduction:
    """Re-run a logged analysis from the evidence log alone: its observations up to the run's
    tree head, the logged agreement and parameters; write the outputs into ``out``.

    A run logged before incident ids were computed over the supporting entries' leaf
    hashes (its entry has no ``incident_ids``) is re-run with the rule it was made with
    (ids over the refs), so it still reproduces byte for byte."""
    entry = store.run_entry(run_id)
    files = entry_json(store.entry(int(entry["agreement_entry"])))["files"]
    observations = list(store.logged_observations(int(entry["tree_size"])))
    ag = agreement_from_files(files)
    params = dict(entry["parameters"])
    threshold = float(params.pop("attribution_threshold"))
    attribution = AttributionParams.from_dict(params.pop("attribution", None))
    recorded = params.pop("weapon_model", None)
    model = DEFAULT_MODEL.with_calibration(recorded) if recorded else DEFAULT_MODEL
    cm = params.pop("confidence_model", None)  # runs before calibrated confidence: fusion's
    confidence = ConfidenceModel.from_dict(cm) if cm else ConfidenceModel.identity()
    flight = FlightParams.from_dict(params.pop("flights", None))
    evidence = {"tree_size": entry["tree_size"], "root_hash": entry["root_hash"]}
    result = analyze(
        observations,
        ag,
        FusionParams.from_dict(params),
        threshold=threshold,
        progress=progress,
        evidence=evidence,
        model=model,
        confidence=confidence,
        partitions=partitions,
        attribution=attribution,
        flight=flight,
    )
    if entry.get("incident_ids") != "leaf_hashes":
        result = _legacy_ids(result)
    outputs = write_outputs(result, ag, out)
    digest = hashlib.sha256(outputs.text.encode()).hexdigest()
    return Reproduction(run_id, entry, outputs, digest)
