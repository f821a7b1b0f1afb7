"""Alerts: escalation by sector, rule alerts, and their delivery by signed webhook.

**Sectors.** The line of contact is cut into sectors of ``sector_km`` along its length; an
incident belongs to the sector of the point of the line nearest to it.

**Escalation: a Poisson CUSUM per sector** (Page 1954; Lucas 1985). Hourly counts of
violations (incidents with confidence ≥ 0.5 that break a clause) are compared with the
sector's calm rate λ₀, estimated from the first ``baseline_hours`` (at least 0.05 an hour)
and, by default, shaped by the hour of day: fire follows a daily rhythm (more at night),
and a flat rate would read every night as an escalation. The profile is the whole line's
share of calm-period violations by hour of day, smoothed over three hours.
For an escalation to λ₁ = ``ratio`` · λ₀ each hour adds the log-likelihood ratio
x·ln(λ₁/λ₀) − (λ₁ − λ₀) to a sum that never goes below zero; when the sum passes
``threshold`` the sector is in alarm, and the sum restarts. A higher threshold means fewer
false alarms and a longer delay; both are measured on simulated weeks.

**Rule alerts.** Heavy weapons or armour where a clause forbids them (a presence violation),
and fire in a sector after at least ``quiet_hours`` without any.

**Delivery.** Each alert is POSTed as JSON to a webhook with an HMAC-SHA256 of the body in
``X-Truceline-Signature: sha256=<hex>``; failures are retried with exponential backoff.

>>> import numpy as np
>>> calm = np.array([1, 0, 2, 1, 0, 1, 1, 0] * 6 + [6, 7, 5, 8])
>>> cusum_alarms(calm, baseline=0.75, ratio=2.0, threshold=5.0)  # again while it lasts
[49, 51]
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .._extras import require
from .._time import format_time, parse_time
from ..agreement import Agreement
from ..escalation import detect, false_alarm_rate
from .day_coverage import sector_of as day_sector_of

__all__ = [
    "Alert",
    "alert_key",
    "cusum_alarms",
    "deliver",
    "deliver_all",
    "diurnal_profile",
    "exchange_starts",
    "find_alerts",
    "log_records",
    "sign",
]

HOUR_US = 3_600_000_000


@dataclass
class Alert:
    kind: str  # "escalation", "presence", "resumed_fire"
    sector: int
    time: str  # RFC 3339: the hour (escalation) or the incident's start
    detail: str
    incidents: list[str] = field(default_factory=list)
    #: raised by the live analyser from provisional incidents (the final run may differ)
    provisional: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key(self) -> tuple[str, int, str]:
        """What makes two alerts the same alert: its kind, sector and time (the incidents
        behind it may be provisional versions of each other)."""
        return alert_key(self.as_dict())


def alert_key(alert: dict[str, Any]) -> tuple[str, int, str]:
    """:attr:`Alert.key` of an alert as logged (``as_dict``)."""
    return (str(alert["kind"]), int(alert["sector"]), str(alert["time"]))


def cusum_alarms(
    counts: NDArray[np.int64],
    baseline: float | NDArray[np.float64],
    ratio: float = 2.0,
    threshold: float = 5.0,
) -> list[int]:
    """Hours (indices) at which a Poisson CUSUM for a rise from ``baseline`` to
    ``ratio`` × ``baseline`` events an hour raises an alarm (then restarts). ``baseline``
    is one rate, or one per hour (a calm rate that follows the time of day)."""
    lam0 = np.maximum(np.broadcast_to(np.asarray(baseline, float), np.shape(counts)), 1e-9)
    up, down = np.log(ratio), (ratio - 1.0) * lam0
    s = 0.0
    alarms = []
    for t, x in enumerate(np.asarray(counts, float)):
        s = max(0.0, s + x * up - down[t])
        if s > threshold:
            alarms.append(t)
            s = 0.0
    return alarms


def diurnal_profile(hour_of_day: NDArray[np.int64], smooth_h: int = 3) -> NDArray[np.float64]:
    """Relative activity by hour of day (mean 1), from the hours of day of calm-period
    violations anywhere on the line, smoothed over ``smooth_h`` hours and kept ≥ 0.25.

    >>> p = diurnal_profile(np.array([0, 1, 2, 3] * 10 + list(range(24))))
    >>> bool(p[1] > 3 * p[12]), round(float(p.mean()), 6)
    (True, 1.0)
    """
    counts = np.bincount(np.asarray(hour_of_day) % 24, minlength=24).astype(float)
    if counts.sum() == 0:
        return np.ones(24)
    kernel = np.ones(smooth_h) / smooth_h
    padded = np.concatenate([counts[-smooth_h:], counts, counts[:smooth_h]])
    smooth = np.convolve(padded, kernel, mode="same")[smooth_h:-smooth_h]
    profile = np.maximum(smooth / smooth.mean(), 0.25)
    return np.asarray(profile / profile.mean())


def sector_of(features: list[dict[str, Any]], ag: Agreement, sector_km: float) -> list[int]:
    """The sector of each incident (by its location), or -1 where it has none: the report's
    sectors (:func:`truceline.publish.day_coverage.sector_of`), the last one included where
    the line's length is a whole number of sectors."""
    pts = [
        (f["geometry"] or {}).get("coordinates") if f.get("geometry") else None for f in features
    ]
    out = [-1] * len(features)
    idx = [k for k, p in enumerate(pts) if p]
    if not idx:
        return out
    lon = [pts[k][0] for k in idx]  # type: ignore[index]
    lat = [pts[k][1] for k in idx]  # type: ignore[index]
    for k, s in zip(idx, day_sector_of(ag, lon, lat, sector_km), strict=True):
        out[k] = int(s)
    return out


