"""Association of acoustic detections into events, then batched TDOA localisation.

Which detections belong to the same bang is not given: the input is a flat stream of picks
from many sensors, with overlapping events, misses and false alarms. The associator borrows
from seismology's phase associators (REAL, GaMMA, PyOcto) the two ideas that make them
fast and robust: work outward from one pick at a time, and prune with physics before any
search.

1. **Anchor.** Take the earliest pick not yet explained. For a source inside the network,
   the nearest sensor hears it first.
2. **Causal window.** A pick at sensor *j* can belong to the anchor's event only if it came
   no later than the sound needs to cross from the anchor's sensor to *j*:
   ``0 <= t_j - t_a <= d_aj / c``. On a busy night this removes almost everything.
3. **Hypotheses.** Every way of choosing one pick at each of three of the nearest sensors
   with candidates, together with the anchor, fixes a source in closed form (four arrival
   times, three unknowns x, y, t0: a 3x3 linear system in the anchor's frame, as in the
   first step of Chan & Ho 1994; the spare equation ``|p - s_a| = r_a`` is the consistency
   check). All hypotheses are solved at once.
4. **Votes.** Each hypothesis predicts an arrival time at every candidate sensor; the one
   that explains the most sensors (one pick each) wins.
5. **Refinement.** A few Gauss-Newton steps on the winners; picks are reselected within four
   standard deviations of their own timing noise, and the event is accepted if at least
   ``min_picks`` sensors (the anchor among them) agree. Its picks are never reused.
6. **Second sweep.** Anchors that explained nothing get a second chance with more
   neighbours, once events that blocked them are gone.

Finally all events are located together by :func:`~truceline.localize.tdoa.locate`
(vectorised Gauss-Newton with a chi-square outlier test).

**Partitions.** With :class:`~truceline.localize.partitions.Partitioning` the stream is
associated by windows of time, each with a halo (:mod:`truceline.localize.partitions`), as
independent tasks (on a Dask cluster: :mod:`truceline.cluster`); location, the wind of each
window and the network's clocks and surveys are then computed once over all events.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .hypotheses import Params as _Params
from .hypotheses import event_at
from .partitions import Event, Partitioning, association_span, by_partition
from .picks import CLASS_CODES, Picks, picks_from
from .salvos import in_trains, witness_share
from .self_calibration import SensorTerms, apply_terms, sensor_terms
from .tdoa import TdoaFit, locate
from .wind_field import WindWindows, window_winds

__all__ = [
    "CLASS_CODES",
    "AcousticEvents",
    "Partitioning",
    "Picks",
    "associate",
    "picks_from",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass
class AcousticEvents:
    """Located acoustic events: one row per event, ``picks[i]`` the indices of its picks."""

    fit: TdoaFit
    picks: list[IntArray]
    cls: NDArray[np.int8]  # 0 launch, 1 impact, 2 unknown (majority of the picks' labels)
    unassociated: IntArray
    rejected: IntArray  # picks dropped by the chi-square test
    stats: dict[str, int] = field(default_factory=dict)
    winds: WindWindows | None = None  # the wind of each window, where it was estimated
    level_db: FloatArray | None = None  # each event's source level: SNR + spreading loss
    sensors: SensorTerms | None = None  # each sensor's clock and survey, as the network measured
    t_ref_us: int = 0  # the time base of ``fit.t0`` and of the windows (µs)

    def __len__(self) -> int:
        return len(self.picks)


def associate(
    p: Picks,
    *,
    min_picks: int = 4,
    max_range_m: float = 30_000.0,
    min_pick_fraction: float = 0.4,
    strong_picks: int = 8,
    model_sigma_s: float = 0.02,
    neighbours: int = 5,
    partitions: Partitioning | None = None,
    progress: Callable[[int], None] | None = None,
    wind_sigma_ms: float | None = None,
    met_wind_sigma_ms: float = 1.5,
) -> AcousticEvents:
    """Group picks into events and locate every event (batched).

    ``max_range_m`` is the farthest a sensor can hear an event (picks farther from the
    source are never joined to it); ``min_pick_fraction`` is the share of the sensors within
    the distance of the event's fourth-nearest pick that must have heard it (a handful of
    scattered coincident picks among many silent sensors is not an event). Events heard by
    at least ``strong_picks`` sensors are found in a first sweep, weaker ones in a second.

    With ``wind_sigma_ms``, every event is located with the wind as a nuisance: a prior of
    that spread around zero, or of ``met_wind_sigma_ms`` around what met stations reported
    at its sensors (:mod:`truceline.localize.wind`).

    With ``partitions``, association runs by windows of time (see the module's text); the
    events are those of one pass over everything wherever a halo sees what that pass saw
    (``tests/test_cluster.py`` checks it on days with events across every boundary).
    """
    prm = _Params(
        min_picks,
        max_range_m,
        model_sigma_s,
        neighbours,
        0.3,
        min_pick_fraction,
        strong_picks,
        wind_sigma_ms,
        met_wind_sigma_ms,
    )
    n = len(p)
    if n == 0:
        return _events(p, [], prm, np.zeros(0, bool))
    span = association_span(p, max_range_m)
    first = np.unique(p.sensor, return_index=True)[1]
    sensors = cKDTree(np.column_stack([p.x[first], p.y[first]]))

    def sweep(p: Picks, prm: _Params, progress: Callable[[int], None] | None) -> AcousticEvents:
        if partitions is None:
            parts = [_chunk(p, sensors, float(p.t[0]), np.inf, span, prm, progress)]
        else:
            parts = by_partition(_chunk, p, sensors, span, prm, partitions, 2 * max_range_m)
            if progress is not None:
                progress(n)
        groups, used = _merge(parts, n, prm.min_picks)
        return _events(p, groups, prm, used)

    events = sweep(p, prm, progress)
    if len(events) == 0:
        return events
    # The network measures itself from what the first pass located: each sensor's clock and
    # survey (re-timed, re-surveyed, its remaining uncertainty carried into its picks' noise)
    # and the wind of each window. Associated again with both, a pick is chosen by how well
    # it fits in *that* wind, not in any wind of the prior's spread (where the rounds of a
    # salvo seconds apart fit as well as each other).
    terms = sensor_terms(p, events.fit, events.picks, in_trains(p, events.picks), max_range_m)
    calibrated, order = apply_terms(p, terms)
    again = sweep(calibrated, replace(prm, wind_field=events.winds), None)
    return replace(
        again,
        picks=[order[g] for g in again.picks],
        unassociated=np.sort(order[again.unassociated]),
        rejected=np.sort(order[again.rejected]),
        sensors=terms,
        t_ref_us=p.t_ref_us,
    )


def _merge(
    parts: list[list[Event]], n: int, min_picks: int
) -> tuple[list[Event], NDArray[np.bool_]]:
    """Join the chunks' events in time order; a pick claimed twice stays with the earlier event."""
    used = np.zeros(n, bool)
    groups: list[Event] = []
    for part in parts:
        for g, x, y in part:
            free = g[~used[g]]
            if free.size >= min_picks:
                used[free] = True
                groups.append((free, x, y))
    return groups, used


def _chunk(
    p: Picks,
    sensors: cKDTree,
    t_start: float,
    t_end: float,
    span: float,
    prm: _Params,
    progress: Callable[[int], None] | None = None,
) -> list[Event]:
    """Associate the events anchored in ``[t_start, t_end)`` (their picks may lie later)."""
    lo = int(np.searchsorted(p.t, t_start, side="left"))
    hi_all = int(np.searchsorted(p.t, t_end + span, side="right"))
    anchor_end = int(np.searchsorted(p.t, t_end, side="left"))
    used = np.zeros(hi_all - lo, bool)
    t = p.t[lo:hi_all]
    window_end = np.searchsorted(t, t + span, side="right")
    groups: list[Event] = []
    done = 0
    # Strong events first, so that a weak coincidence cannot take picks from them; then the
    # weak ones from what is left, with more neighbours to form hypotheses from.
    sweeps = (
        (prm.neighbours, max(prm.min_picks, prm.strong_picks)),
        (2 * prm.neighbours, prm.min_picks),
    )
    for sweep, (neighbours, accept) in enumerate(sweeps):
        for a in range(anchor_end - lo):
            if progress is not None and sweep == 0 and a - done >= 5_000:
                progress(a - done)
                done = a
            if used[a]:
                continue
            found = event_at(p, sensors, lo, a, int(window_end[a]), used, neighbours, accept, prm)
            if found is not None:
                used[found[0]] = True
                groups.append((found[0] + lo, found[1], found[2]))
    if progress is not None:
        progress(anchor_end - lo - done)
    groups.sort(key=lambda g: int(g[0][0]))
    return groups


def _events(p: Picks, events: list[Event], prm: _Params, used: NDArray[np.bool_]) -> AcousticEvents:
    n = len(p)
    groups = [e[0] for e in events]
    if not groups:
        z = np.zeros((0, 1))
        empty = locate(z, z, z, z, z, z, np.zeros((0, 1), bool), np.zeros(0), np.zeros(0))
        return AcousticEvents(
            empty,
            [],
            np.zeros(0, np.int8),
            np.flatnonzero(~used),
            np.zeros(0, np.int64),
            {"picks": n, "events": 0, "associated": 0, "unassociated": n},
        )
    events = _without_leftovers(p, events)
    groups = [e[0] for e in events]
    x0 = np.array([e[1] for e in events])
    y0 = np.array([e[2] for e in events])
    fit, idx = _locate_groups(p, groups, x0, y0, prm)
    groups, merged = _merge_duplicates(p, [idx[i][fit.mask[i]] for i in range(len(groups))], fit)
    if merged:
        fit, idx = _locate_groups(p, groups, fit.x[np.array(merged)], fit.y[np.array(merged)], prm)
    winds = None
    if fit.wind is not None and fit.wind_cov is not None:
        # the events of a window of time and space crossed one wind: together they tell it
        # far better than each alone; every event is solved again with that prior
        mask = np.zeros(idx.shape, bool)
        for i, g in enumerate(groups):
            mask[i, : len(g)] = True
        mean0, sigma0 = _wind_prior(p, idx, mask, prm)
        assert mean0 is not None and sigma0 is not None
        misfit = fit.chi2 / np.maximum(fit.dof, 1)
        mean, sigma, winds = window_winds(
            fit.t0,
            fit.x,
            fit.y,
            fit.wind,
            fit.wind_cov,
            mean0,
            sigma0,
            misfit=misfit,
            share=witness_share(p, groups, fit),
        )
        fit, idx = _locate_groups(p, groups, fit.x, fit.y, prm, wind=(mean, sigma))
    picks = [idx[i][fit.mask[i]] for i in range(len(groups))]
    rejected = idx[fit.rejected]
    used = np.zeros(n, bool)
    for g in picks:
        used[g] = True
    cls = np.array([_majority(p.cls[g]) for g in picks], dtype=np.int8)
    stats = {
        "picks": n,
        "events": len(groups),
        "associated": int(sum(len(g) for g in picks)),
        "unassociated": int((~used).sum()),
        "rejected_by_chi2": int(rejected.size),
        "merged_duplicates": len(events) - len(groups),
        "ill_conditioned": int(fit.ill_conditioned.sum()),
    }
    level = _levels(p, picks, fit)
    return AcousticEvents(fit, picks, cls, np.flatnonzero(~used), rejected, stats, winds, level)


def _levels(p: Picks, groups: list[IntArray], fit: TdoaFit) -> FloatArray | None:
    """How loud each event was at its source (dB over the sensors' noise at 1 m): the median
    over its picks of the SNR the sensor reported plus the loss of spherical spreading to it
    (20·log10 of the distance); NaN where no pick reported an SNR."""
    if p.snr is None:
        return None
    out = np.full(len(groups), np.nan)
    for i, g in enumerate(groups):
        snr = p.snr[g]
        ok = np.isfinite(snr)
        if ok.any():
            d = np.maximum(np.hypot(p.x[g] - fit.x[i], p.y[g] - fit.y[i]), 50.0)
            out[i] = float(np.median(snr[ok] + 20.0 * np.log10(d[ok])))
    return out


def _locate_groups(
    p: Picks,
    groups: list[IntArray],
    x0: FloatArray,
    y0: FloatArray,
    prm: _Params,
    wind: tuple[FloatArray, FloatArray] | None = None,
) -> tuple[TdoaFit, IntArray]:
    k = max(len(g) for g in groups)
    idx = np.zeros((len(groups), k), dtype=np.int64)
    mask = np.zeros((len(groups), k), dtype=bool)
    for i, g in enumerate(groups):
        idx[i, : len(g)] = g
        mask[i, : len(g)] = True
    sig = np.sqrt(p.sigma[idx] ** 2 + prm.model_sigma_s**2)
    wind_mean, wind_sigma = wind if wind is not None else _wind_prior(p, idx, mask, prm)
    # The sound crosses the air between the source and each sensor, not the air at the
    # sensor: one speed per event, from the median of the temperatures its sensors
    # reported (robust to a thermometer that is off, or a sensor in a warm hollow).
    c_event = np.nanmedian(np.where(mask, p.c[idx], np.nan), axis=1)
    fit = locate(
        p.x[idx],
        p.y[idx],
        p.z[idx],
        p.t[idx],
        sig,
        np.broadcast_to(c_event[:, None], idx.shape).copy(),
        mask,
        x0,
        y0,
        min_picks=prm.min_picks,
        sigma_pick=p.sigma[idx],
        wind_mean=wind_mean,
        wind_sigma=wind_sigma,
    )
    return fit, idx


def _wind_prior(
    p: Picks, idx: IntArray, mask: NDArray[np.bool_], prm: _Params
) -> tuple[FloatArray | None, FloatArray | None]:
    """Each event's prior on the wind: the mean of what met stations reported at its picks
    (where any did), else zero with the spread of an unknown wind; None in still air."""
    if prm.wind_sigma_ms is None:
        return None, None
    e = idx.shape[0]
    mean = np.zeros((e, 2))
    sigma = np.full(e, float(prm.wind_sigma_ms))
    if p.wind is not None:
        w = np.where(mask[..., None], p.wind[idx], np.nan)
        known = np.isfinite(w[..., 0]).any(axis=1)
        with np.errstate(invalid="ignore"):
            mean[known] = np.nanmean(w[known], axis=1)
        sigma[known] = prm.met_wind_sigma_ms
    return mean, sigma


def _merge_duplicates(
    p: Picks, groups: list[IntArray], fit: TdoaFit
) -> tuple[list[IntArray], list[int]]:
    """Join events that are one bang found twice (same place within their uncertainty, same
    emission time within a second, heard by different sensors): each keeps, per sensor, its
    earlier-found pick. Returns
    the groups and, per group, the index of the event whose position starts it."""
    n = len(groups)
    sd = np.sqrt(np.nan_to_num(np.trace(fit.cov, axis1=1, axis2=2), nan=1e6))
    sensors = [set(p.sensor[g].tolist()) for g in groups]
    order = np.argsort(fit.t0, kind="stable")
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    pairs = 0
    for pos, i in enumerate(order):
        for j in order[pos + 1 :]:
            if fit.t0[j] - fit.t0[i] > 1.0:
                break
            gate = max(500.0, 4.0 * float(np.hypot(sd[i], sd[j])))
            if np.hypot(fit.x[i] - fit.x[j], fit.y[i] - fit.y[j]) <= gate and _split(
                sensors[i], sensors[j]
            ):
                ri, rj = root(int(i)), root(int(j))
                if ri != rj:
                    parent[max(ri, rj)] = min(ri, rj)
                    pairs += 1
    if not pairs:
        return groups, []
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(root(i), []).append(i)
    out, starts = [], []
    for head in sorted(members):
        picks = np.concatenate([groups[i] for i in members[head]])
        _, first = np.unique(p.sensor[picks], return_index=True)  # first-found pick per sensor
        out.append(np.sort(picks[np.sort(first)]))
        starts.append(head)
    return out, starts


STRONG = 8  # an event heard by this many sensors is taken as real
LEFTOVER_S = (-0.35, 0.6)  # a sensor's pick this far from a real event's arrival there is its


def _without_leftovers(p: Picks, events: list[Event]) -> list[Event]:
    """Events made of what real events left over: a pick picked late on a later phase, a
    sensor whose clock is off, by a few tenths of a second — four or five such picks at
    different sensors always fit *some* source. A weak event (fewer than ``STRONG`` sensors)
    most of whose picks (three in four) lie within ``LEFTOVER_S`` of a strong event's
    predicted arrival at the same sensor, within a minute of it, is not an event: its picks
    stay unassociated."""
    strong = [(g, x, y) for g, x, y in events if g.size >= STRONG]
    if not strong:
        return events
    t0 = np.array([_emission(p, g, x, y) for g, x, y in strong])
    order = np.argsort(t0, kind="stable")
    t0 = t0[order]
    strong = [strong[k] for k in order]
    kept = []
    for g, x, y in events:
        if g.size >= STRONG:
            kept.append((g, x, y))
            continue
        t_w = float(p.t[g].min())
        lo, hi = np.searchsorted(t0, [t_w - 60.0, t_w + 1.0])
        leftover = False
        for (_, sx, sy), st0 in zip(strong[lo:hi], t0[lo:hi], strict=True):
            arrival = st0 + np.hypot(p.x[g] - sx, p.y[g] - sy) / p.c[g]
            r = p.t[g] - arrival
            if np.mean((r >= LEFTOVER_S[0]) & (r <= LEFTOVER_S[1])) >= 0.75:
                leftover = True
                break
        if not leftover:
            kept.append((g, x, y))
    return kept


def _emission(p: Picks, g: IntArray, x: float, y: float) -> float:
    """An event's emission time from its picks and its position (the median)."""
    return float(np.median(p.t[g] - np.hypot(p.x[g] - x, p.y[g] - y) / p.c[g]))


def _split(a: set[int], b: set[int]) -> bool:
    """Two events are one bang found twice when their sensors barely overlap (each sensor
    heard it once, and its picks went partly to each); two bangs heard by the same sensors
    (a salvo's rounds a second apart) are two events."""
    return len(a & b) <= 0.25 * min(len(a), len(b))


def _majority(labels: NDArray[np.int8]) -> int:
    launch, impact = int((labels == 0).sum()), int((labels == 1).sum())
    if launch > impact:
        return 0
    if impact > launch:
        return 1
    return 2
