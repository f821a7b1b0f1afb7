"""What could have gone undetected: the hearing model's pieces, and the bound's promise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binom

from truceline.detectability import (
    CountingRule,
    count_distribution,
    counted_probability,
    located_probability,
    sector_detectability,
    undetected_bound,
)
from truceline.weapons import DEFAULT_MODEL, FIRING_CLASSES


def test_the_count_of_sensors_that_hear_is_the_exact_poisson_binomial() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, 9)
    dist = count_distribution(p, 4)
    draws = rng.uniform(size=(200_000, 9)) < p
    n = draws.sum(1)
    empirical = [np.mean(n == j) for j in range(4)] + [np.mean(n >= 4)]
    assert np.allclose(dist, empirical, atol=0.005) and dist.sum() == pytest.approx(1.0)
    same = count_distribution(np.full(6, 0.3), 6)
    assert np.allclose(same, binom.pmf(np.arange(7), 6, 0.3))


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8, 0.95])
def test_the_bound_is_exceeded_at_most_one_time_in_twenty(p: float) -> None:
    # whatever the true number of firings, counting k of them and stating the bound on the
    # rest leaves more missed than stated in at most 5 % of days
    rng = np.random.default_rng(int(p * 100))
    for n_true in (0, 1, 3, 10, 30):
        k = rng.binomial(n_true, p, 4_000)
        of = {int(x): undetected_bound(p, int(x)) for x in np.unique(k)}
        bound = np.array([of[int(x)] for x in k])
        assert np.mean(n_true - k > bound) <= 0.05 + 0.01, n_true
    assert undetected_bound(0.01, 0) is None  # no network: no bound, never a small number


def test_fewer_working_sensors_lower_the_chance_of_counting() -> None:
    xs = np.arange(0, 50_000, 2_000.0)
    sensors = np.array([[x, y] for x in xs for y in (-3_000.0, -1_000.0, 1_000.0, 3_000.0)])
    point = np.array([[25_000.0, 0.0]])
    mortar = DEFAULT_MODEL.classes["mortar_lt120"]
    level = float(mortar.impact_level_db)
    full = located_probability(point, sensors, level, mortar.level_sd_db, 8)[0]
    half = located_probability(point, sensors[::2], level, mortar.level_sd_db, 8)[0]
    far = located_probability(np.array([[25_000.0, 30_000.0]]), sensors, level, 3.5, 8)[0]
    assert full > 0.9 and half < full and far < 0.05


def test_a_firing_counts_from_one_point_or_from_both_located() -> None:
    rule = CountingRule(alone=8, together=8)
    none_ = np.zeros((1, 9))
    none_[0, 0] = 1.0
    five = np.zeros((1, 9))
    five[0, 5] = 1.0
    assert counted_probability(five, none_, rule)[0] == 0.0  # five at one point: not enough
    assert counted_probability(five, five, rule)[0] == 1.0  # both located: counted


def test_a_silent_sector_gets_no_bound_and_a_watched_one_a_tight_one() -> None:
    import shapely

    line = shapely.LineString([(0, 0), (50_000, 0)])
    xs = np.arange(0, 50_001, 1_500.0)
    xy = np.array([[x, y] for x in xs for y in (-4_000.0, -2_000.0, 2_000.0, 4_000.0)])
    up = np.ones((len(xy), 4), bool)
    up[xy[:, 0] > 25_000] = False  # the second sector's sensors are down all day
    classes = [DEFAULT_MODEL.classes[c] for c in FIRING_CLASSES]
    det = sector_detectability(xy, up, line, classes, CountingRule(8, 8), sector_km=25.0)
    least = det.least()
    assert least[0] > 0.5 and least[1] < least[0] / 2
    assert undetected_bound(float(least[0]), 0) is not None
    assert undetected_bound(float(least[0]), 0) <= 2
    assert "mortar_lt120" in det.covered()
