from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from truceline.agreement import Agreement
from truceline.attribution import attribute, standard_normal_points
from truceline.incidents import Attribution, Fused, Point
from truceline.simulate.scenario import build_scenario, demo_agreement


@pytest.fixture(scope="module")
def ag() -> Agreement:
    return demo_agreement(3)


def _at(ag: Agreement, dx: float, dy_from_line: float, sigma: float, kind: str = "fire") -> Fused:
    sc = build_scenario(3)
    x = np.array([dx])
    y = sc.line_at(x) + dy_from_line
    ax, ay = ag.frame.forward(*sc.frame.inverse(x, y))
    p = Point(float(ax[0]), float(ay[0]), np.diag([sigma**2, sigma**2]), 0)
    return Fused(kind, 0, 0, origin=p)


def test_clear_origin_is_attributed(ag: Agreement) -> None:
    (att,) = attribute([_at(ag, 0.0, 8_000.0, 30.0)], ag)
    assert att.probabilities == {"N": 1.0} and att.attributed_to == "N"


def test_uncertain_origin_is_not(ag: Agreement) -> None:
    (att,) = attribute([_at(ag, 0.0, 200.0, 3_000.0)], ag)
    assert 0.3 < att.probabilities["N"] < 0.8 and att.attributed_to is None
    assert sum(att.probabilities.values()) == pytest.approx(1.0)


def test_impact_only_says_so(ag: Agreement) -> None:
    inc = _at(ag, 0.0, 5_000.0, 30.0)
    (att,) = attribute([replace(inc, impact=inc.origin, origin=None)], ag)
    assert att == Attribution({}, None, att.basis)
    assert "direction of fire is undetermined" in att.basis


def test_threshold_is_respected(ag: Agreement) -> None:
    incs = [_at(ag, 0.0, d, 1_000.0) for d in (500.0, 1_500.0, 2_000.0, 4_000.0)]
    atts = attribute(incs, ag, threshold=0.95)
    assert len({max(a.probabilities.values()) >= 0.95 for a in atts}) == 2  # both cases occur
    for att in atts:
        top = max(att.probabilities.values())
        assert (att.attributed_to is not None) == (top >= 0.95)


def test_probability_matches_the_normal_integral(ag: Agreement) -> None:
    """Far from bends the line is locally straight: P = Φ(d/σ) to within sampling error."""
    from scipy.stats import norm

    for d in (300.0, 800.0, 1_500.0):
        inc = _at(ag, 0.0, d, 1_000.0)
        (att,) = attribute([inc], ag)
        assert inc.origin is not None
        # the line is wavy: the perpendicular distance is a little less than the vertical offset
        perp = float(ag.distance_to_line_m([inc.origin.x], [inc.origin.y])[0])
        assert att.probabilities["N"] == pytest.approx(norm.cdf(perp / 1_000.0), abs=0.03)


def test_fixed_points_are_reproducible() -> None:
    assert np.array_equal(standard_normal_points(), standard_normal_points.__wrapped__(1024))
