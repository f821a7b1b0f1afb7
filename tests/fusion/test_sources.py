"""Corroboration counts independent sources (issue 14, hole 1): one source reporting
detections under many sensors' names and positions is one source, however many picks."""

from __future__ import annotations

import json

from truceline.agreement import Agreement
from truceline.analysis import AnalysisResult, analyze
from truceline.observations import ObservationBatch, parse_objects


def test_hole_1_copies_from_one_source_are_not_corroboration(
    analysis: tuple[AnalysisResult, object], batch: ObservationBatch, agreement: Agreement
) -> None:
    result, _ = analysis
    by_ref = {o.ref: o for o in batch.observations}
    fire = max(
        (
            i
            for i in result.incidents
            if i.kind == "fire" and len(i.support.get("acoustic", ())) >= 8
        ),
        key=lambda i: i.confidence,
    )
    assert fire.confidence > 0.9 and fire.attributed_to is not None
    picks = [json.loads(by_ref[r].body) for r in fire.support["acoustic"]]
    # what the attack did: every detection sent by one sensor, under its own source, naming
    # the sensors that really heard the event, at their positions
    forged = [{**p, "source": "AS-FORGER", "id": f"f-{k}"} for k, p in enumerate(picks)]
    alone = analyze(parse_objects(forged, "forged.jsonl").observations, agreement)
    assert alone.incidents, "the forged picks still locate an event"
    assert max(i.confidence for i in alone.incidents) < 0.5
    assert not any(i.violations for i in alone.incidents if i.confidence >= 0.5)
    # the same picks from their own sources are the event they were
    genuine = analyze(parse_objects(picks, "genuine.jsonl").observations, agreement)
    assert max(i.confidence for i in genuine.incidents) > 0.9
