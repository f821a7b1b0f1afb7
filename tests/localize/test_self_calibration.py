"""The network measures its own wind, clocks and surveys: recovery on a synthetic network."""

from __future__ import annotations

import numpy as np
import pytest

from truceline.localize.association import associate
from truceline.localize.picks import CLASS_CODES, Picks

WIND = np.array([4.0, -2.5])
C = 337.0
CLOCK_OFF = {5: 0.15}  # sensor 5 runs 150 ms late
SURVEY_OFF = {20: (25.0, -10.0)}  # sensor 20 is reported 25 m east and 10 m south of itself


def _network(seed: int, wind: np.ndarray, events: int = 120) -> Picks:
    """An 8 x 8 grid of sensors 4 km apart; bangs inside it every 30 s, heard by every sensor
    within 12 km through a uniform wind, 15 ms pick noise; one late clock, one bad survey."""
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.arange(8) * 4_000.0, np.arange(8) * 4_000.0)
    sx, sy = gx.ravel(), gy.ravel()
    rep_x, rep_y = sx.copy(), sy.copy()
    for j, (dx, dy) in SURVEY_OFF.items():
        rep_x[j] += dx
        rep_y[j] += dy
    rows: list[tuple[int, float]] = []
    for k in range(events):
        ex, ey = rng.uniform(2_000, 26_000, 2)
        t0 = 60.0 + 30.0 * k
        d = np.hypot(sx - ex, sy - ey)
        along = (wind[0] * (sx - ex) + wind[1] * (sy - ey)) / np.maximum(d, 1.0)
        for j in np.flatnonzero(d < 12_000.0):
            t = t0 + d[j] / (C + along[j]) + rng.normal(0, 0.015) + CLOCK_OFF.get(int(j), 0.0)
            rows.append((int(j), t))
    rows.sort(key=lambda r: r[1])
    sensor = np.array([r[0] for r in rows], dtype=np.int64)
    t = np.array([r[1] for r in rows])
    n = t.size
    return Picks(
        ref=np.array([f"s:{i:06d}" for i in range(n)], dtype=object),
        sensor=sensor,
        x=rep_x[sensor],
        y=rep_y[sensor],
        z=np.zeros(n),
        t=t,
        sigma=np.full(n, 0.015),
        c=np.full(n, C),
        cls=np.full(n, CLASS_CODES["impact"], dtype=np.int8),
        t_ref_us=1_772_323_200_000_000,
        sensor_names=np.array([f"S{j:02d}" for j in range(64)]),
    )


@pytest.fixture(scope="module")
def events():  # type: ignore[no-untyped-def]
    return associate(_network(3, WIND), wind_sigma_ms=5.0)


def test_the_wind_of_each_window_is_recovered(events) -> None:  # type: ignore[no-untyped-def]
    w = events.winds
    assert w is not None
    busy = w.events >= 30
    assert busy.any()
    err = np.hypot(*(w.wind[busy] - WIND).T)
    assert err.max() < 1.0, (w.wind[busy], w.sigma[busy])
    assert (err <= 2.45 * w.sigma[busy] + 0.2).all()  # the stated uncertainty holds it


def test_located_events_are_not_carried_downwind(events) -> None:  # type: ignore[no-untyped-def]
    # every event was found, and the fits are centred on the truth (no 100 m downwind bias)
    assert len(events) >= 115
    sd = np.sqrt(np.trace(events.fit.cov, axis1=1, axis2=2))
    assert np.median(sd) < 30.0


def test_a_late_clock_is_found_and_retimed(events) -> None:  # type: ignore[no-untyped-def]
    t = events.sensors
    assert t is not None
    assert t.flagged[5]
    assert abs(t.clock_s[5] - 0.15) < 0.02
    good = np.setdiff1d(np.flatnonzero(t.rows >= 10), [5, 20])
    assert np.abs(t.clock_s[good]).max() < 0.02  # no good clock is moved far
    assert not t.flagged[good].any()


def test_a_bad_survey_is_found(events) -> None:  # type: ignore[no-untyped-def]
    t = events.sensors
    assert t is not None and t.flagged[20]
    assert np.hypot(t.dx[20] - 25.0, t.dy[20] + 10.0) < 8.0


def test_still_air_is_measured_as_still() -> None:
    ev = associate(_network(4, np.zeros(2), events=80), wind_sigma_ms=5.0)
    assert ev.winds is not None
    busy = ev.winds.events >= 30
    assert np.hypot(*ev.winds.wind[busy].T).max() < 0.6


def test_a_clock_plainly_off_is_found_from_a_few_bangs() -> None:
    # twenty bangs (ten minutes): most sensors have fewer residuals than their four terms
    # need (10), the late one five; it is re-timed, and no good clock is touched
    ev = associate(_network(6, WIND, events=20), wind_sigma_ms=5.0)
    t = ev.sensors
    assert t is not None
    assert 4 <= t.rows[5] < 10
    assert t.flagged[5] and abs(t.clock_s[5] - 0.15) < 0.02
    good = np.setdiff1d(np.arange(len(t)), [5, 20])
    assert not t.flagged[good].any()
    assert np.abs(t.clock_s[good][t.rows[good] < 10]).max() == 0.0
