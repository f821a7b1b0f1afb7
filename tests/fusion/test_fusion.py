"""Fusion rules that the standard scenario does not isolate: the per-type ceilings on
confidence and the patrol's drone assessment."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from truceline._time import format_time
from truceline.agreement import Agreement
from truceline.analysis import analyze
from truceline.confidence import ConfidenceModel
from truceline.observations import Observation, parse_record


def _lonlat(ag: Agreement, x: float, y: float) -> list[float]:
    lon, lat = ag.frame.inverse(np.array([x]), np.array([y]))
    return [round(float(lon[0]), 7), round(float(lat[0]), 7)]


def _obs(records: list[dict[str, Any]]) -> list[Observation]:
    return [parse_record(r, "test.jsonl", n) for n, r in enumerate(records, start=1)]


def _deep_in(ag: Agreement, party: int, step: float = 2_000.0) -> tuple[float, float]:
    """A point of the party's control area 5-20 km from the line."""
    for y in np.arange(-150_000.0, 150_000.0, step):
        for x in (0.0, 20_000.0, -20_000.0):
            if (
                ag.owner_index([x], [y])[0] == party
                and 5_000 < ag.distance_to_line_m(np.array([x]), np.array([y]))[0] < 20_000
            ):
                return x, float(y)
    raise AssertionError("no such point")


def test_a_fire_seen_on_every_overpass_is_still_only_a_fire(agreement: Agreement) -> None:
    x, y = _deep_in(agreement, 0)
    t0 = agreement.effective_from_us + 86_400_000_000
    pixels = [
        {
            "id": f"px-{k}",
            "type": "thermal",
            "source": "firms-test",
            "time": format_time(t0 + k * 3_000_000_000),
            "position": _lonlat(agreement, x + 30.0 * k, y),
            "frp_mw": 12.0,
            "confidence": "h",
            "satellite": "N",
            "instrument": "VIIRS",
            "scan_km": 0.39,
            "track_km": 0.36,
        }
        for k in range(6)
    ]
    result = analyze(_obs(pixels), agreement, confidence=ConfidenceModel.identity())
    (inc,) = result.incidents
    assert len(inc.support["thermal"]) == 6
    # six independent 0.3 detections would make 0.88 by a plain noisy-OR: fusion caps it
    assert inc.confidence == pytest.approx(0.45)
    assert result.summary["incidents"]["violations_by_clause"] == {}
    # and calibrated (the shipped model), a fire seen only from orbit is still no violation
    calibrated = analyze(_obs(pixels), agreement)
    assert calibrated.incidents[0].confidence < 0.5
    assert calibrated.summary["incidents"]["violations_by_clause"] == {}


def test_many_allegations_of_one_party_stay_below_a_violation(agreement: Agreement) -> None:
    x, y = _deep_in(agreement, 0)
    t0 = agreement.effective_from_us + 86_400_000_000
    claims = [
        {
            "id": f"claim-{k}",
            "type": "allegation",
            "source": "party-N",
            "time": format_time(t0 + k * 60_000_000),
            "party": "N",
            "accused": "S",
            "position": _lonlat(agreement, x, y),
            "radius_km": 0.5,
            "event": "explosion",
            "description": "shelling of the village",
        }
        for k in range(8)
    ]
    result = analyze(_obs(claims), agreement)
    # every allegation is kept (unplaced: nothing corroborates it), and counts for little
    kept = sorted(r for i in result.incidents for r in i.support.get("allegation", ()))
    assert kept == sorted(f"party-N:claim-{k}" for k in range(8))
    assert all(i.kind == "unlocated" and i.alleged_by == ("N",) for i in result.incidents)
    assert all(0.05 <= i.confidence <= 0.3 for i in result.incidents)
    assert result.summary["incidents"]["violations_by_clause"] == {}


def test_a_patrol_that_sees_a_drone_makes_an_air_incident(agreement: Agreement) -> None:
    x, y = _deep_in(agreement, 0)
    t = format_time(agreement.effective_from_us + 86_400_000_000)
    reports = [
        {
            "id": f"{post}-1",
            "type": "patrol",
            "source": "smm-patrols",
            "time": t,
            "observer": _lonlat(agreement, x + dx, y - 3_000.0),
            "event": "drone",
            "count": 1,
            "bearing_deg": bearing,
            "bearing_sigma_deg": 5.0,
            "distance_km": [2.0, 5.0],
        }
        for post, dx, bearing in (("OP-A", -3_000.0, 45.0), ("OP-B", 3_000.0, 315.0))
    ]
    (inc,) = analyze(_obs(reports), agreement).incidents
    assert inc.kind == "air" and inc.weapon == "drone"
    assert "patrol" in (inc.weapon_basis or "")
    assert "C7" in inc.violations and "C1" in inc.violations
