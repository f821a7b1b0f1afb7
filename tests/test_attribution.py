from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from truceline.agreement import Agreement
from truceline.attribution import (
    AttributionParams,
    attribute,
    p_launch,
    standard_normal_points,
)
from truceline.incidents import Attribution, FiringEvidence, Fused, Point
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
    return Fused(kind, 0, 0, origin=p, confidence=1.0)


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


def test_a_firing_that_may_not_have_happened_is_nobodys(ag: Agreement) -> None:
    """P(real) multiplies the areas' shares: what is left is undetermined, never a side."""
    (att,) = attribute([replace(_at(ag, 0.0, 8_000.0, 30.0), confidence=0.6)], ag)
    assert att.probabilities == {"N": 0.6} and att.attributed_to is None
    assert "P(real) 0.6" in att.basis


def test_the_sensors_labels_say_how_sure_the_origin_is_a_launch(ag: Agreement) -> None:
    """Each label is wrong with probability 0.2: one label more for "launch" than against
    gives odds of 4; the impact end's labels count too; a mislabelled origin would be where a
    round landed, so its share goes to no party."""
    inc = _at(ag, 0.0, 8_000.0, 30.0)
    close = replace(inc, firing=FiringEvidence(launches=1, origin_labels=(3, 2)))
    assert p_launch(close, 0.2) == pytest.approx(0.8)
    paired = replace(close, firing=replace(close.firing, impact_labels=(1, 4)))
    assert p_launch(paired, 0.2) == pytest.approx(4**4 / (4**4 + 1))
    (att,) = attribute([close], ag)
    assert att.probabilities == {"N": pytest.approx(0.8)} and att.attributed_to is None
    assert sum(att.probabilities.values()) < 1.0
    many = replace(close, firing=replace(close.firing, origin_labels=(2_000, 0)))
    assert p_launch(many, 0.2) == 1.0  # no overflow
    assert p_launch(close, None) == 1.0


def test_the_lines_own_uncertainty_widens_every_position(ag: Agreement) -> None:
    """300 m from a line known to ± 300 m (1 σ) is not certain: P ≈ Φ(300 / √(300² + σ²))."""
    from scipy.stats import norm

    inc = _at(ag, 0.0, 300.0, 10.0)
    assert inc.origin is not None
    perp = float(ag.distance_to_line_m([inc.origin.x], [inc.origin.y])[0])
    (exact,) = attribute([inc], ag)
    (banded,) = attribute([inc], replace(ag, line_sigma_m=300.0))
    assert exact.probabilities == {"N": 1.0}
    assert banded.probabilities["N"] == pytest.approx(norm.cdf(perp / np.hypot(300, 10)), abs=0.03)
    assert banded.attributed_to is None and "± 300 m" in banded.basis
    off = AttributionParams(line_band=False)
    (ignored,) = attribute([inc], replace(ag, line_sigma_m=300.0), params=off)
    assert ignored.probabilities == {"N": 1.0}


def test_a_standoff_prior_moves_weight_away_from_the_line_alike_on_both_sides(
    ag: Agreement,
) -> None:
    flat = AttributionParams()
    standoff = AttributionParams(standoff_m=1_000.0)
    north, south = _at(ag, 0.0, 150.0, 300.0), _at(ag, 0.0, -150.0, 300.0)
    (n0, s0) = attribute([north, south], ag, params=flat)
    (n1, s1) = attribute([north, south], ag, params=standoff)
    # an ellipse mostly on N's side: N's part reaches farther from the line, so it gains
    assert n1.probabilities["N"] > n0.probabilities["N"] > 0.6
    assert s1.probabilities["S"] > s0.probabilities["S"] > 0.6
    assert sum(n1.probabilities.values()) == pytest.approx(1.0)
    assert "prior rising over 1000 m" in n1.basis
    (far,) = attribute([_at(ag, 0.0, 8_000.0, 30.0)], ag, params=standoff)
    assert far.probabilities == {"N": 1.0}  # wholly in one area: the prior cannot move it


def test_an_origin_of_four_arrivals_is_flagged_untestable(ag: Agreement) -> None:
    inc = replace(_at(ag, 0.0, 8_000.0, 30.0), firing=FiringEvidence(origin_untestable=True))
    (att,) = attribute([inc], ag)
    assert "four arrivals, which no test can check" in att.basis
    (old,) = attribute([inc], ag, params=AttributionParams.legacy())
    assert "four arrivals" not in old.basis


def test_runs_logged_before_the_posterior_reproduce_with_the_shares_alone(ag: Agreement) -> None:
    """A run whose parameters have no ``attribution`` is re-run with the legacy rule: the
    ellipse's share, whatever the incident's confidence, in the words it was logged with."""
    assert AttributionParams.from_dict(None) == AttributionParams.legacy()
    inc = replace(
        _at(ag, 0.0, 200.0, 3_000.0),
        confidence=0.3,
        firing=FiringEvidence(origin_labels=(3, 2), origin_untestable=True),
    )
    (att,) = attribute([inc], replace(ag, line_sigma_m=500.0), params=AttributionParams.legacy())
    (plain,) = attribute([replace(inc, confidence=1.0, firing=None)], ag)
    assert att.probabilities == plain.probabilities
    assert sum(att.probabilities.values()) == pytest.approx(1.0)
    assert att.basis == "P(origin in each control area) over its uncertainty, 1024 fixed points"
    assert all((v * 1024) == round(v * 1024) for v in att.probabilities.values())
