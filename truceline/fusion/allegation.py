"""The parties' allegations: each joins the incident it fits (read as a 95 % circle of its
radius, in a window around its time); an allegation that nothing corroborates stays an
``unlocated`` incident of its own.

An allegation is joined to an incident as a *claim*, never as evidence of the physical
event: it moves neither the incident's place, time, kind, confidence or attribution, nor
its weapon class (a party could otherwise file fifteen allegations naming MLRS and make
the other side's incident an MLRS one, and with it the MLRS clause). What an allegation
says of the weapon stays in the allegation itself (its ``object``), for those who may see
it."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..observations import Allegation, Observation
from .draft import Draft
from .gating import Candidates, point
from .params import FusionParams

__all__ = ["fuse_allegations"]

S = 1_000_000


def fuse_allegations(
    allegations: list[Observation],
    drafts: list[Draft],
    prm: FusionParams,
    xy: Callable[[list[float]], tuple[float, float]],
    lone: list[Draft] | None = None,
) -> tuple[list[Draft], dict[str, int]]:
    """Join each allegation to the incident it fits; return drafts of the rest. Into
    ``lone`` go the drafts the joined allegations would have made had they fitted nothing:
    what the party that filed one reads of it while the incident it joined is hidden from
    it (:func:`truceline.access.view_incident`; the join must not tell it the incident is
    there)."""
    pts = Candidates.of(drafts, ("impact", "origin"))
    matched = 0
    slack = int(prm.allegation_slack_s * S)
    new: list[Draft] = []
    for o in allegations:
        m = o.model
        assert isinstance(m, Allegation)
        x, y = xy(m.position)
        sd = m.radius_km * 1000.0 / 2.45  # the radius read as a 95 % circle
        cov = np.diag([sd**2, sd**2])
        t1 = m.time_end if m.time_end is not None else m.time
        best = pts.best(x, y, cov, (m.time - slack, t1 + slack), prm.gate_chi2)
        alone = Draft("unlocated", m.time, t1, impact=point(x, y, cov, m.time))
        if best >= 0:
            matched += 1
            _claim(alone, o, m, prm)
            if lone is not None:
                lone.append(alone)
            d = drafts[best]
        else:
            d = alone
            new.append(d)
        _claim(d, o, m, prm)
    return new, {"allegations": len(allegations), "corroborated": matched}


def _claim(d: Draft, o: Observation, m: Allegation, prm: FusionParams) -> None:
    """The allegation joined to ``d`` as a claim."""
    d.add("allegation", o.ref, prm.strength_allegation)
    d.alleged_by.append(m.party)
    d.allegation_parties[o.ref] = (m.party, m.accused)
