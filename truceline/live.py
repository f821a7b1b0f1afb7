"""Live operation: which stretch of time a new observation can change, how provisional
incidents are merged into what is shown, and when they are final. Pure functions; the
worker that runs them over a store is :mod:`truceline.store.live`.

**The window.** Every reach is taken from the analysis' own constants:

- ``tof_s``: the longest time of flight pairing accepts (:data:`~truceline.localize.pairing.MAX_TOF_S`);
- ``travel_s``: the longest acoustic travel time, the association's farthest hearing range
  (30 km, :func:`~truceline.localize.association.associate`) at the slowest sound it
  assumes (−40 °C air, 306.2 m/s);
- ``salvo_gap_s``: the longest gap within one salvo (:mod:`truceline.localize.salvos`);
- the fusion windows of :class:`~truceline.fusion.FusionParams`: a patrol's slack (+60 s
  after its end), an allegation's slack, a thermal anomaly's and a UAV sighting's windows.

A new acoustic pick at ``t`` can change only incidents that began within ``acoustic_s`` =
tof + travel + gap of it (the event it belongs to, and that event's launch or impact
partner); a patrol report, an allegation, a thermal anomaly or a UAV sighting reaches back
by its own fusion window on top. That stretch (:func:`affected_span`) is analysed again
with context on each side (:meth:`truceline.store.live.LiveAnalyser.provisional`), and its
incidents replace the ones shown there (:func:`merge`), marked ``"provisional": true``.

**Final.** Provisional incidents are windows analysed on their own; the network's
self-calibration (clocks, surveys, winds) and the incident ids are over everything the batch
sees, so a final result identical to ``truceline analyze`` can only come from the batch
analysis itself. The worker runs it (a logged run, exactly ``truceline analyze --db``) when
the last provisional incident is older than ``final_s`` (the longest reach of any
observation: a UAV sighting a day later can still join) by the clock of the observations, or
when nothing new has arrived for a settling time (a replay ended, a quiet night).

**Late data.** An observation that arrives after its window was finalised is not held
back: it is analysed at once (its span turns provisional again) and the next final run
revises the result; the worker logs each revision (which incidents appeared, disappeared)
as an entry of the evidence log (:func:`revision`).

>>> w = LiveWindow.of()
>>> round(w.acoustic_s), round(w.final_s / 3600, 2)
(423, 24.12)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ._time import parse_time
from .fusion.params import FusionParams
from .localize.pairing import MAX_TOF_S
from .localize.salvos import IMPACT_GAP_S, LAUNCH_GAP_S
from .observations import Observation

__all__ = [
    "ASSOCIATION_RANGE_M",
    "SLOWEST_SOUND_MS",
    "LiveWindow",
    "affected_span",
    "merge",
    "replay_role",
    "replay_schedule",
    "revision",
    "settled",
]

S = 1_000_000
#: the farthest the association joins a pick to an event (``associate(max_range_m=...)``)
ASSOCIATION_RANGE_M = 30_000.0
#: the slowest sound the analysis assumes: 331.3 m/s × sqrt(1 + T/273.15) at T = −40 °C
SLOWEST_SOUND_MS = 306.2


@dataclass(frozen=True)
class LiveWindow:
    """How far (seconds) an observation of each kind reaches in time, from the analysis'
    constants and its fusion parameters."""

    tof_s: float
    travel_s: float
    salvo_gap_s: float
    patrol_s: float
    allegation_s: float
    thermal_s: float
    uav_s: float

    @classmethod
    def of(cls, prm: FusionParams | None = None) -> LiveWindow:
        p = prm or FusionParams()
        return cls(
            tof_s=MAX_TOF_S,
            travel_s=ASSOCIATION_RANGE_M / SLOWEST_SOUND_MS,
            salvo_gap_s=max(LAUNCH_GAP_S, IMPACT_GAP_S),
            patrol_s=p.patrol_slack_s + 60.0,
            allegation_s=p.allegation_slack_s,
            thermal_s=p.thermal_window_h * 3600.0,
            uav_s=p.uav_window_h * 3600.0,
        )

    @property
    def acoustic_s(self) -> float:
        """How far a pick reaches: its event (travel) and that event's partner (tof, gap)."""
        return self.tof_s + self.travel_s + self.salvo_gap_s

    @property
    def final_s(self) -> float:
        """The longest reach of any observation: after this, nothing new can join."""
        return self.acoustic_s + max(self.patrol_s, self.allegation_s, self.thermal_s, self.uav_s)

    def reach_s(self, kind: str) -> float:
        """How far back from its time an observation of ``kind`` can change incidents."""
        extra = {
            "patrol": self.patrol_s,
            "allegation": self.allegation_s,
            "thermal": self.thermal_s,
            "uav": self.uav_s,
        }.get(kind, 0.0)
        return self.acoustic_s + extra

    def as_dict(self) -> dict[str, float]:
        return {
            **{k: round(v, 3) for k, v in asdict(self).items()},
            "acoustic_s": round(self.acoustic_s, 3),
            "final_s": round(self.final_s, 3),
        }


