"""The batch pipeline on the standard scenario: accuracy thresholds (with margin) and
invariants (order independence, idempotence)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from truceline.agreement import Agreement
from truceline.analysis import AnalysisResult, analyze
from truceline.evaluate import evaluate
from truceline.incidents import dumps, feature_collection
from truceline.observations import ObservationBatch


def test_accuracy_on_the_standard_scenario(
    scenario: Path, analysis: tuple[AnalysisResult, Path]
) -> None:
    _, out = analysis
    report = evaluate(scenario / "truth.jsonl", out / "incidents.geojson")
    fire, presence = report["kinds"]["fire"], report["kinds"]["presence"]
    # 0.97 with fusion's raw score; the calibrated confidence (fitted on the field world) is
    # underconfident in the matched world and puts a few real firings below 0.5 (README)
    assert fire["recall_locatable"] >= 0.92
    assert fire["precision"] >= 0.90
    assert fire["attribution_accuracy"] >= 0.98
    # a side is named only where P(real) × P(a launch) × the area's share reaches 0.95: the
    # real firings the calibrated confidence doubts stay undetermined (0.80 before that rule)
    assert fire["coverage"] >= 0.72
    sides = report["sides"]["published"]  # every published origin's side, scored as stated
    assert sides["brier"] <= 0.05
    assert fire["origin_error_m"]["median"] <= 15.0
    assert presence["recall"] >= 0.95 and presence["precision"] >= 0.95
    assert report["clauses"]["C1"]["f1"] >= 0.90


def test_every_observation_supports_at_most_one_incident(
    analysis: tuple[AnalysisResult, Path],
) -> None:
    result, _ = analysis
    refs = [r for inc in result.incidents for r in inc.refs]
    assert len(refs) == len(set(refs))


def test_lone_allegations_stay_unlocated_and_weak(analysis: tuple[AnalysisResult, Path]) -> None:
    result, _ = analysis
    lone = [i for i in result.incidents if set(i.support) == {"allegation"}]
    assert lone and all(i.kind == "unlocated" and i.confidence < 0.2 for i in lone)
    assert all(not i.attributed_to for i in lone)


def test_order_of_input_does_not_matter(
    batch: ObservationBatch, agreement: Agreement, analysis: tuple[AnalysisResult, Path]
) -> None:
    result, _ = analysis
    shuffled = list(batch.observations)
    random.Random(11).shuffle(shuffled)
    again = analyze(shuffled, agreement)
    assert dumps(feature_collection(again.incidents, agreement.frame)) == dumps(
        feature_collection(result.incidents, agreement.frame)
    )


def test_output_follows_formats(analysis: tuple[AnalysisResult, Path]) -> None:
    _, out = analysis
    doc = json.loads((out / "incidents.geojson").read_text())
    required = {
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
    }
    for f in doc["features"]:
        p = f["properties"]
        assert required <= set(p)
        assert p["kind"] in {"fire", "presence", "crossing", "air", "unlocated"}
        assert p["status"] in {"automatic", "corroborated", "verified", "disputed", "rejected"}
        assert sum(p["attribution"].values()) <= 1.0 + 1e-9
        assert 0.0 <= p["confidence"] <= 1.0
        assert all(":" in r for r in p["observations"])


def test_every_field_an_incident_has_is_declared_once(
    analysis: tuple[AnalysisResult, Path], agreement: Agreement
) -> None:
    """The properties written are those :data:`FIELDS` names, in its order; every audience's
    list of :mod:`truceline.access` names only declared fields (so a field added to an
    incident is withheld from the public until a list names it)."""
    from truceline.access import MAP_FIELDS, PUBLIC_FIELDS
    from truceline.incidents import FIELDS, to_feature

    result, _ = analysis
    seen: set[str] = set()
    for inc in result.incidents:
        props = list(to_feature(inc, agreement.frame)["properties"])
        assert props == [f for f in FIELDS if f in props]
        seen |= set(props)
    flight = {"track", "crossing", "flight"}  # tracks of air objects: tests/tracking
    assert seen | flight == set(FIELDS)
    # added by the analysts' review and the disclosure (the public's view says whether the
    # withheld basis multiplied the shares)
    review = {"published", "disclosure", "attribution_multiplied"}
    assert set(PUBLIC_FIELDS) <= set(FIELDS) | review
    assert set(MAP_FIELDS) <= set(FIELDS) | review
