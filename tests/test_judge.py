from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from truceline.agreement import Agreement
from truceline.incidents import Fused, Judgement, Point, WeaponClass
from truceline.judge import judge
from truceline.simulate.scenario import build_scenario, demo_agreement

T = 1_772_323_200_000_000 + 86_400_000_000  # a day after effective_from of the demo agreement


@pytest.fixture(scope="module")
def ag() -> Agreement:
    return demo_agreement(3)


def _inc(
    ag: Agreement,
    kind: str,
    weapon: str,
    depth_m: float,
    x: float = 40_000.0,
    t: int = T,
    sigma_m: float = 20.0,
) -> tuple[Fused, WeaponClass]:
    sc = build_scenario(3)
    xs = np.array([x])
    ys = sc.line_at(xs) + depth_m
    ax, ay = ag.frame.forward(*sc.frame.inverse(xs, ys))
    p = Point(float(ax[0]), float(ay[0]), np.diag([sigma_m**2, sigma_m**2]), t)
    return Fused(kind, t, t, origin=p), WeaponClass({weapon: 1.0}, weapon, "")


def _judgements(ag: Agreement, *cases: tuple[Fused, WeaponClass]) -> list[Judgement]:
    return judge([c[0] for c in cases], [c[1] for c in cases], ag)


def _judged(ag: Agreement, *cases: tuple[Fused, WeaponClass]) -> list[list[str]]:
    return [list(j.violations) for j in _judgements(ag, *cases)]


def test_fire_and_withdrawal_distances(ag: Agreement) -> None:
    got = _judged(
        ag,
        _inc(ag, "fire", "artillery_ge100", 10_000.0),  # fired from 10 km: C1 and C2
        _inc(ag, "fire", "artillery_ge100", -45_000.0),  # from 45 km (south side): C1 only
        _inc(ag, "presence", "mlrs", 30_000.0),  # MLRS at 30 km < 35: C3
        _inc(ag, "presence", "mlrs", -55_000.0),  # 55 km south of the wavy line: fine
        _inc(ag, "presence", "mlrs_heavy", 60_000.0),  # heavy MLRS at 60 km < 70: C4
        _inc(ag, "presence", "tank", 30_000.0),  # a tank far from any zone: fine
    )
    assert got == [["C1", "C2"], ["C1"], ["C3"], [], ["C4"], []]


def test_disengagement_area(ag: Agreement) -> None:
    sc = build_scenario(3)
    zone = sc.disengagement[1]
    cx = (zone.bounds[0] + zone.bounds[2]) / 2
    inside = _inc(ag, "presence", "troops", 1_000.0, x=cx)
    outside = _inc(ag, "presence", "troops", 1_000.0, x=cx + 20_000.0)
    wrong_class = _inc(ag, "presence", "mlrs_heavy", 1_000.0, x=cx)
    assert _judged(ag, inside, outside, wrong_class) == [["C5"], [], ["C4"]]


def test_crossing_and_air(ag: Agreement) -> None:
    inc, wc = _inc(ag, "crossing", "troops", -2_000.0)
    crossing = (replace(inc, marking="N"), wc)
    air = _inc(ag, "air", "drone", -5_000.0)
    assert _judged(ag, crossing, air) == [["C6"], ["C1", "C7"]]


def test_nothing_before_effective_from(ag: Agreement) -> None:
    early = _inc(ag, "fire", "artillery_ge100", 10_000.0, t=ag.effective_from_us - 1)
    assert _judged(ag, early) == [[]]


def test_an_origin_astride_the_withdrawal_line_is_a_probability(ag: Agreement) -> None:
    """A 155 mm gun located 25 km behind the line give or take 1 km: as likely inside the
    25 km zone as outside, so C2 is a possible violation, not a violation."""
    assert ag.clauses[1].rule.within_km == 25
    lo, hi = 20_000.0, 40_000.0  # the offset at which the gun is 25 km from the wavy line
    for _ in range(40):
        mid = (lo + hi) / 2
        inc, _ = _inc(ag, "fire", "artillery_ge100", mid)
        assert inc.origin is not None
        d = float(ag.distance_to_line_m([inc.origin.x], [inc.origin.y])[0])
        lo, hi = (mid, hi) if d < 25_000.0 else (lo, mid)
    (j,) = _judgements(ag, _inc(ag, "fire", "artillery_ge100", lo, sigma_m=700.0))
    assert 0.35 < j.probabilities["C2"] < 0.65 and "C2" not in j.violations
    assert j.probabilities["C1"] == 1.0


def test_two_clauses_restricting_different_classes_are_each_judged(ag: Agreement) -> None:
    """A firing from 30 km that is artillery (C2: 25 km) with probability 0.3 or MLRS (C3:
    35 km) with 0.7: C2 cannot be breached from 30 km, C3 is breached with 0.7."""
    inc, _ = _inc(ag, "fire", "mlrs", 30_000.0)
    wc = WeaponClass({"artillery_ge100": 0.3, "mlrs": 0.7}, "unknown", "")
    (j,) = judge([inc], [wc], ag)
    assert "C2" not in j.probabilities
    assert j.probabilities["C3"] == pytest.approx(0.7) and j.possible == ("C3",)


def test_an_impact_alone_judges_withdrawal_by_the_weapons_range(ag: Agreement) -> None:
    """Heavy MLRS (70 km) that landed 5 km beyond the line was fired from within 70 km of it:
    C4 for certain; artillery (30 km) that landed 2 km beyond the line was within 25 km of it
    with probability 25 / 28."""
    impact, _ = _inc(ag, "fire", "mlrs_heavy", -5_000.0)
    inc = replace(impact, origin=None, impact=impact.origin)
    (j,) = judge([inc], [WeaponClass({"mlrs_heavy": 1.0}, "mlrs_heavy", "")], ag)
    assert j.probabilities["C4"] == 1.0
    shell, _ = _inc(ag, "fire", "artillery_ge100", -2_000.0)
    inc = replace(shell, origin=None, impact=shell.origin)
    (j,) = judge([inc], [WeaponClass({"artillery_ge100": 1.0}, "artillery_ge100", "")], ag)
    assert j.probabilities["C2"] == pytest.approx(25 / 28, abs=0.02)
