"""Event reports weighed honestly: a village-level report on the day corroborates the fire
it fits, a province-level one corroborates nothing, and no report alone is a violation."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from truceline._time import format_time
from truceline.agreement import Agreement
from truceline.analysis import AnalysisResult
from truceline.analysis import analyze as _analyze
from truceline.confidence import ConfidenceModel
from truceline.fusion.event_report import STRENGTH, strength
from truceline.observations import Observation, parse_record

DAY = 86_400_000_000


def analyze(observations: list[Observation], ag: Agreement) -> AnalysisResult:
    """Fusion's own scores (what these tests are about); calibrated confidence is
    tested in tests/test_confidence.py."""
    return _analyze(observations, ag, confidence=ConfidenceModel.identity())


def _lonlat(ag: Agreement, x: float, y: float) -> list[float]:
    lon, lat = ag.frame.inverse(np.array([x]), np.array([y]))
    return [round(float(lon[0]), 7), round(float(lat[0]), 7)]


def _obs(records: list[dict[str, Any]]) -> list[Observation]:
    return [parse_record(r, "test.jsonl", n) for n, r in enumerate(records, start=1)]


def _fire(ag: Agreement, x: float, y: float, t0: int) -> dict[str, Any]:
    """A VIIRS thermal pixel: an incident that sensors saw."""
    return {
        "id": "px-1",
        "type": "thermal",
        "source": "firms",
        "time": format_time(t0 + 3_600_000_000),
        "position": _lonlat(ag, x, y),
        "satellite": "N",
        "instrument": "VIIRS",
        "scan_km": 0.39,
        "track_km": 0.36,
    }


def _report(
    ag: Agreement, x: float, y: float, t0: int, radius_km: float, days: int = 1, **extra: Any
) -> dict[str, Any]:
    return {
        "id": f"ged-{radius_km:g}-{days}",
        "type": "event_report",
        "source": "ucdp_ged",
        "time": format_time(t0),
        "dataset": "ucdp_ged",
        "dataset_id": "1",
        "position": _lonlat(ag, x, y),
        "radius_km": radius_km,
        "time_window": [format_time(t0), format_time(t0 + days * DAY - 1)],
        "event_type": "state-based armed conflict",
        "fatalities": 2,
    } | extra


def test_a_village_level_report_of_the_day_corroborates_the_fire(agreement: Agreement) -> None:
    t0 = agreement.effective_from_us + 2 * DAY
    fire = _fire(agreement, 0.0, 30_000.0, t0)
    report = _report(agreement, 2_000.0, 31_000.0, t0, radius_km=5.0)
    result = analyze(_obs([fire, report]), agreement)
    (inc,) = result.incidents
    assert set(inc.support) == {"thermal", "event_report"} and inc.status == "corroborated"
    assert inc.confidence == pytest.approx(1 - 0.7 * (1 - STRENGTH))
    assert result.summary["fusion"]["event_report"] == {"reports": 1, "joined": 1}


@pytest.mark.parametrize(("radius_km", "days"), [(100.0, 1), (25.0, 1), (5.0, 7)])
def test_a_vague_report_corroborates_no_crater(
    agreement: Agreement, radius_km: float, days: int
) -> None:
    t0 = agreement.effective_from_us + 2 * DAY
    fire = _fire(agreement, 0.0, 30_000.0, t0)
    # right on the fire, and its own large uncertainty gates it: still it does not join
    report = _report(agreement, 0.0, 30_000.0, t0, radius_km=radius_km, days=days)
    result = analyze(_obs([fire, report]), agreement)
    by_support = {tuple(sorted(i.support)): i for i in result.incidents}
    assert set(by_support) == {("thermal",), ("event_report",)}
    crater = by_support[("thermal",)]
    assert crater.status == "automatic" and crater.confidence == pytest.approx(0.3)
    alone = by_support[("event_report",)]
    assert alone.kind == "fire" and alone.confidence == pytest.approx(
        strength(radius_km, days * DAY - 1)
    )
    assert alone.attributed_to is None and alone.weapon == "unknown"


def test_reports_alone_are_never_a_violation(agreement: Agreement) -> None:
    t0 = agreement.effective_from_us + 2 * DAY
    reports = [
        _report(agreement, 1_000.0 * k, 30_000.0, t0, radius_km=5.0, id=f"r{k}") for k in range(10)
    ]
    result = analyze(_obs(reports), agreement)
    assert len(result.incidents) == 10
    assert all(i.confidence == pytest.approx(STRENGTH) for i in result.incidents)
    assert STRENGTH < 0.5
    assert all("C1" in i.violations for i in result.incidents)  # what it would breach
    assert result.summary["incidents"]["violations_by_clause"] == {}  # but is not counted
    # many reports joining one fire count for one specific report, no more
    many = analyze(_obs([_fire(agreement, 0.0, 30_000.0, t0), *reports[:4]]), agreement)
    joined = [i for i in many.incidents if "thermal" in i.support]
    assert len(joined) == 1 and len(joined[0].support["event_report"]) >= 2
    assert joined[0].confidence == pytest.approx(1 - 0.7 * (1 - STRENGTH))


def test_a_report_of_something_else_is_unlocated(agreement: Agreement) -> None:
    t0 = agreement.effective_from_us + 2 * DAY
    truce = _report(
        agreement, 0.0, 30_000.0, t0, radius_km=5.0, event_type="Strategic developments: Agreement"
    )
    country = _report(agreement, 0.0, 30_000.0, t0, radius_km=700.0, id="country")
    result = analyze(_obs([truce, country]), agreement)
    assert [i.kind for i in result.incidents] == ["unlocated", "unlocated"]
    assert all(not i.violations for i in result.incidents)


def test_strength_falls_with_vagueness() -> None:
    values = [strength(r, d * DAY) for r, d in ((5, 1), (25, 1), (100, 1), (100, 30))]
    assert values == sorted(values, reverse=True) and values[0] == STRENGTH
    assert values[2] == pytest.approx(STRENGTH * 0.05)
