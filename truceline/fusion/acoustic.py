"""Acoustic picks into fire incidents: associated and located events
(:mod:`truceline.localize.association`), grouped into salvos
(:mod:`truceline.localize.salvos`), launch salvos paired with impact salvos
(:mod:`truceline.localize.pairing`); each firing event seeds a draft."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..agreement import Agreement
from ..incidents import FiringEvidence, Point
from ..localize.association import AcousticEvents, Partitioning, Picks, associate, picks_from
from ..localize.pairing import Pairs, Salvos, pair_salvos
from ..localize.salvos import (
    IMPACT_GAP_S,
    IMPACT_RADIUS_M,
    LAUNCH_GAP_S,
    LAUNCH_RADIUS_M,
    groups_of,
    ripple_positions,
    salvo_centre,
)
from ..observations import Observation
from ..weapons import DEFAULT_MODEL, WeaponModel
from .draft import Draft
from .gating import point
from .params import FusionParams

__all__ = ["acoustic_drafts", "acoustic_strength"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


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
    model: WeaponModel = DEFAULT_MODEL,
    partitions: Partitioning | None = None,
) -> tuple[list[Draft], AcousticEvents | None]:
    """A draft per firing event the network heard: the salvos of launches and of impacts
    (:mod:`truceline.localize.salvos`), paired jointly (:mod:`truceline.localize.pairing`);
    a launch salvo or an impact salvo left unpaired is a draft of its own."""
    picks = picks_from(obs, ag.frame, prm.default_temperature_c)
    if len(picks) == 0:
        return [], None
    if partitions is not None and partitions.sector_m is not None and partitions.line is None:
        partitions = replace(partitions, line=ag.line_local)  # sectors along this line
    ev = associate(
        picks,
        min_picks=prm.min_picks,
        progress=progress,
        wind_sigma_ms=prm.wind_sigma_ms,
        met_wind_sigma_ms=prm.met_wind_sigma_ms,
        partitions=partitions,
    )
    if len(ev) == 0:
        return [], ev
    fit = ev.fit
    good = ~fit.ill_conditioned
    at_launch = np.flatnonzero(good & (ev.cls == 0))
    gx, gy = ripple_positions(
        picks.x, picks.y, picks.t, picks.c, ev.picks, fit.x, fit.y, fit.t0, fit.n_picks, at_launch
    )
    launch = _salvos(fit, at_launch, LAUNCH_RADIUS_M, LAUNCH_GAP_S, (gx, gy))
    impact = _salvos(fit, np.flatnonzero(good & (ev.cls != 0)), IMPACT_RADIUS_M, IMPACT_GAP_S)
    own_l = ag.owner_index(launch.x, launch.y)
    own_i = ag.owner_index(impact.x, impact.y)
    same = (own_l[:, None] == own_i[None, :]) & (own_l[:, None] >= 0)
    pairs = pair_salvos(launch.salvos(fit), impact.salvos(fit), model, same_side=same)
    return _Builder(picks, ev).drafts(launch, impact, pairs), ev


@dataclass(frozen=True)
class _Builder:
    """Drafts from salvos: where, when, what was heard, and the picks that support them."""

    picks: Picks
    ev: AcousticEvents

    def salvo_at(self, group: _Groups, k: int) -> Point:
        """Where salvo ``k`` of ``group`` was (the centre of its rounds) and when it began."""
        e = int(group.first[k])
        t_us = self.picks.t_ref_us + round(float(group.start[k]) * 1e6)
        crlb = self.ev.fit.crlb[e]
        return point(float(group.x[k]), float(group.y[k]), group.cov[k], t_us, crlb)

    def support(self, d: Draft, events: IntArray) -> Draft:
        # corroboration counts independent sources: one source reporting for several
        # sensors (copies from one token, forged names and positions) counts once
        picks = self.picks
        source = picks.source if picks.source is not None else picks.sensor
        for e in events:
            refs = [str(picks.ref[k]) for k in self.ev.picks[e]]
            n_sources = np.unique(source[self.ev.picks[e]]).size
            n = min(int(self.ev.fit.n_picks[e]), int(n_sources))
            d.add_many("acoustic", refs, acoustic_strength(n))
        return d

    def labels(self, events: IntArray) -> tuple[int, int]:
        """How many of the events' picks the sensors labelled a launch, and an impact."""
        cls = self.picks.cls[np.concatenate([self.ev.picks[e] for e in events])]
        return int((cls == 0).sum()), int((cls == 1).sum())

    def untestable(self, events: IntArray) -> bool:
        """A single event of four arrivals: its fit has one degree of freedom, too few for
        the chi-square test (a salvo's rounds test each other)."""
        return bool(events.size == 1 and int(self.ev.fit.dof[events[0]]) <= 1)

    def drafts(self, launch: _Groups, impact: _Groups, pairs: Pairs) -> list[Draft]:
        """A draft per pair, then per salvo of launches or of impacts left unpaired."""
        ref = self.picks.t_ref_us
        out: list[Draft] = []
        for j, (a, b) in enumerate(zip(pairs.launch, pairs.impact, strict=True)):
            d = Draft(
                "fire",
                launch.time_us(a, ref),
                impact.time_us(b, ref),
                self.salvo_at(launch, a),
                self.salvo_at(impact, b),
            )
            d.firing = FiringEvidence(
                launches=int(launch.size[a]),
                impacts=int(impact.size[b]),
                range_m=round(
                    float(np.hypot(impact.x[b] - launch.x[a], impact.y[b] - launch.y[a])), 1
                ),
                tof_s=round(float(impact.start[b] - launch.start[a]), 3),
                pairing_probability=round(float(pairs.probability[j]), 4),
                alternatives=int(pairs.alternatives[j]),
                likelihood=tuple(float(v) for v in pairs.likelihood[j]),
                launch_level_db=_level(self.ev, launch.members(a)),
                impact_level_db=_level(self.ev, impact.members(b)),
                origin_labels=self.labels(launch.members(a)),
                impact_labels=self.labels(impact.members(b)),
                origin_untestable=self.untestable(launch.members(a)),
            )
            out.append(self.support(self.support(d, launch.members(a)), impact.members(b)))
        for group, paired, is_launch in (
            (launch, pairs.launch, True),
            (impact, pairs.impact, False),
        ):
            for k in np.setdiff1d(np.arange(len(group)), paired):
                n, t0 = int(group.size[k]), group.time_us(k, ref)
                d = Draft("fire", t0, t0)
                level = _level(self.ev, group.members(k))
                if is_launch:
                    d.origin, d.firing = (
                        self.salvo_at(group, k),
                        FiringEvidence(
                            launches=n,
                            launch_level_db=level,
                            origin_labels=self.labels(group.members(k)),
                            origin_untestable=self.untestable(group.members(k)),
                        ),
                    )
                else:
                    d.impact, d.firing = (
                        self.salvo_at(group, k),
                        FiringEvidence(impacts=n, impact_level_db=level),
                    )
                out.append(self.support(d, group.members(k)))
        return out


