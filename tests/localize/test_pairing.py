"""Launch-to-impact pairing without knowing each weapon's speed, chosen jointly."""

from __future__ import annotations

import numpy as np

from truceline.localize.pairing import Salvos, _assign, pair_salvos
from truceline.localize.salvos import groups_of
from truceline.weapons import DEFAULT_MODEL


def _salvos(x: list[float], y: list[float], t: list[float], k: list[int] | None = None) -> Salvos:
    n = len(x)
    return Salvos(np.array(x), np.array(y), np.array(t), np.array(k or [1] * n, dtype=np.int64))


def test_a_155_mm_like_flight_pairs_and_a_too_fast_one_does_not() -> None:
    launches = _salvos([0.0], [0.0], [0.0])
    impacts = _salvos([0.0, 0.0], [-16_000.0, -16_050.0], [4.0, 50.0])
    pairs = pair_salvos(launches, impacts, DEFAULT_MODEL)
    assert pairs.impact.tolist() == [1] and pairs.probability[0] > 0.9


def test_speeds_a_fifth_off_the_models_still_pair() -> None:
    # 155 mm-like fire at 20 % more and 20 % less than the model's median ground speed
    for factor in (0.8, 1.2):
        launches = _salvos([0.0], [0.0], [0.0])
        impacts = _salvos([0.0], [-20_000.0], [20_000.0 / (340.0 * factor)])
        assert pair_salvos(launches, impacts, DEFAULT_MODEL).launch.tolist() == [0]


def test_nothing_is_paired_when_nothing_fits() -> None:
    launches = _salvos([0.0], [0.0], [0.0])
    impacts = _salvos([0.0], [-3_000.0], [290.0])  # 10 m/s over 3 km: no weapon of the model
    assert pair_salvos(launches, impacts, DEFAULT_MODEL).launch.size == 0


def test_the_assignment_is_joint_not_greedy() -> None:
    # greedy would take the best single pair (0, 0) and leave launch 1 with nothing it fits;
    # the joint choice pairs both: 9 × 8 > 10
    li = np.array([0, 0, 1])
    ii = np.array([0, 1, 0])
    lr = np.array([10.0, 9.0, 8.0])
    chosen = sorted((int(li[c]), int(ii[c])) for c in _assign(li, ii, lr, 2, 2))
    assert chosen == [(0, 1), (1, 0)]


def test_an_ambiguous_pairing_says_so() -> None:
    # two impacts equally far and equally late: either could be the launch's
    launches = _salvos([0.0], [0.0], [0.0])
    impacts = _salvos([-2_000.0, 2_000.0], [-15_000.0, -15_000.0], [45.0, 45.0])
    pairs = pair_salvos(launches, impacts, DEFAULT_MODEL)
    assert pairs.launch.size == 1 and pairs.probability[0] < 0.6 and pairs.alternatives[0] == 1


def test_a_salvo_pairs_with_the_salvo_of_as_many_impacts() -> None:
    # an MLRS ripple of ten launches, and two impact salvos in range: one of ten, one of one
    launches = _salvos([0.0], [0.0], [0.0], [10])
    impacts = _salvos([0.0, 500.0], [-25_000.0, -25_000.0], [55.0, 56.0], [10, 1])
    pairs = pair_salvos(launches, impacts, DEFAULT_MODEL)
    assert pairs.impact.tolist() == [0]
    assert pairs.likelihood[0].argmax() == 5  # mlrs, in FIRING_CLASSES' order


def test_salvos_group_rounds_close_in_space_and_time_only() -> None:
    x = np.array([0.0, 40.0, 80.0, 30_000.0, 60.0])
    t = np.array([0.0, 0.8, 1.6, 1.0, 90.0])
    label = groups_of(x, np.zeros(5), t, np.full(5, 10.0), radius_m=300.0, gap_s=20.0)
    assert label.tolist() == [0, 0, 0, 1, 2]
