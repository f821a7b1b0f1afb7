"""Fusion: every source's observations into incidents, one source family per module.

1. Acoustic picks are associated and located, launches paired with impacts
   (:mod:`.acoustic`): each located event or pair seeds an incident.
2. Patrol reports (:mod:`.patrol`), satellite thermal anomalies (:mod:`.thermal`), UAV
   sightings (:mod:`.uav`) and the parties' allegations (:mod:`.allegation`) join the
   incident they fit by the one gating rule of :mod:`.gating` (each by its *own*
   uncertainty and time window, never two incidents); what fits nothing becomes incidents
   of its own, grouped by the same gates.
3. Every draft is frozen once (:mod:`.draft`): its confidence (a capped noisy-OR over
   source types), status, kind and id.

>>> from truceline.simulate.scenario import demo_agreement
>>> fuse([], demo_agreement()).incidents
[]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..agreement import Agreement
from ..incidents import Fused
from ..localize.association import AcousticEvents, Partitioning
from ..observations import Allegation, EventReport, Observation, Patrol, Thermal, Uav
from ..weapons import DEFAULT_MODEL, WeaponModel
from .acoustic import acoustic_drafts, acoustic_strength
from .allegation import fuse_allegations
from .draft import Draft, freeze
from .event_report import fuse_event_reports
from .params import FusionParams
from .patrol import fuse_patrols
from .thermal import fuse_thermal
from .uav import uav_drafts

__all__ = ["FusionParams", "FusionResult", "acoustic_strength", "fuse"]


@dataclass(frozen=True)
class FusionResult:
    incidents: list[Fused]
    acoustic: AcousticEvents | None
    stats: dict[str, Any] = field(default_factory=dict)
    #: each allegation that joined an incident as the incident it would be alone
    #: (:func:`.allegation.fuse_allegations`); not among ``incidents``
    lone: list[Fused] = field(default_factory=list)


def fuse(
    observations: Sequence[Observation],
    ag: Agreement,
    params: FusionParams | None = None,
    progress: Callable[[int], None] | None = None,
    model: WeaponModel = DEFAULT_MODEL,
    partitions: Partitioning | None = None,
) -> FusionResult:
    """Fuse a batch of observations (any order) into incidents, in (time_start, id) order
    (no attribution or violations yet: see :func:`truceline.analysis.analyze`); with
    ``partitions``, association runs by windows of time (the same incidents)."""
    prm = params or FusionParams()
    obs = sorted(observations, key=lambda o: (o.time_us, o.key))

    def xy(pos: Sequence[float]) -> tuple[float, float]:
        x, y = ag.frame.forward(np.array([pos[0]]), np.array([pos[1]]))
        return float(x[0]), float(y[0])

    def of_type(model: type) -> list[Observation]:
        return [o for o in obs if isinstance(o.model, model)]

    drafts, acoustic = acoustic_drafts(obs, ag, prm, progress, model, partitions)
    stats: dict[str, Any] = {"acoustic": acoustic.stats if acoustic else {}}
    new, stats["patrol"] = fuse_patrols(of_type(Patrol), drafts, prm, xy)
    drafts += new
    new, stats["thermal"] = fuse_thermal(of_type(Thermal), drafts, prm, xy)
    drafts += new
    new, stats["uav"] = uav_drafts(of_type(Uav), drafts, ag, prm, xy)
    drafts += new
    lone: list[Draft] = []
    new, stats["allegation"] = fuse_allegations(of_type(Allegation), drafts, prm, xy, lone)
    drafts += new
    new, stats["event_report"] = fuse_event_reports(of_type(EventReport), drafts, prm, xy)
    drafts += new
    by_ref = {o.ref: o for o in obs}  # incident ids are over their leaf hashes (freeze)
    incidents = sorted(
        (freeze(d, prm, lambda r: by_ref[r].leaf_hash) for d in drafts),
        key=lambda i: (i.time_start_us, i.id),
    )
    stats["incidents"] = len(incidents)
    alone = [freeze(d, prm, lambda r: by_ref[r].leaf_hash) for d in lone]
    return FusionResult(incidents, acoustic, stats, alone)
