from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.localize.tdoa import locate, sound_speed


def _arrivals(
    sx: np.ndarray, sy: np.ndarray, x: float, y: float, t0: float, c: float = 340.0
) -> np.ndarray:
    return t0 + np.hypot(sx - x, sy - y) / c


def _one(
    sx: np.ndarray,
    sy: np.ndarray,
    t: np.ndarray,
    sigma: float = 0.01,
    x0: float = 500.0,
    y0: float = 500.0,
):
    k = sx.size
    return locate(
        sx[None],
        sy[None],
        np.zeros((1, k)),
        t[None],
        np.full((1, k), sigma),
        np.full((1, k), 340.0),
        np.ones((1, k), bool),
        np.array([x0]),
        np.array([y0]),
    )


def test_source_at_centre_of_square() -> None:
    sx = np.array([-5000.0, 5000, 5000, -5000])
    sy = np.array([-5000.0, -5000, 5000, 5000])
    fit = _one(sx, sy, _arrivals(sx, sy, 0.0, 0.0, 42.0))
    assert abs(fit.x[0]) < 1e-3 and abs(fit.y[0]) < 1e-3 and abs(fit.t0[0] - 42.0) < 1e-6
    # symmetric geometry: isotropic covariance
    cov = fit.cov[0]
    assert abs(cov[0, 0] - cov[1, 1]) / cov[0, 0] < 1e-6 and abs(cov[0, 1]) < 1e-6 * cov[0, 0]
    assert not fit.ill_conditioned[0]


def test_collinear_sensors_are_ill_conditioned() -> None:
    sx = np.array([0.0, 3000, 6000, 9000, 12000])
    sy = np.zeros(5)
    fit = _one(sx, sy, _arrivals(sx, sy, 4000.0, 5000.0, 0.0), x0=4000.0, y0=4000.0)
    assert fit.ill_conditioned[0]


def test_outlier_is_rejected_by_chi_square() -> None:
    rng = np.random.default_rng(1)
    sx = rng.uniform(-8000, 8000, 8)
    sy = rng.uniform(-8000, 8000, 8)
    t = _arrivals(sx, sy, 1200.0, -700.0, 10.0) + rng.normal(0, 0.01, 8)
    t[3] += 1.5  # a pick from another bang
    fit = _one(sx, sy, t)
    assert fit.rejected[0, 3] and fit.rejected[0].sum() == 1
    assert np.hypot(fit.x[0] - 1200.0, fit.y[0] + 700.0) < 30.0


def test_batched_equals_one_by_one() -> None:
    rng = np.random.default_rng(2)
    e, k = 20, 7
    sx = rng.uniform(-10000, 10000, (e, k))
    sy = rng.uniform(-10000, 10000, (e, k))
    x, y = rng.uniform(-3000, 3000, e), rng.uniform(-3000, 3000, e)
    t = 5.0 + np.hypot(sx - x[:, None], sy - y[:, None]) / 340.0 + rng.normal(0, 0.01, (e, k))
    ones = np.ones((e, k), bool)
    batch = locate(
        sx,
        sy,
        np.zeros((e, k)),
        t,
        np.full((e, k), 0.01),
        np.full((e, k), 340.0),
        ones,
        np.zeros(e),
        np.zeros(e),
    )
    for i in range(e):
        single = _one(sx[i], sy[i], t[i], x0=0.0, y0=0.0)
        assert abs(single.x[0] - batch.x[i]) < 1e-6 and abs(single.y[0] - batch.y[i]) < 1e-6


def test_error_matches_covariance() -> None:
    """Over many noisy events the scatter of the estimates matches the reported covariance."""
    rng = np.random.default_rng(3)
    e = 400
    sx = np.tile([-6000.0, 6000, 6000, -6000, 0, 0], (e, 1))
    sy = np.tile([-6000.0, -6000, 6000, 6000, 8000, -8000], (e, 1))
    t = 1.0 + np.hypot(sx - 500.0, sy - 1500.0) / 340.0 + rng.normal(0, 0.02, sx.shape)
    fit = locate(
        sx,
        sy,
        np.zeros_like(sx),
        t,
        np.full_like(sx, 0.02),
        np.full_like(sx, 340.0),
        np.ones_like(sx, bool),
        np.zeros(e),
        np.zeros(e),
        p_outlier=1e-12,
    )
    err2 = (fit.x - 500.0) ** 2 + (fit.y - 1500.0) ** 2
    predicted = np.trace(fit.cov, axis1=1, axis2=2)
    assert 0.8 < err2.mean() / predicted.mean() < 1.25


@settings(max_examples=30, deadline=None)
@given(st.permutations(list(range(6))))
def test_arrival_order_does_not_matter(order: list[int]) -> None:
    sx = np.array([-6000.0, 6000, 6000, -6000, 0, 2000])
    sy = np.array([-6000.0, -6000, 6000, 6000, 8000, -8000])
    t = _arrivals(sx, sy, 700.0, -300.0, 3.0) + np.array([0.01, -0.02, 0.0, 0.015, -0.01, 0.005])
    ref = _one(sx, sy, t)
    idx = np.array(order)
    fit = _one(sx[idx], sy[idx], t[idx])
    assert abs(fit.x[0] - ref.x[0]) < 1e-6 and abs(fit.y[0] - ref.y[0]) < 1e-6


def test_sound_speed_formula() -> None:
    assert abs(float(sound_speed(0.0)) - 331.3) < 1e-9
    assert abs(float(sound_speed(20.0)) - 343.21) < 0.01


def test_buckets_give_the_same_answer_as_one_padded_batch() -> None:
    from truceline.localize.tdoa import _locate_padded

    rng = np.random.default_rng(9)
    e, k = 1500, 12
    sx = rng.uniform(-10_000, 10_000, (e, k))
    sy = rng.uniform(-10_000, 10_000, (e, k))
    x, y = rng.uniform(-3_000, 3_000, e), rng.uniform(-3_000, 3_000, e)
    t = np.hypot(sx - x[:, None], sy - y[:, None]) / 340.0 + rng.normal(0, 0.02, (e, k))
    t[::50, 2] += 2.0  # outliers to reject
    mask = np.arange(k)[None, :] < rng.integers(4, k + 1, e)[:, None]
    mask = np.take_along_axis(mask, rng.permuted(np.tile(np.arange(k), (e, 1)), axis=1), axis=1)
    args = (sx, sy, np.zeros_like(sx), t, np.full_like(sx, 0.02), np.full_like(sx, 340.0), mask)
    a, b = locate(*args), _locate_padded(*args)
    assert np.allclose(a.x, b.x, atol=1e-6) and np.allclose(a.y, b.y, atol=1e-6)
    assert np.array_equal(a.mask, b.mask) and np.array_equal(a.rejected, b.rejected)
    assert np.array_equal(a.ill_conditioned, b.ill_conditioned)
