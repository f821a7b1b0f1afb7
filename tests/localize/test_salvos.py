"""A salvo's centre and its stated uncertainty, against batteries whose truth is known."""

from __future__ import annotations

import numpy as np
import pytest

from truceline.localize.salvos import salvo_centre

CHI2_2_95 = 5.991


def _battery(rng: np.random.Generator, heard: float) -> tuple[np.ndarray, np.ndarray]:
    """A battery of 2-8 guns standing 20-200 m (σ) about its centre (the origin: the mean of
    its guns), of which a share is heard, each located with its own elongated uncertainty
    (a far source is known much better across its bearing than along it)."""
    k = int(rng.integers(2, 9))
    guns = rng.normal(0.0, rng.uniform(20.0, 200.0), (k, 2))
    guns -= guns.mean(axis=0)
    guns = guns[: max(2, int(rng.binomial(k, heard)))]
    covs = []
    for _ in guns:
        a, aspect, th = rng.uniform(5.0, 40.0), rng.uniform(1.0, 6.0), rng.uniform(0.0, np.pi)
        r = np.array([[np.cos(th), -np.sin(th)], [np.sin(th), np.cos(th)]])
        covs.append(r @ np.diag([(a * aspect) ** 2, a * a]) @ r.T)
    cov = np.array(covs)
    located = guns + np.array([rng.multivariate_normal(np.zeros(2), c) for c in cov])
    return located, cov


@pytest.mark.parametrize(("heard", "low", "high"), [(1.0, 0.95, 0.995), (0.7, 0.92, 0.99)])
def test_the_stated_95_percent_ellipse_holds_the_batterys_centre(
    heard: float, low: float, high: float
) -> None:
    # the robust centre with a spread per compass axis held it 92 % (all guns heard) and
    # 84 % (70 % heard) of the time on these batteries: three guns in a row had no spread
    # across the row
    rng = np.random.default_rng(7)
    inside = []
    for _ in range(800):
        xy, cov = _battery(rng, heard)
        cx, cy, c = salvo_centre(xy[:, 0], xy[:, 1], cov)
        v = np.array([cx, cy])
        inside.append(float(v @ np.linalg.solve(c, v)) <= CHI2_2_95)
    assert low <= np.mean(inside) <= high


def test_a_stray_round_neither_moves_the_centre_nor_widens_it() -> None:
    rng = np.random.default_rng(3)
    xy = rng.normal(0.0, 50.0, (8, 2))
    cov = np.tile(np.eye(2) * 100.0, (8, 1, 1))
    cx, cy, c = salvo_centre(xy[:, 0], xy[:, 1], cov)
    stray = np.vstack([xy, [[3_000.0, 0.0]]])
    sx, sy, sc = salvo_centre(stray[:, 0], stray[:, 1], np.tile(np.eye(2) * 100.0, (9, 1, 1)))
    assert np.hypot(sx - cx, sy - cy) < 20.0
    assert np.trace(sc) < 2.0 * np.trace(c)


def test_rounds_that_agree_with_their_own_uncertainty_add_no_spread() -> None:
    rng = np.random.default_rng(5)
    cov = np.tile(np.diag([400.0, 25.0]), (6, 1, 1))
    xy = np.array([rng.multivariate_normal(np.zeros(2), c) for c in cov])
    _, _, c = salvo_centre(xy[:, 0], xy[:, 1], cov)
    # the mean of six rounds (÷ 6) plus the shared half of one round's own, no more
    assert np.allclose(c, cov[0] / 6.0 + 0.5 * cov[0], rtol=0.05)
