from __future__ import annotations

import numpy as np

from truceline.localize.bounds import crlb
from truceline.localize.tdoa import chan_ho, locate


def _geometry(seed: int, e: int = 50, k: int = 8) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    sx = rng.uniform(-10_000, 10_000, (e, k))
    sy = rng.uniform(-10_000, 10_000, (e, k))
    x = rng.uniform(-4_000, 4_000, e)
    y = rng.uniform(-4_000, 4_000, e)
    mask = np.ones((e, k), bool)
    mask[::3, 5:] = False  # some events heard by only five sensors
    sigma = rng.uniform(0.005, 0.04, (e, k))
    return sx, sy, x, y, mask, sigma


def test_tdoa_crlb_equals_toa_bound_with_unknown_emission_time() -> None:
    """(GᵀQ⁻¹G)⁻¹ over time differences is the position block of the TOA Fisher inverse with t0
    as a nuisance parameter: two derivations of one bound."""
    sx, sy, x, y, mask, sigma = _geometry(1)
    c = np.full_like(sx, 340.0)
    t = np.hypot(sx - x[:, None], sy - y[:, None]) / c
    bound = crlb(sx, sy, np.zeros_like(sx), x, y, c, sigma, mask)
    fit = locate(sx, sy, np.zeros_like(sx), t, sigma, c, mask, x, y)  # exact data: stays at truth
    assert np.allclose(bound, fit.cov, rtol=1e-9, atol=1e-9)
    assert np.allclose(fit.crlb, bound, rtol=1e-6)


def test_equal_noise_square_array_closed_form() -> None:
    """Centre of a square, four sensors, noise σ: the unit vectors to the source are the four
    diagonals, so the Fisher information is diag(2/(cσ)², 2/(cσ)², 4/σ²) and each axis has
    variance (cσ)²/2."""
    half, c, s = 5_000.0, 340.0, 0.01
    px = np.array([[-half, half, half, -half]])
    py = np.array([[-half, -half, half, half]])
    b = crlb(
        px,
        py,
        np.zeros_like(px),
        np.zeros(1),
        np.zeros(1),
        np.full_like(px, c),
        np.full_like(px, s),
        np.ones_like(px, bool),
    )
    assert np.allclose(np.diag(b[0]), (c * s) ** 2 / 2)
    assert abs(b[0, 0, 1]) < 1e-9


def test_chan_ho_is_exact_without_noise() -> None:
    sx, sy, x, y, mask, _ = _geometry(2)
    c = np.full_like(sx, 340.0)
    t = 7.0 + np.hypot(sx - x[:, None], sy - y[:, None]) / c
    cx, cy = chan_ho(sx, sy, t, c, mask)
    assert np.max(np.hypot(cx - x, cy - y)) < 1e-3


def test_estimates_reach_the_bound() -> None:
    """Monte Carlo: the mean squared error of the estimate matches the CRLB."""
    rng = np.random.default_rng(3)
    e = 2_000
    sx = np.tile([-6000.0, 6000, 6000, -6000, 0, 1000], (e, 1))
    sy = np.tile([-6000.0, -6000, 6000, 6000, 8000, -7000], (e, 1))
    c = np.full_like(sx, 340.0)
    s = np.full_like(sx, 0.02)
    t = np.hypot(sx - 800.0, sy - 1500.0) / c + rng.normal(0, 0.02, sx.shape)
    fit = locate(sx, sy, np.zeros_like(sx), t, s, c, np.ones_like(sx, bool), p_outlier=1e-12)
    err2 = (fit.x - 800.0) ** 2 + (fit.y - 1500.0) ** 2
    bound = crlb(
        sx[:1],
        sy[:1],
        np.zeros((1, 6)),
        np.array([800.0]),
        np.array([1500.0]),
        c[:1],
        s[:1],
        np.ones((1, 6), bool),
    )
    assert 0.9 < err2.mean() / np.trace(bound[0]) < 1.1