def _level(ev: AcousticEvents, members: IntArray) -> float | None:
    """A salvo's source level: the median of its rounds' (those that reported one)."""
    if ev.level_db is None:
        return None
    levels = ev.level_db[members]
    levels = levels[np.isfinite(levels)]
    return round(float(np.median(levels)), 2) if levels.size else None


@dataclass(frozen=True)
class _Groups:
    """Located events grouped into salvos: each salvo's first event and size, and members."""

    events: IntArray  # the events grouped (indices into the fit)
    label: IntArray  # their salvo
    first: IntArray  # each salvo's best-located event
    start: FloatArray  # each salvo's earliest time (s)
    size: IntArray
    x: FloatArray  # each salvo's centre (where it was fired from, or landed), m
    y: FloatArray
    cov: FloatArray  # (S, 2, 2) the centre's covariance

    def __len__(self) -> int:
        return int(self.first.size)

    def members(self, k: int) -> IntArray:
        return np.asarray(self.events[self.label == k], dtype=np.int64)

    def time_us(self, k: int, t_ref_us: int) -> int:
        return int(t_ref_us + round(self.start[k] * 1e6))

    def salvos(self, fit: Any) -> Salvos:
        return Salvos(self.x, self.y, self.start, self.size)


def _salvos(
    fit: Any,
    events: IntArray,
    radius_m: float,
    gap_s: float,
    where: tuple[FloatArray, FloatArray] | None = None,
) -> _Groups:
    """The events grouped into salvos (by ``where`` they were, if given, else by their fit)."""
    sd = np.sqrt(np.trace(fit.cov[events], axis1=1, axis2=2)) if events.size else np.zeros(0)
    gx, gy = where if where is not None else (fit.x[events], fit.y[events])
    label = groups_of(gx, gy, fit.t0[events], sd, radius_m=radius_m, gap_s=gap_s)
    n = int(label.max()) + 1 if label.size else 0
    first = np.zeros(n, np.int64)
    start = np.zeros(n)
    cx, cy, ccov = np.zeros(n), np.zeros(n), np.zeros((n, 2, 2))
    for k in range(n):
        mine = events[label == k]
        # its best-located round (most sensors, then smallest error)
        first[k] = mine[np.lexsort((mine, sd[label == k], -fit.n_picks[mine]))[0]]
        start[k] = float(fit.t0[mine].min())
        cx[k], cy[k], ccov[k] = salvo_centre(fit.x[mine], fit.y[mine], fit.cov[mine])
    size = np.bincount(label, minlength=n).astype(np.int64)
    return _Groups(events, label, first, start, size, cx, cy, ccov)
