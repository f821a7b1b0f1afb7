from __future__ import annotations

import numpy as np
import pytest

from truceline.localize.bearings import bearing_residual_deg, range_bearing_fix, stansfield_fix


def test_stansfield_three_observers() -> None:
    target = np.array([2000.0, 7000.0])
    ox = np.array([0.0, 6000.0, -4000.0])
    oy = np.array([0.0, 1000.0, 3000.0])
    bearings = np.degrees(np.arctan2(target[0] - ox, target[1] - oy)) % 360
    x, y, cov = stansfield_fix(ox, oy, bearings, np.full(3, 3.0))
    assert np.hypot(x - target[0], y - target[1]) < 1.0
    assert np.all(np.linalg.eigvalsh(cov) > 0)


def test_parallel_bearings_have_no_fix() -> None:
    with pytest.raises(ValueError, match="parallel"):
        stansfield_fix(
            np.array([0.0, 1000.0]),
            np.array([0.0, 0.0]),
            np.array([0.0, 0.0]),
            np.array([2.0, 2.0]),
        )


def test_range_bearing_is_an_arc_not_a_point() -> None:
    x, y, cov = range_bearing_fix(
        np.array([0.0]),
        np.array([0.0]),
        np.array([90.0]),
        np.array([15.0]),
        np.array([3000.0]),
        np.array([5000.0]),
    )
    assert abs(x[0] - 4000.0) < 1e-6 and abs(y[0]) < 1e-6
    # along the bearing (east): the range interval; across it (north): the arc, wider here
    assert cov[0, 0, 0] == pytest.approx((2000.0 / np.sqrt(12)) ** 2)
    assert cov[0, 1, 1] == pytest.approx((4000.0 * np.radians(15.0)) ** 2)


def test_bearing_residual_wraps() -> None:
    assert bearing_residual_deg(0.0, 0.0, 350.0, np.array([1.0]), np.array([100.0]))[
        0
    ] == pytest.approx(10.57, abs=0.01)
