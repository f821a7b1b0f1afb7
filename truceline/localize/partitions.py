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


def serial_map(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> list[Any]:
    """Run every task here, one after the other."""
    return [fn(*args) for args in tasks]


@dataclass(frozen=True)
class Partitioning:
    """Association by windows of time: ``core_s`` long, each with ``halo_spans``
    association spans of picks on either side; ``run`` maps the windows' tasks."""

    core_s: float = 3_600.0
    run: TaskMap = serial_map
    halo_spans: float = HALO_SPANS

    def __post_init__(self) -> None:
        if not self.core_s > 0 or not self.halo_spans >= 1:
            raise ValueError("a partition needs core_s > 0 and a halo of at least one span")


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
    chunk: Chunk, p: Picks, sensors: Any, span: float, prm: Any, parts: Partitioning
) -> list[list[Event]]:
    """Each window's events (indices into ``p``), windows in time order; a task is shipped
    its window's picks alone (with the halo), the sensors' tree and the parameters."""
    halo = parts.halo_spans * span
    tasks = []
    for a, b in partition_cores(float(p.t[0]), float(p.t[-1]), parts.core_s):
        lo = int(np.searchsorted(p.t, a - halo, side="left"))
        hi = int(np.searchsorted(p.t, b + halo + span, side="right"))
        tasks.append((chunk, _slice(p, lo, hi), lo, sensors, (a, b), halo, span, prm))
    return parts.run(_window_events, tasks)


def _window_events(
    chunk: Chunk,
    p: Picks,
    offset: int,
    sensors: Any,
    core: tuple[float, float],
    halo: float,
    span: float,
    prm: Any,
) -> list[Event]:
    """One window's task: associate its core and halo, keep the events anchored in its core,
    with their indices in the whole stream."""
    a, b = core
    found = chunk(p, sensors, a - halo, b + halo, span, prm) if len(p) else []
    return [(g + offset, x, y) for g, x, y in found if a <= p.t[g[0]] < b]


def _slice(p: Picks, lo: int, hi: int) -> Picks:
    """Picks ``lo:hi`` (every per-pick array cut; the sensors' names kept)."""

    def cut(v: Any) -> Any:
        return None if v is None else v[lo:hi]

    return replace(
        p,
        **{k: cut(getattr(p, k)) for k in ("ref", "sensor", "x", "y", "z", "t", "sigma", "c")},
        cls=p.cls[lo:hi],
        wind=cut(p.wind),
        snr=cut(p.snr),
        source=cut(p.source),
    )
