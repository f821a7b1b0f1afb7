"""Association by windows of time, each with a halo: the cut that lets it run in parallel.

Association is local in time: an anchor only ever looks one *span* ahead (the farthest a
sensor hears, crossed twice, at the slowest sound speed of the picks, and a second:
:func:`association_span`). So the stream is cut into windows of ``core_s``
(:func:`partition_cores`); each window's task gets its picks with a halo of ``halo_spans``
spans on either side, associates core and halo as one pass over everything would, and keeps
the events *anchored* in its core (an event's anchor is its earliest pick). The halo before
the core lets the window's first anchors find the picks already claimed as one pass finds
them; the halo after it lets the core's last events meet the strong events that a pass's
first sweep had found there. The windows are independent tasks, run by any
:data:`TaskMap` (here, one after the other: :func:`serial_map`; on a Dask cluster:
:mod:`truceline.cluster`), and are merged in time order by the caller
(:func:`truceline.localize.association.associate`), a pick claimed twice staying with the
earlier event.

A window may be cut in space too (``sector_m``): into sectors along the line of contact,
by the foot of each pick's sensor on the line. A sector's task gets the picks of sensors
within ``halo_reaches`` reaches of it (a reach: twice the hearing range, the farthest
apart two sensors hearing one source can be) and keeps the events whose anchor's sensor
lies in the sector. The events of every task are merged in the order of their anchors,
as one pass finds them. A task's picks then grow with its sector, not with the line.

What follows association (location, the wind of each window, the network's clocks and
surveys, salvos, pairing, fusion) is global and cheap by comparison, and runs once over
every event: no fusion window or time of flight needs a halo, because no partition fuses.

>>> partition_cores(0.0, 2_500.0, 1_000.0)
[(-inf, 1000.0), (1000.0, 2000.0), (2000.0, inf)]
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .picks import Picks

__all__ = [
    "HALO_REACHES",
    "HALO_SPANS",
    "Event",
    "Partitioning",
    "TaskMap",
    "association_span",
    "by_partition",
    "partition_cores",
    "serial_map",
]

Event = tuple[NDArray[np.int64], float, float]  # pick indices, start position x, y

#: A map over tasks: ``run(fn, [args, ...])`` returns ``[fn(*args), ...]`` in order.
TaskMap = Callable[[Callable[..., Any], Sequence[tuple[Any, ...]]], list[Any]]

#: The halo on each side of a window, in association spans. One span was enough on every
#: simulated day tried (tests/test_cluster.py); two keep a margin for chains of events that
#: claim each other's picks across more than one span.
HALO_SPANS = 2.0
#: The halo on each side of a sector, in reaches (twice the hearing range). One reach was
#: not enough on the standard simulated day cut into 30 km sectors (its incidents changed:
#: the picks that an event anchored a reach away claims change which picks an event in the
#: core finds); 1.5 gave the one pass's incidents byte for byte, two keep a margin.
HALO_REACHES = 2.0


def serial_map(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Run every task here, one after the other."""
    return [fn(*args) for args in tasks]


@dataclass(frozen=True)
class Partitioning:
    """Association by windows of time: ``core_s`` long, each with ``halo_spans``
    association spans of picks on either side; ``run`` maps the windows' tasks.

    With ``sector_m``, each window is cut in space too: into sectors of ``sector_m`` along
    ``line`` (a line of contact in the picks' frame, metres; the analysis gives the
    agreement's), by the foot of each pick's sensor on the line, each with a halo of
    ``halo_reaches`` *reaches* on either side (a reach is twice the hearing range: the
    farthest apart two sensors hearing one source can be)."""

    core_s: float = 3_600.0
    run: TaskMap = serial_map
    halo_spans: float = HALO_SPANS
    sector_m: float | None = None
    line: Any = None
    halo_reaches: float = HALO_REACHES

    def __post_init__(self) -> None:
        if not self.core_s > 0 or not self.halo_spans >= 1:
            raise ValueError("a partition needs core_s > 0 and a halo of at least one span")
        if self.sector_m is not None and not (self.sector_m > 0 and self.halo_reaches >= 1):
            raise ValueError("a sector needs sector_m > 0 and a halo of at least one reach")


def association_span(p: Picks, max_range_m: float) -> float:
    """How far after an anchor its event's picks can lie (s)."""
    return 2 * max_range_m / float(p.c.min()) + 1.0


