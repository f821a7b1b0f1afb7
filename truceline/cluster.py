"""The analysis on a Dask distributed cluster (``truceline analyze --engine dask``).

What runs there is association, the heavy part of a run and the one that is local in time
(:mod:`truceline.localize.association`, "Partitions"): each window of time, with its halo of
picks, is one task (or, with ``--sector-km``, each sector of each window, with its halo in
space: :mod:`truceline.localize.partitions`). Everything else (reading, location of the events found, the network's
clocks and winds, fusion, attribution, judgement) runs once in the calling process, over the
merged events, exactly as the single-process engine runs it; so both engines write the same
incidents byte for byte (``tests/test_cluster.py``).

:func:`dask_map` gives the map the partitions are run by: on the scheduler at ``address``
(``tcp://host:port``, workers started by ``dask worker``), or on a ``LocalCluster`` of
``workers`` processes started here and stopped on leaving.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from ._extras import require
from .localize.partitions import TaskMap

__all__ = ["ENGINES", "dask_map"]

ENGINES = ("single", "dask")  # the single-process engine is the default


def _apply(fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    return fn(*args)


@contextmanager
def dask_map(address: str | None = None, workers: int = 2) -> Iterator[TaskMap]:
    """A map that runs each task on the cluster (in order of the tasks given, results in the
    same order); the tasks' arguments are scattered first (not carried in the task graph)."""
    distributed = require("distributed", "dask", "the Dask engine")
    with _client(distributed, address, workers) as client:

        def run(fn: Callable[..., Any], tasks: Sequence[tuple[Any, ...]]) -> list[Any]:
            if not tasks:
                return []
            data = client.scatter(list(tasks), hash=False)
            futures = [client.submit(_apply, fn, d, pure=False) for d in data]
            return list(client.gather(futures))

        yield run


@contextmanager
def _client(distributed: Any, address: str | None, workers: int) -> Iterator[Any]:
    if address is not None:
        with distributed.Client(address, set_as_default=False) as client:
            yield client
        return
    with (
        distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # no fixed port to collide with (nor warn about)
            silence_logs=logging.WARNING,
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):
        yield client
