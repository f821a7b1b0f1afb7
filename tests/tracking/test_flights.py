"""Tracks become air incidents: the launch area and its party, the crossing of the line,
the over-the-line clause judged with probability, and a strike joined at the track's end."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from truceline.agreement import Agreement
from truceline.analysis import analyze
from truceline.attribution import attribute
from truceline.incidents import FiringEvidence, Fused, Point, to_feature
from truceline.judge import judge
from truceline.observations import Observation, parse_lines
from truceline.simulate.scenario import build_scenario, demo_agreement
from truceline.tracking.flights import flights, join_strikes
from truceline.weapon_class import classify

T0 = 1_772_323_200_000_000 + 86_400_000_000  # a day after the demo agreement took effect
SPEED = 30.0


@pytest.fixture(scope="module")
def ag() -> Agreement:
    return demo_agreement(3)


def _truth(ag: Agreement, depth_from: float, depth_to: float) -> tuple[np.ndarray, np.ndarray]:
    """A straight flight at 30 m/s from ``depth_from`` north of the line to ``depth_to``
    (agreement frame), at 40 km along the line; (times s, xy)."""
    sc = build_scenario(3)
    xs = np.array([40_000.0, 40_000.0 + 4_000.0])
    ys = sc.line_at(xs) + np.array([depth_from, depth_to])
    ax, ay = ag.frame.forward(*sc.frame.inverse(xs, ys))
    a, b = np.array([ax[0], ay[0]]), np.array([ax[1], ay[1]])
    n = int(np.hypot(*(b - a)) / SPEED)
    t = np.arange(n + 1, dtype=float)
    return t, a + (b - a) * (t / n)[:, None]


def _observations(ag: Agreement, t: np.ndarray, xy: np.ndarray, seed: int = 1) -> list[Observation]:
    rng = np.random.default_rng(seed)
    lines = []
    radar_xy = xy[0] + np.array([-6_000.0, 3_000.0])
    rf_xy = xy[0] + np.array([5_000.0, 1_000.0])
    rlon, rlat = ag.frame.inverse([radar_xy[0], rf_xy[0]], [radar_xy[1], rf_xy[1]])
    for k in range(0, len(t), 4):
        px, py = xy[k] + rng.normal(0, 50.0, 2)
        lon, lat = ag.frame.inverse([px], [py])
        when = (T0 + int(t[k] * 1e6)) / 1e6
        stamp = _rfc(when)
        lines.append(
            {
                "id": f"r{k}",
                "type": "radar",
                "source": "radar-n",
                "time": stamp,
                "sensor": "R1",
                "position": [float(lon[0]), float(lat[0])],
                "alt_m": 300.0,
                "position_sigma_m": 50.0,
            }
        )
        if k % 12 == 0:
            b = np.degrees(np.arctan2(xy[k, 0] - rf_xy[0], xy[k, 1] - rf_xy[1]))
            lines.append(
                {
                    "id": f"f{k}",
                    "type": "rf",
                    "source": "rf-n",
                    "time": stamp,
                    "sensor": "F1",
                    "position": [float(rlon[1]), float(rlat[1])],
                    "bearing_deg": float((b + rng.normal(0, 2.0)) % 360),
                    "bearing_sigma_deg": 2.0,
                    "band_mhz": 5800.0,
                }
            )
    return parse_lines([json.dumps(r) for r in lines], "drones.jsonl").observations


def _rfc(seconds: float) -> str:
    import datetime as dt

    when = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def test_a_flight_over_the_line_is_an_attributed_crossing(ag: Agreement) -> None:
    t, xy = _truth(ag, 8_000.0, -6_000.0)  # launched 8 km on N's side, 6 km into S's
    (inc,) = flights(_observations(ag, t, xy), ag)
    assert inc.kind == "air" and inc.flight is not None and inc.origin is not None
    assert set(inc.support) == {"radar", "rf"}
    assert np.hypot(inc.origin.x - xy[0, 0], inc.origin.y - xy[0, 1]) < 300.0
    assert 300.0 < inc.origin.sigma_m < 1500.0  # widened by what it could have flown unseen
    truth_cross = shapely.intersection(shapely.LineString(xy), ag.line_local)
    cross = inc.flight.crossing
    assert cross is not None and shapely.Point(cross.x, cross.y).distance(truth_cross) < 150.0
    t_cross = T0 + 1e6 * t[np.argmin(np.hypot(*(xy - [truth_cross.x, truth_cross.y]).T))]
    assert abs(cross.time_us - t_cross) < 10e6
    assert inc.flight.p_crossed > 0.999 and abs(inc.flight.speed_ms - SPEED) < 3.0
    (att,) = attribute([inc], ag)
    assert att.attributed_to == "N"
    wc = classify([inc], ag)
    assert wc[0].weapon == "drone"
    (j,) = judge([inc], wc, ag)
    assert "C8" in j.violations and "C7" not in j.violations  # crossed, no strike seen
    assert 0.3 < j.probabilities["C7"] < 0.9  # it ended beyond the line: a strike is possible


def test_a_flight_on_its_own_side_breaches_nothing(ag: Agreement) -> None:
    t, xy = _truth(ag, 14_000.0, 2_500.0)  # stays 2.5 km short of the line
    (inc,) = flights(_observations(ag, t, xy, seed=2), ag)
    assert inc.flight is not None and inc.flight.crossing is None
    assert inc.flight.p_crossed < 0.01
    (j,) = judge([inc], classify([inc], ag), ag)
    assert j.violations == () and "C8" not in j.probabilities


def test_a_strike_at_the_tracks_end_is_joined(ag: Agreement) -> None:
    t, xy = _truth(ag, 8_000.0, -6_000.0)
    (fl,) = flights(_observations(ag, t, xy), ag)
    end = T0 + int(t[-1] * 1e6)
    cov = np.diag([40.0**2, 40.0**2])
    strike = Fused(
        "fire",
        end + 5_000_000,
        end + 5_000_000,
        impact=Point(float(xy[-1, 0]) + 60.0, float(xy[-1, 1]), cov, end),
        support={"acoustic": ("net:a1", "net:a2", "net:a3")},
        confidence=0.8,
        firing=FiringEvidence(impacts=1),
        id="inc-strike",
    )
    far = Fused(
        "fire",
        end,
        end,
        impact=Point(float(xy[-1, 0]) + 9_000.0, float(xy[-1, 1]), cov, end),
        support={"acoustic": ("net:b1",)},
        confidence=0.8,
        id="inc-far",
    )
    out = join_strikes([strike, far], [fl], lambda r: r.encode().ljust(32, b"."))
    assert len(out) == 2
    joined = next(i for i in out if i.flight is not None)
    assert joined.kind == "air" and joined.origin == fl.origin and joined.impact == strike.impact
    assert {"acoustic", "radar", "rf"} == set(joined.support)
    assert joined.confidence > 0.8 and joined.status == "corroborated"
    (j,) = judge([joined], classify([joined], ag), ag)
    assert {"C1", "C7", "C8"} <= set(j.violations)


def test_analysis_writes_the_track_and_its_crossing(ag: Agreement) -> None:
    t, xy = _truth(ag, 8_000.0, -6_000.0)
    run = analyze(_observations(ag, t, xy), ag)
    air = [i for i in run.incidents if i.flight is not None]
    assert len(air) == 1 and run.summary["fusion"]["air_tracks"] == 1
    props = to_feature(air[0], ag.frame)["properties"]
    assert props["track"]["type"] == "LineString" and len(props["track"]["coordinates"]) > 10
    assert props["crossing"] is not None and props["attributed_to"] == "N"
    assert "C8" in props["violations"] and props["kind"] == "air"


def test_a_flight_first_seen_flying_away_from_the_line_is_not_attributed(ag: Agreement) -> None:
    """First seen 1 km into S's area, flying deeper into it: it may have come from N
    unseen, so its launch area reaches across the line and no party is named."""
    t, xy = _truth(ag, -1_000.0, -9_000.0)
    (inc,) = flights(_observations(ag, t, xy, seed=3), ag)
    assert inc.origin is not None and inc.origin.sigma_m > 2_500.0
    (att,) = attribute([inc], ag)
    assert att.attributed_to is None and att.probabilities.get("S", 0.0) < 0.95


def _impact_heard(ag: Agreement, at: np.ndarray, t_us: int, sensors: int) -> list[Observation]:
    """``sensors`` acoustic picks (one source each) of an impact at ``at`` at ``t_us``."""
    lines = []
    for k in range(sensors):
        a = 2 * np.pi * k / sensors + 0.4
        sx, sy = at + np.array([np.sin(a), np.cos(a)]) * (2_500.0 + 900.0 * k)
        lon, lat = ag.frame.inverse([sx], [sy])
        arrival = t_us + int(np.hypot(sx - at[0], sy - at[1]) / 337.5 * 1e6)  # 10 °C
        lines.append(
            {
                "id": f"imp{k}",
                "type": "acoustic",
                "source": f"AS-{k}",
                "time": _rfc(arrival / 1e6),
                "sensor": f"AS-{k}",
                "position": [float(lon[0]), float(lat[0]), 0.0],
                "class": "impact",
                "sigma_s": 0.02,
                "temperature_c": 10.0,
            }
        )
    return parse_lines([json.dumps(r) for r in lines], "acoustic.jsonl").observations


@pytest.mark.parametrize("late_s", [0.0, 1_800.0])
def test_an_impact_three_sensors_heard_at_the_tracks_end_is_its_strike(
    ag: Agreement, late_s: float
) -> None:
    """Three picks are too few to locate an event alone, but at a track's end, agreeing on
    one emission where it was flying, they are its strike; half an hour later they are not."""
    t, xy = _truth(ag, 8_000.0, -6_000.0)  # ends 6 km beyond the line
    at = xy[-1] + (xy[-1] - xy[-2]) * 4.0  # 4 s on at its speed
    when = T0 + int((t[-1] + 4.0 + late_s) * 1e6)
    run = analyze(_observations(ag, t, xy) + _impact_heard(ag, at, when, 3), ag)
    (air,) = (i for i in run.incidents if i.kind == "air")
    assert air.flight is not None
    if late_s:
        # 0.5 (it ended beyond the line) times the share of it its types allow: mostly FPV
        assert "acoustic" not in air.support and 0.35 < air.flight.p_strike < 0.5
        assert "C7" not in air.violations
        return
    assert len(air.support["acoustic"]) == 3 and air.impact is not None
    assert np.hypot(air.impact.x - at[0], air.impact.y - at[1]) < 300.0
    assert abs(air.impact.time_us - when) < 1_000_000
    assert 20.0 < air.impact.sigma_m < 700.0  # three picks and the track's prediction
    assert air.flight.p_strike > 0.95  # prior about 0.45 (it ended beyond the line), odds x 45
    assert "C7" in air.violations and air.attributed_to == "N"
