"""Launch-to-impact pairing that does not need to know each weapon's speed.

A firing event is heard twice: where it was fired (its launches) and where it landed (its
impacts). Which impact belongs to which launch is not given. Every (launch salvo, impact
salvo) within the longest range and with the impact 0-300 s after the launch is a
candidate, scored by the likelihood ratio of "this impact is that launch's" against "it is
some other firing's":

- under "paired", the range and the time of flight follow one of the weapon classes — a
  *broad* model of each (:class:`truceline.weapons.WeaponModel`: log-normal ground speeds
  wide enough for charges and air, a slow mode for high-angle fire, soft range limits) and
  how many launches the class makes in one firing (a salvo of ten says MLRS); the classes
  are summed over with their prior shares, so no single speed is assumed; and fire mostly
  carries across the line of contact; the number of impacts heard agrees with the number of
  launches, give or take a few;
- under "not paired", the impact is another firing's whose launch was not heard: as likely
  anywhere nearby as the *other* impacts around it are frequent (those within 40 km and an
  hour of it, plus half a one, per square metre and second of that neighbourhood; a local
  density, so the answer does not depend on how long a period is analysed at once).

The pairing is then chosen **jointly**: within each connected group of candidates the one
assignment (each launch and impact at most once, or left unpaired) that maximises the total
log-likelihood ratio (the Hungarian algorithm, ``scipy.optimize.linear_sum_assignment``).
Each chosen pair states how sure it is: the share of its likelihood among its own
alternatives (its launch with another impact, its impact with another launch, or each
unpaired), and how many alternatives there were.

>>> import numpy as np
>>> from truceline.weapons import DEFAULT_MODEL
>>> launches = Salvos(np.array([0.0]), np.array([0.0]), np.array([10.0]), np.array([1]))
>>> impacts = Salvos(np.array([0.0]), np.array([-16_000.0]), np.array([58.0]), np.array([1]))
>>> pairs = pair_salvos(launches, impacts, DEFAULT_MODEL)
>>> pairs.launch.tolist(), pairs.impact.tolist(), bool(pairs.probability[0] > 0.9)
([0], [0], True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from ..weapons import FIRING_CLASSES, WeaponModel

__all__ = ["MAX_RANGE_M", "MAX_TOF_S", "Pairs", "Salvos", "kinematic_likelihood", "pair_salvos"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
MAX_TOF_S = 300.0
MAX_RANGE_M = 90_000.0
P_HEARD = 0.7  # prior: a launch's impact is heard and located too
ACROSS = 0.95  # prior: fire carries across the line (a short round lands on its own side)
NEIGHBOURHOOD_M = 40_000.0  # the local density of impacts is counted this far
NEIGHBOURHOOD_S = 3_600.0  # and this long before and after


@dataclass(frozen=True)
class Salvos:
    """Located salvos (of launches, or of impacts): first event's position (m) and time (s),
    and how many separately heard events each has."""

    x: FloatArray
    y: FloatArray
    t: FloatArray
    k: IntArray

    def __len__(self) -> int:
        return int(self.x.size)


@dataclass(frozen=True)
class Pairs:
    launch: IntArray  # index into the launch salvos
    impact: IntArray  # index into the impact salvos
    probability: FloatArray  # how sure each pairing is (see the module docstring)
    alternatives: IntArray  # how many other candidates competed with it
    likelihood: FloatArray  # (P, classes of FIRING_CLASSES): p(range, ToF, salvo | class)


def kinematic_likelihood(
    model: WeaponModel, d: FloatArray, dt: FloatArray, k: IntArray
) -> FloatArray:
    """p(range ``d``, time of flight ``dt``, ``k`` launches | class) for each class of
    :data:`FIRING_CLASSES` (rows: candidates)."""
    out = np.empty((d.size, len(FIRING_CLASSES)))
    v = d / np.maximum(dt, 1e-3)
    for j, name in enumerate(FIRING_CLASSES):
        c = model.classes[name]
        # p(dt | d) = p_v(d / dt) · |dv/dt| = p_v(v) · d / dt²
        p_tof = c.speed_density(v) * d / np.maximum(dt, 1e-3) ** 2
        out[:, j] = c.range_density(d) * p_tof * c.launches_p(k)
    return out


COUNT_SPREAD = 0.3  # impacts heard of a salvo differ from its launches heard by n with P ∝ 0.3^n


def count_ratio(model: WeaponModel, k_launch: IntArray, k_impact: IntArray) -> FloatArray:
    """How much likelier ``k_impact`` impacts are as the impacts of a salvo of ``k_launch``
    launches than as those of any firing (the salvo's sizes heard at its two ends agree,
    give or take a few rounds neither end heard)."""
    a = COUNT_SPREAD
    paired = (1.0 - a) / (1.0 + a) * a ** np.abs(k_impact - k_launch)
    prior = model.prior_vector()
    marginal = sum(
        p * model.classes[c].launches_p(k_impact) for p, c in zip(prior, model.names, strict=True)
    )
    return np.asarray(paired / np.maximum(marginal, 1e-12), float)


def pair_salvos(
    launches: Salvos,
    impacts: Salvos,
    model: WeaponModel,
    same_side: NDArray[np.bool_] | None = None,
) -> Pairs:
    """Pair launch salvos with impact salvos jointly (see the module docstring).
    ``same_side[i, j]`` (dense, optional) marks impacts on launch ``i``'s own side."""
    li, ii, lr, lik = _candidates(launches, impacts, model, same_side)
    keep = lr > 1.0  # likelier paired than not
    li, ii, lr, lik = li[keep], ii[keep], lr[keep], lik[keep]
    if li.size == 0:
        z = np.zeros(0, np.int64)
        return Pairs(z, z, np.zeros(0), z, np.zeros((0, len(FIRING_CLASSES))))
    chosen = _assign(li, ii, lr, len(launches), len(impacts))
    row_sum = np.bincount(li, weights=lr, minlength=len(launches))
    col_sum = np.bincount(ii, weights=lr, minlength=len(impacts))
    row_n = np.bincount(li, minlength=len(launches))
    col_n = np.bincount(ii, minlength=len(impacts))
    c = np.array(sorted(chosen), dtype=np.int64)
    a, b = li[c], ii[c]
    others = row_sum[a] + col_sum[b] - 2 * lr[c]
    return Pairs(
        launch=a,
        impact=b,
        probability=lr[c] / (1.0 + others + lr[c]),
        alternatives=(row_n[a] + col_n[b] - 2).astype(np.int64),
        likelihood=lik[c],
    )


