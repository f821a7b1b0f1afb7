"""Alerts: the CUSUM's false alarms and delay on Poisson counts, rule alerts on a simulated
day, and webhook delivery with signature, retries and backoff."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from truceline.agreement import Agreement
from truceline.analysis import AnalysisResult
from truceline.coverage import n_sectors_of
from truceline.incidents import feature_collection
from truceline.publish.alerts import (
    Alert,
    cusum_alarms,
    deliver,
    diurnal_profile,
    find_alerts,
    sector_of,
    sign,
)


def test_cusum_is_quiet_on_calm_weeks_and_quick_on_an_escalation() -> None:
    rng = np.random.default_rng(4)
    calm_alarms = sum(len(cusum_alarms(rng.poisson(0.5, 24 * 7), 0.5)) for _ in range(200))
    per_week = calm_alarms / 200
    assert per_week < 0.5  # fewer than one false alarm in two calm weeks per sector
    delays = []
    for _ in range(200):
        counts = np.concatenate([rng.poisson(0.5, 48), rng.poisson(1.5, 48)])
        after = [h - 48 for h in cusum_alarms(counts, 0.5) if h >= 48]
        delays.append(after[0] if after else 48)
    assert np.median(delays) <= 8  # a tripling is seen within hours


def test_a_calm_rate_that_follows_the_hour_of_day_keeps_nights_from_alarming() -> None:
    rng = np.random.default_rng(9)
    hours = np.arange(24 * 7)
    rhythm = 1.0 + 0.8 * np.cos(2 * np.pi * (hours % 24 - 2.0) / 24.0)  # the night-time peak
    sectors = [rng.poisson(0.8 * rhythm) for _ in range(300)]
    calm = np.concatenate([np.repeat(hours[:72] % 24, c[:72]) for c in sectors])
    profile = diurnal_profile(calm)
    assert profile[2] > 2.5 * profile[14]  # measured from the data, not assumed
    flat = shaped = 0
    for c in sectors:
        base = c[:72].mean()
        flat += len(cusum_alarms(c[72:], base))
        shaped += len(cusum_alarms(c[72:], base * profile[hours[72:] % 24]))
    assert shaped < flat / 2, (shaped, flat)
    # and an escalation is still seen: triple the rate from hour 100 of a sector
    late = []
    for c in sectors[:100]:
        esc = c.copy()
        esc[100:] += rng.poisson(1.6 * rhythm[100:])
        hits = [h + 72 for h in cusum_alarms(esc[72:], esc[:72].mean() * profile[hours[72:] % 24])]
        late.append(min([h - 100 for h in hits if h >= 100], default=68))
    assert np.median(late) <= 8


def test_rule_alerts_on_a_simulated_day(
    analysis: tuple[AnalysisResult, Path], agreement: Agreement
) -> None:
    result, _ = analysis
    features = feature_collection(result.incidents, agreement.frame)["features"]
    alerts = find_alerts(features, agreement, baseline_hours=2, quiet_hours=3)
    kinds = {a.kind for a in alerts}
    presence = [
        f
        for f in features
        if f["properties"]["kind"] in ("presence", "crossing")
        and f["properties"]["violations"]
        and f["properties"]["confidence"] >= 0.5
    ]
    assert len([a for a in alerts if a.kind == "presence"]) == len(presence) > 0
    assert kinds <= {"presence", "resumed_fire", "escalation"}
    assert [a.time for a in alerts] == sorted(a.time for a in alerts)


class _Response:
    def __init__(self, status: int) -> None:
        self.status_code = status


def test_webhook_is_signed_retried_with_backoff_and_reports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[dict[str, Any]] = []
    answers = [ConnectionError("down"), _Response(503), _Response(204)]

    def post(url: str, content: bytes, headers: dict[str, str]) -> _Response:
        calls.append({"url": url, "body": content, "headers": headers})
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    slept: list[float] = []
    alert = Alert("escalation", 3, "2026-03-01T04:00:00Z", "test", ["inc-1"])
    res = deliver("http://hook", alert, b"s3cret", post=post, sleep=slept.append)
    assert res == {
        "delivered": True,
        "attempts": 3,
        "status": 204,
        "error": "ConnectionError: down",
    }
    assert slept == [0.5, 1.0]
    body = calls[-1]["body"]
    expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert calls[-1]["headers"]["X-Truceline-Signature"] == expected == sign(body, b"s3cret")
    assert json.loads(body)["alert"]["sector"] == 3
    # a 4xx is final: no retry
    answers[:] = [_Response(400)]
    assert deliver("http://hook", alert, b"k", post=post, sleep=slept.append)["attempts"] == 1


def _clustered(rng: np.random.Generator, lam: np.ndarray) -> np.ndarray:
    """Round times (µs): exchanges at ``lam`` an hour, 1 + Poisson(2) rounds each."""
    hour = 3_600_000_000
    out = [np.zeros(0, np.int64)]
    for h, k in enumerate(rng.poisson(lam)):
        for s in h * hour + rng.integers(0, hour, k):
            out.append(s + rng.integers(0, 180_000_000, 1 + rng.poisson(2.0)))
    return np.sort(np.concatenate(out))


def _alarms(t: np.ndarray, robust: bool) -> list[int]:
    from truceline.escalation import detect
    from truceline.publish.alerts import exchange_starts

    sel = exchange_starts(t, 10.0) if robust else np.ones(t.size, bool)
    c = np.bincount((t[sel] // 3_600_000_000).astype(int), minlength=240)[:240]
    return detect(c, np.ones(24), 0, updating=robust, overdispersed=robust).alarms


def test_clustered_calm_fire_does_not_alarm_and_a_tripling_still_does() -> None:
    """Three rounds an exchange: the classical CUSUM cries wolf every day or so; the robust
    one stays under 0.3 false alarms a sector-week and still sees a tripling, also after an
    escalation inside its learning period."""
    rng = np.random.default_rng(11)
    calm = np.full(240, 0.5)
    n = 120
    classical = sum(len(_alarms(_clustered(rng, calm), False)) for _ in range(n)) / n
    robust = sum(len(_alarms(_clustered(rng, calm), True)) for _ in range(n)) / n
    assert classical > 2.0 and robust < 0.3, (classical, robust)
    seen = seen_after = 0
    for _ in range(n):
        lam = calm.copy()
        lam[100:136] *= 3
        seen += any(100 <= h <= 160 for h in _alarms(_clustered(rng, lam), True))
        lam = calm.copy()
        lam[10:46] *= 3  # inside the 72 h the detector learns from
        lam[150:186] *= 3
        seen_after += any(150 <= h <= 210 for h in _alarms(_clustered(rng, lam), True))
    assert seen / n >= 0.9 and seen_after / n >= 0.88, (seen / n, seen_after / n)


def test_the_derived_false_alarm_rate_matches_a_known_calm_rate() -> None:
    from truceline.escalation import false_alarm_rate

    rng = np.random.default_rng(5)
    for lam in (0.25, 1.0):
        measured = len(cusum_alarms(rng.poisson(lam, 168 * 3000), lam)) / 3000  # per week
        derived = false_alarm_rate(lam)
        assert abs(derived - measured) <= 0.3 * derived, (lam, derived, measured)


@pytest.mark.parametrize("parts", [2, 3, 4, 8])
def test_an_incident_at_the_end_of_the_line_is_in_the_last_sector(
    agreement: Agreement, parts: int
) -> None:
    # a line of a whole number of sectors: its end is in the last, not one past it
    km = agreement.line_local.length / 1000.0 / parts
    lon, lat = list(agreement.line.coords)[-1][:2]
    features = [{"geometry": {"type": "Point", "coordinates": [lon, lat]}}, {"geometry": None}]
    assert sector_of(features, agreement, km) == [n_sectors_of(agreement.line_local, km) - 1, -1]