def partition_cores(t_lo: float, t_hi: float, core_s: float) -> list[tuple[float, float]]:
    """The windows' cores ``[a, b)`` that tile ``[t_lo, t_hi]`` (the first open to the left,
    the last to the right).

    >>> partition_cores(5.0, 5.0, 1_000.0)
    [(-inf, inf)]
    """
    inner = np.arange(t_lo + core_s, t_hi + 1e-9, core_s).tolist() if t_hi > t_lo else []
    edges = [-np.inf, *inner, np.inf]
    return [(float(a), float(b)) for a, b in itertools.pairwise(edges)]


#: ``chunk(p, sensors, t_start, t_end, span, prm)``: the events anchored in [t_start, t_end)
Chunk = Callable[..., list[Event]]


def by_partition(
    chunk: Chunk,
    p: Picks,
    sensors: Any,
    span: float,
    prm: Any,
    parts: Partitioning,
    reach_m: float = np.inf,
) -> list[list[Event]]:
    """The events of every window and sector (indices into ``p``), as one list in the order
    one pass gives them (by their anchor, the earliest pick); a task is shipped its picks
    alone (with the halos), the sensors' tree and the parameters. ``reach_m`` is how far
    apart two sensors hearing one source can be (twice the hearing range)."""
    halo = parts.halo_spans * span
    along = _along(p, parts)
    sectors = (
        partition_cores(float(along.min()), float(along.max()), float(parts.sector_m))
        if along is not None and parts.sector_m is not None
        else [(-np.inf, np.inf)]
    )
    space_halo = parts.halo_reaches * reach_m
    tasks = []
    for a, b in partition_cores(float(p.t[0]), float(p.t[-1]), parts.core_s):
        lo = int(np.searchsorted(p.t, a - halo, side="left"))
        hi = int(np.searchsorted(p.t, b + halo + span, side="right"))
        for s0, s1 in sectors:
            if along is None:
                idx = np.arange(lo, hi)
                where = None
            else:
                near = (along[lo:hi] >= s0 - space_halo) & (along[lo:hi] < s1 + space_halo)
                idx = lo + np.flatnonzero(near)
                where = (along[idx], s0, s1)
            tasks.append((chunk, _take(p, idx), idx, sensors, (a, b), where, halo, span, prm))
    found = [e for events in parts.run(_window_events, tasks) for e in events]
    found.sort(key=lambda e: int(e[0][0]))
    return [found]


def _along(p: Picks, parts: Partitioning) -> NDArray[np.float64] | None:
    """Each pick's position along the partitions' line (m), from its sensor's; None when
    the partitions are by time alone."""
    if parts.sector_m is None or parts.line is None or not len(p):
        return None
    import shapely

    first = np.unique(p.sensor, return_index=True)[1]
    feet = shapely.line_locate_point(parts.line, shapely.points(p.x[first], p.y[first]))
    by_sensor = np.zeros(int(p.sensor.max()) + 1)
    by_sensor[p.sensor[first]] = feet
    return np.asarray(by_sensor[p.sensor], dtype=float)


def _window_events(
    chunk: Chunk,
    p: Picks,
    idx: NDArray[np.int64],
    sensors: Any,
    core: tuple[float, float],
    sector: tuple[NDArray[np.float64], float, float] | None,
    halo: float,
    span: float,
    prm: Any,
) -> list[Event]:
    """One task: associate its window's core and halo (of its sector and the sector's halo),
    keep the events anchored in its core (in time, and in space: the anchor's sensor in
    the sector), with their indices in the whole stream."""
    a, b = core
    found = chunk(p, sensors, a - halo, b + halo, span, prm) if len(p) else []
    kept = [(g, x, y) for g, x, y in found if a <= p.t[g[0]] < b]
    if sector is not None:
        along, s0, s1 = sector
        kept = [(g, x, y) for g, x, y in kept if s0 <= along[g[0]] < s1]
    return [(idx[g], x, y) for g, x, y in kept]


def _take(p: Picks, idx: NDArray[np.int64]) -> Picks:
    """The picks ``idx`` (in increasing order: every per-pick array taken; the sensors'
    names kept)."""

    def cut(v: Any) -> Any:
        return None if v is None else v[idx]

    return replace(
        p,
        **{k: cut(getattr(p, k)) for k in ("ref", "sensor", "x", "y", "z", "t", "sigma", "c")},
        cls=p.cls[idx],
        wind=cut(p.wind),
        snr=cut(p.snr),
        source=cut(p.source),
    )
