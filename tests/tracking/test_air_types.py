"""A tracked air object's type as probabilities: each type's typical track reads as that
type, missing evidence leaves the question open, one odd figure cannot make a certainty,
and a circling track through the tracker reads as a circling type."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from tests.tracking.test_flights import T0, _observations, _rfc, _truth
from truceline.agreement import Agreement, Clause, Rule
from truceline.incidents import Fused, Point, WeaponClass
from truceline.judge import judge
from truceline.observations import parse_lines
from truceline.simulate.scenario import demo_agreement
from truceline.tracking.air_types import AIR_TYPES, TypeEvidence, classify, turns_of
from truceline.tracking.flights import flights
from truceline.weapon_class import classify as weapon_classes

TYPICAL = {
    "fpv": TypeEvidence(27.0, 120.0, 320.0, 0.1, 6_000.0, True),
    "loitering_munition": TypeEvidence(29.0, 1_400.0, 300.0, 2.0, 12_000.0, True),
    "one_way_drone": TypeEvidence(47.0, 1_800.0, 110.0, 0.05, 38_000.0, False),
    "reconnaissance_drone": TypeEvidence(26.0, 1_100.0, 120.0, 3.0, 12_000.0, False),
    "aircraft": TypeEvidence(150.0, 3_000.0, None, 0.5, 30_000.0, False),
}


@pytest.mark.parametrize("name", AIR_TYPES)
def test_each_types_typical_track_reads_as_that_type(name: str) -> None:
    p = classify(TYPICAL[name])
    assert set(p) == set(AIR_TYPES) and abs(sum(p.values()) - 1.0) < 1e-3
    assert max(p, key=p.__getitem__) == name and p[name] > 0.6


def test_a_speed_alone_leaves_the_drone_types_open() -> None:
    p = classify(TypeEvidence(28.0))
    assert max(p.values()) < 0.5 and p["aircraft"] < 0.01


def test_one_odd_figure_does_not_make_a_certainty() -> None:
    # a one-way drone's speed, altitude and engine, but circling and struck: not certain
    p = classify(TypeEvidence(47.0, 1_800.0, 110.0, 2.0, 30_000.0, True))
    assert max(p.values()) < 0.95
    # an impossible speed for every drone type is not proof of an aircraft at 200 m
    q = classify(TypeEvidence(95.0, 200.0, 300.0, 0.0, 5_000.0, True))
    assert q["aircraft"] < 0.9


def test_turns_count_circles_not_noise() -> None:
    rng = np.random.default_rng(3)
    straight = np.column_stack([np.linspace(0, 20_000, 400), np.zeros(400)])
    assert turns_of(straight + rng.normal(0, 40.0, straight.shape)) < 0.5
    a = np.linspace(0, 6 * np.pi, 600)
    ring = np.column_stack([600 * np.cos(a), 600 * np.sin(a)])
    assert 2.5 < turns_of(ring + rng.normal(0, 40.0, ring.shape)) < 3.2
    out_and_back = np.array([[0.0, 0.0], [10_000.0, 0.0], [10_000.0, 300.0], [0.0, 300.0]])
    assert turns_of(out_and_back) < 0.6


@pytest.fixture(scope="module")
def ag() -> Agreement:
    return demo_agreement(3)


def test_a_circling_track_reads_as_a_circling_type(ag: Agreement) -> None:
    """A drone at 25 m/s and 1,200 m circling three times 10 km behind the line, seen by
    radar every 4 s: a loitering munition or a reconnaissance drone, not FPV or one-way."""
    rng = np.random.default_rng(5)
    t = np.arange(0.0, 3 * 2 * np.pi * 700 / 25.0, 4.0)
    cx, cy = ag.frame.forward([36.6], [48.2])
    x = cx[0] + 700 * np.cos(t * 25.0 / 700)
    y = cy[0] + 700 * np.sin(t * 25.0 / 700)
    lon, lat = ag.frame.inverse(x + rng.normal(0, 40, t.size), y + rng.normal(0, 40, t.size))
    rows = [
        {
            "id": f"r{k}",
            "type": "radar",
            "source": "radar-n",
            "time": _rfc(T0 / 1e6 + t[k]),
            "sensor": "R1",
            "position": [float(lon[k]), float(lat[k])],
            "alt_m": float(1200 + rng.normal(0, 50)),
            "position_sigma_m": 40.0,
        }
        for k in range(t.size)
    ]
    obs = parse_lines([json.dumps(r) for r in rows], "circle.jsonl").observations
    (inc,) = flights(obs, ag)
    assert inc.flight is not None and inc.flight.turns is not None and inc.flight.turns > 2.0
    p = inc.flight.types
    assert p["loitering_munition"] + p["reconnaissance_drone"] > 0.9
    assert inc.flight.classes["drone"] > 0.99


def test_a_clause_on_reconnaissance_overflights_weighs_the_type(ag: Agreement) -> None:
    """An agreement that forbids reconnaissance flights over the line (and nothing else in
    the air): a fast, low, straight crossing (most probably an FPV drone) breaches the
    general over-the-line clause but not that one; its probability is P(reconnaissance
    drone) x P(crossed), and a strike no track followed gets the drone types' prior share."""
    recon = Clause(
        "C9",
        "No reconnaissance flights over the line.",
        Rule("air", over_line=True, air_types=("reconnaissance_drone",)),
    )
    ag9 = replace(ag, clauses=(*ag.clauses, recon))
    t, xy = _truth(ag, 8_000.0, -6_000.0)
    (inc,) = flights(_observations(ag, t, xy), ag9)
    assert inc.flight is not None
    (j,) = judge([inc], weapon_classes([inc], ag9), ag9)
    assert "C8" in j.violations and "C9" not in j.violations
    expected = inc.flight.types["reconnaissance_drone"] * inc.flight.p_crossed
    assert j.probabilities.get("C9", 0.0) == pytest.approx(expected, abs=1e-3)
    assert inc.flight.types["fpv"] > 0.5


def test_a_strike_no_track_followed_gets_the_drone_types_prior_share(ag: Agreement) -> None:
    """Nothing says which drone struck: P(an FPV) is P(drone) x FPV's share of the drone
    types' priors (0.30 of 0.90), and P(aircraft) counts only where aircraft are named."""
    fpv_only = Clause("C9", "No FPV strikes.", Rule("air", air_types=("fpv",)))
    ag9 = replace(ag, clauses=(*ag.clauses, fpv_only))
    _, xy = _truth(ag, 8_000.0, 4_000.0)
    at = Point(float(xy[-1, 0]), float(xy[-1, 1]), np.eye(2) * 100.0, T0)
    strike = Fused(kind="fire", time_start_us=T0, time_end_us=T0, impact=at, weapon="drone")
    wc = WeaponClass({"drone": 0.8, "aircraft": 0.2}, "unknown", "a patrol saw it")
    (j,) = judge([strike], [wc], ag9)
    assert j.probabilities["C9"] == pytest.approx(0.8 * 0.30 / 0.90, abs=1e-3)
