from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from truceline.agreement import Agreement
from truceline.attribution import attribute
from truceline.incidents import Fused, Point
from truceline.judge import judge
from truceline.simulate.scenario import build_scenario, demo_agreement

T = 1_772_323_200_000_000 + 86_400_000_000  # a day after effective_from of the demo agreement


@pytest.fixture(scope="module")
def ag() -> Agreement:
    return demo_agreement(3)


def _inc(
    ag: Agreement, kind: str, weapon: str, depth_m: float, x: float = 40_000.0, t: int = T
) -> Fused:
    sc = build_scenario(3)
    xs = np.array([x])
    ys = sc.line_at(xs) + depth_m
    ax, ay = ag.frame.forward(*sc.frame.inverse(xs, ys))
    p = Point(float(ax[0]), float(ay[0]), np.diag([400.0, 400.0]), t)
    return Fused(kind, t, t, origin=p, weapon=weapon)


def _judged(ag: Agreement, *incs: Fused) -> list[list[str]]:
    return [list(v) for v in judge(incs, attribute(incs, ag), ag)]


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
    crossing = replace(_inc(ag, "crossing", "troops", -2_000.0), marking="N")
    air = _inc(ag, "air", "drone", -5_000.0)
    assert _judged(ag, crossing, air) == [["C6"], ["C1", "C7"]]


def test_nothing_before_effective_from(ag: Agreement) -> None:
    early = _inc(ag, "fire", "artillery_ge100", 10_000.0, t=ag.effective_from_us - 1)
    assert _judged(ag, early) == [[]]
