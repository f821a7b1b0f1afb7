"""Events of third-party datasets (UCDP GED, ACLED): weighed as honestly as they are known.

An event report says that something happened somewhere within ``radius_km`` (read as the
95 % circle: σ = radius / 2.45) at some time in ``time_window``. It is evidence of the
same strength whatever it reports, but worth less the vaguer it is:

- **Joining.** A report joins the incident it fits best by *its own* uncertainty (the one
  Mahalanobis gate of :mod:`.gating`, with its large covariance, and the incident's time
  inside its window), and only an incident that sensors saw (acoustic, patrol, thermal or
  UAV evidence: never an allegation or another report). It joins only when it is specific
  enough to corroborate anything: a radius of at most ``CORROBORATE_KM`` (10 km: a named
  village or town, UCDP ``where_prec`` 1, ACLED ``geo_precision`` 1) and a window of at
  most ``CORROBORATE_H`` (48 h). A report of "somewhere in Donetsk oblast that week" gates
  with every crater of the oblast and corroborates none of them, so it never joins one.
- **Strength.** ``STRENGTH`` × min(1, ``REFERENCE_KM`` / radius) × min(1, 24 h / window):
  0.25 for an event placed at a village on a known day, 0.05 at 25 km, 0.0125 for an
  oblast, less again for a week or a month. Alone, a report never reaches confidence 0.5,
  so it is never counted as a violation on its own (as with a lone thermal anomaly or
  allegation): it is published, unverified. Several reports joining one incident count
  together for no more than one specific report (0.25): UCDP and ACLED code the same news.
- **Alone.** A report that joins nothing becomes an incident of its own, placed at its
  position with its own covariance: kind ``fire`` when it reports violence (an explosion,
  shot, burst or projectile, or a dataset's armed conflict, battle, remote violence or
  violence against civilians) placed within 150 km, else ``unlocated``. Its weapon is
  ``unknown`` and, known only by where it happened, its direction of fire undetermined.

These numbers are constants of this module (versioned with the code), not fusion
parameters.

>>> strength(5.0, 86_400_000_000), round(strength(100.0, 7 * 86_400_000_000), 5)
(0.25, 0.00179)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..observations import EventReport, Observation
from .draft import Draft
from .gating import Candidates, point
from .params import FusionParams

__all__ = [
    "CORROBORATE_H",
    "CORROBORATE_KM",
    "REFERENCE_KM",
    "STRENGTH",
    "fuse_event_reports",
    "strength",
]

STRENGTH = 0.25
REFERENCE_KM = 5.0
CORROBORATE_KM = 10.0
CORROBORATE_H = 48.0
PLACED_KM = 150.0  # beyond this a report is not placed on a map of the line
SENSED = ("acoustic", "patrol", "thermal", "uav")
VIOLENT_EVENTS = ("explosion", "shot", "burst", "projectile")
VIOLENT_TYPES = (
    "state-based armed conflict",
    "non-state conflict",
    "one-sided violence",
    "battles",
    "explosions/remote violence",
    "violence against civilians",
)
_DAY_US = 86_400_000_000


def strength(radius_km: float, window_us: int) -> float:
    """What one report adds to an incident's confidence (see the module's text)."""
    where = min(1.0, REFERENCE_KM / radius_km)
    when = min(1.0, _DAY_US / max(window_us, 1))
    return STRENGTH * where * when


def _violent(m: EventReport) -> bool:
    if m.event in VIOLENT_EVENTS:
        return True
    kind = (m.event_type or "").lower()
    return any(kind.startswith(t) for t in VIOLENT_TYPES)


def fuse_event_reports(
    reports: list[Observation],
    drafts: list[Draft],
    prm: FusionParams,
    xy: Callable[[list[float]], tuple[float, float]],
) -> tuple[list[Draft], dict[str, int]]:
    """Join each specific report to the sensed incident it fits; return drafts of the rest."""
    sensed = [k for k, d in enumerate(drafts) if any(s in d.support for s in SENSED)]
    pts = Candidates.of([drafts[k] for k in sensed], ("impact", "origin"))
    new: list[Draft] = []
    joined = 0
    for o in reports:
        m = o.model
        assert isinstance(m, EventReport)
        x, y = xy(m.position)
        sd = m.radius_km * 1000.0 / 2.45  # the radius read as a 95 % circle
        cov = np.diag([sd**2, sd**2])
        t0, t1 = m.time_window
        weight = strength(m.radius_km, t1 - t0)
        specific = m.radius_km <= CORROBORATE_KM and t1 - t0 <= CORROBORATE_H * 3600e6
        best = pts.best(x, y, cov, (t0, t1), prm.gate_chi2) if specific else -1
        if best >= 0:
            d = drafts[sensed[best]]
            joined += 1
        else:
            kind = "fire" if _violent(m) and m.radius_km <= PLACED_KM else "unlocated"
            d = Draft(kind, t0, t1, impact=point(x, y, cov, t0))
            new.append(d)
        d.add("event_report", o.ref, _capped(d, weight))
    return new, {"reports": len(reports), "joined": joined}


def _capped(d: Draft, weight: float) -> float:
    """The strength to add so that the reports of one incident together never count for
    more than one specific report (``STRENGTH``): datasets copy each other's sources."""
    before = d.strength.get("event_report", 0.0)
    after = min(STRENGTH, 1.0 - (1.0 - before) * (1.0 - weight))
    return max(0.0, 1.0 - (1.0 - after) / (1.0 - before))