def affected_span(
    observations: Iterable[Observation], window: LiveWindow
) -> tuple[int, int] | None:
    """The stretch of time (µs, inclusive) whose incidents new ``observations`` can change:
    from the earliest reach back of any of them to ``acoustic_s`` after the latest end (an
    event report's or allegation's window counts whole). None for no observations.

    >>> from truceline.observations import parse_record
    >>> o = parse_record({"id": "1", "type": "acoustic", "source": "AS-1",
    ...     "time": "2026-03-01T00:10:00Z", "sensor": "AS-1", "position": [37.0, 48.0],
    ...     "class": "launch", "sigma_s": 0.02}, "x", 1)
    >>> lo, hi = affected_span([o], LiveWindow.of())
    >>> round((o.time_us - lo) / 1e6, 2), round((hi - o.time_us) / 1e6, 2)
    (422.98, 422.98)
    """
    lo: int | None = None
    hi: int | None = None
    for o in observations:
        start, end = _extent(o)
        a = start - round(window.reach_s(o.type) * S)
        b = end + round(window.acoustic_s * S)
        lo = a if lo is None else min(lo, a)
        hi = b if hi is None else max(hi, b)
    return None if lo is None or hi is None else (lo, hi)


def _extent(o: Observation) -> tuple[int, int]:
    """When an observation says something happened: its time, to its end or window's end."""
    m = o.model
    window = getattr(m, "time_window", None)
    if window is not None:
        return int(window[0]), int(window[1])
    end = getattr(m, "time_end", None)
    return o.time_us, int(end) if end is not None else o.time_us


def _start(feature: dict[str, Any]) -> int:
    return parse_time(feature["properties"]["time_start"])


def merge(
    shown: Sequence[dict[str, Any]], fresh: Sequence[dict[str, Any]], span: tuple[int, int]
) -> list[dict[str, Any]]:
    """What is shown after a stretch was analysed again: the incidents shown that began
    outside ``span`` as they were, and the fresh analysis' incidents that began inside it,
    marked provisional; in (time_start, id) order.

    >>> f = lambda i, t: {"properties": {"id": i, "time_start": t}}
    >>> out = merge([f("a", "2026-03-01T00:00:00Z"), f("b", "2026-03-01T01:00:00Z")],
    ...             [f("c", "2026-03-01T01:00:01Z"), f("d", "2026-03-01T03:00:00Z")],
    ...             (parse_time("2026-03-01T00:30:00Z"), parse_time("2026-03-01T02:00:00Z")))
    >>> [(x["properties"]["id"], x["properties"].get("provisional")) for x in out]
    [('a', None), ('c', True)]
    """
    lo, hi = span
    kept = [f for f in shown if not lo <= _start(f) <= hi]
    new = [
        {**f, "properties": {**f["properties"], "provisional": True}}
        for f in fresh
        if lo <= _start(f) <= hi
    ]
    return sorted(kept + new, key=lambda f: (_start(f), f["properties"]["id"]))


