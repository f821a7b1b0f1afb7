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
(vectorised Gauss-Newton with a chi-square outlier test). With ``workers > 1`` the stream is
cut into time chunks processed in parallel; an event found in two chunks is kept once.

The result does not depend on input order: picks are processed in ``(time, ref)`` order.
"""

from __future__ import annotations

import itertools
import multiprocessing
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from .picks import CLASS_CODES, Picks, picks_from
from .tdoa import TdoaFit, locate

__all__ = ["CLASS_CODES", "AcousticEvents", "Picks", "associate", "picks_from"]

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

    def __len__(self) -> int:
        return len(self.picks)


@dataclass(frozen=True)
class _Params:
    min_picks: int
    max_range_m: float
    model_sigma_s: float
    neighbours: int
    loose_s: float
    min_pick_fraction: float
    strong_picks: int


# The picks being associated and a tree of the sensors' positions, shared with forked worker
# processes (read-only).
_SHARED: Picks | None = None
_SENSORS: cKDTree | None = None
_LOCK = threading.Lock()


def associate(
    p: Picks,
    *,
    min_picks: int = 4,
    max_range_m: float = 30_000.0,
    min_pick_fraction: float = 0.4,
    strong_picks: int = 8,
    model_sigma_s: float = 0.02,
    neighbours: int = 5,
    workers: int = 1,
    chunk_s: float = 1_800.0,
    progress: Callable[[int], None] | None = None,
) -> AcousticEvents:
    """Group picks into events and locate every event (batched).

    ``max_range_m`` is the farthest a sensor can hear an event (picks farther from the
    source are never joined to it); ``min_pick_fraction`` is the share of the sensors within
    the distance of the event's fourth-nearest pick that must have heard it (a handful of
    scattered coincident picks among many silent sensors is not an event). Events heard by
    at least ``strong_picks`` sensors are found in a first sweep, weaker ones in a second.
    """
    global _SHARED, _SENSORS
    prm = _Params(
        min_picks, max_range_m, model_sigma_s, neighbours, 0.3, min_pick_fraction, strong_picks
    )
    n = len(p)
    if n == 0:
        return _events(p, [], prm, np.zeros(0, bool))
    span = 2 * max_range_m / float(p.c.min()) + 1.0
    t_lo, t_hi = float(p.t[0]), float(p.t[-1])
    edges = np.arange(t_lo, t_hi + chunk_s, chunk_s) if workers > 1 else np.array([t_lo])
    ranges = [
        (float(a), float(b) if i + 1 < len(edges) else np.inf)
        for i, (a, b) in enumerate(itertools.zip_longest(edges, edges[1:], fillvalue=np.inf))
    ]
    with _LOCK:  # the globals below are shared with forked workers; one call at a time
        _SHARED = p
        first = np.unique(p.sensor, return_index=True)[1]
        _SENSORS = cKDTree(np.column_stack([p.x[first], p.y[first]]))
        try:
            if workers > 1 and len(ranges) > 1:
                ctx = multiprocessing.get_context("fork")
                with ctx.Pool(workers) as pool:
                    parts = pool.starmap(_chunk, [(a, b, span, prm) for a, b in ranges])
            else:
                parts = [_chunk(a, b, span, prm, progress) for a, b in ranges]
        finally:
            _SHARED, _SENSORS = None, None
    groups, used = _merge(parts, n, prm.min_picks)
    return _events(p, groups, prm, used)


Event = tuple[IntArray, float, float]  # pick indices, start position x, y


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
    t_start: float,
    t_end: float,
    span: float,
    prm: _Params,
    progress: Callable[[int], None] | None = None,
) -> list[Event]:
    """Associate the events anchored in ``[t_start, t_end)`` (their picks may lie later)."""
    p = _SHARED
    assert p is not None
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
            found = _event_at(p, lo, a, int(window_end[a]), used, neighbours, accept, prm)
            if found is not None:
                used[found[0]] = True
                groups.append((found[0] + lo, found[1], found[2]))
    if progress is not None:
        progress(anchor_end - lo - done)
    groups.sort(key=lambda g: int(g[0][0]))
    return groups


def _event_at(
    p: Picks,
    lo: int,
    a: int,
    end: int,
    used: NDArray[np.bool_],
    neighbours: int,
    accept: int,
    prm: _Params,
) -> tuple[IntArray, float, float] | None:
    """The event anchored at local pick ``a``: local pick indices and position, or None."""
    ga = lo + a
    cand = np.arange(a + 1, end)
    cand = cand[~used[cand]]
    if cand.size < prm.min_picks - 1:
        return None
    gc = cand + lo
    dx, dy = p.x[gc] - p.x[ga], p.y[gc] - p.y[ga]
    dist = np.hypot(dx, dy)
    dt = p.t[gc] - p.t[ga]
    ok = (dist <= 2 * prm.max_range_m) & (dt <= dist / p.c[gc] + prm.loose_s)
    ok &= p.sensor[gc] != p.sensor[ga]
    cand, dist = cand[ok], dist[ok]
    if np.unique(p.sensor[cand + lo]).size < prm.min_picks - 1:
        return None
    members = _near_members(p, lo, cand, dist, neighbours)
    if members is None:
        return None
    zs = float(p.z[ga])
    # the nearest three sensors first; all trios only when they explain too little
    nearest = [(0, 1, 2)]
    every_trio = list(itertools.combinations(range(len(members)), 3))
    found = None
    for trios in (nearest, every_trio):
        hyp = _solve_trios(p, lo, a, members, trios)
        if hyp is None:
            continue
        vote = _vote(p, lo, cand, hyp, zs, prm.loose_s)
        if found is None or vote[1] > found[1]:
            found = vote
        if found[1] + 1 >= accept or len(every_trio) == 1:
            break
    if found is None or found[1] + 1 < accept:
        return None
    (x, y, t0), _, res_best = found
    chosen = np.concatenate(([a], cand[res_best < prm.loose_s]))
    for tight in (False, True):
        chosen = _one_per_sensor(p, lo, chosen, x, y, t0, zs)
        if chosen.size < prm.min_picks or chosen[0] != a:
            return None
        x, y, t0 = _gauss_newton(p, chosen + lo, x, y, t0, zs, prm.model_sigma_s)
        every = np.concatenate(([a], cand)) + lo
        resid = (
            p.t[every] - t0 - _dist3(x - p.x[every], y - p.y[every], zs - p.z[every]) / p.c[every]
        )
        limit = 4.0 * np.sqrt(p.sigma[every] ** 2 + prm.model_sigma_s**2)
        if not tight:
            limit = np.maximum(limit, 0.1)
        keep = (np.abs(resid) <= limit) & (
            np.hypot(x - p.x[every], y - p.y[every]) <= prm.max_range_m
        )
        if not keep[0]:
            return None
        chosen = np.concatenate(([a], cand[keep[1:]]))
    chosen = _one_per_sensor(p, lo, chosen, x, y, t0, zs)
    if chosen.size < accept or chosen[0] != a:
        return None
    if _pick_fraction(p, chosen + lo, x, y, prm.min_picks) < prm.min_pick_fraction:
        return None
    return np.sort(chosen), x, y


def _pick_fraction(p: Picks, g: IntArray, x: float, y: float, k: int) -> float:
    """Share of the known sensors within the distance of the k-th nearest pick that heard it."""
    assert _SENSORS is not None
    radius = float(np.sort(np.hypot(p.x[g] - x, p.y[g] - y))[k - 1]) + 1.0
    around = len(_SENSORS.query_ball_point([x, y], radius))
    heard = int(np.sum(np.hypot(p.x[g] - x, p.y[g] - y) <= radius))
    return heard / max(around, heard)


def _near_members(
    p: Picks, lo: int, cand: IntArray, dist: FloatArray, neighbours: int
) -> list[IntArray] | None:
    """Candidates of the nearest ``neighbours`` sensors (up to three earliest picks each)."""
    gc = cand + lo
    sens = p.sensor[gc]
    near_order = np.lexsort((p.t[gc], sens, dist))
    s_sorted = sens[near_order]
    new = np.empty(s_sorted.size, bool)
    new[0] = True
    np.not_equal(s_sorted[1:], s_sorted[:-1], out=new[1:])
    bounds = np.append(np.flatnonzero(new), s_sorted.size)
    n_groups = min(bounds.size - 1, neighbours)
    if n_groups < 3:
        return None
    return [
        cand[near_order[bounds[g] : min(bounds[g] + 3, bounds[g + 1])]] for g in range(n_groups)
    ]


#: the 27 ways to take one of (up to) three picks at each of three sensors
_PICK = np.array(list(itertools.product(range(3), repeat=3)), dtype=np.int64).T


def _solve_trios(
    p: Picks, lo: int, a: int, members: list[IntArray], trios: Sequence[tuple[int, ...]]
) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """Closed-form sources from the anchor and one pick at each sensor of each trio."""
    ga = lo + a
    table = np.full((len(members), 3), -1, dtype=np.int64)
    for g, m in enumerate(members):
        table[g, : m.size] = m
    tri = np.asarray(trios, dtype=np.int64)
    idx = np.stack(
        [
            table[tri[:, 0]][:, _PICK[0]],
            table[tri[:, 1]][:, _PICK[1]],
            table[tri[:, 2]][:, _PICK[2]],
        ],
        axis=-1,
    ).reshape(-1, 3)
    idx = idx[(idx >= 0).all(axis=1)] + lo  # (H, 3): one candidate pick at each sensor
    sx = p.x[idx] - p.x[ga]
    sy = p.y[idx] - p.y[ga]
    c = 0.5 * (p.c[idx] + p.c[ga])
    delta = c * (p.t[idx] - p.t[ga])  # range differences to the anchor
    mat = np.stack([2 * sx, 2 * sy, 2 * delta], axis=-1)
    rhs = sx**2 + sy**2 - delta**2
    det = np.linalg.det(mat)
    good = np.abs(det) > 1e-6 * np.abs(mat).max(axis=(1, 2)) ** 3
    if not good.any():
        return None
    sol = np.linalg.solve(mat[good], rhs[good][..., None])[..., 0]
    x, y, r = sol[:, 0], sol[:, 1], sol[:, 2]
    rng = np.hypot(x, y)
    consistent = (r >= -50.0) & (np.abs(rng - r) <= np.maximum(150.0, 0.05 * rng))
    if not consistent.any():
        return None
    x, y = x[consistent] + p.x[ga], y[consistent] + p.y[ga]
    t0 = p.t[ga] - rng[consistent] / p.c[ga]  # the anchor's own height is the source's
    return x, y, t0


def _vote(
    p: Picks,
    lo: int,
    cand: IntArray,
    hyp: tuple[FloatArray, FloatArray, FloatArray],
    zs: float,
    loose_s: float,
) -> tuple[tuple[float, float, float], int, FloatArray]:
    """The hypothesis explaining the most sensors (one pick each): its source, its votes and
    the residuals of every candidate under it."""
    hx, hy, ht0 = hyp
    gc = cand + lo
    pred = (
        ht0[:, None] + _dist3(hx[:, None] - p.x[gc], hy[:, None] - p.y[gc], zs - p.z[gc]) / p.c[gc]
    )
    res = np.abs(p.t[gc] - pred)
    order = np.argsort(p.sensor[gc], kind="stable")
    sensors = p.sensor[gc][order]
    starts = np.flatnonzero(np.concatenate(([True], sensors[1:] != sensors[:-1])))
    fits = (res[:, order] < loose_s).astype(np.int8)
    votes = np.maximum.reduceat(fits, starts, axis=1).sum(axis=1)
    spread = np.where(res < loose_s, res, 0.0).sum(axis=1)
    best = int(np.lexsort((spread, -votes))[0])
    return (float(hx[best]), float(hy[best]), float(ht0[best])), int(votes[best]), res[best]


def _dist3(dx: FloatArray | float, dy: FloatArray | float, dz: FloatArray | float) -> FloatArray:
    return np.sqrt(np.square(dx) + np.square(dy) + np.square(dz))


def _one_per_sensor(
    p: Picks, lo: int, local: IntArray, x: float, y: float, t0: float, zs: float
) -> IntArray:
    """Keep, per sensor, the pick that best fits the source; the anchor (first) always stays."""
    g = local + lo
    res = np.abs(p.t[g] - t0 - _dist3(x - p.x[g], y - p.y[g], zs - p.z[g]) / p.c[g])
    res[0] = -1.0  # the anchor wins its sensor
    order = np.lexsort((res, p.sensor[g]))
    s = p.sensor[g][order]
    first = np.concatenate(([True], s[1:] != s[:-1]))
    kept = order[first]
    kept = np.concatenate(([0], np.sort(kept[kept != 0])))
    return local[kept]


def _gauss_newton(
    p: Picks,
    g: IntArray,
    x: float,
    y: float,
    t0: float,
    zs: float,
    model_sigma_s: float,
    steps: int = 3,
) -> tuple[float, float, float]:
    """A few Gauss-Newton steps for one event (association only needs a good start)."""
    px, py, c, t = p.x[g], p.y[g], p.c[g], p.t[g]
    dz2 = (zs - p.z[g]) ** 2
    w = 1.0 / (p.sigma[g] ** 2 + model_sigma_s**2)
    for _ in range(steps):
        dx, dy = x - px, y - py
        d = np.maximum(np.sqrt(dx * dx + dy * dy + dz2), 1.0)
        r = t - t0 - d / c
        jac = np.column_stack([dx / (d * c), dy / (d * c), np.ones_like(d)])
        a = (jac * w[:, None]).T @ jac
        try:
            step = np.linalg.solve(a, (jac * w[:, None]).T @ r)
        except np.linalg.LinAlgError:
            break
        x, y, t0 = x + float(step[0]), y + float(step[1]), t0 + float(step[2])
        if abs(step[0]) + abs(step[1]) < 0.01:
            break
    return x, y, t0


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
    x0 = np.array([e[1] for e in events])
    y0 = np.array([e[2] for e in events])
    fit, idx = _locate_groups(p, groups, x0, y0, prm)
    groups, merged = _merge_duplicates(p, [idx[i][fit.mask[i]] for i in range(len(groups))], fit)
    if merged:
        fit, idx = _locate_groups(p, groups, fit.x[np.array(merged)], fit.y[np.array(merged)], prm)
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
    return AcousticEvents(fit, picks, cls, np.flatnonzero(~used), rejected, stats)


def _locate_groups(
    p: Picks, groups: list[IntArray], x0: FloatArray, y0: FloatArray, prm: _Params
) -> tuple[TdoaFit, IntArray]:
    k = max(len(g) for g in groups)
    idx = np.zeros((len(groups), k), dtype=np.int64)
    mask = np.zeros((len(groups), k), dtype=bool)
    for i, g in enumerate(groups):
        idx[i, : len(g)] = g
        mask[i, : len(g)] = True
    sig = np.sqrt(p.sigma[idx] ** 2 + prm.model_sigma_s**2)
    fit = locate(
        p.x[idx],
        p.y[idx],
        p.z[idx],
        p.t[idx],
        sig,
        p.c[idx],
        mask,
        x0,
        y0,
        min_picks=prm.min_picks,
        sigma_pick=p.sigma[idx],
    )
    return fit, idx


def _merge_duplicates(
    p: Picks, groups: list[IntArray], fit: TdoaFit
) -> tuple[list[IntArray], list[int]]:
    """Join events that are one bang found twice (same place within their uncertainty, same
    emission time within a second): each keeps, per sensor, its earlier-found pick. Returns
    the groups and, per group, the index of the event whose position starts it."""
    n = len(groups)
    sd = np.sqrt(np.nan_to_num(np.trace(fit.cov, axis1=1, axis2=2), nan=1e6))
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
            if np.hypot(fit.x[i] - fit.x[j], fit.y[i] - fit.y[j]) <= gate:
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


def _majority(labels: NDArray[np.int8]) -> int:
    launch, impact = int((labels == 0).sum()), int((labels == 1).sum())
    if launch > impact:
        return 0
    if impact > launch:
        return 1
    return 2
