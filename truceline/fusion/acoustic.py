"""Acoustic picks into fire incidents: associated and located events
(:mod:`truceline.localize.association`), launches paired with impacts
(:mod:`truceline.localize.pairing`); each located event or pair seeds a draft."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..agreement import Agreement
from ..incidents import Point
from ..localize.association import AcousticEvents, associate, picks_from
from ..localize.pairing import pair_events
from ..observations import Observation
from .draft import Draft
from .gating import point
from .params import FusionParams

__all__ = ["acoustic_drafts", "acoustic_strength"]


def acoustic_strength(n_picks: int) -> float:
    """P(real) from one located acoustic event heard by ``n_picks`` sensors of as many
    independent sources (:func:`acoustic_drafts` counts sources, not picks).

    Four picks leave one degree of freedom: four unrelated picks (false alarms, leftovers
    of other events) fit a hyperbolic solution often enough that a 4-sensor event alone is
    not reported. Each further sensor halves the remaining doubt.

    >>> [round(acoustic_strength(n), 3) for n in (4, 5, 6, 8)]
    [0.3, 0.65, 0.825, 0.956]
    """
    if n_picks < 4:
        return 0.0
    return 1.0 - 0.7 * 0.5 ** (n_picks - 4)


def acoustic_drafts(
    obs: Sequence[Observation],
    ag: Agreement,
    prm: FusionParams,
    progress: Callable[[int], None] | None,
) -> tuple[list[Draft], AcousticEvents | None]:
    """A draft per launch-impact pair, and per event left unpaired."""
    picks = picks_from(obs, ag.frame, prm.default_temperature_c)
    if len(picks) == 0:
        return [], None
    ev = associate(picks, min_picks=prm.min_picks, progress=progress)
    if len(ev) == 0:
        return [], ev
    fit = ev.fit
    good = ~fit.ill_conditioned
    t_us = picks.t_ref_us + np.round(fit.t0 * 1e6).astype(np.int64)
    launch = np.flatnonzero(good & (ev.cls == 0))
    impact = np.flatnonzero(good & (ev.cls != 0))
    lx, ly = fit.x[launch], fit.y[launch]
    ix, iy = fit.x[impact], fit.y[impact]
    own_l = ag.owner_index(lx, ly)
    own_i = ag.owner_index(ix, iy)
    same = (own_l[:, None] == own_i[None, :]) & (own_l[:, None] >= 0)
    pairs = pair_events(lx, ly, fit.t0[launch], ix, iy, fit.t0[impact], same_side=same)

    def at(e: int) -> Point:
        return point(fit.x[e], fit.y[e], fit.cov[e], t_us[e], fit.crlb[e])

    source = picks.source if picks.source is not None else picks.sensor

    def support(d: Draft, e: int) -> Draft:
        # corroboration counts independent sources: one source reporting for several
        # sensors (copies from one token, forged names and positions) counts once
        refs = [str(picks.ref[k]) for k in ev.picks[e]]
        n_sources = np.unique(source[ev.picks[e]]).size
        d.add_many("acoustic", refs, acoustic_strength(min(int(fit.n_picks[e]), n_sources)))
        return d

    out: list[Draft] = []
    for a, b, w in zip(pairs.launch, pairs.impact, pairs.weapon, strict=True):
        e, f = int(launch[a]), int(impact[b])
        d = Draft(
            "fire",
            int(t_us[e]),
            int(t_us[f]),
            origin=at(e),
            impact=at(f),
            weapon=str(w),
            weapon_basis="range and time of flight of the launch-impact pair",
        )
        out.append(support(support(d, e), f))
    # events left unpaired: a launch with no impact heard, an impact with no launch heard
    for events, paired, is_launch in ((launch, pairs.launch, True), (impact, pairs.impact, False)):
        for k in np.setdiff1d(np.arange(events.size), paired):
            e = int(events[k])
            d = Draft("fire", int(t_us[e]), int(t_us[e]))
            if is_launch:
                d.origin = at(e)
            else:
                d.impact = at(e)
            out.append(support(d, e))
    return out, ev