def find_alerts(
    features: list[dict[str, Any]],
    ag: Agreement,
    sector_km: float = 25.0,
    baseline_hours: int = 72,
    ratio: float = 2.0,
    threshold: float = 5.0,
    quiet_hours: int = 24,
    min_confidence: float = 0.5,
    diurnal: bool = True,
    robust: bool = True,
    exchange_gap_min: float = 10.0,
) -> list[Alert]:
    """Every alert the incidents of a run raise, in time order. With ``diurnal``, each
    sector's calm rate follows the line's hour-of-day profile of the calm period. With
    ``robust`` (the default) the escalation detector counts *exchanges* (a sector's
    violations less than ``exchange_gap_min`` apart are one exchange), updates its calm
    rate hour by hour and allows for overdispersed counts (:mod:`truceline.escalation`);
    without it, the classical Poisson CUSUM on violations with the calm rate of the first
    ``baseline_hours``."""
    firm = [
        f
        for f in features
        if f["properties"]["confidence"] >= min_confidence and f["properties"]["violations"]
    ]
    if not firm:
        return []
    sectors = sector_of(firm, ag, sector_km)
    t = np.array([parse_time(f["properties"]["time_start"]) for f in firm])
    t0 = int(t.min() // HOUR_US * HOUR_US)
    hour = ((t - t0) // HOUR_US).astype(int)
    n_hours = int(hour.max()) + 1
    hour_of_day = (t0 // HOUR_US + np.arange(n_hours)) % 24
    profile = np.ones(24)
    if diurnal and baseline_hours:
        calm = hour < baseline_hours
        profile = diurnal_profile(hour_of_day[hour[calm]])
    alerts: list[Alert] = []
    for s in sorted(set(sectors) - {-1}):
        mine = [k for k, v in enumerate(sectors) if v == s]
        starts = exchange_starts(t[mine], exchange_gap_min) if robust else np.ones(len(mine), bool)
        counts = np.bincount(hour[mine][starts], minlength=n_hours)
        run = detect(
            counts,
            profile,
            int(t0 // HOUR_US % 24),
            ratio,
            threshold,
            baseline_hours,
            updating=robust,
            overdispersed=robust,
        )
        unit = "exchanges" if robust else "violations"
        for at in run.alarms:
            lam, phi = float(run.calm_rate[at]), float(run.dispersion[at])
            expected = false_alarm_rate(lam, ratio, threshold, phi)
            alerts.append(
                Alert(
                    "escalation",
                    s,
                    format_time(t0 + at * HOUR_US),
                    f"{int(counts[at])} {unit} in the hour against a calm rate of {lam:.2f} "
                    f"for that hour (dispersion {phi:.2f}; CUSUM ×{ratio:g}, threshold "
                    f"{threshold:g}; at this calm rate about {expected:.2f} false alarms a "
                    "week)",
                    [firm[k]["properties"]["id"] for k in mine if hour[k] == at],
                )
            )
        alerts += _resumed_fire(firm, mine, t, s, quiet_hours)
    alerts += _presence_alerts(firm, sectors)
    alerts.sort(key=lambda a: (a.time, a.kind, a.sector))
    return alerts


def exchange_starts(t_us: NDArray[np.int64], gap_min: float) -> NDArray[np.bool_]:
    """Which of a sector's violations start an exchange: the first, and each that follows
    the one before (in time) by at least ``gap_min`` minutes. Returned in the input order.

    >>> m = 60_000_000
    >>> exchange_starts(np.array([0, 2 * m, 30 * m, 31 * m]), 10).tolist()
    [True, False, True, False]
    """
    order = np.argsort(t_us, kind="stable")
    ts = np.asarray(t_us)[order]
    first = np.r_[True, np.diff(ts) >= gap_min * 60_000_000]
    out = np.empty(len(ts), bool)
    out[order] = first
    return out


def _resumed_fire(
    firm: list[dict[str, Any]], mine: list[int], t: NDArray[np.int64], sector: int, quiet_hours: int
) -> list[Alert]:
    """Fire in a sector after ``quiet_hours`` without any."""
    out: list[Alert] = []
    last = None
    for k in sorted(mine, key=lambda k: t[k]):
        p = firm[k]["properties"]
        if p["kind"] not in ("fire", "air"):
            continue
        if last is not None and t[k] - last >= quiet_hours * HOUR_US:
            detail = f"fire after {(t[k] - last) / HOUR_US:.0f} quiet hours"
            out.append(Alert("resumed_fire", sector, p["time_start"], detail, [p["id"]]))
        last = t[k]
    return out


def _presence_alerts(firm: list[dict[str, Any]], sectors: list[int]) -> list[Alert]:
    """Equipment where a clause forbids it."""
    out: list[Alert] = []
    for f, s in zip(firm, sectors, strict=True):
        p = f["properties"]
        if p["kind"] in ("presence", "crossing"):
            what = f"{p.get('weapon', 'equipment')} where {', '.join(p['violations'])} forbid it"
            out.append(Alert("presence", s, p["time_start"], what, [p["id"]]))
    return out


def sign(body: bytes, secret: bytes) -> str:
    """The ``X-Truceline-Signature`` header value of a webhook body: HMAC-SHA256 with the
    shared secret, hex. The receiver recomputes it over the raw body and compares.

    >>> sign(b'{"alert":{}}', b"secret") == sign(b'{"alert":{}}', b"secret")
    True
    >>> sign(b"{}", b"k")[:7], len(sign(b"{}", b"k"))
    ('sha256=', 71)
    """
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def deliver(
    url: str,
    alert: Alert,
    secret: bytes,
    attempts: int = 5,
    backoff_s: float = 0.5,
    post: Callable[..., Any] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """POST one alert; retry on errors and 5xx with exponential backoff. Returns what
    happened (``delivered``, ``attempts``, the last ``status`` or ``error``)."""
    httpx = require("httpx", "service", "Webhook alerts")
    body = json.dumps({"alert": alert.as_dict()}, sort_keys=True).encode()
    headers = {"Content-Type": "application/json", "X-Truceline-Signature": sign(body, secret)}
    send = post or (lambda u, **kw: httpx.post(u, timeout=10, **kw))
    result: dict[str, Any] = {"delivered": False, "attempts": 0}
    for n in range(1, attempts + 1):
        result["attempts"] = n
        try:
            res = send(url, content=body, headers=headers)
            result["status"] = res.status_code
            if res.status_code < 500:
                result["delivered"] = 200 <= res.status_code < 300
                return result
        except Exception as exc:  # network errors: retry
            result["error"] = f"{type(exc).__name__}: {exc}"
        if n < attempts:
            sleep(backoff_s * 2 ** (n - 1))
    return result


def deliver_all(
    alerts: list[Alert], webhook: str | None, secret: bytes
) -> list[tuple[Alert, dict[str, Any] | None]]:
    """Each alert with what its delivery to ``webhook`` did (None without a webhook)."""
    return [(a, deliver(webhook, a, secret) if webhook else None) for a in alerts]


def log_records(
    results: list[tuple[Alert, dict[str, Any] | None]], webhook: str
) -> list[dict[str, Any]]:
    """The evidence-log entries of delivered alerts: the alert, where, and what happened."""
    return [
        {"kind": "alert", "alert": a.as_dict(), "webhook": webhook, "delivery": res}
        for a, res in results
    ]
