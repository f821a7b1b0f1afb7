"""An incident while fusion is still gathering its evidence, and how it is frozen.

:class:`Draft` is the one mutable thing of the fusion stage and never leaves it: each source
family adds its observations to drafts, then :func:`freeze` turns every draft into a
:class:`~truceline.incidents.Fused` (confidence, status and id computed once).

``confidence`` is a noisy-OR over independent source types (allegations excepted: see
:func:`freeze`): each type contributes the probability that it alone would not report
something that did not happen. Within a type,
repeated observations combine the same way but up to a ceiling for the types whose
repetitions are not independent evidence of *weapon* fire: a fire seen on four overpasses
is still a fire of unknown cause (``cap_thermal``), and one party's many allegations are
still one interested party's word (``cap_allegation``). Both ceilings are below 0.5, so
neither source alone ever makes an incident count as a violation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..incidents import FiringEvidence, Fused, Point, incident_id
from .params import FusionParams

__all__ = ["Draft", "freeze"]


@dataclass
class Draft:
    """An incident being assembled by fusion (private to the fusion stage)."""

    kind: str
    time_start_us: int
    time_end_us: int
    origin: Point | None = None
    impact: Point | None = None
    weapon: str = "unknown"
    weapon_basis: str = ""
    support: dict[str, list[str]] = field(default_factory=dict)  # observation type -> refs
    strength: dict[str, float] = field(default_factory=dict)  # type -> P(real) by that type
    marking: str | None = None
    alleged_by: list[str] = field(default_factory=list)
    firing: FiringEvidence | None = None
    reports: list[tuple[str, str]] = field(default_factory=list)  # (type, class) assessments
    allegation_parties: dict[str, tuple[str, str]] = field(default_factory=dict)

    def add(self, kind: str, ref: str, strength: float) -> None:
        """One more independent observation of ``kind``, itself ``strength`` likely real."""
        self.add_many(kind, [ref], strength)

    def add_many(self, kind: str, refs: list[str], strength: float) -> None:
        """Observations that together are one piece of evidence (the picks of one event)."""
        self.support.setdefault(kind, []).extend(refs)
        prev = self.strength.get(kind, 0.0)
        self.strength[kind] = 1.0 - (1.0 - prev) * (1.0 - strength)


def freeze(d: Draft, prm: FusionParams, leaf_of: Callable[[str], bytes]) -> Fused:
    """The fused incident of a draft: sorted support, confidence, status, kind, id (over the
    leaf hashes of the supporting observations' log entries: ``leaf_of(ref)``).

    An allegation never raises an incident's confidence or makes it corroborated: one
    interested party's word is not evidence that something happened as the sensors say (a
    party can aim an allegation at any public fire). Alone, an allegation is an incident of
    its own with the allegation's small strength."""
    support = {kind: tuple(sorted(refs)) for kind, refs in d.support.items()}
    caps = {"thermal": prm.cap_thermal, "allegation": prm.cap_allegation}
    evidence = {k: p for k, p in d.strength.items() if k != "allegation"} or d.strength
    p_false = np.prod([1.0 - min(p, caps.get(kind, 1.0)) for kind, p in evidence.items()])
    independent = [k for k in support if k != "allegation"]
    refs = sorted(r for refs in support.values() for r in refs)
    return Fused(
        kind=d.kind,
        time_start_us=d.time_start_us,
        time_end_us=d.time_end_us,
        origin=d.origin,
        impact=d.impact,
        weapon=d.weapon,
        weapon_basis=d.weapon_basis,
        support=support,
        marking=d.marking,
        alleged_by=tuple(d.alleged_by),
        confidence=float(1.0 - p_false),
        status="corroborated" if len(independent) >= 2 else "automatic",
        id=incident_id(leaf_of(r) for r in refs),
        firing=d.firing,
        reports=tuple(d.reports),
        allegation_parties=dict(sorted(d.allegation_parties.items())),
    )