def settled(shown: Sequence[dict[str, Any]], clock_us: int, window: LiveWindow) -> bool:
    """Whether every provisional incident shown ended more than ``final_s`` before
    ``clock_us`` (the latest observation's time): nothing still to come can change it."""
    reach = round(window.final_s * S)
    return all(
        parse_time(f["properties"]["time_end"]) + reach < clock_us
        for f in shown
        if f["properties"].get("provisional")
    )


def revision(before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """What a new final run changed against the previous final run: the ids that appeared
    and disappeared (an incident's id is over its support, so a joined observation shows
    as one of each).

    >>> a = [{"properties": {"id": "x"}}, {"properties": {"id": "y"}}]
    >>> revision(a, [{"properties": {"id": "y"}}, {"properties": {"id": "z"}}])
    {'added': ['z'], 'removed': ['x'], 'incidents_before': 2, 'incidents_after': 2}
    """
    old = {f["properties"]["id"] for f in before}
    new = {f["properties"]["id"] for f in after}
    return {
        "added": sorted(new - old),
        "removed": sorted(old - new),
        "incidents_before": len(old),
        "incidents_after": len(new),
    }


def replay_role(o: Observation) -> str:
    """The role whose token submits ``o`` in a replay (:mod:`truceline.access`): a
    detection's sensor, a party for its allegation, a monitor for what monitors report,
    an analyst for the rest (event reports).

    >>> from truceline.observations import parse_record
    >>> replay_role(parse_record({"id": "1", "type": "allegation", "source": "party-N",
    ...     "time": "2026-03-01T00:00:00Z", "party": "N", "accused": "S",
    ...     "position": [37.0, 48.0], "radius_km": 2.0, "event": "explosion",
    ...     "description": "shelling"}, "x", 1))
    'party:N'
    """
    if o.type in ("acoustic", "status"):
        return "sensor"
    if o.type == "allegation":
        return f"party:{o.model.party}"  # type: ignore[union-attr]
    if o.type in ("patrol", "uav", "thermal"):
        return "monitor"
    return "analyst"


def replay_schedule(
    observations: Sequence[Observation], speed: float, tick_s: float = 0.1
) -> list[tuple[float, list[Observation]]]:
    """When (seconds after the replay starts) each observation is sent at ``speed`` times
    real time, by its time: ticks of ``tick_s`` seconds of replay, each with the
    observations due in it, in (time, ref) order.

    >>> from truceline.observations import parse_record
    >>> def pick(i, t): return parse_record({"id": str(i), "type": "acoustic",
    ...     "source": "AS-1", "time": t, "sensor": "AS-1", "position": [37.0, 48.0],
    ...     "class": "launch", "sigma_s": 0.02}, "x", i)
    >>> plan = replay_schedule([pick(1, "2026-03-01T00:00:10Z"), pick(2, "2026-03-01T00:00:00Z"),
    ...     pick(3, "2026-03-01T00:00:00.5Z")], speed=10)
    >>> [(round(t, 2), [o.key[1] for o in part]) for t, part in plan]
    [(0.0, ['2', '3']), (1.0, ['1'])]
    """
    if speed <= 0:
        raise ValueError("speed must be positive")
    ordered = sorted(observations, key=lambda o: (o.time_us, o.ref))
    if not ordered:
        return []
    t0 = ordered[0].time_us
    ticks: dict[int, list[Observation]] = {}
    for o in ordered:
        ticks.setdefault(int((o.time_us - t0) / S / speed / tick_s), []).append(o)
    return [(k * tick_s, ticks[k]) for k in sorted(ticks)]