def _candidates(
    launches: Salvos,
    impacts: Salvos,
    model: WeaponModel,
    same_side: NDArray[np.bool_] | None,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray]:
    """Every candidate pair, its likelihood ratio and its per-class likelihood."""
    empty = np.zeros(0, np.int64)
    if len(launches) == 0 or len(impacts) == 0:
        return empty, empty, np.zeros(0), np.zeros((0, len(FIRING_CLASSES)))
    tree = cKDTree(np.column_stack([impacts.x, impacts.y]))
    near = tree.query_ball_point(np.column_stack([launches.x, launches.y]), MAX_RANGE_M)
    li = np.repeat(np.arange(len(launches)), [len(n) for n in near]).astype(np.int64)
    ii = np.array([j for n in near for j in sorted(n)], dtype=np.int64)
    if ii.size == 0:
        return empty, empty, np.zeros(0), np.zeros((0, len(FIRING_CLASSES)))
    dt = impacts.t[ii] - launches.t[li]
    ok = (dt > 0.0) & (dt <= MAX_TOF_S)
    li, ii, dt = li[ok], ii[ok], dt[ok]
    d = np.maximum(np.hypot(impacts.x[ii] - launches.x[li], impacts.y[ii] - launches.y[li]), 1.0)
    lik = kinematic_likelihood(model, d, dt, launches.k[li])
    prior = np.array([model.prior.get(c, 0.0) for c in FIRING_CLASSES])
    # the pair's density at the impact's place and time (per m² and s): over the range and
    # the time of flight, and over the direction (half a turn: across the line, mostly)
    pair = lik @ (prior / prior.sum()) / (np.pi * d)
    side = np.full(li.size, 2 * ACROSS)
    if same_side is not None and li.size:
        side = np.where(same_side[li, ii], 2 * (1.0 - ACROSS), 2 * ACROSS)
    # an unrelated impact: one of the impacts around whose launch was not heard
    null = (1.0 - P_HEARD) * _impact_density(impacts)[ii]
    counts = count_ratio(model, launches.k[li], impacts.k[ii])
    lr = P_HEARD / (1.0 - P_HEARD) * pair * side * counts / null
    return li, ii, lr, lik


def _impact_density(impacts: Salvos) -> FloatArray:
    """The local density of *other* impacts around each one (per m² and s): those within
    ``NEIGHBOURHOOD_M`` and ``NEIGHBOURHOOD_S``, plus half a one (so a lone impact's
    neighbourhood is not taken for empty)."""
    xy = np.column_stack([impacts.x, impacts.y])
    near = cKDTree(xy).query_ball_point(xy, NEIGHBOURHOOD_M)
    count = np.array(
        [
            np.sum(np.abs(impacts.t[n] - impacts.t[i]) <= NEIGHBOURHOOD_S) - 0.5
            for i, n in enumerate(near)
        ]
    )
    volume = np.pi * NEIGHBOURHOOD_M**2 * 2 * NEIGHBOURHOOD_S
    return np.asarray(count / volume, float)


def _assign(li: IntArray, ii: IntArray, lr: FloatArray, n_l: int, n_i: int) -> list[int]:
    """The candidates of the assignment that maximises the total log-likelihood ratio, each
    connected group of candidates on its own (ties broken by index: deterministic)."""
    graph = coo_matrix((np.ones(li.size), (li, n_l + ii)), shape=(n_l + n_i, n_l + n_i))
    _, label = connected_components(graph, directed=False)
    group = label[li]
    chosen: list[int] = []
    for g in np.unique(group):
        cand = np.flatnonzero(group == g)
        if cand.size == 1:
            chosen.append(int(cand[0]))
            continue
        rows, cols = np.unique(li[cand]), np.unique(ii[cand])
        r = np.searchsorted(rows, li[cand])
        c = np.searchsorted(cols, ii[cand])
        big = 1e9
        cost = np.full((rows.size, cols.size + rows.size), big)
        cost[:, cols.size :] = np.where(np.eye(rows.size, dtype=bool), 0.0, big)  # unpaired
        cost[r, c] = -np.log(lr[cand])
        a, b = linear_sum_assignment(cost)
        where = {(int(x), int(y)): int(k) for k, x, y in zip(cand, r, c, strict=True)}
        chosen += [where[(int(x), int(y))] for x, y in zip(a, b, strict=True) if y < cols.size]
    return chosen
